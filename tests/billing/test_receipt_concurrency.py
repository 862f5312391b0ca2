"""Receipt numbers under concurrent counter payments, on PostgreSQL: eight cashiers at once (each thread its own
app context, session and transaction), one payment in ten rolled back after issue(); the book stays 1..N with
no gap and no duplicate. Two cashiers racing for the same bill: exactly one receipt.

Run with: bash tests/with_postgres.sh .venv/bin/python -m pytest -q tests/billing/test_receipt_concurrency.py"""
from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import func, select

from app import thai
from app.billing import receipts
from app.billing.models import WasteAccount, WasteInvoice, WasteReceipt, WasteReceiptLine
from app.extensions import db
from app.tenancy.context import tenant_scope
from app.tenancy.errors import UserError
from tests.billing.test_waste_receipts import account_with_bills
from tests.billing.waste import waste  # noqa: F401

pytestmark = pytest.mark.skipif(
    "postgresql" not in os.environ.get("DATABASE_URL", ""),
    reason="needs PostgreSQL (bash tests/with_postgres.sh ...): SQLite lets one writer in at a time, so it cannot "
           "show what the row lock on the number counter does under concurrent payments",
)

THREADS, PER_THREAD = 8, 6


def book(tenant_id: int) -> dict[int, list[int]]:
    """{fiscal year: receipt numbers in order} of the tenant."""
    with tenant_scope(tenant_id):
        rows = db.session.execute(select(WasteReceipt.fiscal_year, WasteReceipt.number)
                                  .order_by(WasteReceipt.fiscal_year, WasteReceipt.number)).all()
        db.session.remove()
    found: dict[int, list[int]] = {}
    for year, number in rows:
        found.setdefault(year, []).append(number)
    return found


def assert_gapless(numbers_by_year: dict[int, list[int]]) -> None:
    for year, numbers in numbers_by_year.items():
        assert numbers == list(range(1, len(numbers) + 1)), f"fiscal year {year}: gaps or duplicates"


def pay(app, tenant_id: int, account_id: int, bill_ids: list[int], roll_back: bool, barrier=None) -> str:
    with app.app_context(), tenant_scope(tenant_id):
        try:
            account = db.session.get(WasteAccount, account_id)
            bills = [db.session.get(WasteInvoice, i) for i in bill_ids]
            if barrier is not None:
                barrier.wait()
            receipts.issue(account, bills, paid_on=thai.today_bangkok(), method="cash", channel="counter",
                           actor_id=None, actor_name="cashier")
            if roll_back:  # the cashier's transaction fails after the number was taken
                db.session.rollback()
                return "rolled back"
            db.session.commit()
            return "paid"
        except UserError:
            db.session.rollback()
            return "refused"
        finally:
            db.session.remove()


def test_eight_cashiers_at_once_leave_no_gap_nor_duplicate(app, waste):
    tid = waste["a"].tenant_id
    with app.app_context():
        work = [account_with_bills(tid, late=1, current=False) for _ in range(THREADS * PER_THREAD)]
        before = book(tid)
        year = thai.fiscal_year(thai.today_bangkok())
        results: list[str] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(THREADS)

        def cashier(index: int):
            try:
                barrier.wait()
                for k in range(PER_THREAD):
                    n = index * PER_THREAD + k
                    account_id, bills = work[n]
                    results.append(pay(app, tid, account_id, bills, roll_back=n % 10 == 0))
            except BaseException as exc:  # reported below: a thread's failure must fail the test
                errors.append(exc)

        threads = [threading.Thread(target=cashier, args=(i,)) for i in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors
        assert len(results) == THREADS * PER_THREAD and "refused" not in results
        after = book(tid)
        assert_gapless(after)
        paid = results.count("paid")
        assert results.count("rolled back") == len(range(0, THREADS * PER_THREAD, 10))
        assert len(after.get(year, [])) == len(before.get(year, [])) + paid
        with tenant_scope(tid):  # a rolled-back payment left its bill unpaid and wrote no line
            unpaid = db.session.scalar(select(func.count()).select_from(WasteInvoice).where(
                WasteInvoice.id.in_([b for _a, bills in work for b in bills]), WasteInvoice.receipt_id.is_(None)))
            assert unpaid == results.count("rolled back")
            db.session.remove()


def test_two_cashiers_racing_for_one_bill_make_one_receipt(app, waste):
    tid = waste["a"].tenant_id
    with app.app_context():
        for _round in range(3):  # a few rounds: the race must not depend on who starts first
            account_id, bills = account_with_bills(tid, late=1)
            barrier, results = threading.Barrier(2), []

            def cashier():
                results.append(pay(app, tid, account_id, bills, roll_back=False, barrier=barrier))

            threads = [threading.Thread(target=cashier) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert sorted(results) == ["paid", "refused"]
            with tenant_scope(tid):
                lines = db.session.scalar(select(func.count()).select_from(WasteReceiptLine)
                                          .where(WasteReceiptLine.invoice_id.in_(bills)))
                receipts_of_account = db.session.scalar(select(func.count()).select_from(WasteReceipt)
                                                        .where(WasteReceipt.account_id == account_id))
                assert lines == len(bills) and receipts_of_account == 1
                db.session.remove()
        assert_gapless(book(tid))

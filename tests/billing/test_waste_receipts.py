"""Counter payments and receipts: the counter screen (find, tick, pay; every mistake refused in Thai with
nothing written), the late surcharge, the receipt PDF with the amount in Thai words, cancelling a receipt,
the receipts list, show and CSV, and the tenant wall on each."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pypdfium2
import pytest
from sqlalchemy import func, select

from app import thai
from app.billing import receipt_pdf, receipts, tariff
from app.billing.models import WasteAccount, WasteInvoice, WasteReceipt, WasteReceiptLine
from app.extensions import db
from app.tenancy.context import tenant_scope
from tests.billing.waste import open_account, waste  # noqa: F401


def month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def make_bills(tenant_id: int, account_id: int, starts: list[date]) -> list[int]:
    """Bills of an account for the periods starting on `starts`, priced by the tenant's schedule (committed)."""
    ids = []
    with tenant_scope(tenant_id):
        account = db.session.get(WasteAccount, account_id)
        for start in starts:
            period = tariff.period(start)
            amount, code = tariff.tariff(start).price(account.premises_kind, account.litres_per_day)
            bill = WasteInvoice(account_id=account_id, period_start=period.start, period_end=period.end,
                                due_date=period.due, premises_kind=account.premises_kind,
                                litres_per_day=account.litres_per_day, fee_code=code, amount=amount)
            db.session.add(bill)
            db.session.flush()
            ids.append(bill.id)
        db.session.commit()
        db.session.remove()
    return ids


def account_with_bills(tenant_id: int, late: int = 1, current: bool = True, **overrides) -> tuple[int, list[int]]:
    """An account with `late` bills past their due date whatever today is (the periods of two months ago and
    before) and, if `current`, this month's bill (not yet due); ids oldest first."""
    today = thai.today_bangkok()
    starts = [month_start(today, back) for back in range(late + 1, 1, -1)] + ([month_start(today)] if current else [])
    account_id = open_account(tenant_id, start_date=starts[0].isoformat(), **overrides)
    return account_id, make_bills(tenant_id, account_id, starts)


def issue_receipt(tenant_id: int, account_id: int, bill_ids: list[int], **kwargs) -> int:
    with tenant_scope(tenant_id):
        account = db.session.get(WasteAccount, account_id)
        bills = [db.session.get(WasteInvoice, i) for i in bill_ids]
        receipt = receipts.issue(account, bills, paid_on=kwargs.pop("paid_on", thai.today_bangkok()),
                                 method=kwargs.pop("method", "cash"), channel="counter", actor_id=None,
                                 actor_name=kwargs.pop("actor_name", "นางสาวรับเงิน ตั้งใจ"), **kwargs)
        db.session.commit()
        receipt_id = receipt.id
        db.session.remove()
    return receipt_id


def pdf_text(data: bytes) -> str:
    pdf = pypdfium2.PdfDocument(data)
    return "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- the receipt PDF -----------------------------------------------------------------------------------------

def test_receipt_pdf_has_number_date_bills_and_thai_words(app, waste):
    with app.app_context():
        tid = waste["a"].tenant_id
        account_id, bills = account_with_bills(tid, late=1)
        receipt_id = issue_receipt(tid, account_id, bills)
        with app.test_request_context(), tenant_scope(tid):
            receipt = db.session.get(WasteReceipt, receipt_id)
            # the oldest bill is past due: 40 + 8 surcharge; the current one 40
            assert receipt.amount == Decimal("88.00")
            text = squash(pdf_text(receipt_pdf.render(receipt)))
            assert "ใบเสร็จรับเงิน" in text
            assert squash(receipt.label) in text and receipt.account.account_no in text
            assert squash(thai.baht_text(Decimal("88.00"))) in text  # แปดสิบแปดบาทถ้วน
            assert squash(tariff.period_label(month_start(thai.today_bangkok(), 2))) in text
            assert "8.00" in text and "88.00" in text and "ยกเลิก" not in text
            db.session.remove()


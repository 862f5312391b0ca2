"""Issuing a receipt for bills of one account, from the counter or a bank file: the amount is what is due on
the day paid (the late surcharge past a bill's due date), each bill is claimed only if still unpaid (two
clerks, or a clerk and a bank file, cannot both take it), and the number is the next of the organisation's
fiscal year (app/numbering.py). All of it happens in one savepoint: a refused bill undoes the number too, and
the caller's rollback returns it, so the book has no gap. The caller commits."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app import thai
from app.billing.invoices import DueCalculator
from app.billing.models import BANK_FILE, COUNTER, METHODS, WasteAccount, WasteInvoice, WasteReceipt, WasteReceiptLine
from app.extensions import db
from app.numbering import next_number
from app.tenancy.errors import UserError
from app.tenancy.models import utcnow

SERIES = "waste_receipt"
CHANNEL_NAMES = {COUNTER: _l("At the counter"), BANK_FILE: _l("Bank payment file")}


def issue(account: WasteAccount, bills: list[WasteInvoice], *, paid_on: date, method: str, channel: str,
          actor_id: int | None, actor_name: str, bank_txn_ref: str | None = None,
          expected_total: Decimal | None = None) -> WasteReceipt:
    """Raises UserError (nothing written by this function) when a bill is not this account's, is already
    paid, or when `expected_total` (what the payer handed over) is not what is due."""
    if not bills:
        raise UserError(_("Choose at least one bill to pay."), 422)
    if method not in METHODS:
        raise UserError(_("Choose how it was paid."), 422)
    if paid_on > thai.today_bangkok():
        raise UserError(_("The payment date cannot be in the future."), 422)
    if any(bill.account_id != account.id for bill in bills):
        raise UserError(_("A bill chosen is not of this account."), 422)
    if any(bill.receipt_id is not None for bill in bills):
        raise UserError(_("A bill chosen has already been paid."), 409)
    calculator = DueCalculator(paid_on)
    dues = {bill.id: calculator.due(bill) for bill in bills}
    total = sum((d.total for d in dues.values()), Decimal("0.00"))
    if expected_total is not None and Decimal(expected_total) != total:
        raise UserError(_("The amount received (%(amount)s) is not the amount due (%(due)s).",
                          amount=thai.format_baht(expected_total), due=thai.format_baht(total)), 422)
    try:
        with db.session.begin_nested():
            year = thai.fiscal_year(paid_on)
            # numbered last (below): the counter row stays locked from its number to the commit, so everything
            # else is done first and payments of one organisation queue only for two statements
            receipt = WasteReceipt(
                fiscal_year=year, number=None, account_id=account.id, paid_on=paid_on,
                amount=total, method=method, channel=channel, bank_txn_ref=bank_txn_ref, recorded_by_id=actor_id,
                recorded_by_name=actor_name,
            )
            db.session.add(receipt)
            db.session.flush()
            for bill in bills:
                # claimed only while unpaid: a concurrent payment of the same bill updates nothing here
                claimed = db.session.execute(
                    update(WasteInvoice).where(WasteInvoice.id == bill.id, WasteInvoice.receipt_id.is_(None))
                    .values(receipt_id=receipt.id, surcharge=dues[bill.id].surcharge)
                    .execution_options(synchronize_session=False))
                if claimed.rowcount != 1:
                    raise UserError(_("A bill chosen has already been paid."), 409)
                due = dues[bill.id]
                db.session.add(WasteReceiptLine(
                    receipt_id=receipt.id, invoice_id=bill.id, period_start=bill.period_start,
                    period_end=bill.period_end, amount=due.amount, surcharge=due.surcharge))
            db.session.flush()
            for bill in bills:
                db.session.refresh(bill)
            receipt.number = next_number(SERIES, year)
            db.session.flush()
    except IntegrityError:  # the bank's transaction reference was recorded by another import meanwhile
        raise UserError(_("This bank transaction has already been recorded."), 409) from None
    return receipt



# --- after issuing: what a receipt paid, cancelling it, finding receipts ------------------------------------

VOID_REASON_MAX = 300


def lines_of(receipt: WasteReceipt) -> list[WasteReceiptLine]:
    """The bills the receipt paid, oldest period first (still there once it is voided)."""
    return list(db.session.scalars(select(WasteReceiptLine).where(WasteReceiptLine.receipt_id == receipt.id)
                                   .order_by(WasteReceiptLine.period_start, WasteReceiptLine.id)))


def void(receipt: WasteReceipt, reason: str, *, actor_name: str) -> WasteReceipt:
    """Cancel a receipt (ยกเลิกใบเสร็จ): it keeps its number, marked void with the reason, and its bills are
    unpaid again with no surcharge (what is due is worked out afresh when they are paid). The caller
    commits. Two people voiding at once: only the first one does it."""
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise UserError(_("Give the reason for cancelling the receipt."), 422)
    if len(reason) > VOID_REASON_MAX:
        raise UserError(_("The reason has at most %(count)d characters.", count=VOID_REASON_MAX), 422)
    if receipt.voided_at is not None:
        raise UserError(_("Receipt %(number)s has already been cancelled.", number=receipt.label), 409)
    with db.session.begin_nested():
        done = db.session.execute(
            update(WasteReceipt).where(WasteReceipt.id == receipt.id, WasteReceipt.voided_at.is_(None))
            .values(voided_at=utcnow(), void_reason=reason, voided_by_name=actor_name)
            .execution_options(synchronize_session=False))
        if done.rowcount != 1:
            raise UserError(_("Receipt %(number)s has already been cancelled.", number=receipt.label), 409)
        db.session.execute(
            update(WasteInvoice).where(WasteInvoice.receipt_id == receipt.id)
            .values(receipt_id=None, surcharge=Decimal("0.00")).execution_options(synchronize_session=False))
    db.session.refresh(receipt)
    return receipt


_LABEL = re.compile(r"^\s*(\d{1,9})\s*(?:/\s*(\d{4}))?\s*$")


@dataclass(frozen=True)
class Number:
    number: int
    fiscal_year: int | None  # None: any year


def parse_label(text: str) -> Number | None:
    """"123/2570" or "123" (Thai digits too) -> Number; None when it is not a receipt number."""
    text = str(text or "").translate(str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789"))
    match = _LABEL.match(text)
    if not match:
        return None
    return Number(int(match.group(1)), int(match.group(2)) if match.group(2) else None)


def between(start: date, end: date, limit: int) -> list[WasteReceipt]:
    """Receipts dated from `start` to `end` (both included) in book order, at most `limit` + 1 (so the caller
    can tell there are more)."""
    return list(db.session.scalars(
        select(WasteReceipt).where(WasteReceipt.paid_on >= start, WasteReceipt.paid_on <= end)
        .order_by(WasteReceipt.fiscal_year, WasteReceipt.number).limit(limit + 1)))


def by_number(number: Number) -> list[WasteReceipt]:
    stmt = select(WasteReceipt).where(WasteReceipt.number == number.number)
    if number.fiscal_year is not None:
        stmt = stmt.where(WasteReceipt.fiscal_year == number.fiscal_year)
    return list(db.session.scalars(stmt.order_by(WasteReceipt.fiscal_year.desc())))


def surcharges(rows: list[WasteReceipt]) -> dict[int, Decimal]:
    """{receipt id: the late surcharge it took}, for many receipts in one query."""
    from sqlalchemy import func

    ids = [r.id for r in rows]
    if not ids:
        return {}
    found: dict[int, Decimal] = {}
    for start in range(0, len(ids), 1000):  # SQLite allows a limited number of bound values
        chunk = ids[start:start + 1000]
        found.update(db.session.execute(
            select(WasteReceiptLine.receipt_id, func.sum(WasteReceiptLine.surcharge))
            .where(WasteReceiptLine.receipt_id.in_(chunk)).group_by(WasteReceiptLine.receipt_id)).all())
    return found

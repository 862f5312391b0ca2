"""Issuing a receipt for bills of one account, from the counter or a bank file: the amount is what is due on
the day paid (the late surcharge past a bill's due date), each bill is claimed only if still unpaid (two
clerks, or a clerk and a bank file, cannot both take it), and the number is the next of the organisation's
fiscal year (app/numbering.py). All of it happens in one savepoint: a refused bill undoes the number too, and
the caller's rollback returns it, so the book has no gap. The caller commits."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from app import thai
from app.billing.invoices import DueCalculator
from app.billing.models import METHODS, WasteAccount, WasteInvoice, WasteReceipt
from app.extensions import db
from app.numbering import next_number
from app.tenancy.errors import UserError

SERIES = "waste_receipt"


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
            receipt = WasteReceipt(
                fiscal_year=year, number=next_number(SERIES, year), account_id=account.id, paid_on=paid_on,
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
    except IntegrityError:  # the bank's transaction reference was recorded by another import meanwhile
        raise UserError(_("This bank transaction has already been recorded."), 409) from None
    for bill in bills:
        db.session.refresh(bill)
    return receipt


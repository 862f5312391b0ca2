"""Paying at the counter (รับชำระ ณ เคาน์เตอร์): finding an account, what its unpaid bills cost today, and
checking what the cashier ticked and typed before the receipt is issued (app/billing/receipts.issue).

The rule on which bills: arrears are paid oldest first. A newer bill cannot be paid while an older one of the
same account stays unpaid, as a municipality's finance division books the oldest debt first (and a late
surcharge keeps running on the older bill); the cashier ticks from the oldest one on. Every mistake is
reported at once, by field, in the user's language; nothing is written until all is right."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Mapping

from flask_babel import gettext as _
from sqlalchemy import or_, select

from app import thai
from app.billing import invoices, receipts, tariff
from app.billing.accounts import normal_account_no
from app.billing.models import COUNTER, METHODS, WasteAccount, WasteInvoice, WasteReceipt
from app.extensions import db
from app.tenancy.errors import UserError

SEARCH_LIMIT = 20


class CounterError(UserError):
    """Mistakes by field ({"bills": ..., "amount": ..., ...}); the message joins them."""

    def __init__(self, errors: dict[str, str], status: int = 422):
        super().__init__(" ".join(errors.values()), status)
        self.errors = errors


def find_accounts(text: str) -> list[WasteAccount]:
    """By account number (digits, exact) or by part of the holder's or business name; a short list."""
    text = " ".join(str(text or "").split())
    if not text:
        return []
    digits = text.translate(str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789"))
    if digits.isdigit():
        return list(db.session.scalars(select(WasteAccount).where(WasteAccount.account_no == normal_account_no(digits))
                                       .limit(SEARCH_LIMIT)))
    like = f"%{text.replace('%', '').replace('_', '')}%"
    return list(db.session.scalars(
        select(WasteAccount).where(or_(WasteAccount.holder_name.ilike(like), WasteAccount.business_name.ilike(like)))
        .order_by(WasteAccount.holder_name, WasteAccount.id).limit(SEARCH_LIMIT)))


@dataclass(frozen=True)
class OpenBill:
    invoice: WasteInvoice
    due: invoices.Due
    label: str  # ธันวาคม 2569


def open_bills(account: WasteAccount, on: date) -> list[OpenBill]:
    """The account's unpaid bills, oldest first, with what each costs if paid on `on`."""
    calculator = invoices.DueCalculator(on)
    return [OpenBill(bill, calculator.due(bill), tariff.period_label(bill.period_start))
            for bill in invoices.unpaid(account.id)]


@dataclass(frozen=True)
class CounterPayment:
    bills: list[WasteInvoice]
    method: str
    paid_on: date
    amount: Decimal


def _amount(text: str) -> Decimal | None:
    text = str(text or "").replace(",", "").replace("บาท", "").strip()
    try:
        value = Decimal(text) if text else None
    except InvalidOperation:
        return None
    return value if value is not None and value.is_finite() else None


def _bill_ids(values) -> list[int] | None:
    ids = []
    for value in values or []:
        value = str(value).strip()
        if not value.isdigit() or len(value) > 10:
            return None
        ids.append(int(value))
    return ids


def check(account: WasteAccount, form: Mapping, bill_ids) -> CounterPayment:
    """What the cashier submitted, checked: the bills (this account's, unpaid, oldest first), the method,
    the day (พ.ศ., not in the future, in the current fiscal year) and the amount received (what is due)."""
    errors: dict[str, str] = {}
    today = thai.today_bangkok()
    paid_on = today
    if str(form.get("paid_on") or "").strip():
        try:
            paid_on = thai.parse_date(str(form["paid_on"]))
        except thai.ThaiDateError as exc:
            errors["paid_on"] = str(exc)
        else:
            if paid_on > today:
                errors["paid_on"] = _("The payment date cannot be in the future.")
            elif thai.fiscal_year(paid_on) != thai.fiscal_year(today):
                errors["paid_on"] = _("A receipt of an earlier fiscal year cannot be issued now: the payment date "
                                      "must be in fiscal year %(year)d.", year=thai.fiscal_year(today))
    method = str(form.get("method") or "")
    if method not in METHODS:
        errors["method"] = _("Choose how it was paid.")

    chosen: list[WasteInvoice] = []
    ids = _bill_ids(bill_ids)
    if ids is None:
        errors["bills"] = _("A bill chosen was not found.")
    elif not ids:
        errors["bills"] = _("Choose at least one bill to pay.")
    else:
        found = {bill.id: bill for bill in db.session.scalars(select(WasteInvoice).where(WasteInvoice.id.in_(ids)))}
        # another organisation's bill is not found (the tenant wall), nor one of another account
        if len(found) != len(set(ids)) or any(bill.account_id != account.id for bill in found.values()):
            errors["bills"] = _("A bill chosen was not found.")
        else:
            chosen = sorted(found.values(), key=lambda bill: bill.period_start)
            paid = [bill for bill in chosen if bill.receipt_id is not None]
            if paid:
                errors["bills"] = already_paid_message(paid[0])
            else:
                newest = chosen[-1].period_start
                skipped = [bill for bill in invoices.unpaid(account.id)
                           if bill.period_start < newest and bill.id not in found]
                if skipped:
                    errors["bills"] = _(
                        "Bills are paid oldest first: the bill of %(older)s is still unpaid, so %(newer)s cannot "
                        "be paid before it. Tick it too.", older=tariff.period_label(skipped[0].period_start),
                        newer=tariff.period_label(newest))

    amount = _amount(form.get("amount"))
    if amount is None:
        errors["amount"] = _("Enter the amount received in baht, e.g. 300.00.")
    elif amount.quantize(Decimal("0.01")) != amount:
        errors["amount"] = _("The amount has at most two decimal places (satang).")
    elif chosen and "paid_on" not in errors and "bills" not in errors:
        calculator = invoices.DueCalculator(paid_on)
        total = sum((calculator.due(bill).total for bill in chosen), Decimal("0.00"))
        if amount != total:
            errors["amount"] = _("The amount received (%(amount)s) is not the amount due (%(due)s).",
                                 amount=thai.format_baht(amount), due=thai.format_baht(total))
    if errors:  # 409 when a bill was paid meanwhile (a second click, another cashier), else 422
        raise CounterError(errors, 409 if any(bill.receipt_id for bill in chosen) else 422)
    return CounterPayment(chosen, method, paid_on, amount)


def already_paid_message(bill: WasteInvoice) -> str:
    receipt = db.session.get(WasteReceipt, bill.receipt_id) if bill.receipt_id else None
    if receipt is None:
        return _("A bill chosen has already been paid.")
    return _("The bill of %(period)s has already been paid: receipt %(number)s of %(day)s (%(who)s).",
             period=tariff.period_label(bill.period_start), number=receipt.label,
             day=thai.format_date(receipt.paid_on), who=receipt.recorded_by_name)


def pay(account: WasteAccount, form: Mapping, bill_ids, *, actor_id: int | None, actor_name: str) -> WasteReceipt:
    """Check, then issue the receipt. The caller commits (or rolls back on an error)."""
    checked = check(account, form, bill_ids)
    try:
        return receipts.issue(account, checked.bills, paid_on=checked.paid_on, method=checked.method,
                              channel=COUNTER, actor_id=actor_id, actor_name=actor_name,
                              expected_total=checked.amount)
    except UserError as exc:
        if exc.status == 409:  # another cashier (or a bank file) took a bill meanwhile
            db.session.rollback()
            for bill in checked.bills:
                db.session.refresh(bill)
            paid = [bill for bill in checked.bills if bill.receipt_id is not None]
            raise CounterError({"bills": already_paid_message(paid[0]) if paid else exc.message}, 409) from None
        raise CounterError({"bills": exc.message}, exc.status) from None

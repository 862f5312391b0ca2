"""Recording a payment: checked against the fee the matter was asked to pay, with a receipt number used once in
the organisation. Called by the workflow engine inside the step that records it, so the step and the payment
are written together or not at all."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Mapping

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import thai
from app.billing.models import METHODS, Payment
from app.catalog.models import ServiceRequest
from app.extensions import db
from app.tenancy.errors import UserError
from app.security.services import person_name

METHOD_NAMES = {"cash": _l("Cash"), "promptpay": _l("Thai QR / PromptPay"), "transfer": _l("Bank transfer"),
                "cheque": _l("Cheque")}
RECEIPT = re.compile(r"^[0-9A-Za-zก-๙./\- ]{1,40}$")


@dataclass(frozen=True)
class PaymentInput:
    receipt_no: str
    amount: Decimal
    method: str
    paid_on: date


def from_form(form: Mapping) -> dict:
    """The payment fields of the staff step form, as typed."""
    return {key: (form.get(f"payment_{key}") or "").strip() for key in ("receipt_no", "amount", "method", "paid_on")}


def check(request: ServiceRequest, raw: Mapping | None) -> PaymentInput:
    """Every mistake at once, in one message; nothing is written here."""
    raw = raw or {}
    errors = []
    if not request.fee_total:
        raise UserError(_("No fee has been asked for on this request, so there is no payment to record."), 422)
    receipt_no = " ".join(str(raw.get("receipt_no") or "").split())
    if not receipt_no:
        errors.append(_("Enter the receipt number."))
    elif not RECEIPT.match(receipt_no):
        errors.append(_("A receipt number has at most 40 letters, digits, spaces, dots, dashes or slashes."))
    elif db.session.scalar(select(Payment.id).where(Payment.receipt_no == receipt_no)):
        errors.append(_("Receipt number %(number)s has already been used.", number=receipt_no))
    amount = None
    text = str(raw.get("amount") or "").replace(",", "").strip()
    try:
        amount = Decimal(text) if text else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        errors.append(_("Enter the amount received in baht, e.g. 300.00."))
    elif amount.quantize(Decimal("0.01")) != amount:
        errors.append(_("The amount has at most two decimal places (satang)."))
    elif amount != request.fee_total:
        errors.append(_("The amount received (%(amount)s) is not the fee due (%(due)s).",
                        amount=thai.format_baht(amount), due=thai.format_baht(request.fee_total)))
    method = str(raw.get("method") or "")
    if method not in METHODS:
        errors.append(_("Choose how it was paid."))
    paid_on = thai.today_bangkok()
    if str(raw.get("paid_on") or "").strip():
        try:
            paid_on = thai.parse_date(str(raw["paid_on"]))
        except thai.ThaiDateError as exc:
            errors.append(str(exc))
        else:
            filed = thai.to_bangkok(request.created_at).date()
            if paid_on > thai.today_bangkok():  # a receipt dated ahead or before the matter is a typing slip
                errors.append(_("The payment date cannot be in the future."))
            elif paid_on < filed:
                errors.append(_("The payment date cannot be before the request was filed (%(day)s).",
                                day=thai.format_date(filed)))
    if errors:
        raise UserError(" ".join(errors), 422)
    return PaymentInput(receipt_no, amount, method, paid_on)


def record(request: ServiceRequest, event, user, checked: PaymentInput) -> Payment:
    """Write the checked payment with the step that records it. The caller commits."""
    payment = Payment(
        tenant_id=request.tenant_id, request_id=request.id, amount=checked.amount, paid_on=checked.paid_on,
        receipt_no=checked.receipt_no, method=checked.method, event_id=event.id,
        recorded_by_id=user.id, recorded_by_name=person_name(user),
    )
    try:
        with db.session.begin_nested():
            db.session.add(payment)
    except IntegrityError:  # the same receipt number recorded at the same moment by someone else
        raise UserError(_("Receipt number %(number)s has already been used.", number=checked.receipt_no), 409)
    return payment


def note(checked: PaymentInput) -> str:
    """What the timeline says, for staff and the applicant alike."""
    return _("Paid %(amount)s (%(method)s) on %(day)s, receipt no. %(number)s.",
             amount=thai.format_baht(checked.amount), method=METHOD_NAMES[checked.method],
             day=thai.format_date(checked.paid_on), number=checked.receipt_no)


def of_request(request_id: int) -> list[Payment]:
    return list(db.session.scalars(select(Payment).where(Payment.request_id == request_id).order_by(Payment.id)))

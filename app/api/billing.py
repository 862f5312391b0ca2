"""Money (read): payments recorded on service requests, waste-collection bills and waste receipts, as the
finance staff's lists show them. Each list needs the acting user's permission for the matching staff list
(PaymentView, WasteInvoiceView, WasteReceiptView); every row comes through the tenant wall."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, validates_schema
from marshmallow import fields as mf
from sqlalchemy import not_, select

from app import thai
from app.api import validate
from app.api.auth import require_permission
from app.api.errors import ApiError
from app.api.models import READ
from app.api.openapi import PREFIX, ApiBlueprint, guard_blueprint, operation
from app.api.paging import MAX_ID, PageArgs, page
from app.api.schemas import UtcDateTime, money, page_of
from app.billing import reports
from app.billing.models import METHODS, Payment, WasteAccount, WasteInvoice, WasteReceipt, WasteReceiptLine
from app.extensions import db
from app.schema_base import fields

blp = ApiBlueprint("open_billing", __name__, url_prefix=PREFIX,
                   description="Money received and billed: payments on requests, waste-fee bills and receipts (read).")
guard_blueprint(blp)

PAID, UNPAID = "paid", "unpaid"
ACCOUNT_NO = r"^[0-9]{1,12}$"
PERIOD_CODE = r"^(2[4-8][0-9]{2})(0[1-9]|1[0-2])$"  # Ref2: พ.ศ. year and month, 256912


def _pk(pk: int) -> int:
    if not 0 < pk <= MAX_ID:
        raise ApiError(404)
    return pk


class _DateRange(PageArgs):
    paid_from = fields.Date(load_default=None, metadata={"description": "paid on or after this day (ISO date)"})
    paid_to = fields.Date(load_default=None, metadata={"description": "paid on or before this day (ISO date)"})

    @validates_schema
    def _ordered(self, data, **kwargs):
        if data.get("paid_from") and data.get("paid_to") and data["paid_to"] < data["paid_from"]:
            raise ValidationError({"paid_to": [_l("The end date must not be before the start date.")]})


# --- payments on service requests --------------------------------------------------------------------------

class PaymentSchema(Schema):
    id = mf.Integer(required=True)
    request_id = mf.Integer(required=True, metadata={"description": "the service request paid for"})
    amount = money(required=True)
    paid_on = mf.Date(required=True, metadata={"description": "the day on the receipt (Bangkok)"})
    receipt_no = mf.String(required=True)
    method = mf.String(required=True, metadata={"description": "cash, promptpay, transfer or cheque"})
    recorded_by_name = mf.String(required=True)
    recorded_at = UtcDateTime(required=True)


class PaymentListArgs(_DateRange):
    request_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID),
                                metadata={"description": "only the payments of this service request"})


def _payment(p: Payment) -> dict:
    return {"id": p.id, "request_id": p.request_id, "amount": p.amount, "paid_on": p.paid_on,
            "receipt_no": p.receipt_no, "method": p.method, "recorded_by_name": p.recorded_by_name,
            "recorded_at": p.recorded_at}


@blp.route("/payments")
@operation(blp, READ)
@blp.arguments(PaymentListArgs, location="query")
@blp.response(200, page_of(PaymentSchema))
def list_payments(args):
    """Payments recorded on service requests, newest first. The acting user needs the payments list
    (PaymentView can_list)."""
    require_permission("can_list", "PaymentView")
    stmt = select(Payment)
    if args.get("request_id"):
        stmt = stmt.where(Payment.request_id == args["request_id"])
    if args.get("paid_from"):
        stmt = stmt.where(Payment.paid_on >= args["paid_from"])
    if args.get("paid_to"):
        stmt = stmt.where(Payment.paid_on <= args["paid_to"])
    result = page(stmt, Payment.id, args)
    return {"items": [_payment(p) for p in result["items"]], "next_cursor": result["next_cursor"]}


@blp.route("/payments/<int:pk>")
@operation(blp, READ)
@blp.response(200, PaymentSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_payment(pk):
    """One payment."""
    require_permission("can_list", "PaymentView")
    found = db.session.get(Payment, _pk(pk))
    if found is None:
        raise ApiError(404)
    return _payment(found)


# --- waste-collection bills ---------------------------------------------------------------------------------

class InvoiceSchema(Schema):
    id = mf.Integer(required=True)
    account_no = mf.String(required=True, metadata={"description": "the account number (Ref1 of the bill)"})
    route_code = mf.String(required=True, allow_none=True, metadata={"description": "the account's route; null: none"})
    period = mf.String(required=True, metadata={"description": "Ref2: the พ.ศ. year and month the period starts"})
    period_start = mf.Date(required=True)
    period_end = mf.Date(required=True)
    fiscal_year = mf.Integer(required=True, metadata={"description": "พ.ศ. fiscal year of the period's start"})
    due_date = mf.Date(required=True)
    premises_kind = mf.String(required=True, metadata={"description": "the tier billed: household or business"})
    litres_per_day = mf.Decimal(required=True, places=2, as_string=True, metadata={"example": "20.00"})
    fee_code = mf.String(required=True)
    amount = money(required=True, metadata={"description": "the bill"})
    surcharge = money(required=True, metadata={"description": "the late surcharge it was paid with (0 unless "
                                                              "paid late)"})
    status = mf.String(required=True, metadata={"description": "paid (a receipt not cancelled names it) or unpaid",
                                                "enum": [PAID, UNPAID]})
    overdue = mf.Boolean(required=True, metadata={"description": "unpaid and past its due date"})
    receipt_id = mf.Integer(required=True, allow_none=True)
    created_at = UtcDateTime(required=True)


class InvoiceListArgs(PageArgs):
    account = fields.String(load_default=None, validate=validate.Regexp(
        ACCOUNT_NO, _l("Type the account number in digits.")), metadata={"description": "account number"})
    status = fields.String(load_default=None, validate=validate.OneOf([PAID, UNPAID]))
    period = fields.String(load_default=None, validate=validate.Regexp(
        PERIOD_CODE, _l("Type the period as the Buddhist-era year and month, e.g. 256912.")),
        metadata={"description": "the period's Ref2 code, e.g. 256912 (December 2569)"})
    fiscal_year = fields.Integer(load_default=None, validate=validate.Range(min=2400, max=2800),
                                 metadata={"description": "พ.ศ. fiscal year (October to September)"})


def _period_start(code: str) -> date:
    return date(int(code[:4]) - 543, int(code[4:]), 1)


def _invoices(rows: list[WasteInvoice]) -> list[dict]:
    ids = {r.receipt_id for r in rows if r.receipt_id is not None}
    voided = set(db.session.scalars(select(WasteReceipt.id).where(
        WasteReceipt.id.in_(ids), WasteReceipt.voided_at.is_not(None)))) if ids else set()
    today = thai.today_bangkok()
    out = []
    for bill in rows:
        paid = bill.receipt_id is not None and bill.receipt_id not in voided
        account = bill.account
        out.append({
            "id": bill.id, "account_no": account.account_no, "route_code": account.route.code if account.route else None,
            "period": f"{thai.be_year(bill.period_start)}{bill.period_start.month:02d}",
            "period_start": bill.period_start, "period_end": bill.period_end,
            "fiscal_year": thai.fiscal_year(bill.period_start), "due_date": bill.due_date,
            "premises_kind": bill.premises_kind, "litres_per_day": bill.litres_per_day, "fee_code": bill.fee_code,
            "amount": bill.amount, "surcharge": bill.surcharge, "status": PAID if paid else UNPAID,
            "overdue": not paid and today > bill.due_date, "receipt_id": bill.receipt_id if paid else None,
            "created_at": bill.created_at,
        })
    return out


@blp.route("/invoices")
@operation(blp, READ)
@blp.arguments(InvoiceListArgs, location="query")
@blp.response(200, page_of(InvoiceSchema))
def list_invoices(args):
    """Waste-collection bills, newest first. The acting user needs the bills list (WasteInvoiceView can_list)."""
    require_permission("can_list", "WasteInvoiceView")
    stmt = select(WasteInvoice)
    if args.get("account"):
        stmt = stmt.where(WasteInvoice.account_id.in_(
            select(WasteAccount.id).where(WasteAccount.account_no == args["account"])))
    if args.get("status") == PAID:
        stmt = stmt.where(not_(reports.is_open()))
    elif args.get("status") == UNPAID:
        stmt = stmt.where(reports.is_open())
    if args.get("period"):
        stmt = stmt.where(WasteInvoice.period_start == _period_start(args["period"]))
    if args.get("fiscal_year"):
        first, last = thai.fiscal_year_bounds(args["fiscal_year"])
        stmt = stmt.where(WasteInvoice.period_start >= first, WasteInvoice.period_start <= last)
    result = page(stmt, WasteInvoice.id, args)
    return {"items": _invoices(result["items"]), "next_cursor": result["next_cursor"]}


@blp.route("/invoices/<int:pk>")
@operation(blp, READ)
@blp.response(200, InvoiceSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_invoice(pk):
    """One waste-collection bill."""
    require_permission("can_list", "WasteInvoiceView")
    found = db.session.get(WasteInvoice, _pk(pk))
    if found is None:
        raise ApiError(404)
    return _invoices([found])[0]


# --- waste receipts -----------------------------------------------------------------------------------------

class ReceiptLineSchema(Schema):
    invoice_id = mf.Integer(required=True)
    period_start = mf.Date(required=True)
    period_end = mf.Date(required=True)
    amount = money(required=True)
    surcharge = money(required=True)


class ReceiptSchema(Schema):
    id = mf.Integer(required=True)
    label = mf.String(required=True, metadata={"description": "number/fiscal year, e.g. 123/2570"})
    number = mf.Integer(required=True, allow_none=True)
    fiscal_year = mf.Integer(required=True, metadata={"description": "พ.ศ."})
    account_no = mf.String(required=True)
    holder_name = mf.String(required=True, metadata={"description": "the account holder, as on the staff list"})
    paid_on = mf.Date(required=True)
    method = mf.String(required=True, metadata={"description": "cash, promptpay, transfer or cheque"})
    channel = mf.String(required=True, metadata={"description": "counter or bank_file"})
    bank_txn_ref = mf.String(required=True, allow_none=True)
    total = money(required=True, metadata={"description": "what was received (bills and late surcharges)"})
    lines = mf.List(mf.Nested(ReceiptLineSchema), required=True)
    recorded_by_name = mf.String(required=True)
    recorded_at = UtcDateTime(required=True)
    voided = mf.Boolean(required=True, metadata={"description": "cancelled (it keeps its number, its bills are "
                                                                "unpaid again)"})
    voided_at = UtcDateTime(required=True, allow_none=True)
    void_reason = mf.String(required=True, allow_none=True)


class ReceiptListArgs(_DateRange):
    account = fields.String(load_default=None, validate=validate.Regexp(
        ACCOUNT_NO, _l("Type the account number in digits.")), metadata={"description": "account number"})
    fiscal_year = fields.Integer(load_default=None, validate=validate.Range(min=2400, max=2800),
                                 metadata={"description": "พ.ศ. fiscal year of the receipt book"})
    method = fields.String(load_default=None, validate=validate.OneOf(list(METHODS)))
    voided = fields.Boolean(load_default=None, metadata={"description": "only cancelled (true) or valid (false)"})


def _receipts(rows: list[WasteReceipt]) -> list[dict]:
    ids = [r.id for r in rows]
    lines: dict[int, list[WasteReceiptLine]] = {}
    if ids:
        for line in db.session.scalars(select(WasteReceiptLine).where(WasteReceiptLine.receipt_id.in_(ids))
                                       .order_by(WasteReceiptLine.period_start, WasteReceiptLine.id)):
            lines.setdefault(line.receipt_id, []).append(line)
    return [{
        "id": r.id, "label": r.label, "number": r.number, "fiscal_year": r.fiscal_year,
        "account_no": r.account.account_no, "holder_name": r.account.holder_name, "paid_on": r.paid_on,
        "method": r.method, "channel": r.channel, "bank_txn_ref": r.bank_txn_ref, "total": r.amount,
        "lines": [{"invoice_id": line.invoice_id, "period_start": line.period_start, "period_end": line.period_end,
                   "amount": line.amount, "surcharge": line.surcharge} for line in lines.get(r.id, [])],
        "recorded_by_name": r.recorded_by_name, "recorded_at": r.recorded_at, "voided": r.voided_at is not None,
        "voided_at": r.voided_at, "void_reason": r.void_reason,
    } for r in rows]


@blp.route("/receipts")
@operation(blp, READ)
@blp.arguments(ReceiptListArgs, location="query")
@blp.response(200, page_of(ReceiptSchema))
def list_receipts(args):
    """Waste-fee receipts with the bills each paid, newest first; cancelled ones included with their reason.
    The acting user needs the receipts list (WasteReceiptView can_list)."""
    require_permission("can_list", "WasteReceiptView")
    stmt = select(WasteReceipt).where(WasteReceipt.number.is_not(None))
    if args.get("account"):
        stmt = stmt.where(WasteReceipt.account_id.in_(
            select(WasteAccount.id).where(WasteAccount.account_no == args["account"])))
    if args.get("fiscal_year"):
        stmt = stmt.where(WasteReceipt.fiscal_year == args["fiscal_year"])
    if args.get("method"):
        stmt = stmt.where(WasteReceipt.method == args["method"])
    if args.get("voided") is not None:
        stmt = stmt.where(WasteReceipt.voided_at.is_not(None) if args["voided"] else WasteReceipt.voided_at.is_(None))
    if args.get("paid_from"):
        stmt = stmt.where(WasteReceipt.paid_on >= args["paid_from"])
    if args.get("paid_to"):
        stmt = stmt.where(WasteReceipt.paid_on <= args["paid_to"])
    result = page(stmt, WasteReceipt.id, args)
    return {"items": _receipts(result["items"]), "next_cursor": result["next_cursor"]}


@blp.route("/receipts/<int:pk>")
@operation(blp, READ)
@blp.response(200, ReceiptSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_receipt(pk):
    """One waste-fee receipt with the bills it paid."""
    require_permission("can_list", "WasteReceiptView")
    found = db.session.get(WasteReceipt, _pk(pk))
    if found is None or found.number is None:
        raise ApiError(404)
    return _receipts([found])[0]


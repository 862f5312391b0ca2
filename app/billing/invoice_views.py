"""Bills (ใบแจ้งหนี้) for staff: the list with its filters (period, route, paid or not), one bill and its PDF,
and route sheets: a route's bills of a period in route order, as PDFs of a few hundred bills each, so that a
collector prints one route at a time. Every read goes through the tenant wall: another organisation's bill or
route is a 404."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flask import Response, abort, current_app, flash, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from sqlalchemy import String, and_, cast, func, literal, not_, or_, select, true
from sqlalchemy.orm import aliased

from app.billing import bill_pdf, invoices, reports
from app.billing import tariff as tariffs
from app.billing.models import WasteAccount, WasteInvoice, WasteReceipt, WasteRoute
from app.extensions import db
from app.tenancy.errors import UserError
from app.tenancy.models import localized

PAGE_SIZE = 100
COUNT_CAP = 1000  # counted exactly up to here, then shown as "1,000+"
ROUTE_SHEET_BATCH = 150  # bills per PDF: 50 pages, about 10 s of WeasyPrint on one core
PAID, UNPAID = "paid", "unpaid"


ACCOUNT_VIEW = "WasteAccountView"  # the account screen (app/billing/account_views.py)


def account_linker():
    """A function account id -> the account's page, or one giving None when that screen is not installed or
    the user may not open it (worked out once per page, not per row)."""
    endpoint = f"{ACCOUNT_VIEW}.show"
    sm = current_app.appbuilder.sm
    if endpoint not in current_app.view_functions or not sm.has_access("can_show", ACCOUNT_VIEW):
        return lambda account_id: None
    return lambda account_id: url_for(endpoint, pk=account_id)


def route_sheet_batch() -> int:
    return max(int(current_app.config.get("WASTE_ROUTE_SHEET_BATCH", ROUTE_SHEET_BATCH)), 1)


# --- filters ------------------------------------------------------------------------------------------------

@dataclass
class Filters:
    period: tariffs.Period | None = None
    route_key: str = ""  # "", a route id, or reports.NO_ROUTE
    status: str = ""
    errors: tuple[str, ...] = ()

    def args(self, **extra) -> dict:
        out = {"period": self.period.code if self.period else None, "route": self.route_key or None,
               "status": self.status or None, **extra}
        return {k: v for k, v in out.items() if v not in (None, "")}


def parse_period(text: str) -> tariffs.Period:
    return tariffs.period_from_code(text)


def parse_route(text: str) -> str:
    """A route id of this organisation, reports.NO_ROUTE, or UserError (another organisation's id included)."""
    text = (text or "").strip()
    if text == reports.NO_ROUTE:
        return text
    if not text.isdigit() or db.session.get(WasteRoute, int(text)) is None:
        raise UserError(_("There is no such route."), 404)
    return text


def read_filters(args) -> Filters:
    found, errors = Filters(), []
    if args.get("period"):
        try:
            found.period = parse_period(args["period"])
        except UserError as exc:
            errors.append(exc.message)
    if args.get("route"):
        try:
            found.route_key = parse_route(args["route"])
        except UserError as exc:
            errors.append(exc.message)
    if args.get("status") in (PAID, UNPAID):
        found.status = args["status"]
    found.errors = tuple(errors)
    return found


def _where(filters: Filters) -> list:
    clauses = []
    if filters.period:
        clauses.append(WasteInvoice.period_start == filters.period.start)
    if filters.route_key:
        clauses.append(reports._route_clause(filters.route_key))
    if filters.status == PAID:
        clauses.append(not_(reports.is_open()))
    elif filters.status == UNPAID:
        clauses.append(reports.is_open())
    return clauses


def _after(token: str | None):
    """The key of the last row of the previous page: 2026-12-01_123 (period start, account id)."""
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})_(\d+)", token or "")
    if not match:
        return None
    try:
        start = date.fromisoformat(match.group(1))
    except ValueError:
        return None
    account_id = int(match.group(2))
    return or_(WasteInvoice.period_start < start,
               and_(WasteInvoice.period_start == start, WasteInvoice.account_id > account_id))


def bill_page(filters: Filters, after: str | None = None, size: int = PAGE_SIZE):
    """(bills with accounts and routes joined, their receipts by id, capped count, key of the next page)."""
    where = _where(filters)
    if filters.errors:
        return [], {}, 0, None
    stmt = select(WasteInvoice).join(WasteAccount, WasteAccount.id == WasteInvoice.account_id).where(*where)
    key = _after(after)
    page = stmt.where(key) if key is not None else stmt
    # the capped count rides with the page's rows (one statement); the whole entity stays in its subquery so
    # the tenant guard's criteria attach to it
    capped = select(WasteInvoice).join(WasteAccount, WasteAccount.id == WasteInvoice.account_id) \
        .where(*where).limit(COUNT_CAP + 1).correlate(None).subquery()
    counted = select(func.count()).select_from(capped).correlate(None).scalar_subquery()
    # ... and so do the receipts of the paid bills (outer join: one statement for the page however many)
    paid_by = aliased(WasteReceipt)  # an alias: the paid/unpaid filters have subqueries on receipts of their own
    found = db.session.execute(page.outerjoin(paid_by, paid_by.id == WasteInvoice.receipt_id)
                               .add_columns(paid_by, counted.label("capped_count"))
                               .order_by(WasteInvoice.period_start.desc(), WasteInvoice.account_id)
                               .limit(size + 1)).unique().all()
    rows = [row[0] for row in found]
    if found:
        count = found[0][2] or 0
    elif key is None:
        count = 0
    else:  # a page by key past the last bill: counted on its own
        count = db.session.scalar(select(func.count()).select_from(capped)) or 0
    more = len(rows) > size
    rows = rows[:size]
    receipts = {row[1].id: row[1] for row in found[:size] if row[1] is not None}
    next_key = f"{rows[-1].period_start.isoformat()}_{rows[-1].account_id}" if more and rows else None
    return rows, receipts, count, next_key


def periods(limit: int = 60) -> list[tariffs.Period]:
    """The periods billed, newest first (for the drop-downs)."""
    # the saved settings and the periods billed in one statement (the period starts ride along as text);
    # a tenant that never saved its settings: the defaults, and the starts read on their own
    from app.billing.models import WasteSettings

    starts_q = select(WasteInvoice.period_start).distinct().order_by(WasteInvoice.period_start.desc()).limit(limit)
    listed = starts_q.subquery()
    joined = select(func.aggregate_strings(cast(listed.c.period_start, String), ",")).scalar_subquery()
    one = select(literal(1).label("one")).subquery()  # one row, whether or not settings were saved
    row = db.session.execute(select(WasteSettings, joined.label("starts")).select_from(one)
                             .outerjoin(WasteSettings, true())).first()
    conf = row[0] if row[0] is not None else tariffs.default_settings()  # none saved yet
    starts = sorted({date.fromisoformat(v[:10]) for v in (row[1] or "").split(",") if v}, reverse=True)
    found = []
    for start in starts:
        try:
            found.append(tariffs.period(start, conf))
        except UserError:  # billed under an earlier period length: still listed by its month
            found.append(tariffs.Period(start, start, start))
    return found


def routes() -> list[WasteRoute]:
    return list(db.session.scalars(select(WasteRoute).order_by(WasteRoute.code)))


def route_label(route_key: str) -> str:
    if route_key == reports.NO_ROUTE:
        return _("No route")
    route = db.session.get(WasteRoute, int(route_key))
    return f"{route.code} {localized(route.name_th, route.name_en or '')}"


def route_sheet_query(route_key: str, period: tariffs.Period, unpaid_only: bool):
    stmt = (select(WasteInvoice).join(WasteAccount, WasteAccount.id == WasteInvoice.account_id)
            .where(WasteInvoice.period_start == period.start, reports._route_clause(route_key)))
    if unpaid_only:
        stmt = stmt.where(reports.is_open())
    return stmt


def route_sheet_count(route_key: str, period: tariffs.Period, unpaid_only: bool) -> int:
    stmt = route_sheet_query(route_key, period, unpaid_only).with_only_columns(WasteInvoice.id)
    return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def route_sheet_bills(route_key: str, period: tariffs.Period, unpaid_only: bool, batch: int,
                      size: int) -> list[WasteInvoice]:
    """Batch `batch` (from 1) of the route's bills in route order."""
    stmt = route_sheet_query(route_key, period, unpaid_only).order_by(
        WasteAccount.route_seq, WasteAccount.account_no, WasteInvoice.id)
    return list(db.session.scalars(stmt.offset((batch - 1) * size).limit(size)).unique())


def _pdf(data: bytes, name: str) -> Response:
    return Response(data, mimetype="application/pdf", headers={"Content-Disposition": f"inline; filename={name}"})


class WasteInvoiceView(BaseView):
    route_base = "/waste/invoices"
    default_view = "list"
    method_permission_name = {"route_sheet_pdf": "route_sheets"}

    @expose("/")
    @has_access
    def list(self):
        filters = read_filters(request.args)
        for message in filters.errors:
            flash(message, "danger")
        rows, receipts, count, next_key = bill_page(filters, request.args.get("after"))
        return self.render_template(
            "billing/invoice_list.html", rows=rows, receipts=receipts, count=count, count_cap=COUNT_CAP,
            filters=filters, periods=periods(), routes=routes(), next_key=next_key,
            first_page=bool(request.args.get("after")), period_label=tariffs.period_label, no_route=reports.NO_ROUTE,
            appbuilder=self.appbuilder)

    @expose("/<int:pk>")
    @has_access
    def show(self, pk: int):
        bill = db.session.get(WasteInvoice, pk)
        if bill is None:
            abort(404)
        slip = bill_pdf.slips([bill])[0]
        receipt = db.session.get(WasteReceipt, bill.receipt_id) if bill.receipt_id else None
        return self.render_template(
            "billing/invoice_show.html", bill=bill, slip=slip, receipt=receipt, account_url=account_linker()(bill.account_id),
            appbuilder=self.appbuilder)

    @expose("/<int:pk>/bill.pdf")
    @has_access
    def pdf(self, pk: int):
        bill = db.session.get(WasteInvoice, pk)
        if bill is None:
            abort(404)
        return _pdf(bill_pdf.render_bills([bill]), f"bill-{bill.account.account_no}-{invoices.ref2(bill)}.pdf")

    @expose("/route-sheets")
    @has_access
    def route_sheets(self):
        """Choose a period and a route: the links to its bills, a batch of ROUTE_SHEET_BATCH per PDF."""
        errors, period, route_key, batches, count = [], None, "", [], 0
        unpaid_only = request.args.get("unpaid") == "1"
        if request.args.get("period") or request.args.get("route"):
            try:
                period = parse_period(request.args.get("period", ""))
            except UserError as exc:
                errors.append(exc.message)
            try:
                route_key = parse_route(request.args.get("route", ""))
            except UserError as exc:
                errors.append(exc.message if request.args.get("route") else _("Choose a route."))
        if period and route_key and not errors:
            count = route_sheet_count(route_key, period, unpaid_only)
            size = route_sheet_batch()
            for number in range(1, (count + size - 1) // size + 1):
                batches.append({
                    "number": number, "first": (number - 1) * size + 1, "last": min(number * size, count),
                    "url": url_for("WasteInvoiceView.route_sheet_pdf", route_key=route_key, code=period.code,
                                   batch=number, **({"unpaid": "1"} if unpaid_only else {})),
                })
        for message in errors:
            flash(message, "danger")
        return self.render_template(
            "billing/invoice_route_sheets.html", periods=periods(), routes=routes(), period=period,
            route_key=route_key, route_name=route_label(route_key) if route_key and not errors else "",
            unpaid_only=unpaid_only, batches=batches, count=count, period_label=tariffs.period_label,
            no_route=reports.NO_ROUTE, chosen=bool(period and route_key and not errors), appbuilder=self.appbuilder)

    @expose("/route-sheets/<route_key>/<code>/<int:batch>.pdf")
    @has_access
    def route_sheet_pdf(self, route_key: str, code: str, batch: int):
        try:
            route_key = parse_route(route_key)
            period = parse_period(code)
        except UserError:
            abort(404)
        size = route_sheet_batch()
        bills = route_sheet_bills(route_key, period, request.args.get("unpaid") == "1", batch, size) \
            if batch >= 1 else []
        if not bills:
            abort(404)
        return _pdf(bill_pdf.render_bills(bills), f"route-{route_key}-{period.code}-{batch}.pdf")

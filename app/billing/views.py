"""Finance staff's list of payments received (รายการรับชำระ), filtered by day, and its CSV for the day's
close; rows come through the tenant wall like every list."""
from __future__ import annotations

import csv
import io

from flask import Response, abort, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select

from app import thai
from app.billing.models import Payment
from app.billing.services import METHOD_NAMES
from app.extensions import db
from app.tenancy.fab import TenantModelView
from app.tenancy.interface import TenantInterface

EXPORT_LIMIT = 10000


def _request_link(pk) -> Markup:
    return Markup('<a href="{}">{}</a>').format(url_for("ServiceRequestView.show", pk=pk), pk)


class PaymentView(TenantModelView):
    route_base = "/payments"
    datamodel = TenantInterface(Payment)
    list_title = _l("Payments received")
    show_title = _l("Payment")
    list_columns = ["paid_on", "receipt_no", "request_id", "amount", "method", "recorded_by_name"]
    show_columns = ["paid_on", "receipt_no", "request_id", "amount", "method", "recorded_by_name", "recorded_at"]
    order_columns = ["paid_on", "receipt_no", "request_id", "amount"]
    search_columns = ["paid_on", "receipt_no", "method", "request_id"]
    base_order = ("paid_on", "desc")
    base_permissions = ["can_list", "can_show", "can_export"]
    list_template = "billing/payments_list.html"
    label_columns = {
        "paid_on": _l("Paid on"), "receipt_no": _l("Receipt no."), "request_id": _l("Request"),
        "amount": _l("Amount"), "method": _l("Paid by"), "recorded_by_name": _l("Recorded by"),
        "recorded_at": _l("Recorded at"),
    }
    formatters_columns = {
        "amount": lambda value: thai.format_baht(value),
        "method": lambda value: str(METHOD_NAMES.get(value, value)),
        "request_id": _request_link,
    }

    @expose("/export.csv")
    @has_access
    def export(self):
        """Payments from one day to another (both included; พ.ศ. dates as typed), as CSV for the ledger."""
        try:
            start = thai.parse_date(request.args.get("from", ""))
            end = thai.parse_date(request.args.get("to", "")) if request.args.get("to") else start
        except thai.ThaiDateError as exc:
            return Response(str(exc), status=400, mimetype="text/plain")
        if end < start:
            return Response(_("The end date must not be before the start date."), status=400, mimetype="text/plain")
        rows = db.session.scalars(select(Payment).where(Payment.paid_on >= start, Payment.paid_on <= end)
                                  .order_by(Payment.paid_on, Payment.id).limit(EXPORT_LIMIT + 1)).all()
        if len(rows) > EXPORT_LIMIT:
            abort(413)
        out = io.StringIO()
        out.write("\ufeff")  # so that Excel opens Thai text as UTF-8
        writer = csv.writer(out)
        writer.writerow([_("Paid on"), _("Receipt no."), _("Request"), _("Amount"), _("Paid by"), _("Recorded by")])
        for p in rows:
            writer.writerow([thai.format_date_input(p.paid_on), p.receipt_no, p.request_id, f"{p.amount:.2f}",
                             str(METHOD_NAMES.get(p.method, p.method)), p.recorded_by_name])
        name = f"payments-{start.isoformat()}-{end.isoformat()}.csv"
        return Response(out.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={name}"})


def init_app(app) -> None:
    """What the request page's templates need: its payments, and the ways of paying."""
    from app.billing import services

    app.jinja_env.globals.update(payments_of=services.of_request, payment_methods=METHOD_NAMES)

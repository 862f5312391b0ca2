"""The cashier's counter (/waste/counter: find an account, tick its bills, take the money, print the receipt)
and the receipts book (/waste/receipts: list, search by day and number, show, PDF, cancel, CSV for the ledger).
Thin views: the checks live in app/billing/counter.py, the book in app/billing/receipts.py."""
from __future__ import annotations

import csv
import io

from flask import Response, abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import thai
from app.billing import counter, receipt_pdf, receipts
from app.billing.models import WasteAccount, WasteReceipt
from app.billing.services import METHOD_NAMES
from app.extensions import db
from app.tenancy.errors import UserError
from app.tenancy.fab import TenantModelView
from app.tenancy.interface import TenantInterface
from app.security.services import person_name

EXPORT_LIMIT = 20000


class WasteCounterView(BaseView):
    route_base = "/waste/counter"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        """Find an account by its number or the holder's name; one match opens it."""
        text = request.args.get("q", "")
        found = counter.find_accounts(text) if text.strip() else []
        if len(found) == 1:
            return redirect(url_for("WasteCounterView.account", pk=found[0].id))
        return self.render_template("billing/counter.html", q=text, found=found, searched=bool(text.strip()),
                                    appbuilder=self.appbuilder)

    def _account_page(self, account: WasteAccount, form=None, errors=None, status: int = 200):
        on = thai.today_bangkok()
        if form and form.get("paid_on") and not (errors or {}).get("paid_on"):
            try:
                on = min(thai.parse_date(form["paid_on"]), on)
            except thai.ThaiDateError:
                pass
        bills = counter.open_bills(account, on)
        ticked = set(form.getlist("bill")) if form is not None else {str(b.invoice.id) for b in bills}
        return self.render_template(
            "billing/counter_account.html", account=account, bills=bills, on=on, ticked=ticked,
            form=form or {}, errors=errors or {}, methods=METHOD_NAMES, today=thai.format_date_input(on),
            history=receipts_recent(account), appbuilder=self.appbuilder,
        ), status

    @expose("/account/<int:pk>")
    @has_access
    def account(self, pk: int):
        found = db.session.get(WasteAccount, pk)
        if found is None:
            abort(404)
        return self._account_page(found)

    @expose("/account/<int:pk>/pay", methods=["POST"])
    @has_access
    def pay(self, pk: int):
        found = db.session.get(WasteAccount, pk)
        if found is None:
            abort(404)
        try:
            receipt = counter.pay(found, request.form, request.form.getlist("bill"), actor_id=g.user.id,
                                  actor_name=person_name(g.user))
            db.session.commit()
        except counter.CounterError as exc:
            db.session.rollback()
            found = db.session.get(WasteAccount, pk)
            return self._account_page(found, request.form, exc.errors, exc.status)
        flash(_("Receipt %(number)s issued: %(amount)s.", number=receipt.label,
                amount=thai.format_baht(receipt.amount)), "success")
        return redirect(url_for("WasteReceiptView.show", pk=receipt.id))


def receipts_recent(account: WasteAccount, limit: int = 10) -> list[WasteReceipt]:
    from app.billing.invoices import receipts_of

    return receipts_of(account.id)[:limit]


def _void_text(value) -> str:
    return str(_("Cancelled")) if value else ""


class WasteReceiptView(TenantModelView):
    route_base = "/waste/receipts"
    datamodel = TenantInterface(WasteReceipt)
    list_title = _l("Waste-fee receipts")
    show_title = _l("Receipt")
    list_columns = ["label", "paid_on", "account.account_no", "account.holder_name", "amount", "method", "channel",
                    "voided_at"]
    order_columns = ["paid_on", "amount"]
    search_columns = ["paid_on", "number", "fiscal_year", "method", "channel", "recorded_by_name"]
    base_order = ("id", "desc")
    base_permissions = ["can_list", "can_show", "can_pdf", "can_void", "can_export", "can_find"]
    list_template = "billing/receipt_list.html"
    label_columns = {
        "label": _l("Receipt no."), "number": _l("Receipt no."), "fiscal_year": _l("Fiscal year"),
        "paid_on": _l("Paid on"), "account.account_no": _l("Account no."), "account.holder_name": _l("Account holder"),
        "amount": _l("Amount"), "method": _l("Paid by"), "channel": _l("Channel"), "voided_at": _l("Cancelled"),
        "recorded_by_name": _l("Received by"),
    }
    formatters_columns = {
        "amount": lambda value: thai.format_baht(value),
        "method": lambda value: str(METHOD_NAMES.get(value, value)),
        "channel": lambda value: str(receipts.CHANNEL_NAMES.get(value, value)),
        "voided_at": _void_text,
    }

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        return self._show_page(item)

    def _show_page(self, item: WasteReceipt, reason: str = "", error: str = "", status: int = 200):
        lines = [(receipt_pdf.period_text(line), line) for line in receipts.lines_of(item)]
        return self.render_template(
            "billing/receipt_show.html", item=item, lines=lines, words=thai.baht_text(item.amount),
            method=METHOD_NAMES.get(item.method, item.method),
            channel=receipts.CHANNEL_NAMES.get(item.channel, item.channel),
            may_void=self.appbuilder.sm.has_access("can_void", self.class_permission_name) and item.voided_at is None, reason=reason, error=error,
            title=self.show_title, appbuilder=self.appbuilder,
        ), status

    @expose("/<int:pk>/pdf")
    @has_access
    def pdf(self, pk: int):
        return receipt_pdf.pdf_response(pk)

    @expose("/<int:pk>/void", methods=["POST"])
    @has_access
    def void(self, pk: int):
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        reason = request.form.get("reason", "")
        try:
            receipts.void(item, reason, actor_name=person_name(g.user))
            db.session.commit()
        except UserError as exc:
            db.session.rollback()
            item = self.datamodel.get(pk, self._base_filters)
            return self._show_page(item, reason=reason, error=exc.message, status=exc.status)
        flash(_("Receipt %(number)s has been cancelled; its bills are unpaid again.", number=item.label), "success")
        return redirect(url_for("WasteReceiptView.show", pk=pk))

    @expose("/find")
    @has_access
    def find(self):
        """Open a receipt by its number, "123/2570" (or "123": this fiscal year's first)."""
        number = receipts.parse_label(request.args.get("number", ""))
        if number is None:
            flash(_("Type the receipt number as number/fiscal year, e.g. 123/2570."), "danger")
            return redirect(url_for("WasteReceiptView.list"))
        if number.fiscal_year is None:
            number = receipts.Number(number.number, thai.fiscal_year(thai.today_bangkok()))
        found = receipts.by_number(number)
        if not found:
            flash(_("There is no receipt %(number)s.", number=f"{number.number}/{number.fiscal_year}"), "danger")
            return redirect(url_for("WasteReceiptView.list"))
        return redirect(url_for("WasteReceiptView.show", pk=found[0].id))

    @expose("/export.csv")
    @has_access
    def export(self):
        """Receipts from one day to another (both included; พ.ศ. dates as typed) in book order, as CSV for the
        ledger; cancelled ones are listed with their mark and count nothing in the total."""
        try:
            start = thai.parse_date(request.args.get("from", ""))
            end = thai.parse_date(request.args.get("to", "")) if request.args.get("to", "").strip() else start
        except thai.ThaiDateError as exc:
            return Response(str(exc), status=400, mimetype="text/plain")
        if end < start:
            return Response(_("The end date must not be before the start date."), status=400, mimetype="text/plain")
        rows = receipts.between(start, end, EXPORT_LIMIT)
        if len(rows) > EXPORT_LIMIT:
            return Response(_("More than %(count)s receipts: choose fewer days.", count=f"{EXPORT_LIMIT:,}"),
                            status=413, mimetype="text/plain")
        out = io.StringIO()
        out.write("\ufeff")  # so that Excel opens Thai text as UTF-8
        writer = csv.writer(out)
        writer.writerow([_("Receipt no."), _("Paid on"), _("Account no."), _("Account holder"), _("Amount"),
                         _("Of which late surcharge"), _("Paid by"), _("Channel"), _("Bank reference"),
                         _("Received by"), _("Cancelled"), _("Reason for cancelling")])
        surcharges = receipts.surcharges(rows)
        for r in rows:
            writer.writerow([r.label, thai.format_date_input(r.paid_on), r.account.account_no, r.account.holder_name,
                             f"{r.amount:.2f}", f"{surcharges.get(r.id, 0):.2f}",
                             str(METHOD_NAMES.get(r.method, r.method)),
                             str(receipts.CHANNEL_NAMES.get(r.channel, r.channel)), r.bank_txn_ref or "",
                             r.recorded_by_name, thai.format_date_input(thai.to_bangkok(r.voided_at).date())
                             if r.voided_at else "", r.void_reason or ""])
        name = f"waste-receipts-{start.isoformat()}-{end.isoformat()}.csv"
        return Response(out.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={name}"})

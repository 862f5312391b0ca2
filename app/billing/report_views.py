"""Waste-fee reports for finance staff and executives: arrears per route (drilling down to the accounts of a
route and on to an account), and the yearly summary of a fiscal year; each also as CSV. The figures come from
app/billing/reports.py (SQL aggregates through the tenant wall)."""
from __future__ import annotations

from flask import Response, abort, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from app import thai
from app.billing import reports
from app.billing import tariff as tariffs
from app.billing.invoice_views import account_linker, parse_route, route_label
from app.tenancy.errors import UserError

ROUTE_PAGE = 300


def _csv(text: str, name: str) -> Response:
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


def _route_or_404(route_key: str) -> str:
    try:
        return parse_route(route_key)
    except UserError:
        abort(404)


def _page() -> int:
    try:
        return max(int(request.args.get("page", 0)), 0)
    except ValueError:
        return 0


def _year() -> int:
    """The fiscal year asked (พ.ศ.), this one by default; a year out of range is a 404."""
    text = request.args.get("year", "")
    if not text:
        return thai.fiscal_year(thai.today_bangkok())
    if not text.isdigit() or not thai.MIN_BE_YEAR <= int(text) <= thai.MAX_BE_YEAR:
        abort(404)
    return int(text)


class WasteReportView(BaseView):
    route_base = "/waste/reports"
    default_view = "arrears"
    method_permission_name = {"arrears_csv": "arrears", "route_arrears": "arrears", "route_arrears_csv": "arrears",
                              "yearly_csv": "yearly"}

    @expose("/")
    @has_access
    def arrears(self):
        report = reports.arrears_by_route()
        return self.render_template("billing/report_arrears.html", report=report, appbuilder=self.appbuilder)

    @expose("/arrears.csv")
    @has_access
    def arrears_csv(self):
        report = reports.arrears_by_route()
        return _csv(reports.arrears_csv(report), f"waste-arrears-{report.on.isoformat()}.csv")

    @expose("/arrears/<route_key>")
    @has_access
    def route_arrears(self, route_key: str):
        route_key = _route_or_404(route_key)
        number = _page()
        report = reports.arrears_of_route(route_key, offset=number * ROUTE_PAGE, limit=ROUTE_PAGE)
        shown_last = number * ROUTE_PAGE + len(report.rows)
        return self.render_template(
            "billing/report_route_arrears.html", report=report, route_key=route_key, route_name=route_label(route_key),
            account_url=account_linker(), period_label=tariffs.period_label, first=number * ROUTE_PAGE + 1,
            last=shown_last,
            prev_url=url_for("WasteReportView.route_arrears", route_key=route_key, page=number - 1) if number else None,
            next_url=url_for("WasteReportView.route_arrears", route_key=route_key, page=number + 1)
            if shown_last < report.total_accounts else None,
            appbuilder=self.appbuilder)

    @expose("/arrears/<route_key>.csv")
    @has_access
    def route_arrears_csv(self, route_key: str):
        route_key = _route_or_404(route_key)
        report = reports.arrears_of_route(route_key, limit=None)
        return _csv(reports.route_arrears_csv(report), f"waste-arrears-{route_key}-{report.on.isoformat()}.csv")

    @expose("/yearly")
    @has_access
    def yearly(self):
        summary = reports.yearly_summary(_year())
        return self.render_template("billing/report_yearly.html", summary=summary, years=reports.fiscal_years(),
                                    appbuilder=self.appbuilder)

    @expose("/yearly.csv")
    @has_access
    def yearly_csv(self):
        year = _year()
        return _csv(reports.yearly_csv(reports.yearly_summary(year)), f"waste-summary-{year}.csv")

"""Billing runs on screen (/waste/runs): the runs of the organisation with their progress, a form to bill a
period (queued for the background worker), a progress page that refreshes itself, and resuming a run that
failed or stopped. The work itself is app/billing/runs.py; every row comes through the tenant wall."""
from __future__ import annotations

from flask import abort, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, has_access_api
from flask_babel import gettext as _

from app import thai
from app.billing import runs, tasks
from app.billing import tariff as tariffs
from app.extensions import db
from app.tenancy.errors import UserError


def _actor(user) -> str:
    return f"{user.first_name or ''} {user.last_name or ''}".strip() or user.username


def _year_choices(selected: int) -> list[int]:
    this_year = thai.be_year(thai.today_bangkok())
    return sorted({this_year - 2, this_year - 1, this_year, this_year + 1, selected})


class BillingRunView(BaseView):
    route_base = "/waste/runs"
    default_view = "list"
    base_permissions = ["can_list", "can_show", "can_start", "can_resume"]
    method_permission_name = {"list": "list", "show": "show", "progress": "show", "start": "start",
                              "resume": "resume"}

    def _allowed(self, method: str) -> bool:
        return self.appbuilder.sm.has_access(f"can_{self.method_permission_name[method]}",
                                             self.class_permission_name)

    def _list_page(self, month: int | None = None, year_be: int | None = None, error: str | None = None,
                   status: int = 200):
        found, total = runs.recent()
        if month is None or year_be is None:
            default = runs.current_period_start()
            month, year_be = default.month, thai.be_year(default)
        return self.render_template(
            "billing/runs.html", runs=found, total=total, info={r.id: runs.progress(r) for r in found},
            period_label=runs.period_label, months=thai.month_names("wide"), years=_year_choices(year_be),
            month=month, year_be=year_be, error=error, may_start=self._allowed("start"),
            period_months=tariffs.settings().period_months, appbuilder=self.appbuilder,
        ), status

    @expose("/")
    @has_access
    def list(self):
        return self._list_page()

    @expose("/start", methods=["POST"])
    @has_access
    def start(self):
        month_text, year_text = (request.form.get("month") or "").strip(), (request.form.get("year") or "").strip()
        month = int(month_text) if month_text.isdigit() else None
        year_be = int(year_text) if year_text.isdigit() else None
        if month is None or year_be is None:
            return self._list_page(month, year_be, _("Choose the month and the Buddhist-era year of the period."),
                                   422)
        try:
            run, existing, queue = runs.launch(f"{year_be}-{month:02d}", _actor(g.user))
            if queue:
                tasks.queue(run)
            db.session.commit()
        except UserError as exc:
            db.session.rollback()
            return self._list_page(month, year_be, exc.message, 422)
        if existing and queue:
            flash(_("%(period)s already has an unfinished billing run: it goes on from where it stopped.",
                    period=runs.period_label(run.period_start)), "info")
        elif existing:
            flash(_("%(period)s is being billed already: its progress is shown below.",
                    period=runs.period_label(run.period_start)), "info")
        else:
            flash(_("Billing %(period)s has been queued.", period=runs.period_label(run.period_start)), "success")
        return redirect(url_for(".show", pk=run.id))

    @expose("/<int:pk>")
    @has_access
    def show(self, pk: int):
        run = runs.get(pk)
        if run is None:
            abort(404)
        return self.render_template(
            "billing/runs_show.html", run=run, info=runs.progress(run), period_label=runs.period_label,
            tier_label=runs.tier_label,
            may_resume=self._allowed("resume") and runs.resumable(run), stale_minutes=int(
                runs.STALE_AFTER.total_seconds() // 60), appbuilder=self.appbuilder,
        )

    @expose("/<int:pk>/progress.json")
    @has_access_api
    def progress(self, pk: int):
        run = runs.get(pk)
        if run is None:
            return jsonify({"message": _("No such billing run.")}), 404
        return jsonify(runs.progress(run))

    @expose("/<int:pk>/resume", methods=["POST"])
    @has_access
    def resume(self, pk: int):
        run = runs.get(pk)
        if run is None:
            abort(404)
        try:
            runs.resume(run)
            tasks.queue(run)
            db.session.commit()
        except UserError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            flash(_("The billing run has been queued again; it goes on from where it stopped."), "success")
        return redirect(url_for(".show", pk=pk))

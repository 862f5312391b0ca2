"""Retention and destruction (/saraban/retention, tenant admin): the yearly lists, the review screen with the
committee's decisions, the executive's approval, completion, CSV and a printable list. Thin: the rules are in
app/saraban/retention.py. A secret document the administrator is not named on shows as its number only."""
from __future__ import annotations

import csv
import io

from flask import Response, abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import thai
from app.extensions import db
from app.saraban import access, retention
from app.saraban.models import (
    ARCHIVES, DESTROY, DESTRUCTION, KEEP, LIST_APPROVED, LIST_DONE, LIST_DRAFT, LIST_SUBMITTED, Document,
    RetentionList,
)
from app.tenancy.errors import UserError

KIND_NAMES = {DESTRUCTION: _l("List of documents for destruction"),
              ARCHIVES: _l("List of documents 20 years old for the National Archives")}
LIST_STATUS_NAMES = {LIST_DRAFT: _l("Being prepared"), LIST_SUBMITTED: _l("Awaiting approval"),
                     LIST_APPROVED: _l("Approved"), LIST_DONE: _l("Done")}
DECISION_NAMES = {DESTROY: _l("Destroy"), KEEP: _l("Keep"), "transfer": _l("Hand over")}


def _rows(listing: RetentionList):
    found = retention.items(listing)
    ids = [i.document_id for i in found]
    readable = set(db.session.scalars(access.visible(select(Document.id).where(Document.id.in_(ids)), g.user))) \
        if ids else set()
    return [dict(item=i, document=i.document, readable=i.document_id in readable) for i in found]


class SarabanRetentionView(BaseView):
    route_base = "/saraban/retention"
    default_view = "index"

    def _get(self, pk: int) -> RetentionList:
        found = db.session.get(RetentionList, pk)
        if found is None:
            abort(404)
        return found

    @expose("/")
    @has_access
    def index(self):
        lists = list(db.session.scalars(select(RetentionList).order_by(RetentionList.year.desc(),
                                                                        RetentionList.kind.desc())))
        return self.render_template("saraban/retention_index.html", lists=lists, kinds=KIND_NAMES,
                                    statuses=LIST_STATUS_NAMES, year=retention.last_year(thai.today_bangkok()),
                                    appbuilder=self.appbuilder)

    @expose("/survey", methods=["POST"])
    @has_access
    def survey(self):
        text = (request.form.get("year") or "").strip()
        try:
            year = int(text) if text.isdigit() else -1
            destruction, added = retention.survey(year)
            _archive, handed = retention.archives(year)
            db.session.commit()
        except UserError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
            return redirect(url_for("SarabanRetentionView.index"))
        flash(_("Year %(year)s: %(added)s documents added to the destruction list, %(handed)s to the National "
                "Archives list.", year=year, added=f"{added:,}", handed=f"{handed:,}"), "success")
        return redirect(url_for("SarabanRetentionView.show", pk=destruction.id))

    def _page(self, listing, errors=None, form=None, status=200, printing=False):
        return self.render_template(
            "saraban/retention_print.html" if printing else "saraban/retention_show.html", listing=listing,
            rows=_rows(listing), kind=KIND_NAMES[listing.kind], status_name=LIST_STATUS_NAMES[listing.status],
            decisions=DECISION_NAMES, errors=errors or {}, form=form, today=thai.format_date_input(
                thai.today_bangkok()), appbuilder=self.appbuilder), status

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk: int):
        return self._page(self._get(pk), printing=request.args.get("print") == "1")

    @expose("/decide/<int:pk>", methods=["POST"])
    @has_access
    def decide(self, pk: int):
        """Save the committee and its decisions; with "submit", also send the list for approval."""
        listing = self._get(pk)
        form = request.form
        decisions = {}
        for key in form:
            if key.startswith("decision-") and key[9:].isdigit():
                item_id = int(key[9:])
                decisions[item_id] = (form.get(key), form.get(f"years-{item_id}", ""), form.get(f"reason-{item_id}", ""))
        try:
            retention.decide(listing, decisions, committee=form.get("committee"))
            if form.get("submit"):
                retention.submit(listing)
            db.session.commit()
        except retention.RetentionError as exc:
            db.session.rollback()
            return self._page(self._get(pk), errors=exc.errors, form=form, status=422)
        except UserError as exc:
            db.session.rollback()
            if exc.status == 404:
                abort(404)
            return self._page(self._get(pk), errors={"list": exc.message}, form=form, status=exc.status)
        flash(_("Sent for the executive's approval.") if form.get("submit") else _("Decisions saved."), "success")
        return redirect(url_for("SarabanRetentionView.show", pk=pk))

    @expose("/approve/<int:pk>", methods=["POST"])
    @has_access
    def approve(self, pk: int):
        listing = self._get(pk)
        form = request.form
        errors = {}
        approved_on = None
        try:
            approved_on = thai.parse_date(form.get("approved_on", ""))
        except thai.ThaiDateError as exc:
            errors["approved_on"] = str(exc)
        try:
            if errors:
                raise retention.RetentionError(errors)
            retention.approve(listing, form.get("approver", ""), approved_on, form.get("note", ""))
            db.session.commit()
        except retention.RetentionError as exc:
            db.session.rollback()
            return self._page(self._get(pk), errors={**errors, **exc.errors}, form=form, status=422)
        except UserError as exc:
            db.session.rollback()
            return self._page(self._get(pk), errors={"list": exc.message}, form=form, status=exc.status)
        flash(_("The approval is recorded."), "success")
        return redirect(url_for("SarabanRetentionView.show", pk=pk))

    @expose("/complete/<int:pk>", methods=["POST"])
    @has_access
    def complete(self, pk: int):
        listing = self._get(pk)
        try:
            done = retention.complete(listing, thai.today_bangkok())
            db.session.commit()
        except UserError as exc:
            db.session.rollback()
            return self._page(self._get(pk), errors={"list": exc.message}, status=exc.status)
        if listing.kind == DESTRUCTION:
            flash(_("%(destroyed)s documents destroyed, %(kept)s kept on.", destroyed=done["destroyed"],
                    kept=done["kept"]), "success")
        else:
            flash(_("%(n)s documents handed over to the National Archives.", n=done["archived"]), "success")
        return redirect(url_for("SarabanRetentionView.show", pk=pk))

    @expose("/csv/<int:pk>")
    @has_access
    def csv(self, pk: int):
        listing = self._get(pk)
        out = io.StringIO()
        out.write("\ufeff")  # so that Excel opens Thai text as UTF-8
        writer = csv.writer(out)
        writer.writerow([_("Order"), _("Register book"), _("Number"), _("Year (B.E.)"), _("Ref. no."), _("Dated"),
                         _("Subject"), _("Keep for (years)"), _("Decision"), _("Keep for more years"),
                         _("Reason")])
        for n, row in enumerate(_rows(listing), 1):
            d, item = row["document"], row["item"]
            writer.writerow([n, str(d.register), d.register_no, d.register_year,
                             (d.their_ref or d.book_no or "") if row["readable"] else "",
                             thai.format_date(d.their_date or d.dated) if row["readable"] and (d.their_date or d.dated)
                             else "", d.subject if row["readable"] else "(ลับ)",
                             d.retention_years if d.retention_years is not None else "",
                             str(DECISION_NAMES.get(item.decision, item.decision)), item.keep_years or "",
                             item.reason or ""])
        name = f"saraban-{listing.kind}-{listing.year}.csv"
        return Response(out.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={name}"})

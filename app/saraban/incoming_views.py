"""The registry's screens for incoming letters (ทะเบียนหนังสือรับ): the list (only what the person may see),
registering a letter with its scans, and a letter's page with its history and the steps this person may take.
Every step goes through app/saraban/incoming.py; these views draw the forms and show its messages by field."""
from __future__ import annotations

import json
import os
import re
import time
import uuid
from dataclasses import dataclass

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import aliased
from wtforms import SelectField

from app import thai
from app.billing.account_views import ComputedInterface
from app.extensions import db
from app.saraban import access, files, incoming, people
from app.saraban.models import (DONE, INCOMING, KIND_NAMES, NORMAL, SECRECY_LEVELS, SECRECY_NAMES, STATUS_NAMES,
                                URGENCIES, URGENCY_NAMES, Document, DocumentAccess, Endorsement, Routing)
from app.saraban.screens import StepPermissions, int_or_404, secrecy_badge, urgency_badge
from app.security.services import person_name
from app.tenancy.errors import UserError
from app.tenancy.fab import TenantModelView
from app.tenancy.models import Division

FORM_FIELDS = ("register_id", "kind", "urgency", "urgent_by_date", "urgent_by_time", "secrecy", "subject", "sender",
               "addressee", "their_ref", "their_date", "reference", "enclosures", "remark", "retention_years",
               "keep_forever")
PENDING_HOURS = 24  # files kept for a form that had a mistake, then removed


# --- how values read ----------------------------------------------------------------------------------------

def status_text(value) -> str:
    return str(STATUS_NAMES.get(value, value or ""))


def _current_divisions(rows) -> dict[int, str]:
    """Where each letter of the page is now: the กอง it was last routed to, else the register's; one statement
    (the page's statement budget), routings and both กอง joined to the page's letters."""
    routed, origin = aliased(Division), aliased(Division)
    found: dict[int, list[str]] = {}
    fallback: dict[int, str] = {}
    for document_id, routing_id, to, home in db.session.execute(
            select(Document.id, Routing.id, routed, origin)
            .outerjoin(Routing, Routing.document_id == Document.id)
            .outerjoin(routed, routed.id == Routing.division_id)
            .outerjoin(origin, origin.id == Document.origin_division_id)
            .where(Document.id.in_([r.id for r in rows]))
            .order_by(Routing.sent_at, Routing.id)):
        fallback[document_id] = str(home) if home else ""
        if routing_id is not None:
            found.setdefault(document_id, []).append(str(to) if to else "")
    return {r.id: ", ".join(found.get(r.id) or [fallback.get(r.id, "")]) for r in rows}


# --- files kept across a form with a mistake -----------------------------------------------------------------

@dataclass
class KeptFile:
    token: str
    filename: str
    mimetype: str


def _pending_dir() -> str:
    from app.catalog.attachments import upload_root

    return os.path.join(upload_root(), str(g.user.tenant_id), "saraban-pending", str(g.user.id))


def _keep(checked) -> list[KeptFile]:
    folder = _pending_dir()
    os.makedirs(folder, exist_ok=True)
    kept = []
    for upload, data in checked:
        token = uuid.uuid4().hex
        with open(os.path.join(folder, token), "wb") as fh:
            fh.write(data)
        meta = {"filename": os.path.basename(upload.filename)[:255], "mimetype": upload.mimetype or ""}
        with open(os.path.join(folder, token + ".json"), "w", encoding="utf-8") as fh:
            json.dump(meta, fh)
        kept.append(KeptFile(token, meta["filename"], meta["mimetype"]))
    return kept


def _kept(tokens) -> list[tuple[KeptFile, bytes]]:
    """The person's own kept files named in the form (another person's tokens are not found)."""
    folder, out = _pending_dir(), []
    for token in dict.fromkeys(tokens):
        if not re.fullmatch(r"[0-9a-f]{32}", token or ""):
            continue
        path = os.path.join(folder, token)
        try:
            with open(path + ".json", encoding="utf-8") as fh:
                meta = json.load(fh)
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        out.append((KeptFile(token, meta["filename"], meta["mimetype"]), data))
    return out


def _drop_kept(tokens=()) -> None:
    folder = _pending_dir()
    if not os.path.isdir(folder):
        return
    old = time.time() - PENDING_HOURS * 3600
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if name.split(".")[0] in tokens or os.path.getmtime(path) < old:
            try:
                os.remove(path)
            except OSError:
                pass


# --- the view -----------------------------------------------------------------------------------------------

def _safe_next(default: str) -> str:
    target = request.form.get("next") or ""
    return target if target.startswith("/saraban/") and "//" not in target else default


def _ints(name: str) -> list[str]:
    return [v for v in request.form.getlist(name) if v.strip()]


class SarabanIncomingView(StepPermissions, TenantModelView):
    route_base = "/saraban/incoming"
    datamodel = ComputedInterface(Document, computed={
        "number": lambda d, _ctx: d.number_label,
        "current_division": lambda d, ctx: ctx.get(d.id, "") if ctx else "",
    }, prepare=_current_divisions)
    base_filters = [["direction", FilterEqual, INCOMING], ["id", access.FilterVisible, None]]
    list_title = _l("Incoming letters")
    show_title = _l("Incoming letter")
    list_columns = ["number", "registered_at", "their_ref", "sender", "subject", "urgency", "secrecy", "status",
                    "current_division"]
    search_columns = ["subject", "sender", "their_ref", "register_no", "register_year", "kind", "urgency", "secrecy",
                      "status", "registered_at"]
    order_columns = ["registered_at", "subject", "sender", "urgency"]
    base_order = ("id", "desc")
    base_permissions = ["can_list", "can_show", "can_add", "can_present", "can_endorse", "can_route",
                        "can_acknowledge", "can_finish", "can_file"]
    method_permission_name = {"list": "list", "show": "show", "add": "add", "new": "add", "present": "present",
                              "endorse": "endorse", "route": "route", "acknowledge": "acknowledge",
                              "finish": "finish", "file": "file"}
    label_columns = {
        "number": _l("Register no."), "registered_at": _l("Received"), "their_ref": _l("Their reference (ที่)"),
        "sender": _l("From (จาก)"), "subject": _l("Subject (เรื่อง)"), "urgency": _l("Urgency"), "secrecy": _l("Secrecy"),
        "status": _l("Status"), "current_division": _l("Now with"), "register_no": _l("Register no."),
        "register_year": _l("Year (B.E.)"), "kind": _l("Kind of letter"),
    }
    formatters_columns = {"urgency": urgency_badge, "secrecy": secrecy_badge, "status": status_text,
                          "registered_at": thai.format_datetime}
    search_form_extra_fields = {
        "kind": SelectField(_l("Kind of letter"), choices=list(KIND_NAMES.items())),
        "urgency": SelectField(_l("Urgency"), choices=list(URGENCY_NAMES.items())),
        "secrecy": SelectField(_l("Secrecy"), choices=list(SECRECY_NAMES.items())),
        "status": SelectField(_l("Status"), choices=[(k, STATUS_NAMES[k]) for k in
                                                     ("registered", "presented", "routed", "done")]),
    }

    # --- register -------------------------------------------------------------------------------------------

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        return redirect(url_for(".new"))

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        registers = incoming.usable_registers(g.user)
        if request.method == "GET":
            typed = {"kind": "external", "urgency": NORMAL, "secrecy": NORMAL,
                     "retention_years": "10", "reader_ids": []}
            if len(registers) == 1:
                typed["register_id"] = str(registers[0].id)
            if not registers:
                flash(_("You are not in a division that keeps an incoming register."), "warning")
            return self._form_page(registers, typed, {}, [])
        typed = {name: request.form.get(name, "") for name in FORM_FIELDS}
        typed["reader_ids"] = request.form.getlist("reader_ids")
        errors, new_files = {}, []
        kept = _kept(request.form.getlist("kept_file"))
        try:
            new_files = files.checked(request.files.getlist("files"))
        except UserError as exc:
            errors["files"] = str(exc)
        chosen = [(k, data) for k, data in kept] + new_files
        if len(chosen) > files.MAX_FILES:
            errors["files"] = _("Attach at most %(count)s files.", count=files.MAX_FILES)
        try:
            if errors:  # the other fields are still checked, so every mistake shows at once
                raise incoming.IncomingError({**incoming.mistakes(typed, True, g.user), **errors})
            document = incoming.register_incoming(typed, chosen, g.user)
            db.session.commit()
        except incoming.IncomingError as exc:
            db.session.rollback()
            pending = [k for k, _data in kept] + _keep(new_files)
            return self._form_page(registers, typed, exc.errors, pending, status=422)
        except UserError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            pending = [k for k, _data in kept] + _keep(new_files)
            return self._form_page(registers, typed, {}, pending, status=422)
        _drop_kept({k.token for k, _data in kept})
        flash(_("Registered as no. %(no)s.", no=document.number_label), "success")
        return redirect(url_for(".show", pk=document.id))

    def _form_page(self, registers, typed, errors, kept, status=200):
        return self.render_template(
            "saraban/incoming_form.html", registers=registers, typed=typed, errors=errors, kept=kept,
            kinds=list(KIND_NAMES.items()), urgencies=[(u, URGENCY_NAMES[u]) for u in URGENCIES],
            secrecies=[(s, SECRECY_NAMES[s]) for s in SECRECY_LEVELS], staff=self._staff(),
            title=_("Register an incoming letter"), appbuilder=self.appbuilder), status

    @staticmethod
    def _staff():
        """(id, "name — กอง") of the organisation's staff, for the readers and recipients lists."""
        out = []
        for person in people.staff():
            divisions = sorted({str(m.division) for m in person.memberships or []})
            out.append((str(person.id), f"{person_name(person)} — {', '.join(divisions)}"))
        return out

    # --- the letter's page ------------------------------------------------------------------------------------

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        document = self._document(pk)
        access.record_opening(document, g.user, "open")
        db.session.commit()
        return self._show_page(self._document(pk))

    def _document(self, pk) -> Document:
        document = access.get_or_404(pk, g.user)
        if document.direction != INCOMING:
            abort(404)
        return document

    def _show_page(self, document, errors=None, form=None, typed=None, status=200):
        user = g.user
        endorsements = incoming.endorsements(document)
        routings = incoming.routings(document)
        handle = incoming.may_handle(document, user)
        is_open = document.status != DONE
        mine = [e for e in endorsements if incoming.may_endorse(e, user)[0]] \
            if is_open and self._allowed("endorse") else []
        acks = [r for r in routings if incoming.may_acknowledge(r, user)] if self._allowed("acknowledge") else []
        readers = []
        if document.secret:
            ids = list(db.session.scalars(select(DocumentAccess.user_id).where(
                DocumentAccess.document_id == document.id)))
            readers = [person_name(u) for u in people.by_ids(ids)]
        return self.render_template(
            "saraban/incoming_show.html", item=document, files=files.of(document), endorsements=endorsements,
            routings=routings, timeline=_timeline(document, endorsements, routings), readers=readers,
            may_present=is_open and handle and self._allowed("present"),
            may_route=is_open and handle and self._allowed("route"),
            may_finish=incoming.may_finish(document, user) and self._allowed("finish"),
            may_file=self._allowed("file"), mine=mine, acks=acks,
            executives=[(str(u.id), f"{person_name(u)} — {people.title_th(u, _tenant())}")
                        for u in people.executives()],
            divisions=_divisions(), staff=self._staff(), errors=errors or {}, form=form, typed=typed or {},
            reply_url=_reply_url(document), urgency_badge=urgency_badge, secrecy_badge=secrecy_badge,
            status_text=status_text, deadline_text=incoming.deadline_text, kind_name=KIND_NAMES.get(document.kind),
            title=self.show_title, appbuilder=self.appbuilder), status

    def _step(self, document, form_name, action, success):
        """Run one step; commit only when it passes; else the page again with the messages at that form."""
        typed = {k: request.form.getlist(k) if k.endswith("_ids") else request.form.get(k, "")
                 for k in request.form}
        try:
            action()
            db.session.commit()
        except incoming.IncomingError as exc:
            db.session.rollback()
            return self._show_page(self._document(document.id), errors=exc.errors, form=form_name, typed=typed,
                                   status=422)
        except UserError as exc:
            db.session.rollback()
            if exc.status == 404:
                abort(404)
            return self._show_page(self._document(document.id), errors={"_": str(exc)}, form=form_name,
                                   typed=typed, status=exc.status if exc.status in (403, 409) else 422)
        flash(success, "success")
        return redirect(_safe_next(url_for(".show", pk=document.id)))

    @expose("/present/<pk>", methods=["POST"])
    @has_access
    def present(self, pk):
        document = self._document(pk)
        return self._step(document, "present", lambda: incoming.present(
            document, _ints("executive_ids"), request.form.get("note", ""), g.user),
            _("Presented for endorsement."))

    @expose("/endorse/<endorsement_id>", methods=["POST"])
    @has_access
    def endorse(self, endorsement_id):
        endorsement = _row_or_404(Endorsement, endorsement_id)
        document = self._document(endorsement.document_id)
        return self._step(document, f"endorse-{endorsement.id}", lambda: incoming.endorse(
            endorsement, g.user, request.form.get("comment", ""), request.form.get("order_text", ""),
            division_ids=_ints("division_ids"), instruction=request.form.get("instruction", ""),
            recipient_ids=_ints("recipient_ids")), _("Endorsed."))

    @expose("/route/<pk>", methods=["POST"])
    @has_access
    def route(self, pk):
        document = self._document(pk)
        return self._step(document, "route", lambda: incoming.route(
            document, _ints("division_ids"), request.form.get("instruction", ""), g.user,
            recipient_ids=_ints("recipient_ids")), _("Sent to the divisions."))

    @expose("/acknowledge/<routing_id>", methods=["POST"])
    @has_access
    def acknowledge(self, routing_id):
        routing = _row_or_404(Routing, routing_id)
        document = self._document(routing.document_id)
        return self._step(document, f"ack-{routing.id}", lambda: incoming.acknowledge(
            routing, g.user, request.form.get("note", "")), _("Acknowledged."))

    @expose("/finish/<pk>", methods=["POST"])
    @has_access
    def finish(self, pk):
        document = self._document(pk)
        return self._step(document, "finish", lambda: incoming.finish(
            document, request.form.get("action_taken", ""), g.user), _("Recorded what was done; the letter is done."))

    @expose("/file/<pk>/<file_id>", methods=["GET"])
    @has_access
    def file(self, pk, file_id):
        document = self._document(pk)
        return files.response(document.id, int_or_404(file_id), g.user)


def _tenant():
    from app.tenancy.models import Tenant

    return db.session.get(Tenant, g.user.tenant_id)


def _divisions():
    return [(str(d.id), str(d)) for d in db.session.scalars(
        select(Division).where(Division.active.is_(True)).order_by(Division.code))]


def _row_or_404(model, value):
    found = db.session.get(model, int_or_404(value))
    if found is None:
        abort(404)
    return found


def _reply_url(document) -> str | None:
    """"Answer with a letter" when the outgoing screens are installed and the person may draft."""
    if "SarabanOutgoingView.new" not in current_app.view_functions:
        return None
    if not current_app.appbuilder.sm.has_access("can_add", "SarabanOutgoingView"):
        return None
    return url_for("SarabanOutgoingView.new", reply_to=document.id)


def _timeline(document, endorsements, routings) -> list[dict]:
    """Who did what and when, oldest first: registration, presentations, endorsements, routings,
    acknowledgements, the record of what was done."""
    events = [{"at": document.registered_at or document.created_at, "who": document.created_by_name,
               "what": _("Registered as no. %(no)s", no=document.number_label), "text": None, "kind": "register"}]
    names = {u.id: person_name(u) for u in people.by_ids({e.requested_of_id for e in endorsements})}
    for e in endorsements:
        events.append({"at": e.requested_at, "who": e.requested_by_name, "kind": "present", "text": e.presentation,
                       "what": _("Presented to %(name)s", name=names.get(e.requested_of_id, ""))})
        if e.endorsed_at:
            who = e.endorsed_by_name
            events.append({"at": e.endorsed_at, "who": who, "kind": "endorse", "title": e.endorsed_title,
                           "what": _("Endorsed"), "comment": e.comment, "order": e.order_text, "text": None,
                           "on_behalf": e.on_behalf_of_name})
    for r in routings:
        events.append({"at": r.sent_at, "who": r.sent_by_name, "kind": "route", "text": r.instruction,
                       "what": _("Sent to %(division)s", division=r.division)})
        if r.acknowledged_at:
            events.append({"at": r.acknowledged_at, "who": r.acknowledged_by_name, "kind": "ack", "text": r.ack_note,
                           "what": _("%(division)s acknowledged", division=r.division)})
    events.sort(key=lambda e: e["at"])
    if document.status == DONE:
        events.append({"at": document.finished_at or document.updated_at, "who": document.finished_by_name or "",
                       "kind": "done", "text": document.action_taken, "what": _("Done")})
    return events

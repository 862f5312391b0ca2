"""The screens of outgoing letters (ทะเบียนหนังสือส่ง): the list (only what the person may see), drafting and
editing a letter, and its page with the review chain and the steps this person may take now (submit, approve or
return, sign, send, cancel) and its PDF. Every step goes through app/saraban/outgoing.py; these views draw the
forms and show its messages under the fields."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectField

from app.billing.account_views import ComputedInterface
from app.extensions import db
from app.saraban import access, files, letter_pdf, outgoing, people
from app.saraban.models import (INTERNAL, KIND_NAMES, KINDS, NORMAL, OUTGOING, SECRECY_LEVELS, SECRECY_NAMES,
                                STATUS_NAMES, URGENCIES, URGENCY_NAMES, Document)
from app.saraban.screens import StepPermissions, int_or_none, secrecy_badge, urgency_badge
from app.security.services import person_name
from app.tenancy.errors import UserError
from app.tenancy.fab import TenantModelView
from app.tenancy.models import Division, Tenant

FORM_FIELDS = ("origin_division_id", "kind", "urgency", "secrecy", "subject", "addressee", "reference",
               "enclosures", "body", "closing")
LIST_FIELDS = ("reader_ids", "recipient_division_ids")
MAX_REVIEWERS = 4
OUTGOING_STATUSES = ("draft", "in_review", "returned", "signed", "sent", "cancelled")


def number_text(document: Document) -> str:
    """The number once sent; before, what the letter is: a draft, or its state (signed, waiting to be sent)."""
    if document.book_no:
        return document.book_no
    if document.status in letter_pdf.DRAFT_STATES:
        return _("Draft")
    return str(STATUS_NAMES.get(document.status, _("Draft")))


def _people_choices(users, tenant, delegations=None) -> list[tuple[str, str]]:
    """(id, "name — position") for a picker; a delegate shows the role they sign for."""
    from app.saraban.outgoing import DELEGATION_WORDS

    out = []
    for user in users:
        label = person_name(user)
        title = people.title_th(user, tenant)
        if title:
            label = f"{label} — {title}"
        delegation = (delegations or {}).get(user.id)
        if delegation is not None:
            label += f" ({DELEGATION_WORDS.get(delegation.kind, '')} {people.title_th(delegation.delegator, tenant)})"
        out.append((str(user.id), label))
    return out


def _matter(request_id: int):
    """The matter a letter is written about (the caller has checked the user may see it)."""
    from app.catalog.models import ServiceRequest

    return db.session.get(ServiceRequest, request_id)


def _matter_url(matter) -> str | None:
    """The matter's page, when the user may open it (else the banner is text)."""
    from app.saraban import links
    from app.service_requests.scope import may_see

    if not links._may("can_show", "ServiceRequestView", "ServiceRequestView.show") or not may_see(g.user, matter.id):
        return None
    return url_for("ServiceRequestView.show", pk=matter.id)


def _incoming_url(document_id: int) -> str | None:
    """The received letter's page, when the incoming screens are installed."""
    from werkzeug.routing import BuildError

    try:
        return url_for("SarabanIncomingView.show", pk=document_id)
    except BuildError:
        return None


class SarabanOutgoingView(StepPermissions, TenantModelView):
    route_base = "/saraban/outgoing"
    datamodel = ComputedInterface(Document, computed={"number": lambda d, _ctx: number_text(d)}).eager_load(
        ["origin_division"])
    base_filters = [["direction", FilterEqual, OUTGOING], ["id", access.FilterVisible, None]]
    list_title = _l("Outgoing letters")
    show_title = _l("Outgoing letter")
    list_columns = ["number", "dated", "kind", "addressee", "subject", "urgency", "secrecy", "status",
                    "origin_division"]
    search_columns = ["subject", "addressee", "book_no", "kind", "urgency", "secrecy", "status", "origin_division",
                      "dated"]
    order_columns = ["dated", "subject", "addressee"]
    base_order = ("id", "desc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_submit", "can_decide", "can_sign",
                        "can_send", "can_cancel", "can_pdf", "can_file"]
    method_permission_name = {"list": "list", "show": "show", "add": "add", "new": "add", "edit": "edit",
                              "submit": "submit", "decide": "decide", "sign": "sign", "send": "send",
                              "cancel": "cancel", "pdf": "pdf", "file": "file"}
    label_columns = {
        "number": _l("Number"), "dated": _l("Dated"), "kind": _l("Kind of letter"), "addressee": _l("To"),
        "subject": _l("Subject"), "urgency": _l("Urgency"), "secrecy": _l("Secrecy"), "status": _l("Status"),
        "origin_division": _l("Division of origin"), "book_no": _l("Number"),
    }
    formatters_columns = {"urgency": urgency_badge, "secrecy": secrecy_badge,
                          "status": lambda v: str(STATUS_NAMES.get(v, v or "")),
                          "kind": lambda v: str(KIND_NAMES.get(v, v or ""))}
    search_form_extra_fields = {
        "kind": SelectField(_l("Kind of letter"), choices=list(KIND_NAMES.items())),
        "urgency": SelectField(_l("Urgency"), choices=list(URGENCY_NAMES.items())),
        "secrecy": SelectField(_l("Secrecy"), choices=list(SECRECY_NAMES.items())),
        "status": SelectField(_l("Status"), choices=[(k, STATUS_NAMES[k]) for k in OUTGOING_STATUSES]),
    }

    def _letter(self, pk) -> Document:
        document = access.get_or_404(pk, g.user)
        if document.direction != OUTGOING:
            abort(404)
        return document

    # --- draft and edit ----------------------------------------------------------------------------------------

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        return redirect(url_for(".new"))

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        from app.service_requests import scope

        request_id = int_or_none(request.values.get("request_id")) if request.values.get("request_id") else None
        if request.values.get("request_id") and (request_id is None or not scope.may_see(g.user, request_id)):
            abort(404)
        reply_to = None
        if request.values.get("reply_to"):
            reply_to = access.get_or_404(request.values.get("reply_to"), g.user)
            if reply_to.direction == OUTGOING:
                abort(404)
        if request.method == "GET":
            divisions = outgoing.draft_divisions(g.user)
            typed = {"kind": request.args.get("kind") if request.args.get("kind") in KINDS else "external",
                     "urgency": NORMAL, "secrecy": NORMAL, "reader_ids": [], "recipient_division_ids": [],
                     "closing": "จึงเรียนมาเพื่อโปรดพิจารณา",
                     "origin_division_id": str(divisions[0].id) if len(divisions) == 1 else ""}
            if reply_to is not None:
                typed.update(outgoing.reply_defaults(reply_to))
                typed["urgency"] = reply_to.urgency
            elif request_id is not None:
                matter = _matter(request_id)
                typed["subject"] = (matter.title or "")[:outgoing.LIMITS["subject"]] if matter else ""
            if not divisions:
                flash(_("You are not in a division: ask the organisation's administrator."), "warning")
            return self._form_page(None, typed, {}, request_id=request_id, reply_to=reply_to)
        typed = self._typed()
        try:
            document = outgoing.create_draft(typed, g.user, request_id=request_id, reply_to=reply_to)
            db.session.commit()
        except outgoing.LetterError as exc:
            db.session.rollback()
            return self._form_page(None, typed, exc.errors, request_id=request_id, reply_to=reply_to, status=422)
        except UserError as exc:
            db.session.rollback()
            if exc.status == 404:
                abort(404)
            return self._form_page(None, typed, {"form": exc.message}, request_id=request_id, reply_to=reply_to,
                                   status=422)
        flash(_("Draft saved. Submit it for review when it is ready."), "success")
        return redirect(url_for(".show", pk=document.id))

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        document = self._letter(pk)
        if request.method == "GET":
            typed = {name: "" if getattr(document, name) is None else str(getattr(document, name))
                     for name in FORM_FIELDS}
            typed["reader_ids"] = [str(i) for i in outgoing.readers(document)]
            typed["recipient_division_ids"] = [str(i) for i in document.recipient_division_ids or []]
            if document.status not in outgoing.EDITABLE:
                flash(_("The letter can no longer be changed."), "warning")
                return redirect(url_for(".show", pk=document.id))
            return self._form_page(document, typed, {})
        typed = self._typed()
        try:
            outgoing.update_draft(document, typed, g.user)
            db.session.commit()
        except outgoing.LetterError as exc:
            db.session.rollback()
            return self._form_page(self._letter(pk), typed, exc.errors, status=422)
        except UserError as exc:
            db.session.rollback()
            return self._form_page(self._letter(pk), typed, {"form": exc.message}, status=422)
        flash(_("Saved."), "success")
        return redirect(url_for(".show", pk=document.id))

    @staticmethod
    def _typed() -> dict:
        typed = {name: request.form.get(name, "") for name in FORM_FIELDS}
        for name in LIST_FIELDS:
            typed[name] = [v for v in request.form.getlist(name) if v.strip()]
        return typed

    def _form_page(self, document, typed, errors, request_id=None, reply_to=None, status: int = 200):
        staff = [(str(u.id), person_name(u)) for u in people.staff()]
        divisions = db.session.scalars(select(Division).where(Division.active.is_(True)).order_by(Division.code))
        title = _("Edit the draft letter") if document else _("Draft an outgoing letter")
        matter = _matter(request_id) if request_id is not None else None
        return self.render_template(
            "saraban/outgoing_form.html", document=document, typed=typed, errors=errors, title=title,
            kinds=[(k, str(KIND_NAMES[k])) for k in KINDS], urgencies=[(k, str(URGENCY_NAMES[k])) for k in URGENCIES],
            secrecies=[(k, str(SECRECY_NAMES[k])) for k in SECRECY_LEVELS], staff=staff,
            own_divisions=[(str(d.id), d.name_th) for d in outgoing.draft_divisions(g.user)],
            divisions=[(str(d.id), d.name_th) for d in divisions], request_id=request_id, reply_to=reply_to,
            matter=matter, matter_url=_matter_url(matter) if matter is not None else None,
            internal=INTERNAL, appbuilder=self.appbuilder,
        ), status

    # --- the letter's page ---------------------------------------------------------------------------------------

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        document = self._letter(pk)
        access.record_opening(document, g.user, "open")
        db.session.commit()
        return self._show_page(self._letter(pk))

    def _show_page(self, document, errors=None, typed=None, status: int = 200):
        may = outgoing.actions(document, g.user)
        allowed = {name for name in ("edit", "submit", "cancel", "send", "pdf", "file") if self._allowed(name)}
        if self._allowed("decide"):
            allowed |= {"approve", "return"}
        if self._allowed("sign"):
            allowed.add("sign")
        may = (may & allowed) | ({"pdf", "file"} & allowed)
        tenant = db.session.get(Tenant, document.tenant_id)
        everyone = people.staff()
        staff = _people_choices(everyone, tenant)
        chosen = outgoing.signers(document, everyone) if "submit" in may else []
        signers = _people_choices([u for u, _d in chosen], tenant, {u.id: d for u, d in chosen if d is not None})
        sender = outgoing.sender_division(document)
        division_names = {d.id: d.name_th for d in db.session.scalars(select(Division))}
        return self.render_template(
            "saraban/outgoing_show.html", document=document, steps=outgoing.steps(document),
            current=outgoing.current_step(document), may=may, errors=errors or {}, typed=typed or {},
            files=files.of(document), staff=staff, signers=signers, sender=sender, kind_names=KIND_NAMES, urgency_names=URGENCY_NAMES,
            secrecy_names=SECRECY_NAMES, status_names=STATUS_NAMES, number=number_text(document),
            recipients=[division_names.get(i, "") for i in document.recipient_division_ids or []],
            reply_to=access.get(document.reply_to_id, g.user) if document.reply_to_id else None,
            reply_url=_incoming_url,
            max_reviewers=MAX_REVIEWERS, title=self.show_title, appbuilder=self.appbuilder,
        ), status

    def _step(self, pk, action, typed=None):
        """Run a step on the letter; commit, or show the page again with its messages (nothing written)."""
        document = self._letter(pk)
        try:
            message = action(document)
            db.session.commit()
        except outgoing.LetterError as exc:
            db.session.rollback()
            return self._show_page(self._letter(pk), errors=exc.errors, typed=typed, status=422)
        except UserError as exc:
            db.session.rollback()
            return self._show_page(self._letter(pk), errors={"form": exc.message}, typed=typed, status=422)
        flash(message, "success")
        return redirect(url_for(".show", pk=document.id))

    @expose("/submit/<pk>", methods=["POST"])
    @has_access
    def submit(self, pk):
        reviewers = [v for v in (request.form.get(f"reviewer_{i}", "") for i in range(1, MAX_REVIEWERS + 1))
                     if v.strip()]
        reviewers += [v for v in request.form.getlist("reviewer_ids") if v.strip()]
        signer = request.form.get("signer_id", "")
        typed = {"reviewers": reviewers, "signer_id": signer}
        return self._step(pk, lambda d: outgoing.submit(d, reviewers, signer, g.user) and _(
            "Submitted for review."), typed)

    @expose("/decide/<pk>", methods=["POST"])
    @has_access
    def decide(self, pk):
        approve = request.form.get("decision") == "approve"
        note = request.form.get("note", "")

        def act(document):
            outgoing.decide(document, g.user, approve, note)
            return _("Approved.") if approve else _("Returned to the author with your note.")

        return self._step(pk, act, {"note": note})

    @expose("/sign/<pk>", methods=["POST"])
    @has_access
    def sign(self, pk):
        def act(document):
            outgoing.sign(document, g.user)
            sender = outgoing.sender_division(document)
            return _("Signed. %(division)s can now send it.", division=sender.name_th if sender else "")

        return self._step(pk, act)

    @expose("/send/<pk>", methods=["POST"])
    @has_access
    def send(self, pk):
        return self._step(pk, lambda d: outgoing.send(d, g.user) and _("Sent as %(number)s.", number=d.book_no))

    @expose("/cancel/<pk>", methods=["POST"])
    @has_access
    def cancel(self, pk):
        reason = request.form.get("reason", "")
        return self._step(pk, lambda d: outgoing.cancel(d, g.user, reason) and _("The letter was cancelled."),
                          {"reason": reason})

    # --- the letter as a PDF and its files ----------------------------------------------------------------------

    @expose("/pdf/<pk>", methods=["GET"])
    @has_access
    def pdf(self, pk):
        document = self._letter(pk)
        access.record_opening(document, g.user, "pdf")
        db.session.commit()
        return letter_pdf.pdf_response(self._letter(pk))

    @expose("/file/<pk>/<file_id>", methods=["GET"])
    @has_access
    def file(self, pk, file_id):
        document = self._letter(pk)
        number = int_or_none(file_id)
        if number is None:
            abort(404)
        return files.response(document.id, number, g.user)

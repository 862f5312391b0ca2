"""The workflow engine: which actions a person may take on a request now, and taking one (checked, timed,
written to the timeline). It refuses anything the service's workflow does not allow, with the reason."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from flask_appbuilder.security.sqla.models import User
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app import thai
from app.catalog.models import ServiceRequest
from app.extensions import db
from app.service_requests.models import ServiceRequestEvent
from app.catalog import attachments
from app.service_requests.workflow_spec import (DEFAULT_WORKFLOW, FORWARD, ISSUE_CERTIFICATE,
                                                OPEN_WASTE_ACCOUNT, RECORD_PAYMENT, REQUEST_PAYMENT)
from app.tenancy.errors import UserError
from app.tenancy.models import Division, localized, utcnow
from app.security.services import person_name


# s.8 of the Licensing Facilitation Act: the deficiency record lists everything missing, once
ONE_TIME_RETURN = "return_for_documents"


@dataclass(frozen=True)
class Action:
    code: str
    label: str
    to: str
    note_required: bool
    effect: Optional[str] = None


def workflow_of(request: ServiceRequest) -> dict:
    return request.version.workflow or DEFAULT_WORKFLOW


def state(request: ServiceRequest, code: Optional[str] = None) -> dict:
    code = code or request.status
    for spec in workflow_of(request)["states"]:
        if spec["code"] == code:
            return spec
    return {"code": code, "name_th": code, "name_en": code, "holder": "@responsible", "final": False}


def state_name(request: ServiceRequest, code: Optional[str] = None) -> str:
    spec = state(request, code)
    return localized(spec["name_th"], spec.get("name_en") or "")


def division_code(request: ServiceRequest, holder: str) -> str:
    return request.service_type.responsible_division.code if holder == "@responsible" else holder


def _holds(user: User, request: ServiceRequest, transition: dict, roles=None) -> bool:
    """The user holds one of the roles in the transition's กอง, or an executive role that sees the whole tenant."""
    where = division_code(request, transition["division"])
    for membership in getattr(user, "memberships", []) or []:
        if membership.role.code in (roles or transition["roles"]) and (
            membership.division.code == where or membership.role.whole_tenant
        ):
            return True
    return False


def _running_delegations(user: User) -> list:
    """The delegations running today to this user, read once per request (an inbox checks many matters)."""
    from flask import g, has_app_context

    from app.service_requests.models import Delegation

    key = ("_running_delegations", user.id)
    cache = g.setdefault("_delegation_cache", {}) if has_app_context() else {}
    if key not in cache:
        today = thai.today_bangkok()
        cache[key] = list(db.session.scalars(select(Delegation).where(
            Delegation.delegate_id == user.id, Delegation.start_on <= today, Delegation.end_on >= today)))
    return cache[key]


def _delegation_for(user: User, request: ServiceRequest, transition: dict):
    """An active delegation that lets `user` take this transition for someone who holds the role."""
    running = [d for d in _running_delegations(user) if d.role_code in transition["roles"]]
    for delegation in running:
        if _holds(delegation.delegator, request, transition, roles=[delegation.role_code]):
            return delegation
    return None


def _may(user: User, request: ServiceRequest, transition: dict) -> bool:
    return _holds(user, request, transition) or _delegation_for(user, request, transition) is not None


def _returned_before(request: ServiceRequest) -> bool:
    return db.session.scalar(
        select(ServiceRequestEvent.id).where(ServiceRequestEvent.request_id == request.id,
                                             ServiceRequestEvent.action == ONE_TIME_RETURN)
    ) is not None


def available(request: ServiceRequest, user: User) -> list[Action]:
    if state(request)["final"]:
        return []
    actions = [
        Action(t["action"], localized(t["name_th"], t.get("name_en") or ""), t["to"], t.get("note_required", False),
               t.get("effect"))
        for t in workflow_of(request)["transitions"]
        if request.status in t["from"] and _may(user, request, t)
    ]
    if any(a.code == ONE_TIME_RETURN for a in actions) and _returned_before(request):
        actions = [a for a in actions if a.code != ONE_TIME_RETURN]
    return actions


def take(request: ServiceRequest, action: str, user: User, *, note: str = "", staff_only: bool = False,
         seen_version: Optional[int] = None, forward_to=None, payment=None, files=(), kept_files=(), missing=(),
         missing_other: str = "") -> ServiceRequestEvent:
    """Move the request along one transition. The caller commits.

    forward_to: a forwarding.Target, for a transition whose effect is forward. files: uploads attached to
    the step (FileStorage objects, checked like form uploads); kept_files: ids of files this user already
    sent with an attempt that failed (kept, see acting.keep_files). missing, missing_other: the deficiency
    record of a return for documents (codes of the service's documents, and other items one per line)."""
    if seen_version is not None and seen_version != request.lock_version:
        raise UserError(_("Someone else has just acted on this request. Reload it to see what changed."), 409)
    if state(request)["final"]:
        raise UserError(_("This request is closed (%(state)s).", state=state_name(request)), 422)
    matching = [t for t in workflow_of(request)["transitions"] if t["action"] == action]
    if not matching:
        raise UserError(_("This service has no action %(action)s.", action=action), 422)
    from_here = [t for t in matching if request.status in t["from"]]
    if not from_here:
        # lazy names: the open API says the message again in the other language, and the names must follow
        raise UserError(_("%(action)s cannot be taken while the request is %(state)s.",
                          action=LazyString(localized, matching[0]["name_th"], matching[0].get("name_en") or ""),
                          state=LazyString(state_name, request)), 422)
    allowed = [t for t in from_here if _may(user, request, t)]
    if not allowed:
        raise UserError(_("Only %(roles)s of the division %(division)s may do this.",
                          roles=_role_names(from_here[0]["roles"]),
                          division=_division_name(division_code(request, from_here[0]["division"]))), 403)
    transition = allowed[0]
    if action == ONE_TIME_RETURN and _returned_before(request):
        raise UserError(_("A matter is returned for documents only once, listing everything missing "
                          "(Licensing Facilitation Act B.E. 2558, s.8)."), 422)
    if action == ONE_TIME_RETURN:
        # s.8: the record lists everything missing at once, and the applicant must see it
        note, staff_only = deficiency_note(request, missing, missing_other, note), False
    elif transition.get("note_required") and not note.strip():
        raise UserError(_("Please write the reason in the note."), 422)
    effect = transition.get("effect")
    if effect == FORWARD and forward_to is None:
        raise UserError(_("Choose the organisation or body to forward this matter to."), 422)
    fee_total = request.fee_total
    if effect == REQUEST_PAYMENT:
        note, fee_total = _priced_note(request, note)
    checked_payment = None
    if effect == RECORD_PAYMENT:  # payment: the typed fields (billing.services.from_form)
        from app.billing import services as billing

        checked_payment = billing.check(request, payment)
        note = f"{billing.note(checked_payment)} {note.strip()}".strip()
    uploads = _checked_files(files)
    kept = kept_attachments(user, kept_files)
    if len(uploads) + len(kept) > MAX_EVENT_FILES:
        raise UserError(_("Attach at most %(count)s files to one step.", count=MAX_EVENT_FILES), 422)
    delegation = None if _holds(user, request, transition) else _delegation_for(user, request, transition)
    holder = _holder(request, transition["to"])
    with db.session.no_autoflush:  # the calendar's queries must not write the request half-changed
        step_due = _step_due(request, transition["to"])
        restart_due = _clock_restarts(request) and not state(request, transition["to"])["final"]
        new_due = _restarted_due(request) if restart_due else request.due_on
    event = ServiceRequestEvent(
        tenant_id=request.tenant_id, request_id=request.id, actor_id=user.id,
        actor_name=person_name(user), action=action,
        from_state=request.status, to_state=transition["to"], division_id=holder.id, note=note.strip() or None,
        staff_only=staff_only,
        on_behalf_of_name=(f"{delegation.delegator.first_name} {delegation.delegator.last_name}".strip()
                           if delegation else None),
        delegation_kind=delegation.kind if delegation else None,
    )
    # the one who acts keeps the matter while it stays in the same กอง; it is nobody's once it moves on
    request.assignee_id = user.id if holder.id == request.division_id else None
    request.status = transition["to"]
    request.division = holder  # sets division_id too, and what the request reads next
    request.step_due_on = step_due
    request.fee_total = fee_total
    request.due_on = new_due
    request.closed_at = utcnow() if state(request)["final"] else None
    db.session.add(event)
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise UserError(_("Someone else has just acted on this request. Reload it to see what changed."), 409)
    if effect == OPEN_WASTE_ACCOUNT:
        _open_waste_account(request, event)
    from app.service_requests import forwarding, notify

    for upload in uploads:
        attachment = attachments.store(request.tenant_id, EVENT_FILE_FIELD, upload, user.id)
        attachment.request_id, attachment.event_id = request.id, event.id
    for attachment in kept:
        attachment.request_id, attachment.event_id = request.id, event.id
    if effect == FORWARD:
        forwarding.open_forwarding(request, event, forward_to, user)
    if checked_payment is not None:
        billing.record(request, event, user, checked_payment)
    if effect == ISSUE_CERTIFICATE:
        from app.certificates.issue import issue

        certificate = issue(request, transition["certificate"])
        event.note = " ".join(filter(None, [_("Issued %(title)s no. %(number)s.", title=certificate.title_th,
                                                number=certificate.label), event.note]))
    notify.after_step(request, event, user)
    db.session.flush()
    return event


MAX_EVENT_FILES = 5
EVENT_FILE_FIELD = "_event"


def _open_waste_account(request: ServiceRequest, event: ServiceRequestEvent) -> None:
    """The registration step opens the service's fee account from the request, once; a value the account
    cannot take fails the step (the caller rolls back) naming the request's own fields."""
    from app.billing import accounts
    from app.catalog.builder import label

    try:
        account, opened = accounts.open_from_request(request, event.actor_name)
    except accounts.AccountError as exc:
        labels = {spec["code"]: label(spec) for spec in request.version.fields}
        problems = "; ".join(f"{labels.get(code, code)}: {message}" for code, message in exc.errors.items())
        raise UserError(_("The service account could not be opened. Correct the request, then take the step "
                          "again. %(problems)s", problems=problems), 422) from None
    if opened:
        event.note = " ".join(filter(None, [_("Opened service account no. %(no)s.", no=account.account_no),
                                            event.note]))


def document_choices(request: ServiceRequest) -> list[tuple[str, str]]:
    """The service's documents, for the deficiency checklist: (code, name)."""
    return [(d["code"], localized(d["name_th"], d.get("name_en") or "")) for d in request.version.documents or []]


def deficiency_note(request: ServiceRequest, missing, missing_other: str, note: str = "") -> str:
    """The deficiency record (s.8) as the timeline note: every missing item, numbered, in Thai (the applicant
    reads it), then the officer's own note. Refused when nothing is listed or a document is not the service's."""
    from flask_babel import force_locale

    names = {d["code"]: d["name_th"] for d in request.version.documents or []}
    unknown = [code for code in missing or () if code not in names]
    if unknown:
        raise UserError(_("%(code)s is not one of this service's documents.", code=unknown[0]), 422)
    items = [names[code] for code in names if code in set(missing or ())]
    items += [line.strip() for line in (missing_other or "").splitlines() if line.strip()]
    if not items:
        raise UserError(_("Tick every missing document, or write what else is missing under Other: the "
                          "matter is returned only once (Licensing Facilitation Act B.E. 2558, s.8)."), 422)
    with force_locale("th"):
        head = _("Missing documents and items (deficiency record, s.8):")
    lines = [head] + [f"{n}. {item[:300]}" for n, item in enumerate(items, 1)]
    if note.strip():
        lines.append(note.strip())
    return "\n".join(lines)


def kept_attachments(user: User, ids) -> list:
    """Files this user sent with an earlier attempt at a step that failed, not yet on any step or request."""
    from app.catalog.attachments import Attachment

    wanted = {int(i) for i in ids or () if str(i).isdigit()}
    if not wanted:
        return []
    return list(db.session.scalars(select(Attachment).where(
        Attachment.id.in_(wanted), Attachment.field_code == EVENT_FILE_FIELD, Attachment.request_id.is_(None),
        Attachment.event_id.is_(None), Attachment.created_by_id == user.id).order_by(Attachment.id)))
EVENT_FILE_TYPES = ("pdf", "jpg", "png")
EVENT_FILE_MB = 10


def _checked_files(files) -> list:
    """Files attached to a step: at most five PDFs or photos of at most 10 MB each, checked by content."""
    from app.catalog.filetypes import content_fits

    uploads = [f for f in files or () if f and getattr(f, "filename", "")]
    if len(uploads) > MAX_EVENT_FILES:
        raise UserError(_("Attach at most %(count)s files to one step.", count=MAX_EVENT_FILES), 422)
    for upload in uploads:
        head = upload.stream.read(EVENT_FILE_MB * 1024 * 1024 + 1)
        upload.stream.seek(0)
        if len(head) > EVENT_FILE_MB * 1024 * 1024:
            raise UserError(_("%(name)s is larger than %(mb)s MB.", name=upload.filename, mb=EVENT_FILE_MB), 422)
        if not content_fits(head, set(EVENT_FILE_TYPES)):
            raise UserError(_("%(name)s is not a PDF, JPEG or PNG file.", name=upload.filename), 422)
    return uploads


def _priced_note(request: ServiceRequest, note: str):
    """Asking for payment prices the matter from its fee schedule and says so on the timeline: the note
    and the total (set by the caller with the rest of the step, in one write)."""
    from app.catalog import services

    priced = services.quote(request.service_type, request.data)
    if priced is None:
        raise UserError(_("This service has no fee schedule in force, so there is nothing to ask payment for."), 422)
    amount = _("Fee due: %(amount)s (%(words)s).", amount=thai.format_baht(priced[0].total),
               words=thai.baht_text(priced[0].total))
    return f"{amount} {note.strip()}".strip(), priced[0].total


def _holder(request: ServiceRequest, state_code: str) -> Division:
    """The กอง that holds the matter in this state; a workflow naming a กอง the organisation lacks is said so
    rather than left to strand the matter."""
    code = division_code(request, state(request, state_code)["holder"])
    holder = db.session.scalar(select(Division).where(Division.tenant_id == request.tenant_id, Division.code == code))
    if holder is None:
        raise UserError(_("The workflow sends this matter to the division %(code)s, which this organisation "
                          "does not have. Ask the administrator to correct the service's workflow.",
                          code=code), 422)
    return holder


def reopen_deadline(request: ServiceRequest):
    """Until when a citizen may reopen this closed matter (None: it cannot be reopened)."""
    if not (state(request)["final"] and state(request).get("reopenable")) or request.closed_at is None:
        return None
    from datetime import timedelta

    return request.closed_at + timedelta(days=request.tenant.reopen_days)


def reopen(request: ServiceRequest, note: str) -> ServiceRequestEvent:
    """The applicant finds it not done: the matter goes back into its workflow, with a fresh clock."""
    deadline = reopen_deadline(request)
    if deadline is None:
        raise UserError(_("This matter cannot be reopened."), 422)
    if utcnow() > deadline:
        raise UserError(_("Matters can be reopened up to %(days)s days after they are closed; that time has "
                          "passed. Please file a new request.", days=request.tenant.reopen_days), 422)
    if not (note or "").strip():
        raise UserError(_("Please say what is still wrong."), 422)
    to = workflow_of(request).get("reopen_to") or "submitted"
    holder = _holder(request, to)
    with db.session.no_autoflush:
        step_due = _step_due(request, to)
        due = _restarted_due(request)
    event = ServiceRequestEvent(
        tenant_id=request.tenant_id, request_id=request.id, actor_id=None, actor_name=_("The applicant"),
        action="reopen", from_state=request.status, to_state=to, division_id=holder.id,
        note=note.strip()[:2000], staff_only=False,
    )
    request.status, request.division, request.assignee_id = to, holder, None
    request.step_due_on, request.due_on, request.closed_at = step_due, due, None
    request.reopened_count = (request.reopened_count or 0) + 1
    request.rating = request.rating_comment = request.rated_at = None  # rated again once done again
    db.session.add(event)
    db.session.flush()
    from app.service_requests import notify

    notify.after_step(request, event, None)
    db.session.flush()
    return event


def payment_states(request: ServiceRequest) -> set[str]:
    """The states in which a matter waits for its fee (reached by a transition that asks for payment)."""
    return {t["to"] for t in workflow_of(request)["transitions"] if t.get("effect") == REQUEST_PAYMENT}


def returned_states(request: ServiceRequest) -> set[str]:
    """The states in which a matter waits for the applicant's missing documents (the clock does not run)."""
    return {t["to"] for t in workflow_of(request)["transitions"] if t["action"] == ONE_TIME_RETURN}


def _clock_restarts(request: ServiceRequest) -> bool:
    """s.8: the period runs from a complete file, so it starts again when the missing documents arrive."""
    return request.status in returned_states(request)


def _restarted_due(request: ServiceRequest):
    from app.catalog.services import legal_due_date  # working or calendar days, as the service's law counts

    return legal_due_date(request.service_type, thai.today_bangkok())


def _role_names(codes: list[str]) -> str:
    from app.security.models import RoleTemplate

    names = {r.code: localized(r.name_th, r.name_en) for r in db.session.scalars(
        select(RoleTemplate).where(RoleTemplate.code.in_(codes)))}
    return ", ".join(names.get(code, code) for code in codes)


def _division_name(code: str) -> str:
    found = db.session.scalar(select(Division).where(Division.code == code))
    return str(found) if found is not None else code


def _step_due(request: ServiceRequest, new_state: str):
    """The next step's deadline: the working days of the transitions that lead on from the new state."""
    from app.service_requests.clock import WorkingCalendar

    days = [t["days"] for t in workflow_of(request)["transitions"] if new_state in t["from"] and t.get("days")]
    if not days:
        return None
    return WorkingCalendar.for_current_tenant().add_working_days(thai.today_bangkok(), max(days))


def timeline(request: ServiceRequest, staff: bool = True) -> list[ServiceRequestEvent]:
    stmt = select(ServiceRequestEvent).where(ServiceRequestEvent.request_id == request.id)
    if not staff:
        stmt = stmt.where(ServiceRequestEvent.staff_only.is_(False))
    return list(db.session.scalars(stmt.order_by(ServiceRequestEvent.at, ServiceRequestEvent.id)))

"""Who hears about a step: the staff who may take the next one (in-app, and by e-mail to their account's
address), and the applicant when the step is not staff-only and the request gives an e-mail address."""
from __future__ import annotations

from flask import has_request_context, url_for
from flask_appbuilder.security.sqla.models import User
from flask_babel import force_locale, gettext as _
from sqlalchemy import select

from app.catalog.models import ServiceRequest
from app.extensions import db
from app.service_requests import mail, outbox
from app.service_requests.models import Delegation, ServiceRequestEvent
from app import thai

APPLICANT_FIELDS = ("email", "contact_email", "applicant_email")
NEW_STEP, STATUS = "new_step", "status"


def applicant_email(request: ServiceRequest) -> str | None:
    if request.contact_email and mail.EMAIL.match(request.contact_email):
        return request.contact_email  # given on the citizen portal
    for code in APPLICANT_FIELDS:
        value = str(request.data.get(code) or "").strip()
        if mail.EMAIL.match(value):
            return value
    return None


def request_link(request_id: int) -> str:
    if has_request_context():
        return url_for("ServiceRequestView.show", pk=request_id)
    return f"/service-requests/show/{request_id}"


def next_actors(request: ServiceRequest) -> list[User]:
    """Everyone who may take a step from the request's current state (delegates included)."""
    from app.security.models import Membership
    from app.service_requests import engine

    wanted = []  # (role codes, division code) per transition out of the current state
    for t in engine.workflow_of(request)["transitions"]:
        if request.status in t["from"]:
            wanted.append((set(t["roles"]), engine.division_code(request, t["division"])))
    if not wanted:
        return []
    people: dict[int, User] = {}
    memberships = db.session.scalars(select(Membership)).unique().all()
    for roles, where in wanted:
        holders = [m for m in memberships if m.role.code in roles and (m.division.code == where or m.role.whole_tenant)]
        for m in holders:
            if m.user.active:
                people[m.user.id] = m.user
        today = thai.today_bangkok()
        holder_ids = {m.user_id for m in holders}
        for d in db.session.scalars(select(Delegation).where(
                Delegation.delegator_id.in_(holder_ids), Delegation.start_on <= today, Delegation.end_on >= today)):
            if d.role_code in roles and d.delegate.active:
                people[d.delegate.id] = d.delegate
    return list(people.values())


def after_step(request: ServiceRequest, event: ServiceRequestEvent, actor: User | None) -> None:
    from app.service_requests import engine

    state = engine.state_name(request)
    link = request_link(request.id)
    for user in next_actors(request):
        if actor is not None and user.id == actor.id:
            continue
        with force_locale(user.locale or "th"):
            subject = _("Request %(number)s is waiting for you: %(title)s", number=request.id, title=request.title)
            body = _("%(service)s: %(title)s is now %(state)s at %(division)s. Due: %(due)s.",
                     service=request.service_type, title=request.title, state=engine.state_name(request),
                     division=request.division, due=thai.format_date(request.step_due_on or request.due_on, "long"))
        outbox.write(tenant_id=request.tenant_id, request_id=request.id, user_id=user.id, link=link, kind=NEW_STEP,
                     recipient=user.email or user.username, subject=subject, body=body)
    address = applicant_email(request)
    if address and not event.staff_only:
        with force_locale("th"):
            subject = _("Your request %(number)s: %(state)s", number=request.id, state=state)
            body = _("%(service)s: %(title)s is now %(state)s (%(division)s).",
                     service=request.service_type, title=request.title, state=state, division=request.division)
            if event.note:
                body += "\n" + _("Note: %(note)s", note=event.note)
        outbox.write(tenant_id=request.tenant_id, request_id=request.id, kind=STATUS, recipient=address,
                     subject=subject, body=body)

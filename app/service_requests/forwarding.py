"""Forwarding a matter to another organisation on the platform or to an outside body.

The owner keeps the matter. A partner organisation sees the forwarding (a TenantShared row) and, through
it, a read-only view of that one matter: the fields and files citizens may see and the public timeline.
Both sides write to one thread. An outside body gets the matter by e-mail; staff record its reply."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from flask_appbuilder.security.sqla.models import User
from flask_babel import force_locale, gettext as _
from sqlalchemy import select

from app.catalog.builder import label, visible_fields
from app.catalog.models import ServiceRequest
from app.catalog.values import display
from app.extensions import db
from app.service_requests import mail, outbox
from app.service_requests.models import (ANSWERED, OPEN, WITHDRAWN, Forwarding, ForwardingMessage,
                                         ServiceRequestEvent)
from app.tenancy.context import require_tenant_id
from app.tenancy.errors import UserError
from app.tenancy.models import Tenant, utcnow
from app.tenancy.shared import as_owner
from app.security.services import person_name

# who receives forwarded matters in the partner organisation: its central office (สำนักปลัด), and executives
RECEIVING_DIVISION = "office"
RECEIVING_ROLES = ("officer", "division_director")
MESSAGE, ANSWER, WITHDRAW, SENT = "message", "answer", "withdrawn", "sent"


@dataclass(frozen=True)
class Target:
    partner_tenant_id: Optional[int] = None
    outside_body: Optional[str] = None
    outside_email: Optional[str] = None


def target_from_form(form) -> Optional[Target]:
    """The forward form: a partner organisation (by id or DLA code) or an outside body's name and e-mail."""
    partner = (form.get("forward_tenant") or "").strip()
    code = (form.get("forward_dla_code") or "").strip()
    body = (form.get("outside_body") or "").strip()
    email = (form.get("outside_email") or "").strip()
    if code:
        found = db.session.scalar(select(Tenant.id).where(Tenant.dla_code == code))
        if found is None:
            raise UserError(_("No organisation on the platform has the code %(code)s.", code=code), 422)
        partner = str(found)
    if partner and body:
        raise UserError(_("Forward either to an organisation on the platform or to an outside body, not both."), 422)
    if partner:
        if not partner.isdigit():
            raise UserError(_("Choose the organisation or body to forward this matter to."), 422)
        return Target(partner_tenant_id=int(partner))
    if body:
        if email and not mail.EMAIL.match(email):
            raise UserError(_("%(email)s is not an e-mail address.", email=email), 422)
        return Target(outside_body=body[:200], outside_email=email[:200] or None)
    return None


def partner_choices() -> list[Tenant]:
    """Organisations a matter is usually forwarded to: the parent (e.g. the province's อบจ.) first, then the
    others of the same province. Any other organisation can be reached by its DLA code."""
    me = db.session.get(Tenant, require_tenant_id())
    rows = db.session.scalars(select(Tenant).where(
        Tenant.active.is_(True), Tenant.id != me.id, Tenant.province == me.province).order_by(Tenant.name_th)).all()
    parent = [me.parent] if me.parent is not None and me.parent.active and me.parent not in rows else []
    rows = sorted(rows, key=lambda t: (t.id != me.parent_id, t.name_th))
    return parent + rows


def open_forwarding(request: ServiceRequest, event: ServiceRequestEvent, target: Target, actor: User) -> Forwarding:
    owner = request.tenant_id
    if target.partner_tenant_id is not None:
        partner = db.session.get(Tenant, target.partner_tenant_id)
        if partner is None or not partner.active or partner.id == owner:
            raise UserError(_("That organisation cannot receive forwarded matters."), 422)
    forwarding = Forwarding(
        tenant_id=owner, partner_tenant_id=target.partner_tenant_id, request_id=request.id,
        outside_body=target.outside_body, outside_email=target.outside_email,
        subject=(request.title or str(request.service_type))[:300], request_note=event.note or "",
        sent_by_name=event.actor_name, status=OPEN,
    )
    db.session.add(forwarding)
    db.session.flush()
    if target.partner_tenant_id is not None:
        from app.tasks import after_commit

        after_commit("forwarding.notify", target.partner_tenant_id, forwarding_id=forwarding.id, event=SENT)
    elif target.outside_email:
        summary = snapshot(forwarding)
        with force_locale("th"):
            subject = _("Matter forwarded from %(org)s: %(subject)s", org=summary.owner_name, subject=forwarding.subject)
        lines = [subject, "", forwarding.request_note, ""] + [f"{name}: {value}" for name, value in summary.rows]
        outbox.write(tenant_id=owner, request_id=request.id, kind="forwarded", recipient=target.outside_email,
                     subject=subject, body="\n".join(lines).strip())
    return forwarding


@dataclass
class Snapshot:
    """What the partner may see of the matter, read as the owner sees it and handed over as plain values."""
    owner_name: str
    service: str
    title: str
    state: str
    division: str
    filed_at: Optional[datetime]
    due_on: object
    overdue: bool = False  # the one overdue rule (app/service_requests/overdue.py), read as the owner
    rows: list = field(default_factory=list)
    files: list = field(default_factory=list)  # (attachment id, file name)
    timeline: list = field(default_factory=list)  # (at, actor, from state, to state, division, note)


def snapshot(forwarding: Forwarding) -> Snapshot:
    """The matter as the partner sees it: fields and files citizens may see, and the public timeline."""
    owner = db.session.get(Tenant, forwarding.tenant_id)
    mine = forwarding.tenant_id == require_tenant_id()
    with _owner_view(forwarding.tenant_id, mine):
        from app.catalog.attachments import Attachment
        from app.service_requests import engine
        from app.service_requests.overdue import is_overdue

        request = db.session.get(ServiceRequest, forwarding.request_id)
        if request is None:
            raise UserError(_("The forwarded matter no longer exists."), 404)
        public = visible_fields(request.version.fields, staff=False)
        result = Snapshot(
            owner_name=owner.name_th, service=str(request.service_type), title=request.title,
            state=engine.state_name(request), division=str(request.division), filed_at=request.created_at,
            due_on=request.due_on, overdue=is_overdue(request),
            rows=[(label(s), display(s, request.data.get(s["code"]))) for s in public
                  if s["kind"] != "file" and request.data.get(s["code"]) not in (None, "", [])],
        )
        public_files = {s["code"] for s in public if s["kind"] == "file"}
        result.files = [(a.id, a.filename) for a in db.session.scalars(select(Attachment).where(
            Attachment.request_id == request.id, Attachment.event_id.is_(None)).order_by(Attachment.id))
            if a.field_code in public_files]
        result.timeline = [(e.at, e.actor_name, engine.state_name(request, e.from_state),
                            engine.state_name(request, e.to_state), str(e.division), e.note)
                           for e in engine.timeline(request, staff=False)]
    return result


def overdue_ids(forwardings) -> set[int]:
    """The forwardings whose matter is overdue, each matter read as its owner sees it (the partner reads
    only the matters forwarded to it, through the shared scope)."""
    from app.service_requests.overdue import is_overdue

    me = require_tenant_id()
    by_owner: dict[int, dict[int, list[int]]] = {}
    for f in forwardings:
        by_owner.setdefault(f.tenant_id, {}).setdefault(f.request_id, []).append(f.id)
    found: set[int] = set()
    for owner, wanted in by_owner.items():
        with _owner_view(owner, owner == me):
            for request in db.session.scalars(select(ServiceRequest).where(ServiceRequest.id.in_(wanted))):
                if is_overdue(request):
                    found.update(wanted[request.id])
    return found


def shared_file(forwarding: Forwarding, attachment_id: int):
    """One of the matter's public files for the partner: (path, attachment), or None."""
    from app.catalog.attachments import Attachment, path_of

    mine = forwarding.tenant_id == require_tenant_id()
    allowed = {i for i, _name in snapshot(forwarding).files}
    if attachment_id not in allowed:
        return None
    with _owner_view(forwarding.tenant_id, mine):
        found = db.session.get(Attachment, attachment_id)
        return (path_of(found), found.filename, found.content_type) if found else None


class _owner_view:
    """The owner reads its own rows as usual; a partner reads them through the read-only shared scope."""

    def __init__(self, owner_id: int, mine: bool):
        self._ctx = None if mine else as_owner(owner_id)

    def __enter__(self):
        if self._ctx is not None:
            self._ctx.__enter__()

    def __exit__(self, *exc):
        if self._ctx is not None:
            return self._ctx.__exit__(*exc)
        return False


def side(forwarding: Forwarding) -> str:
    return "owner" if forwarding.tenant_id == require_tenant_id() else "partner"


def thread(forwarding: Forwarding) -> list[ForwardingMessage]:
    return list(db.session.scalars(select(ForwardingMessage).where(
        ForwardingMessage.forwarding_id == forwarding.id).order_by(ForwardingMessage.at, ForwardingMessage.id)))


def post(forwarding: Forwarding, user: User, body: str, kind: str = MESSAGE) -> ForwardingMessage:
    """Write to the thread. The partner answers; the owner records an outside body's answer or withdraws."""
    body = (body or "").strip()
    who = side(forwarding)
    if not body:
        raise UserError(_("Please write the message."), 422)
    if forwarding.status != OPEN and kind != MESSAGE:
        raise UserError(_("This forwarding is already closed."), 422)
    if kind == ANSWER and who == "owner" and forwarding.partner_tenant_id is not None:
        raise UserError(_("Only the organisation the matter was forwarded to can answer it."), 403)
    if kind == WITHDRAW and who != "owner":
        raise UserError(_("Only the organisation that forwarded the matter can withdraw it."), 403)
    me = db.session.get(Tenant, require_tenant_id())
    recorded_for_outside = kind == ANSWER and who == "owner"
    message = ForwardingMessage(
        tenant_id=forwarding.tenant_id, partner_tenant_id=forwarding.partner_tenant_id,
        forwarding_id=forwarding.id, kind=kind, body=body[:5000],
        author_tenant_id=None if recorded_for_outside else me.id,
        author_org=forwarding.outside_body if recorded_for_outside else me.name_th,
        author_name=person_name(user),
    )
    db.session.add(message)
    if kind in (ANSWER, WITHDRAW):
        forwarding.status = ANSWERED if kind == ANSWER else WITHDRAWN
        forwarding.closed_at = utcnow()
    db.session.flush()
    from app.tasks import after_commit

    other = forwarding.tenant_id if who == "partner" else forwarding.partner_tenant_id
    if other is not None:
        after_commit("forwarding.notify", other, forwarding_id=forwarding.id, event=kind, message_id=message.id)
    return message


def notify(forwarding_id: int, event: str, message_id: int = 0) -> int:
    """In the receiving side's own scope (a tenant task): tell its staff, once per person however often the
    task runs. Returns how many were told."""
    from app.service_requests.models import Notification
    from app.security.models import Membership
    from app.service_requests.notify import request_link

    forwarding = db.session.get(Forwarding, forwarding_id)
    if forwarding is None:
        return 0
    if side(forwarding) == "owner":  # the partner wrote: tell whoever holds the matter now
        from app.service_requests.notify import next_actors

        request = db.session.get(ServiceRequest, forwarding.request_id)
        people = next_actors(request) if request is not None else []
        link = request_link(forwarding.request_id)
    else:
        memberships = db.session.scalars(select(Membership)).unique().all()
        people = list({m.user.id: m.user for m in memberships if m.user.active and (
            m.role.whole_tenant or (m.division.code == RECEIVING_DIVISION and m.role.code in RECEIVING_ROLES))
        }.values())
        link = f"/forwardings/{forwarding.id}"
    message = db.session.get(ForwardingMessage, message_id) if message_id else None
    detail = message.body if message is not None else forwarding.request_note
    key = f"forwarding:{forwarding.id}:{message_id}:"
    told = set(db.session.scalars(select(Notification.dedupe_key).where(Notification.dedupe_key.startswith(key))))
    people = [user for user in people if f"{key}{user.id}" not in told]
    kinds = {SENT: "forward_received", MESSAGE: "forward_message", ANSWER: "forward_answered",
             WITHDRAW: "forward_withdrawn"}
    for user in people:
        with force_locale(user.locale or "th"):
            texts = {
                SENT: _("A matter was forwarded to us: %(subject)s", subject=forwarding.subject),
                MESSAGE: _("New message on a forwarded matter: %(subject)s", subject=forwarding.subject),
                ANSWER: _("A forwarded matter was answered: %(subject)s", subject=forwarding.subject),
                WITHDRAW: _("A forwarded matter was withdrawn: %(subject)s", subject=forwarding.subject),
            }
            subject = texts.get(event, texts[MESSAGE])
        outbox.write(tenant_id=require_tenant_id(), user_id=user.id, link=link,
                     request_id=forwarding.request_id if side(forwarding) == "owner" else None,
                     kind=kinds.get(event, "forward_message"), recipient=user.email or user.username,
                     subject=subject[:300], body=detail or subject, dedupe_key=f"{key}{user.id}")
    db.session.commit()
    return len(people)

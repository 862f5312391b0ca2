"""Incoming letters (หนังสือรับ): registering a received letter with its scan (the number is taken at once),
presenting it to the executives (เสนอ), their endorsement (เกษียน: a comment and an order, by the executive or a
delegate while a delegation of the executive's role runs), routing to กอง, each กอง's acknowledgement (ลงรับ)
and the record of what was done (การปฏิบัติ). The Endorsement and Routing rows are the letter's history.

Every function checks the person (may use the register, is named, is in the กอง, holds the authority); FAB
checks the permission. The caller commits; nothing is written when a check fails (the caller rolls back)."""
from __future__ import annotations

import re
from datetime import datetime, time

from flask_babel import gettext as _
from sqlalchemy import select

from app import thai
from app.extensions import db
from app.saraban import access, people, registry, search
from app.saraban.models import (DONE, INCOMING, KINDS, NORMAL, PRESENTED, REGISTERED, ROUTED, SECRECY_LEVELS,
                                URGENCIES, Document, Endorsement, Register, Routing)
from app.security.services import person_name
from app.tenancy.errors import UserError
from app.tenancy.models import Division, Tenant, utcnow

MAX_YEARS = 99
DELEGATION_TH = {"on_behalf": "ปฏิบัติราชการแทน", "acting": "รักษาราชการแทน"}
DEFAULT_DEADLINE_TIME = time(16, 30)  # a ด่วนภายใน date without an hour: the end of the working day
_TIME = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*(?:น\.?)?\s*$")


class IncomingError(UserError):
    """Mistakes by field, all at once (field -> Thai message)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(str(m) for m in errors.values()), 422)
        self.errors = errors


# --- who ----------------------------------------------------------------------------------------------------

def _reach(user):
    from app.service_requests.scope import reach

    return reach(user)


def usable_registers(user) -> list[Register]:
    """The incoming registers this person may write in: their กอง's, or all for whole-organisation roles."""
    where = _reach(user)
    return [r for r in registry.registers(INCOMING) if where == access.WHOLE or r.division_id in where]


def may_handle(document: Document, user) -> bool:
    """The registry side of a letter (present, route, finish): its register's or owner's กอง, or the whole
    organisation; and the person must see the letter (a secret one: named)."""
    if access.get(document.id, user) is None:
        return False
    where = _reach(user)
    register = document.register or db.session.get(Register, document.register_id)
    return where == access.WHOLE or register.division_id in where or document.origin_division_id in where


def _member_of(user, division_id: int) -> bool:
    return any(m.division_id == division_id for m in (getattr(user, "memberships", None) or []))


def may_acknowledge(routing: Routing, user) -> bool:
    if routing.acknowledged_at is not None:
        return False
    document = routing.document
    if document.secret:
        return routing.recipient_id is not None and routing.recipient_id in access.named_ids(user)
    return _member_of(user, routing.division_id) or routing.recipient_id == getattr(user, "id", None)


def may_finish(document: Document, user) -> bool:
    if document.status == DONE:
        return False
    if may_handle(document, user):
        return True
    # the กอง it was routed to records what it did
    return access.get(document.id, user) is not None and any(
        _member_of(user, r.division_id) or r.recipient_id == user.id for r in routings(document))


def may_endorse(endorsement: Endorsement, user) -> tuple[bool, object]:
    """(True, None) for the executive asked; (True, delegation) for their delegate while a delegation of one
    of the executive's roles runs; (False, None) otherwise or once endorsed."""
    if endorsement.endorsed_at is not None or user is None or not getattr(user, "id", None):
        return False, None
    if endorsement.requested_of_id == user.id:
        return True, None
    from app.service_requests.engine import _running_delegations

    for delegation in _running_delegations(user):
        if delegation.delegator_id == endorsement.requested_of_id and \
                delegation.role_code in people.role_codes(delegation.delegator):
            return True, delegation
    return False, None


def _actor_name(actor) -> str:
    return person_name(actor) if actor is not None else ""


def _tenant(document: Document) -> Tenant:
    return db.session.get(Tenant, document.tenant_id)


# --- reading a form -----------------------------------------------------------------------------------------

def _text(values, name: str, limit: int) -> str:
    return str(values.get(name) or "").strip()[:limit]


def parse_deadline(day_text, time_text) -> datetime | None:
    """ด่วนภายใน typed as a Thai date and an hour (14:30 or 14.30 น.); Bangkok time. ValueError with a Thai
    message for a bad one."""
    day_text, time_text = str(day_text or "").strip(), str(time_text or "").strip()
    if not day_text and not time_text:
        return None
    if not day_text:
        raise ValueError(_("Give the date of the deadline too."))
    try:
        day = thai.parse_date(day_text)
    except thai.ThaiDateError as exc:
        raise ValueError(str(exc)) from None
    at = DEFAULT_DEADLINE_TIME
    if time_text:
        match = _TIME.match(time_text)
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise ValueError(_("Write the time as hours and minutes, e.g. 14:30."))
        at = time(int(match.group(1)), int(match.group(2)))
    return datetime.combine(day, at)


def now_bangkok() -> datetime:
    return datetime.now(thai.BANGKOK).replace(tzinfo=None)


def deadline_text(value: datetime | None) -> str:
    """24 พ.ย. 2569 14:30 น. (stored in Bangkok time already)."""
    if value is None:
        return ""
    return f"{thai.format_date(value.date())} {value:%H:%M} {_('hrs.')}"


def _retention(values, errors) -> int | None:
    if values.get("keep_forever") in (True, "y", "on", "1", "true"):
        return None
    text = str(values.get("retention_years") or "").strip().translate(str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789"))
    if not text.isdigit() or not 1 <= int(text) <= MAX_YEARS:
        errors["retention_years"] = _("Give 1 to %(max)s years, or tick keep for ever.", max=MAX_YEARS)
        return None
    return int(text)


def _ids(values, name: str) -> list:
    raw = values.get(name) or []
    return [raw] if isinstance(raw, (str, int)) else list(raw)


# --- register -----------------------------------------------------------------------------------------------

def register_incoming(values: dict, checked_files, actor) -> Document:
    """Check everything, then write the letter, its scans, its number and (a secret one) its named readers.
    `values`: register_id, kind, urgency, urgent_by_date, urgent_by_time, secrecy, subject, sender,
    addressee, their_ref, their_date (Thai date text), reference, enclosures, remark, retention_years,
    keep_forever, reader_ids. Raises IncomingError with every mistake by field."""
    errors, data = _check(values, bool(checked_files), actor)
    if errors:
        raise IncomingError(errors)
    register, readers = data.pop("register"), data.pop("readers")
    name = _actor_name(actor)
    document = Document(direction=INCOMING, register_id=register.id, origin_division_id=register.division_id,
                        status=REGISTERED, created_by_id=actor.id, created_by_name=name, **data)
    db.session.add(document)
    db.session.flush()
    registry.take_number(document)
    from app.saraban import files

    files.store_uploads(document, checked_files, "scan", actor.id)
    if document.secret:
        access.grant(document, actor.id, "registrar", name)
    executive_ids = {u.id for u in people.executives()}
    for reader in readers:
        access.grant(document, reader.id, "executive" if reader.id in executive_ids else "recipient", name)
    search.index(document)
    return document


def mistakes(values: dict, has_files: bool, actor) -> dict[str, str]:
    """The registration's mistakes by field, without writing anything (a form whose files were refused
    still shows its other mistakes at once)."""
    return _check(values, has_files, actor)[0]


def _check(values: dict, has_files: bool, actor) -> tuple[dict[str, str], dict]:
    errors: dict[str, str] = {}
    registers = {str(r.id): r for r in usable_registers(actor)}
    register = registers.get(str(values.get("register_id") or ""))
    if register is None:
        errors["register_id"] = _("Choose a register of your division.")
    kind = values.get("kind") or ""
    if kind not in KINDS:
        errors["kind"] = _("Choose the kind of letter.")
    urgency = values.get("urgency") or NORMAL
    if urgency not in URGENCIES:
        errors["urgency"] = _("Choose the urgency from the list.")
    secrecy = values.get("secrecy") or NORMAL
    if secrecy not in SECRECY_LEVELS:
        errors["secrecy"] = _("Choose the secrecy level from the list.")
    subject = _text(values, "subject", 500)
    if not subject:
        errors["subject"] = _("Write the subject (เรื่อง) of the letter.")
    sender = _text(values, "sender", 300)
    if not sender:
        errors["sender"] = _("Write who sent the letter (จาก).")
    urgent_by = None
    try:
        urgent_by = parse_deadline(values.get("urgent_by_date"), values.get("urgent_by_time"))
    except ValueError as exc:
        errors["urgent_by"] = str(exc)
    if urgent_by is not None and urgent_by <= now_bangkok():
        errors["urgent_by"] = _("The deadline must be later than now.")
    their_date = None
    if str(values.get("their_date") or "").strip():
        try:
            their_date = thai.parse_date(values["their_date"])
        except thai.ThaiDateError as exc:
            errors["their_date"] = str(exc)
        else:
            if their_date > thai.today_bangkok():
                errors["their_date"] = _("The letter's date cannot be later than today.")
    retention_years = _retention(values, errors)
    if not has_files:
        errors["files"] = _("Attach the scan of the letter (PDF, JPEG or PNG).")
    wanted = _ids(values, "reader_ids")
    readers = people.by_ids(wanted)
    if len(readers) != len({str(w) for w in wanted if str(w).strip()}):
        errors["reader_ids"] = _("Choose readers from this organisation's staff.")
    elif secrecy in SECRECY_LEVELS and secrecy != NORMAL and not readers:
        errors["reader_ids"] = _("A secret letter needs at least one named reader (an executive or a recipient).")
    data = dict(
        register=register, readers=readers, kind=kind, urgency=urgency, urgent_by=urgent_by, secrecy=secrecy,
        subject=subject, sender=sender, addressee=_text(values, "addressee", 300),
        their_ref=_text(values, "their_ref", 80) or None, their_date=their_date,
        reference=_text(values, "reference", 4000) or None, enclosures=_text(values, "enclosures", 4000) or None,
        remark=_text(values, "remark", 500) or None, retention_years=retention_years)
    return errors, data


# --- present and endorse ------------------------------------------------------------------------------------

def endorsements(document: Document) -> list[Endorsement]:
    return list(db.session.scalars(select(Endorsement).where(Endorsement.document_id == document.id)
                                   .order_by(Endorsement.requested_at, Endorsement.id)))


def routings(document: Document) -> list[Routing]:
    return list(db.session.scalars(select(Routing).where(Routing.document_id == document.id)
                                   .order_by(Routing.sent_at, Routing.id)))


def _open(document: Document) -> None:
    if document.direction != INCOMING:
        raise UserError(_("This is not an incoming letter."), 404)
    if document.status == DONE:
        raise UserError(_("The letter is finished; nothing more can be done with it."), 409)


def _settle_status(document: Document) -> None:
    """PRESENTED while an endorsement waits; ROUTED once sent to a กอง; else REGISTERED (DONE stays)."""
    if document.status == DONE:
        return
    db.session.flush()
    pending = db.session.scalar(select(Endorsement.id).where(Endorsement.document_id == document.id,
                                                             Endorsement.endorsed_at.is_(None)).limit(1))
    routed = db.session.scalar(select(Routing.id).where(Routing.document_id == document.id).limit(1))
    document.status = PRESENTED if pending else ROUTED if routed else REGISTERED


def present(document: Document, executive_ids, note: str, actor) -> list[Endorsement]:
    """Present the letter to executives (นายก, ปลัด) for their endorsement; one waiting request each."""
    _open(document)
    if not may_handle(document, actor):
        raise UserError(_("Only the registry of this letter's division may present it."), 403)
    offered = {u.id: u for u in people.executives()}
    chosen = []
    for value in executive_ids or ():
        try:
            chosen.append(int(value))
        except (TypeError, ValueError):
            raise IncomingError({"executive_ids": _("Choose executives from the list.")}) from None
    if not chosen:
        raise IncomingError({"executive_ids": _("Choose at least one executive to present the letter to.")})
    if any(c not in offered for c in chosen):
        raise IncomingError({"executive_ids": _("Choose executives from the list.")})
    waiting = set(db.session.scalars(select(Endorsement.requested_of_id).where(
        Endorsement.document_id == document.id, Endorsement.endorsed_at.is_(None))))
    name, made = _actor_name(actor), []
    for user_id in dict.fromkeys(chosen):
        if user_id in waiting:
            raise IncomingError({"executive_ids": _("The letter already waits for %(name)s.",
                                                    name=person_name(offered[user_id]))})
        row = Endorsement(tenant_id=document.tenant_id, document_id=document.id, requested_of_id=user_id,
                          requested_by_name=name, presentation=(note or "").strip()[:4000] or None)
        db.session.add(row)
        made.append(row)
        if document.secret:
            access.grant(document, user_id, "executive", name)
    _settle_status(document)
    return made


def endorse(endorsement: Endorsement, actor, comment: str, order_text: str, division_ids=(), instruction: str = "",
            recipient_ids=()) -> Endorsement:
    """The executive's เกษียน (or their delegate's, recorded as such); may route the letter at once, the order
    going with it as the instruction."""
    document = endorsement.document
    _open(document)
    ok, delegation = may_endorse(endorsement, actor)
    if not ok or access.get(document.id, actor) is None:
        if endorsement.endorsed_at is not None:
            raise UserError(_("This endorsement was already given."), 409)
        raise UserError(_("Only the executive asked, or their delegate, may endorse."), 403)
    comment, order_text = (comment or "").strip()[:4000], (order_text or "").strip()[:4000]
    if not comment and not order_text:
        raise IncomingError({"order_text": _("Write a comment or an order (e.g. ทราบ, or which division acts).")})
    tenant = _tenant(document)
    title = people.title_th(actor, tenant)
    if delegation is not None:
        delegator = delegation.delegator
        endorsement.on_behalf_of_name = person_name(delegator)
        endorsement.delegation_kind = delegation.kind
        title = " ".join(t for t in (title, DELEGATION_TH.get(delegation.kind, DELEGATION_TH["on_behalf"]),
                                     people.title_th(delegator, tenant)) if t)
    endorsement.endorsed_at = utcnow()
    endorsement.endorsed_by_id = actor.id
    endorsement.endorsed_by_name = _actor_name(actor)
    endorsement.endorsed_title = title[:300]
    endorsement.comment, endorsement.order_text = comment or None, order_text or None
    if document.secret:
        access.grant(document, actor.id, "executive", _actor_name(actor))
    if [d for d in division_ids or () if str(d).strip()]:
        _route(document, division_ids, (instruction or "").strip() or order_text, actor, recipient_ids)
    _settle_status(document)
    search.index(document)
    return endorsement


# --- route, acknowledge, finish -----------------------------------------------------------------------------

def route(document: Document, division_ids, instruction: str, actor, recipient_ids=()) -> list[Routing]:
    """Send the letter to one or more กอง to act on; a secret one to a named person of each กอง."""
    _open(document)
    if not may_handle(document, actor):
        raise UserError(_("Only the registry of this letter's division or an executive may route it."), 403)
    made = _route(document, division_ids, instruction, actor, recipient_ids)
    _settle_status(document)
    search.index(document)
    return made


def _route(document, division_ids, instruction, actor, recipient_ids) -> list[Routing]:
    wanted = []
    for value in division_ids or ():
        if str(value).strip():
            try:
                wanted.append(int(value))
            except (TypeError, ValueError):
                raise IncomingError({"division_ids": _("Choose divisions from the list.")}) from None
    if not wanted:
        raise IncomingError({"division_ids": _("Choose at least one division.")})
    divisions = {d.id: d for d in db.session.scalars(select(Division).where(Division.id.in_(wanted),
                                                                            Division.active.is_(True)))}
    if len(divisions) != len(set(wanted)):
        raise IncomingError({"division_ids": _("Choose divisions from the list.")})
    already = {r.division_id for r in routings(document)}
    twice = [str(divisions[d]) for d in dict.fromkeys(wanted) if d in already]
    if twice:
        raise IncomingError({"division_ids": _("The letter was already sent to %(names)s.", names=", ".join(twice))})
    asked = [r for r in recipient_ids or () if str(r).strip()]
    recipients = people.by_ids(asked)
    if len(recipients) != len({str(r) for r in asked}):
        raise IncomingError({"recipient_ids": _("Choose recipients from this organisation's staff.")})
    by_division: dict[int, object] = {}
    for person in recipients:
        theirs = [d for d in divisions if _member_of(person, d)]
        if not theirs:
            raise IncomingError({"recipient_ids": _("%(name)s is not in any of the chosen divisions.",
                                                    name=person_name(person))})
        for division_id in theirs:
            if division_id in by_division:
                raise IncomingError({"recipient_ids": _("Choose one recipient for each division.")})
            by_division[division_id] = person
    if document.secret:
        missing = [str(divisions[d]) for d in dict.fromkeys(wanted) if d not in by_division]
        if missing:
            raise IncomingError({"recipient_ids": _(
                "A secret letter goes to a named person of each division: choose one for %(names)s.",
                names=", ".join(missing))})
    name, made = _actor_name(actor), []
    for division_id in dict.fromkeys(wanted):
        person = by_division.get(division_id)
        row = Routing(tenant_id=document.tenant_id, document_id=document.id, division_id=division_id,
                      recipient_id=person.id if person is not None else None,
                      instruction=(instruction or "").strip()[:4000] or None, sent_by_name=name)
        db.session.add(row)
        made.append(row)
        if person is not None and document.secret:
            access.grant(document, person.id, "recipient", name)
    db.session.flush()
    return made


def acknowledge(routing: Routing, actor, note: str = "") -> Routing:
    """The กอง's ลงรับ: a member of it (a secret letter: its named recipient), once."""
    document = routing.document
    if document.direction != INCOMING or access.get(document.id, actor) is None:
        raise UserError(_("The letter was not found."), 404)
    if routing.acknowledged_at is not None:
        raise UserError(_("%(division)s already acknowledged the letter.", division=routing.division), 409)
    if not may_acknowledge(routing, actor):
        raise UserError(_("Only a member of %(division)s (for a secret letter, its named recipient) may "
                          "acknowledge it.", division=routing.division), 403)
    routing.acknowledged_at = utcnow()
    routing.acknowledged_by_id = actor.id
    routing.acknowledged_by_name = _actor_name(actor)
    routing.ack_note = (note or "").strip()[:4000] or None
    return routing


def finish(document: Document, action_taken: str, actor) -> Document:
    """Record what was done (การปฏิบัติ) and close the letter."""
    _open(document)
    if not may_finish(document, actor):
        raise UserError(_("Only the registry or a division the letter was sent to may record what was done."), 403)
    text = (action_taken or "").strip()[:4000]
    if not text:
        raise IncomingError({"action_taken": _("Write what was done (การปฏิบัติ).")})
    document.action_taken = text
    document.status = DONE
    document.finished_at, document.finished_by_id = utcnow(), actor.id
    document.finished_by_name = _actor_name(actor)
    search.index(document)
    return document

"""Outgoing letters (หนังสือส่ง), from draft to sending: the author drafts in their กอง, submits it to a chain of
reviewers (ผอ.กอง, ปลัด) ending with the signer; a reviewer approves or returns it to the author with a note
(which ends the round: resubmitting starts the next one); the signer signs with their own authority or by a
running delegation (ปฏิบัติราชการแทน / รักษาราชการแทน), after which the text is fixed by its hash; the registry
sends it, and only then does it take its number (registry.take_number). An internal memo is routed to its
recipient กอง when it is sent. No Flask request objects here; the caller commits."""
from __future__ import annotations

import hashlib
from typing import Any, Mapping

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import aliased

from app import thai
from app.extensions import db
from app.saraban import access, people, registry, search
from app.saraban.models import (APPROVED, CANCELLED, DIRECTIVE, DRAFT, EXTERNAL, IN_REVIEW, INCOMING,
                                INTERNAL, KINDS, NORMAL, OUTGOING, PENDING, PUBLIC_RELATIONS, RETURNED,
                                SECRECY_LEVELS, SENT, SIGN, SIGNED, STAMPED, SUPERSEDED, URGENCIES, REVIEW,
                                Document,
                                DocumentAccess, ReviewStep, Routing)
from app.security.services import person_name
from app.tenancy.errors import UserError
from app.tenancy.models import Division, Tenant, utcnow

MAYOR, PALAD, DIRECTOR = "mayor", "permanent_secretary", "division_director"
# letters that speak for the organisation are signed by the นายก (or a delegate of the role); memos and
# records also by the ปลัด or the director of the กอง that owns them
EXECUTIVE_KINDS = (EXTERNAL, STAMPED, DIRECTIVE, PUBLIC_RELATIONS)
SIGNING_ROLES = (MAYOR, PALAD, DIRECTOR)
DELEGATION_WORDS = {"on_behalf": "ปฏิบัติราชการแทน", "acting": "รักษาราชการแทน"}
READER = "recipient"  # DocumentAccess.reason of the readers named on a secret letter
EDITABLE = (DRAFT, RETURNED)
LIMITS = {"subject": 500, "addressee": 300, "closing": 200}
TEXT_FIELDS = ("subject", "addressee", "reference", "enclosures", "body", "closing")


class LetterError(UserError):
    """Mistakes by field, all at once ({field: Thai message})."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(str(m) for m in errors.values()), 422)
        self.errors = errors


# --- who ---------------------------------------------------------------------------------------------------

def _memberships(user) -> list:
    return list(getattr(user, "memberships", None) or [])


def _holds(user, role: str, division_id: int | None) -> bool:
    """The user holds the role (a director: of this กอง)."""
    return any(m.role.code == role and (role != DIRECTOR or m.division_id == division_id)
               for m in _memberships(user))


def whole_tenant(user) -> bool:
    return any(m.role.whole_tenant for m in _memberships(user))


def may_draft(user, division_id: int | None) -> bool:
    """Staff of the กอง that owns the letter (เจ้าของเรื่อง)."""
    return division_id is not None and any(m.division_id == division_id for m in _memberships(user))


def draft_divisions(user) -> list[Division]:
    """The กอง the user may draft for: their own."""
    ids = {m.division_id for m in _memberships(user)}
    if not ids:
        return []
    return list(db.session.scalars(select(Division).where(Division.id.in_(ids)).order_by(Division.code)))


def may_send(user, document: Document) -> bool:
    """Members of the กอง keeping the register (the central one: สำนักปลัด), or whole-organisation roles."""
    register = document.register
    return whole_tenant(user) or (register is not None and any(
        m.division_id == register.division_id for m in _memberships(user)))


def _may_handle(user, document: Document) -> bool:
    return document.created_by_id == user.id or may_draft(user, document.origin_division_id) or whole_tenant(user)


def signing_roles(kind: str) -> tuple[str, ...]:
    return (MAYOR,) if kind in EXECUTIVE_KINDS else SIGNING_ROLES


def who_may_sign(document: Document) -> str:
    if document.kind in EXECUTIVE_KINDS:
        return _("Only the chief executive (นายก) signs this kind of letter, or someone the chief executive's role "
                 "is delegated to (ปฏิบัติราชการแทน or รักษาราชการแทน).")
    return _("An internal memo or record is signed by the director of the division that owns it, the permanent "
             "secretary (ปลัด) or the chief executive (นายก), or by someone one of their roles is delegated to.")


def signing_authority(user, document: Document):
    """(True, None) when the user may sign this kind by their own role; (True, delegation) by a running
    delegation of a role that may; (False, None) otherwise."""
    from app.service_requests.engine import _running_delegations

    roles = signing_roles(document.kind)
    if any(_holds(user, role, document.origin_division_id) for role in roles):
        return True, None
    for delegation in _running_delegations(user):
        if delegation.role_code in roles and _holds(delegation.delegator, delegation.role_code,
                                                    document.origin_division_id):
            return True, delegation
    return False, None


def signers(document: Document, candidates) -> list[tuple]:
    """The candidates who may sign this letter, as (user, delegation or None): the signer picker offers only
    them (submit checks again)."""
    out = []
    for user in candidates:
        ok, delegation = signing_authority(user, document)
        if ok:
            out.append((user, delegation))
    return out


def sender_division(document: Document) -> Division | None:
    """The กอง whose register the letter goes in: its staff send it and take its number."""
    register = document.register
    return register.division if register is not None else None


def _step_authority(user, step: ReviewStep, document: Document):
    """The signer named on the step signs (by their own authority or a delegation they hold); anyone else
    only by a running delegation of the named signer's role."""
    from app.service_requests.engine import _running_delegations

    if step.user_id == user.id:
        return signing_authority(user, document)
    roles = signing_roles(document.kind)
    for delegation in _running_delegations(user):
        if delegation.delegator_id == step.user_id and delegation.role_code in roles and _holds(
                delegation.delegator, delegation.role_code, document.origin_division_id):
            return True, delegation
    return False, None


# --- the values of a draft -----------------------------------------------------------------------------------

def _ids(value) -> list:
    if value in (None, ""):
        return []
    if isinstance(value, (str, int)):
        return [value]
    return [v for v in value if v not in (None, "")]


def _staff(ids, field: str, errors: dict[str, str]) -> list:
    """The chosen people, all of them staff of this organisation, in the order chosen."""
    wanted = []
    for value in _ids(ids):
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = None
        if number is None or not -2**31 <= number < 2**31:
            errors[field] = _("Choose people of this organisation only.")
            return []
        if number not in wanted:
            wanted.append(number)
    found = {u.id: u for u in people.by_ids(wanted) if _memberships(u)}
    if len(found) != len(wanted):
        errors[field] = _("Choose people of this organisation only.")
        return []
    return [found[i] for i in wanted]


def _divisions(ids, errors: dict[str, str]) -> list[Division]:
    wanted = []
    for value in _ids(ids):
        try:
            wanted.append(int(value))
        except (TypeError, ValueError):
            errors["recipient_division_ids"] = _("Choose divisions of this organisation.")
            return []
    wanted = list(dict.fromkeys(wanted))
    if not wanted or any(not -2**31 <= i < 2**31 for i in wanted):
        return []
    found = {d.id: d for d in db.session.scalars(select(Division).where(Division.id.in_(wanted),
                                                                        Division.active.is_(True)))}
    if len(found) != len(wanted):
        errors["recipient_division_ids"] = _("Choose divisions of this organisation.")
        return []
    return [found[i] for i in wanted]


def _clean(values: Mapping[str, Any], actor) -> dict:
    """The draft's values checked all at once; LetterError with a message under each wrong field."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        text = str(values.get(name) or "").replace("\r\n", "\n").strip()
        if name in LIMITS and len(text) > LIMITS[name]:
            errors[name] = _("At most %(count)d characters.", count=LIMITS[name])
        out[name] = text or None
    for name, message in (("subject", _("Give the subject (เรื่อง).")),
                          ("addressee", _("Give the addressee (เรียน).")), ("body", _("Write the letter's text."))):
        if not out[name] and name not in errors:
            errors[name] = message
    for name, allowed in (("kind", KINDS), ("urgency", URGENCIES), ("secrecy", SECRECY_LEVELS)):
        value = str(values.get(name) or (EXTERNAL if name == "kind" else NORMAL))
        if value not in allowed:
            errors[name] = _("Choose one of the listed values.")
        out[name] = value
    division = None
    try:
        division_id = int(values.get("origin_division_id"))
    except (TypeError, ValueError):
        division_id = None
    if division_id is not None and -2**31 <= division_id < 2**31:
        division = db.session.get(Division, division_id)
    if division is None:
        errors["origin_division_id"] = _("Choose the division that owns the letter.")
    elif not may_draft(actor, division.id):
        errors["origin_division_id"] = _("You may draft letters only for a division you belong to.")
    out["division"] = division
    out["readers"] = _staff(values.get("reader_ids"), "reader_ids", errors)
    secret = out["secrecy"] != NORMAL
    if secret and not out["readers"] and "reader_ids" not in errors:
        errors["reader_ids"] = _("A secret letter names the people who may read it.")
    recipients = []
    if out["kind"] == INTERNAL:
        recipients = _divisions(values.get("recipient_division_ids"), errors)
        if not recipients and "recipient_division_ids" not in errors:
            errors["recipient_division_ids"] = _("Choose the divisions the memo goes to.")
        elif secret:
            # a secret memo goes to a named person of each กอง, never to the กอง at large
            for recipient in recipients:
                if not any(any(m.division_id == recipient.id for m in _memberships(u)) for u in out["readers"]):
                    errors["recipient_division_ids"] = _(
                        "A secret memo goes to a named reader in each division: name a reader of %(division)s.",
                        division=recipient.name_th)
                    break
    out["recipients"] = recipients
    if errors:
        raise LetterError(errors)
    return out


def reply_defaults(reply_to: Document) -> dict:
    """What an answer to an incoming letter starts with: its sender as the addressee, its subject, and the
    reference to it (อ้างถึง)."""
    return {"addressee": reply_to.sender or "", "subject": reply_to.subject or "",
            "reference": reference_to(reply_to)}


def reference_to(letter: Document) -> str:
    """หนังสือจังหวัดเชียงใหม่ ที่ ชม 0017.3/123 ลงวันที่ 1 ธันวาคม 2569."""
    with force_locale("th"):
        parts = ["หนังสือ" + (letter.sender or "")]
        if letter.their_ref:
            parts.append(f"ที่ {letter.their_ref}")
        if letter.their_date:
            parts.append(f"ลงวันที่ {thai.format_date(letter.their_date, 'long')}")
        return " ".join(p for p in parts if p.strip())


def _apply(document: Document, clean: dict, tenant: Tenant) -> None:
    for name in TEXT_FIELDS:
        setattr(document, name, clean[name])
    document.kind, document.urgency, document.secrecy = clean["kind"], clean["urgency"], clean["secrecy"]
    division = clean["division"]
    document.origin_division_id = division.id
    document.sender = division.name_th if document.kind == INTERNAL else tenant.name_th
    document.recipient_division_ids = [d.id for d in clean["recipients"]] or None
    register = registry.register_for(OUTGOING, division.id)
    if register is None:
        raise UserError(_("The organisation has no register of outgoing letters yet: ask its administrator to "
                          "set one up."), 422)
    document.register_id, document.register = register.id, register


def _name_readers(document: Document, readers, actor) -> None:
    """The named readers of a secret letter (those no longer chosen lose the name given as reader)."""
    keep = {u.id for u in readers} if document.secret else set()
    db.session.execute(delete(DocumentAccess).where(
        DocumentAccess.document_id == document.id, DocumentAccess.reason == READER,
        DocumentAccess.user_id.not_in(keep or {0})))
    for user in readers if document.secret else ():
        access.grant(document, user.id, READER, person_name(actor))


def readers(document: Document) -> list[int]:
    return list(db.session.scalars(select(DocumentAccess.user_id).where(
        DocumentAccess.document_id == document.id, DocumentAccess.reason == READER).order_by(DocumentAccess.id)))


def create_draft(values: Mapping[str, Any], actor, request_id: int | None = None,
                 reply_to: Document | None = None) -> Document:
    """A new draft of the actor's กอง (no number). `reply_to` (an incoming letter) gives its matter and the
    starting values of the fields not given."""
    from app.service_requests import scope

    values = dict(values)
    if reply_to is not None:
        if reply_to.direction != INCOMING:
            raise UserError(_("Only a received letter can be answered."), 422)
        for name, value in reply_defaults(reply_to).items():
            if values.get(name) is None:
                values[name] = value
        if request_id is None:
            request_id = reply_to.request_id
    if request_id is not None and not scope.may_see(actor, request_id):
        raise UserError(_("The matter was not found."), 404)
    clean = _clean(values, actor)
    tenant = db.session.get(Tenant, actor.tenant_id)
    document = Document(direction=OUTGOING, status=DRAFT, request_id=request_id,
                        reply_to_id=reply_to.id if reply_to is not None else None,
                        created_by_id=actor.id, created_by_name=person_name(actor))
    _apply(document, clean, tenant)
    db.session.add(document)
    db.session.flush()
    access.grant(document, actor.id, "author", person_name(actor))
    _name_readers(document, clean["readers"], actor)
    search.index(document)
    return document


def _refuse_unless_editable(document: Document) -> None:
    if document.status in (SIGNED, SENT):
        raise UserError(_("The letter is signed: its text can no longer be changed."), 409)
    if document.status == IN_REVIEW:
        raise UserError(_("The letter is in review: it can be changed only when it is returned to its author."), 409)
    if document.status not in EDITABLE:
        raise UserError(_("The letter was cancelled."), 409)


def update_draft(document: Document, values: Mapping[str, Any], actor) -> Document:
    _refuse_unless_editable(document)
    if not _may_handle(actor, document):
        raise UserError(_("Only staff of the division that owns the letter may change it."), 403)
    clean = _clean(values, actor)
    _apply(document, clean, db.session.get(Tenant, document.tenant_id))
    _name_readers(document, clean["readers"], actor)
    search.index(document)
    db.session.flush()
    return document


# --- the review chain ----------------------------------------------------------------------------------------

def current_round(document: Document) -> int:
    return db.session.scalar(select(func.max(ReviewStep.round)).where(ReviewStep.document_id == document.id)) or 0


def steps(document: Document) -> list[ReviewStep]:
    """Every round's steps, in order (older rounds are the history)."""
    return list(db.session.scalars(select(ReviewStep).where(ReviewStep.document_id == document.id)
                                   .order_by(ReviewStep.round, ReviewStep.seq)).unique())


def current_step(document: Document) -> ReviewStep | None:
    """The step whose turn it is: the lowest pending one of the current round of a letter in review."""
    if document.status != IN_REVIEW:
        return None
    return db.session.scalars(select(ReviewStep).where(
        ReviewStep.document_id == document.id, ReviewStep.round == current_round(document),
        ReviewStep.status == PENDING).order_by(ReviewStep.seq).limit(1)).unique().first()


def submit(document: Document, reviewer_ids, signer_id, actor) -> list[ReviewStep]:
    """Send the draft to its reviewers in order, then its signer (a new round)."""
    _refuse_unless_editable(document)
    if not _may_handle(actor, document):
        raise UserError(_("Only staff of the division that owns the letter may submit it."), 403)
    errors: dict[str, str] = {}
    reviewers = _staff(reviewer_ids, "reviewer_ids", errors)
    signers = _staff(signer_id, "signer_id", errors)
    signer = signers[0] if len(signers) == 1 else None
    if signer is None and "signer_id" not in errors:
        errors["signer_id"] = _("Choose the person who signs the letter.")
    if signer is not None:
        if not signing_authority(signer, document)[0]:
            errors["signer_id"] = _("%(name)s may not sign this letter.", name=person_name(signer)) + " " + \
                who_may_sign(document)
        elif any(r.id == signer.id for r in reviewers):
            errors["reviewer_ids"] = _("The signer signs at the end of the chain: do not list them as a reviewer.")
    if errors:
        raise LetterError(errors)
    round_no = current_round(document) + 1
    made = []
    by = person_name(actor)
    for seq, user in enumerate(reviewers, start=1):
        made.append(ReviewStep(tenant_id=document.tenant_id, document_id=document.id, round=round_no, seq=seq,
                               kind=REVIEW, user_id=user.id, status=PENDING))
        access.grant(document, user.id, "reviewer", by)
    made.append(ReviewStep(tenant_id=document.tenant_id, document_id=document.id, round=round_no,
                           seq=len(reviewers) + 1, kind=SIGN, user_id=signer.id, status=PENDING))
    access.grant(document, signer.id, "signer", by)
    db.session.add_all(made)
    document.status = IN_REVIEW
    search.index(document)
    db.session.flush()
    return made


def pending_steps(user) -> list[ReviewStep]:
    """The steps whose turn it is and that wait for this user: their own, and sign steps of someone whose
    role they hold by a running delegation."""
    stmt = pending_steps_select(user)
    if stmt is None:
        return []
    return list(db.session.scalars(stmt.order_by(ReviewStep.id)).unique())


def pending_steps_select(user, *columns):
    """The SELECT (of `columns`, by default the steps) behind pending_steps(), unordered; None for no user."""
    from app.service_requests.engine import _running_delegations

    if user is None or not getattr(user, "id", None):
        return None
    delegators = {d.delegator_id for d in _running_delegations(user) if d.role_code in SIGNING_ROLES}
    later = aliased(ReviewStep)
    earlier = aliased(ReviewStep)
    latest_round = select(func.max(later.round)).where(later.document_id == ReviewStep.document_id,
                                                       later.tenant_id == ReviewStep.tenant_id).scalar_subquery()
    first_pending = select(func.min(earlier.seq)).where(
        earlier.document_id == ReviewStep.document_id, earlier.tenant_id == ReviewStep.tenant_id,
        earlier.round == ReviewStep.round, earlier.status == PENDING).scalar_subquery()
    mine = ReviewStep.user_id == user.id
    if delegators:
        mine = or_(mine, and_(ReviewStep.kind == SIGN, ReviewStep.user_id.in_(delegators)))
    return (select(*(columns or (ReviewStep,))).select_from(ReviewStep)
            .join(Document, and_(Document.id == ReviewStep.document_id, Document.tenant_id == ReviewStep.tenant_id))
            .where(Document.status == IN_REVIEW, ReviewStep.status == PENDING, ReviewStep.round == latest_round,
                   ReviewStep.seq == first_pending, mine, access.clause(user)))


def decide(document: Document, actor, approve: bool, note: str | None = None) -> ReviewStep:
    """The reviewer whose turn it is approves (the chain goes on) or returns the letter to its author with
    a note (the round ends). Approving the sign step signs the letter."""
    step = current_step(document)
    if step is None:
        raise UserError(_("The letter is not waiting for a review."), 409)
    note = (note or "").strip() or None
    if step.kind == SIGN:
        ok, _delegation = _step_authority(actor, step, document)
        if not ok:
            raise UserError(_("The letter waits for its signer, not for you."), 403)
        if approve:
            sign(document, actor)
            return step
    elif step.user_id != actor.id:
        raise UserError(_("The letter waits for another reviewer, not for you."), 403)
    if not approve and not note:
        raise LetterError({"note": _("Say what should be changed: the note goes back to the author.")})
    step.status = APPROVED if approve else RETURNED
    step.decided_at, step.decided_by_name, step.note = utcnow(), person_name(actor), note
    if step.user_id != actor.id:
        delegator = db.session.get(type(actor), step.user_id)
        ok, delegation = _step_authority(actor, step, document)
        step.on_behalf_of_name = person_name(delegator) if delegator is not None else None
        step.delegation_kind = delegation.kind if delegation is not None else None
    if not approve:
        document.status = RETURNED
        # the round ends here: the steps after this one will never have their turn
        for later in db.session.scalars(select(ReviewStep).where(
                ReviewStep.document_id == document.id, ReviewStep.round == step.round,
                ReviewStep.status == PENDING, ReviewStep.id != step.id)):
            later.status = SUPERSEDED
    search.index(document)
    db.session.flush()
    return step


def content_hash(document: Document) -> str:
    """sha256 of what the letter says (its kind, grades, parties, text and recipients)."""
    parts = [document.kind, document.urgency, document.secrecy, *(getattr(document, f) or "" for f in TEXT_FIELDS),
             str(document.origin_division_id), ",".join(str(i) for i in document.recipient_division_ids or [])]
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()


def sign(document: Document, actor) -> Document:
    """The signer (or their delegate) signs: name, printed position, ปฏิบัติราชการแทน/รักษาราชการแทน when a
    delegate signs, the time and the hash of the text. The text is fixed from now on."""
    step = current_step(document)
    if step is None or step.kind != SIGN:
        if document.status == SIGNED:
            raise UserError(_("The letter is already signed."), 409)
        raise UserError(_("The letter is not waiting for a signature."), 409)
    ok, delegation = _step_authority(actor, step, document)
    if not ok:
        raise UserError(_("You may not sign this letter.") + " " + who_may_sign(document), 403)
    tenant = db.session.get(Tenant, document.tenant_id)
    now = utcnow()
    document.signer_id, document.signer_name = actor.id, person_name(actor)
    document.signer_title = people.title_th(actor, tenant) or None
    document.signed_as = None
    if delegation is not None:
        document.signed_as = f"{DELEGATION_WORDS.get(delegation.kind, DELEGATION_WORDS['on_behalf'])} " \
                             f"{people.title_th(delegation.delegator, tenant)}".strip()
        step.on_behalf_of_name, step.delegation_kind = person_name(delegation.delegator), delegation.kind
    document.signed_at = now
    document.content_hash = content_hash(document)
    document.status = SIGNED
    step.status, step.decided_at, step.decided_by_name = APPROVED, now, person_name(actor)
    access.grant(document, actor.id, "signer", person_name(actor))
    search.index(document)
    db.session.flush()
    return document


# --- sending and cancelling ----------------------------------------------------------------------------------

def send(document: Document, actor) -> Document:
    """Take the number (only here), route an internal memo to its กอง, keep the PDF as sent."""
    from app.saraban import files, letter_pdf

    if document.status == SENT:
        raise UserError(_("The letter was already sent as %(number)s.", number=document.book_no), 409)
    if document.status != SIGNED:
        raise UserError(_("Only a signed letter can be sent."), 409)
    if not may_send(actor, document):
        raise UserError(_("Letters of this register are sent by staff of %(division)s.",
                          division=document.register.division.name_th), 403)
    if document.content_hash != content_hash(document):
        raise UserError(_("The letter's text differs from what was signed: it cannot be sent."), 409)
    registry.take_number(document)
    document.status = SENT
    if document.kind == INTERNAL:
        chosen = readers(document) if document.secret else []
        members = {}
        if chosen:
            for user in people.by_ids(chosen):
                for m in _memberships(user):
                    members.setdefault(m.division_id, user.id)
        for division_id in document.recipient_division_ids or []:
            db.session.add(Routing(tenant_id=document.tenant_id, document_id=document.id, division_id=division_id,
                                   recipient_id=members.get(division_id) if document.secret else None,
                                   sent_by_name=person_name(actor)))
    search.index(document)
    db.session.flush()
    data = letter_pdf.render(document)
    files.store(document, f"{document.book_no.replace('/', '-').replace(' ', '')}.pdf", data, "application/pdf",
                "sent", actor.id)
    db.session.flush()
    return document


def cancel(document: Document, actor, reason: str) -> Document:
    """A draft or returned letter is cancelled with a reason (a sent one never: it has its number)."""
    if document.status == SENT:
        raise UserError(_("A sent letter cannot be cancelled: it keeps its number in the register."), 409)
    if document.status not in EDITABLE:
        raise UserError(_("Only a draft or a returned letter can be cancelled."), 409)
    if not _may_handle(actor, document):
        raise UserError(_("Only staff of the division that owns the letter may cancel it."), 403)
    reason = (reason or "").strip()
    if not reason:
        raise LetterError({"reason": _("Give the reason for cancelling.")})
    if len(reason) > 400:
        raise LetterError({"reason": _("At most %(count)d characters.", count=400)})
    document.status = CANCELLED
    document.remark = f"ยกเลิก: {reason}"
    search.index(document)
    db.session.flush()
    return document


def actions(document: Document, user) -> set[str]:
    """What this user may do to the letter now (the page shows only these)."""
    out = set()
    if document.status in EDITABLE and _may_handle(user, document):
        out |= {"edit", "submit", "cancel"}
    step = current_step(document)
    if step is not None:
        if step.kind == SIGN and _step_authority(user, step, document)[0]:
            out |= {"sign", "return"}
        elif step.kind == REVIEW and step.user_id == user.id:
            out |= {"approve", "return"}
    if document.status == SIGNED and may_send(user, document):
        out.add("send")
    return out


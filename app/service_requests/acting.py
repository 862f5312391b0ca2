"""Taking a step from the request page's form, and what the person keeps when it fails: their note, their
ticks and their files (stored and offered again, as the citizen portal keeps files across mistakes), so
someone who lost a race to a colleague, or left out a reason, need not type or choose anything twice."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_appbuilder.security.sqla.models import User

from app.catalog.models import ServiceRequest
from app.extensions import db
from app.service_requests import engine, forwarding
from app.tenancy.errors import UserError


@dataclass
class Draft:
    """What the person had filled in, shown again in the step form."""
    action: str = ""
    note: str = ""
    staff_only: bool = False
    missing: list = field(default_factory=list)
    missing_other: str = ""
    kept: list = field(default_factory=list)  # [(attachment id, file name)]
    payment: dict = field(default_factory=dict)  # the payment fields as typed (receipt_no, amount, ...)
    files_lost: bool = False  # files that could not be kept (too many, too large, not PDF/JPEG/PNG)


def _seen_version(form):
    try:
        return int(form.get("version", ""))
    except ValueError:
        return None


def take_from_form(item: ServiceRequest, user: User, form, files):
    """The step the form asks for (the caller commits)."""
    from app.billing.services import from_form as payment_fields

    action = form.get("action", "")
    chosen = [a for a in engine.available(item, user) if a.code == action]
    target = forwarding.target_from_form(form) if chosen and chosen[0].effect == "forward" else None
    return engine.take(item, action, user, note=form.get("note", ""), staff_only=bool(form.get("staff_only")),
                       seen_version=_seen_version(form), forward_to=target, files=files,
                       kept_files=form.getlist("kept_files"), missing=form.getlist("missing"),
                       missing_other=form.get("missing_other", ""), payment=payment_fields(form))


def keep(item: ServiceRequest, user: User, form, files) -> Draft:
    """After a failed attempt (already rolled back): keep what was filled in, and store the files sent with
    it as this user's, on no step yet, so the next attempt attaches them without choosing them again."""
    draft = Draft(action=form.get("action", ""), note=form.get("note", "")[:5000],
                  staff_only=bool(form.get("staff_only")), missing=form.getlist("missing"),
                  missing_other=form.get("missing_other", "")[:2000])
    from app.billing.services import from_form as payment_fields

    draft.payment = {key: value[:100] for key, value in payment_fields(form).items()}
    kept = engine.kept_attachments(user, form.getlist("kept_files"))
    uploads = [f for f in files or () if f and getattr(f, "filename", "")]
    try:
        fresh = engine._checked_files(uploads) if uploads else []
        if len(fresh) + len(kept) > engine.MAX_EVENT_FILES:
            raise UserError("too many", 422)
    except UserError:
        fresh, draft.files_lost = [], True
    from app.catalog import attachments

    for upload in fresh:
        kept.append(attachments.store(item.tenant_id, engine.EVENT_FILE_FIELD, upload, user.id))
    if fresh:
        db.session.commit()
    draft.kept = [(a.id, a.filename) for a in kept]
    return draft

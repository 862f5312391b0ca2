"""Letters and matters (service requests) linked both ways, so one register number follows a matter from the
complaint through the letters to the permit: an incoming letter opens a matter (the staff request form with
?from_document=), a matter produces a letter (/saraban/outgoing/new?request_id=), and each page lists the other.
Every letter shown goes through the access rule: a secret letter the user is not named on is neither listed
nor counted. The matter's own workflow is untouched: the link is a column of the document."""
from __future__ import annotations

from datetime import date
from typing import Optional

from flask import abort, current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.saraban import access
from app.saraban.models import DIRECTION_NAMES, INCOMING, OUTGOING, SECRECY_NAMES, STATUS_NAMES, Document  # noqa: F401
from app.tenancy.errors import UserError

# the field of a service that a letter's subject fills in, by preference (text or long text only)
SUBJECT_FIELDS = ("subject", "title", "topic", "description", "details", "detail")
PAGES = {INCOMING: "SarabanIncomingView.show", OUTGOING: "SarabanOutgoingView.show"}
NEW_LETTER = "SarabanOutgoingView.new"
NEW_MATTER = "ServiceRequestView.new"


def documents_of_request(request_id: int, user) -> list[Document]:
    """The letters about a matter that this user may see, oldest first."""
    if request_id is None:
        return []
    return list(db.session.scalars(access.visible(
        select(Document).where(Document.request_id == request_id), user).order_by(Document.created_at, Document.id)))


def number_label(document: Document) -> str:
    """รับ 15/2569 for a received letter, ชม 52101/123 for a sent one, ร่าง before it has a number."""
    if document.register_no is None:
        return _("Draft (no number yet)")
    if document.direction == INCOMING:
        return _("Received %(number)s", number=document.number_label)
    return document.number_label


def date_of(document: Document) -> Optional[date]:
    """The date a clerk looks for: received on (incoming), dated (a sent letter), else when it was written."""
    from app import thai

    if document.direction == INCOMING and document.registered_at is not None:
        return thai.to_bangkok(document.registered_at).date()
    if document.dated is not None:
        return document.dated
    return thai.to_bangkok(document.created_at).date() if document.created_at else None


def page_endpoint(document: Document) -> Optional[str]:
    """The letter's page, when that screen is installed and the user may open it (else the row is text)."""
    endpoint = PAGES.get(document.direction)
    if endpoint is None or not _may("can_show", endpoint.split(".")[0], endpoint):
        return None
    return endpoint


def _may(permission: str, view: str, endpoint: str) -> bool:
    return endpoint in current_app.view_functions and current_app.appbuilder.sm.has_access(permission, view)


def may_write_letter() -> bool:
    """The button "write a letter about this matter": the outgoing screen is there and the user may draft."""
    return _may("can_add", "SarabanOutgoingView", NEW_LETTER)


def may_open_matter(document: Document, user) -> bool:
    """An incoming letter not yet linked, seen by a user who may file requests at the staff counter."""
    return (document.direction == INCOMING and document.request_id is None
            and _may("can_add", "ServiceRequestView", NEW_MATTER) and access.get(document.id, user) is not None)


def services_for_matter() -> list:
    """The organisation's active services, to choose which kind of matter a letter opens."""
    from app.catalog.models import ServiceType

    return list(db.session.scalars(select(ServiceType).where(ServiceType.active.is_(True))
                                   .order_by(ServiceType.name_th)))


def matter_of(document: Document, user):
    """The matter a letter is linked to, when the user may open it (None otherwise)."""
    from app.catalog.models import ServiceRequest
    from app.service_requests.scope import may_see

    if document.request_id is None or not may_see(user, document.request_id):
        return None
    return db.session.get(ServiceRequest, document.request_id)


def source_document(document_id, user) -> Document:
    """The letter a new matter is opened from (?from_document=): one this user may see, an incoming letter
    not yet linked; 404 for anything else (another organisation's id, a secret letter not for them), so that
    a letter's existence does not show."""
    document = access.get_or_404(document_id, user)
    if document.direction != INCOMING:
        abort(404)
    return document


def prefill(version, document: Document) -> dict:
    """Form data for a matter opened from a letter: its subject in the service's subject or description
    field, if the service has one (a text or long-text field, visible to staff)."""
    fields = {spec["code"]: spec for spec in version.fields if spec.get("kind") in ("text", "long_text")}
    for code in SUBJECT_FIELDS:
        spec = fields.get(code)
        if spec is not None:
            limit = spec.get("max_length")
            return {code: document.subject[:int(limit)] if limit else document.subject}
    return {}


def link(document: Document, request) -> None:
    """Tie a letter to a matter of the same organisation (idempotent). The caller commits, in the same
    transaction as the matter when a letter opens one."""
    if document.tenant_id != request.tenant_id:
        raise UserError(_("The letter and the matter belong to different organisations."), 422)
    if document.request_id == request.id:
        return
    if document.request_id is not None:
        raise UserError(_("This letter is already linked to matter #%(id)s.", id=document.request_id), 409)
    document.request_id = request.id
    if document.direction == INCOMING:
        # the answers already drafted to this letter follow it onto the matter (one drafted later copies the
        # matter from the letter it answers: outgoing.create_draft)
        for answer in db.session.scalars(select(Document).where(
                Document.reply_to_id == document.id, Document.direction == OUTGOING,
                Document.request_id.is_(None))):
            answer.request_id = request.id
    db.session.flush()


def panel(document: Document, user=None) -> dict:
    """What the letter's page shows about its matter (the include saraban/_matter_links.html): the linked
    matter the user may open, or else whether they may open one from it and with which services."""
    from flask import g

    user = user if user is not None else getattr(g, "user", None)
    matter = matter_of(document, user)
    may_open = matter is None and may_open_matter(document, user)
    return {"matter": matter, "linked": document.request_id is not None, "may_open": may_open,
            "services": services_for_matter() if may_open else [], "new_matter": NEW_MATTER}


def install() -> None:
    """The template function the letter pages call: {% set panel = matter_panel(document) %} (at start-up,
    inside the app's context)."""
    current_app.jinja_env.globals["matter_panel"] = panel

"""Who may see a document (list, page, count, search, file, PDF): one rule, applied by every screen and query.

- Unclassified documents follow the กอง, as matters do (app/service_requests/scope.py): executives and the
  organisation's administrator see them all; others see those kept in a register of their กอง, owned by their
  กอง, routed to their กอง, written by them, or on which they are named.
- A secret document (ลับ, ลับมาก, ลับที่สุด) is seen only by the people named on it (DocumentAccess), whatever
  their role, and by someone a named person has delegated their role to while the delegation runs. Every
  opening of it is recorded.
Anything else is "not found", so that a secret document's existence does not show."""
from __future__ import annotations

from typing import Optional

from flask import abort, g, has_request_context, request
from flask_appbuilder.models.filters import BaseFilter
from sqlalchemy import and_, exists, false, or_, select, true

from app.extensions import db
from app.saraban.models import NORMAL, Document, DocumentAccess, DocumentOpening, Register, Routing

WHOLE = "whole"


def _reach(user):
    from app.service_requests.scope import reach

    return reach(user)


def named_ids(user) -> set[int]:
    """The user and everyone whose role the user holds today by a running delegation."""
    if user is None or not getattr(user, "id", None):
        return set()
    from app.service_requests.engine import _running_delegations

    return {user.id} | {d.delegator_id for d in _running_delegations(user)}


def _named(ids: set[int]):
    return exists().where(DocumentAccess.document_id == Document.id, DocumentAccess.tenant_id == Document.tenant_id,
                          DocumentAccess.user_id.in_(ids))


def clause(user):
    """A WHERE clause on Document: the documents this user may see."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "id", None):
        return false()
    ids = named_ids(user)
    where = _reach(user)
    if where == WHOLE:
        unclassified = true()
    else:
        conditions = [Document.created_by_id == user.id]
        if where:
            conditions += [
                Document.origin_division_id.in_(where),
                Document.register_id.in_(select(Register.id).where(Register.division_id.in_(where))),
                exists().where(Routing.document_id == Document.id, Routing.tenant_id == Document.tenant_id,
                               Routing.division_id.in_(where)),
            ]
        unclassified = or_(*conditions)
    return or_(and_(Document.secrecy == NORMAL, unclassified), _named(ids))


def visible(stmt, user=None):
    """Add the rule to a SELECT over Document."""
    return stmt.where(clause(user if user is not None else getattr(g, "user", None)))


def get(document_id, user=None) -> Optional[Document]:
    """The document if this user may see it, else None."""
    try:
        document_id = int(document_id)
    except (TypeError, ValueError):
        return None
    if not -2**31 <= document_id < 2**31:
        return None
    return db.session.scalar(visible(select(Document).where(Document.id == document_id), user))


def get_or_404(document_id, user=None) -> Document:
    found = get(document_id, user)
    if found is None:
        abort(404)
    return found


def is_named(document: Document, user) -> bool:
    return db.session.scalar(select(DocumentAccess.id).where(
        DocumentAccess.document_id == document.id, DocumentAccess.user_id.in_(named_ids(user)))) is not None


def grant(document: Document, user_id: int, reason: str, by_name: str = "") -> None:
    """Name a person on the document (idempotent). The caller commits."""
    if db.session.scalar(select(DocumentAccess.id).where(
            DocumentAccess.document_id == document.id, DocumentAccess.user_id == user_id)) is None:
        db.session.add(DocumentAccess(tenant_id=document.tenant_id, document_id=document.id, user_id=user_id,
                                      reason=reason, granted_by_name=by_name))
        db.session.flush()


def record_opening(document: Document, user, action: str = "open") -> None:
    """Log the opening of a secret document (page, file or PDF). The caller commits."""
    if document.secrecy == NORMAL:
        return
    from app.security.services import person_name

    db.session.add(DocumentOpening(
        tenant_id=document.tenant_id, document_id=document.id, user_id=getattr(user, "id", None),
        user_name=person_name(user) if user is not None else "", action=action,
        remote_addr=(request.remote_addr or "")[:64] if has_request_context() else "",
    ))


class FilterVisible(BaseFilter):
    """FAB base filter: `base_filters = [["id", FilterVisible, None]]` limits a view to the documents the
    signed-in user may see."""

    name = "Documents the user may see"
    arg_name = "visible"

    def apply(self, query, value):
        return query.filter(clause(getattr(g, "user", None)))

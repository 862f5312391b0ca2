"""Which matters a member of staff may open (DESIGN.md, Roles and กอง): an officer sees the matters that are
at, or passed through, their กอง; executives and the organisation's administrator (roles that see the whole
organisation) see them all. A running delegation lends the delegator's reach for its role. Everything that
serves a matter (list, page, steps, files, certificates, API) applies this one rule; no membership, nothing."""
from __future__ import annotations

from typing import Optional

from flask import g
from flask_appbuilder.models.filters import BaseFilter
from sqlalchemy import exists, false, or_, select

from app.catalog.models import ServiceRequest, ServiceType
from app.extensions import db
from app.service_requests.models import ServiceRequestEvent

WHOLE = "whole"


def reach(user) -> str | set[int]:
    """WHOLE, or the ids of the กอง whose matters the user may see (own memberships and delegators').

    The memberships are already loaded, so this costs no statement of its own: on staff pages by
    app/tenancy/web.py _prefetch_staff_rows, on the APIs by the user loader (app/security/manager.py
    get_user_by_id: with the user, inside the user's tenant). Only a process's first API call of a user loads them."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    from app.service_requests.engine import _running_delegations

    divisions: set[int] = set()
    memberships = list(getattr(user, "memberships", None) or [])
    if any(m.role.whole_tenant for m in memberships):
        return WHOLE  # no delegation can widen the whole organisation: not looked up (one statement less)
    for delegation in _running_delegations(user):
        memberships += [m for m in (delegation.delegator.memberships or []) if m.role.code == delegation.role_code]
    for membership in memberships:
        if membership.role.whole_tenant:
            return WHOLE
        divisions.add(membership.division_id)
    return divisions


def clause(user):
    """A WHERE clause on ServiceRequest for the user's reach (None: the whole organisation)."""
    where = reach(user)
    if where == WHOLE:
        return None
    conditions = [ServiceRequest.created_by_id == user.id] if getattr(user, "id", None) else []
    if where:
        conditions += [
            ServiceRequest.division_id.in_(where),
            ServiceRequest.service_type_id.in_(select(ServiceType.id).where(
                ServiceType.responsible_division_id.in_(where))),  # where every matter starts
            exists().where(ServiceRequestEvent.request_id == ServiceRequest.id,
                           ServiceRequestEvent.tenant_id == ServiceRequest.tenant_id,
                           ServiceRequestEvent.division_id.in_(where)),
        ]
    return or_(*conditions) if conditions else false()


def may_see(user, request_id: Optional[int]) -> bool:
    """The request exists in this organisation and is within the user's reach."""
    if request_id is None:
        return False
    stmt = select(ServiceRequest.id).where(ServiceRequest.id == request_id)
    condition = clause(user)
    if condition is not None:
        stmt = stmt.where(condition)
    return db.session.scalar(stmt) is not None


class FilterInReach(BaseFilter):
    """FAB base filter: `base_filters = [["id", FilterInReach, None]]` limits a view or API to the matters
    the signed-in user may see."""

    name = "Matters within the user's reach"
    arg_name = "reach"

    def apply(self, query, value):
        condition = clause(getattr(g, "user", None))
        return query if condition is None else query.filter(condition)

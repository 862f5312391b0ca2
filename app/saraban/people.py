"""The people a clerk chooses on a document (named readers, executives to present to, reviewers, signers) and
the titles printed under their names. Only active users of the current organisation are offered (the tenant
wall filters User too)."""
from __future__ import annotations

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.security.models import Membership, RoleTemplate
from app.security.services import person_name
from app.tenancy.models import Tenant

EXECUTIVE_ROLES = ("mayor", "permanent_secretary")


def staff() -> list[User]:
    """Everyone of the organisation who holds a role in one of its กอง, in Thai name order."""
    from app.thai import thai_compare
    from functools import cmp_to_key

    # memberships (with their กอง, joined) in one more statement, not one per person: the pages list each
    # person's กอง
    users = db.session.scalars(select(User).options(selectinload(User.memberships)).where(
        User.active.is_(True), User.tenant_id.is_not(None),
        User.id.in_(select(Membership.user_id)))).unique().all()
    return sorted(users, key=cmp_to_key(lambda a, b: thai_compare(person_name(a), person_name(b))))


def executives() -> list[User]:
    """Those an incoming letter is presented to: holders of the นายก and ปลัด roles."""
    ids = select(Membership.user_id).join(RoleTemplate, RoleTemplate.id == Membership.role_template_id).where(
        RoleTemplate.code.in_(EXECUTIVE_ROLES))
    return [u for u in staff() if u.id in set(db.session.scalars(ids))]


def by_ids(ids) -> list[User]:
    """The users of this organisation among the given ids (others, and malformed ids, are dropped: the
    caller compares lengths to refuse them)."""
    wanted = set()
    for value in ids or ():
        try:
            wanted.add(int(value))
        except (TypeError, ValueError):
            continue
    if not wanted:
        return []
    return list(db.session.scalars(select(User).where(User.id.in_(wanted), User.active.is_(True),
                                                      User.tenant_id.is_not(None))).unique())


def role_codes(user: User) -> set[str]:
    return {m.role.code for m in (getattr(user, "memberships", None) or [])}


def title_th(user: User, tenant: Tenant) -> str:
    """The position printed under a signature or an endorsement: นายกเทศมนตรีเมืองแม่เหียะ, ปลัด..., or the
    role and กอง (ผู้อำนวยการกองช่าง)."""
    codes = role_codes(user)
    if "mayor" in codes:
        return tenant.executive_signature_th()
    if "permanent_secretary" in codes:
        title, type_name = tenant.type.clerk_title_th, tenant.type.name_th
        return title + tenant.name_th[len(type_name):] if tenant.name_th.startswith(type_name) else title
    for membership in user.memberships or []:
        if membership.role.code == "division_director":
            return "ผู้อำนวยการ" + membership.division.name_th
    first = (user.memberships or [None])[0]
    return f"{first.role.name_th} {first.division.name_th}" if first is not None else ""

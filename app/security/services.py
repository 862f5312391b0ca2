"""Membership grants and revokes: who may grant what, the audit trail, and FAB roles kept in step."""
from __future__ import annotations

from typing import Iterable, Optional

from flask_appbuilder.security.sqla.models import Role, User
from flask_babel import gettext as _
from sqlalchemy import inspect, select

from app.extensions import db
from app.security.models import GrantLog, Membership, RoleTemplate
from app.tenancy.errors import UserError

PLATFORM_LEVEL = 1_000_000


def person_name(user) -> str:
    """How a person is named on records (timeline, receipts): first and last name, else the username."""
    return f"{user.first_name or ''} {user.last_name or ''}".strip() or user.username


def is_platform_operator(user: Optional[User]) -> bool:
    if user is None or getattr(user, "tenant_id", None) is not None:
        return False
    from flask import current_app

    admin = current_app.config.get("AUTH_ROLE_ADMIN")
    return any(role.name == admin for role in (user.roles or []))


def user_level(user: User) -> int:
    """The highest level among the user's memberships (operators outrank every tenant role)."""
    if is_platform_operator(user):
        return PLATFORM_LEVEL
    return max((m.role.level for m in user.memberships), default=0)


def grantable_templates(actor: User) -> list[RoleTemplate]:
    level = user_level(actor)
    rows = db.session.scalars(
        select(RoleTemplate)
        .where(RoleTemplate.grantable.is_(True), RoleTemplate.platform.is_(False))
        .order_by(RoleTemplate.level, RoleTemplate.code)
    )
    return [t for t in rows if t.level <= level]


def grantable_template_ids(actor: User) -> list[int]:
    return [t.id for t in grantable_templates(actor)]


def _check_actor(actor: User, template: RoleTemplate) -> None:
    if template.platform:
        raise UserError(_("Platform roles cannot be granted inside an organisation."), status=403)
    if is_platform_operator(actor):
        return
    if not template.grantable:
        raise UserError(_("The role %(role)s cannot be granted by role managers.", role=template), 403)
    if template.level > user_level(actor):
        raise UserError(_("You cannot grant or revoke a role above your own."), status=403)


def _sync_roles(user: User, without: Optional[Membership] = None) -> None:
    """FAB checks permissions on user.roles: keep it equal to the roles of the user's memberships."""
    roles: dict[int, Role] = {}
    for membership in user.memberships:
        if membership is without or membership.role is None:
            continue
        roles[membership.role.role_id] = membership.role.role
    if is_platform_operator(user):
        return
    user.roles = sorted(roles.values(), key=lambda r: r.id)


def _log(action: str, actor: Optional[User], membership: Membership, user=None, division=None,
         role=None) -> None:
    user = user or membership.user
    division = division or membership.division
    role = role or membership.role
    db.session.add(
        GrantLog(
            tenant_id=user.tenant_id,
            action=action,
            actor_id=actor.id if actor is not None else None,
            actor_username=actor.username if actor is not None else "seed",
            subject_user_id=user.id,
            subject_username=user.username,
            division_code=division.code,
            division_name=division.name_th,
            role_name=role.name_th,
        )
    )


def _previous(membership: Membership, key: str):
    history = inspect(membership).attrs[key].history
    return history.deleted[0] if history.deleted else getattr(membership, key)


def prepare_change(actor: Optional[User], membership: Membership) -> None:
    """An edited membership is the revoke of the old one and the grant of the new one."""
    with db.session.no_autoflush:
        old_user = _previous(membership, "user")
        old_division = _previous(membership, "division")
        old_role = _previous(membership, "role")
        if actor is not None:
            _check_actor(actor, old_role)
        _log("revoke", actor, membership, user=old_user, division=old_division, role=old_role)
        if old_user is not membership.user and membership in old_user.memberships:
            old_user.memberships.remove(membership)
            _sync_roles(old_user)
        _prepare_grant(actor, membership)


def prepare_grant(actor: Optional[User], membership: Membership) -> None:
    """Check a new membership and stage its log row and role sync in the same transaction."""
    with db.session.no_autoflush:
        _prepare_grant(actor, membership)


def _prepare_grant(actor: Optional[User], membership: Membership) -> None:
    if membership.user is None or membership.division is None or membership.role is None:
        raise UserError(_("User, division and role are all required."))
    if membership.user.tenant_id is None or membership.user.tenant_id != membership.division.tenant_id:
        raise UserError(_("The related record was not found."), status=404)
    if actor is not None:
        _check_actor(actor, membership.role)
    duplicate = db.session.scalar(
        select(Membership.id).where(
            Membership.user_id == membership.user.id,
            Membership.division_id == membership.division.id,
            Membership.role_template_id == membership.role.id,
        )
    ) if membership.user.id and membership.division.id else None
    if duplicate is not None and duplicate != membership.id:
        raise UserError(_("This user already holds this role in this division."))
    membership.tenant_id = membership.user.tenant_id
    if membership not in membership.user.memberships:
        membership.user.memberships.append(membership)
    _sync_roles(membership.user)
    _log("grant", actor, membership)


def prepare_revoke(actor: Optional[User], membership: Membership) -> None:
    if actor is not None:
        _check_actor(actor, membership.role)
    _sync_roles(membership.user, without=membership)
    _log("revoke", actor, membership)


def grant(actor: Optional[User], user: User, division, template: RoleTemplate) -> Membership:
    membership = Membership(user=user, division=division, role=template)
    prepare_grant(actor, membership)
    db.session.add(membership)
    return membership


def revoke(actor: Optional[User], membership: Membership) -> None:
    prepare_revoke(actor, membership)
    db.session.delete(membership)


def memberships_of(user: User) -> Iterable[Membership]:
    return sorted(user.memberships, key=lambda m: (m.division.code, m.role.level))


def reset_password(actor: User, user: User) -> str:
    """A new random password for a user of the actor's own tenant (the guard refuses any other)."""
    from flask import current_app
    from werkzeug.security import generate_password_hash

    from app.security.passwords import generate_password

    if user.tenant_id is None or user_level(user) > user_level(actor):
        raise UserError(_("You cannot reset the password of a user above your own role."), status=403)
    password = generate_password()
    user.password = generate_password_hash(
        password, method=current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt")
    )
    db.session.commit()
    return password


def login_identifier_taken(column: str, value: str, except_user_id: Optional[int] = None) -> bool:
    """Usernames and e-mail addresses are unique on the whole platform: one login form serves every
    organisation. The answer is only yes or no: never whose it is, nor which organisation's."""
    from sqlalchemy import func

    from app.tenancy.context import platform_scope

    value = (value or "").strip()
    if not value:
        return False
    with platform_scope():
        stmt = select(User.id).where(func.lower(getattr(User, column)) == value.lower())
        if except_user_id is not None:
            stmt = stmt.where(User.id != except_user_id)
        return db.session.scalar(stmt.limit(1)) is not None


def role_names(roles) -> str:
    """FAB roles shown by their template's name in the user's language (one query per request)."""
    from flask import g

    from app.tenancy.models import localized

    names = g.get("_role_template_names")
    if names is None:
        names = {
            code: (th, en)
            for code, th, en in db.session.execute(
                select(RoleTemplate.code, RoleTemplate.name_th, RoleTemplate.name_en)
            )
        }
        g._role_template_names = names
    labels = [localized(*names[r.name]) if r.name in names else r.name for r in roles or []]
    return ", ".join(labels) or "-"

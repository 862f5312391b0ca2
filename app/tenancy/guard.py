"""The tenant wall, below Flask-AppBuilder: every SELECT/UPDATE/DELETE on a tenant-owned model is filtered
to the current tenant, every flush is stamped and checked, and with no tenant set a query on a
tenant-owned table raises instead of running unfiltered."""
from __future__ import annotations

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import event, inspect, or_
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.orm.relationships import RelationshipDirection
from sqlalchemy.sql import visitors
from sqlalchemy.sql.schema import Table

from app.tenancy.context import CrossTenantWrite, TenantNotSet, current_scope
from app.tenancy.models import TenantScoped, TenantShared

_installed = False


def _scoped_classes():
    from flask_appbuilder import Model

    return [m.class_ for m in Model.registry.mappers if issubclass(m.class_, (TenantScoped, TenantShared))]


_scoped_table_names: frozenset[str] = frozenset()


def _touches_scoped_table(state: ORMExecuteState) -> bool:
    if any(issubclass(m.class_, (TenantScoped, TenantShared)) for m in state.all_mappers):
        return True
    names = _scoped_table_names
    for element in visitors.iterate(state.statement):
        if isinstance(element, Table) and element.name in names:
            return True
    return False


def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    scope = current_scope()
    if scope is not None and scope.platform:
        return
    tenant_id = scope.tenant_id if scope is not None else None
    if tenant_id is None:
        # Users may be read before a tenant is known (login, Flask-Login's loader); tenant rows may not.
        if _touches_scoped_table(state):
            raise TenantNotSet("a tenant-owned table was queried with no tenant set")
        return
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True
        ),
        with_loader_criteria(User, lambda cls: cls.tenant_id == tenant_id, include_aliases=True),
        with_loader_criteria(
            TenantShared, lambda cls: or_(cls.tenant_id == tenant_id, cls.partner_tenant_id == tenant_id),
            include_aliases=True,
        ),
    )


def _tenant_of(obj) -> int | None:
    return getattr(obj, "tenant_id", None)


def _committed_tenant(obj) -> int | None:
    history = inspect(obj).attrs.tenant_id.history
    if history.deleted:
        return history.deleted[0]
    return _tenant_of(obj)


def _check_links(obj, tenant_id: int | None) -> None:
    """A tenant row may only point at rows of its own tenant (loaded related objects)."""
    state = inspect(obj)
    for rel in state.mapper.relationships:
        if rel.direction is not RelationshipDirection.MANYTOONE or rel.viewonly:
            continue
        target_cls = rel.mapper.class_
        if not (issubclass(target_cls, TenantScoped) or issubclass(target_cls, User)):
            continue
        if rel.key not in state.dict:
            continue
        target = state.dict[rel.key]
        if target is None:
            continue
        if _tenant_of(target) != tenant_id:
            raise CrossTenantWrite(
                f"{type(obj).__name__}.{rel.key} points at a row of another tenant"
            )


def _check_shared(obj: TenantShared, tenant_id: int | None, new: bool) -> None:
    """A shared row: written only by its owner or its partner, and neither column ever changes."""
    if tenant_id is None:
        raise TenantNotSet(f"{type(obj).__name__} written with no tenant set")
    if new and obj.tenant_id is None:
        obj.tenant_id = tenant_id
    if not new:
        state = inspect(obj)
        for key in ("tenant_id", "partner_tenant_id"):
            if state.attrs[key].history.deleted:
                raise CrossTenantWrite(f"{type(obj).__name__}.{key} may not change")
    if tenant_id not in (obj.tenant_id, obj.partner_tenant_id):
        raise CrossTenantWrite(f"{type(obj).__name__} shared between other tenants")
    # links are the owner's rows (the matter, its กอง); a partner may only point at the same ones
    _check_links(obj, obj.tenant_id)


def _on_flush(session: Session, flush_context, instances) -> None:
    scope = current_scope()
    platform = bool(scope and scope.platform)
    tenant_id = scope.tenant_id if scope else None
    if scope is not None and scope.read_only and (session.new or session.dirty or session.deleted):
        if session.new or session.deleted or any(session.is_modified(o) for o in session.dirty):
            raise CrossTenantWrite("a shared matter is read-only to its partner")

    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, TenantShared) and not platform:
            if obj in session.dirty and not session.is_modified(obj):
                continue
            _check_shared(obj, tenant_id, new=obj in session.new)

    for obj in session.new:
        if isinstance(obj, TenantScoped):
            if obj.tenant_id is None:
                if tenant_id is None:
                    raise TenantNotSet(f"new {type(obj).__name__} with no tenant set")
                obj.tenant_id = tenant_id
            elif not platform and obj.tenant_id != tenant_id:
                raise CrossTenantWrite(f"new {type(obj).__name__} for another tenant")
            _check_links(obj, obj.tenant_id)
        elif isinstance(obj, User) and not platform:
            if tenant_id is not None:
                if obj.tenant_id is None:
                    obj.tenant_id = tenant_id
                elif obj.tenant_id != tenant_id:
                    raise CrossTenantWrite("new user for another tenant")

    for obj in list(session.dirty) + list(session.deleted):
        if platform:
            continue
        if isinstance(obj, TenantScoped) or (isinstance(obj, User) and tenant_id is not None):
            if not session.is_modified(obj) and obj not in session.deleted:
                continue
            if tenant_id is None and isinstance(obj, TenantScoped):
                raise TenantNotSet(f"{type(obj).__name__} changed with no tenant set")
            if _committed_tenant(obj) != tenant_id or _tenant_of(obj) != tenant_id:
                raise CrossTenantWrite(f"{type(obj).__name__} of another tenant")
            if isinstance(obj, TenantScoped) and obj not in session.deleted:
                _check_links(obj, tenant_id)


def evict_other_tenants(session: Session, tenant_id: int | None) -> None:
    """Session.get answers from the identity map without SQL: drop rows that another scope loaded."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, TenantShared) and tenant_id not in (obj.tenant_id, obj.partner_tenant_id):
            session.expunge(obj)
            continue
        if isinstance(obj, (TenantScoped, User)) and _tenant_of(obj) != tenant_id:
            if isinstance(obj, User) and _tenant_of(obj) is None:
                continue  # the operator's own account stays usable while switched into a tenant
            session.expunge(obj)


def install() -> None:
    """Call after every model is imported (create_app does)."""
    global _installed, _scoped_table_names
    _scoped_table_names = frozenset(cls.__table__.name for cls in _scoped_classes())
    if _installed:
        return
    event.listen(Session, "do_orm_execute", _on_execute)
    event.listen(Session, "before_flush", _on_flush)
    _installed = True

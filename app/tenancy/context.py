"""Who the current tenant is, for one unit of work (a request, a task, a CLI command).

The ORM guard reads this, never the Flask request or the logged-in user: looking at the user from inside
an ORM hook would recurse through Flask-AppBuilder's user loader.
"""
from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Iterator, Optional


_audit = logging.getLogger("app.audit.platform")


class TenantNotSet(RuntimeError):
    """A tenant-owned table was touched with no tenant chosen: the guard fails closed."""


class CrossTenantWrite(RuntimeError):
    """A write would create, change or link a row of another tenant."""


@dataclass(frozen=True)
class Scope:
    tenant_id: Optional[int] = None
    platform: bool = False
    # a partner reading one shared matter as its owner sees it: reads only, the guard refuses any flush
    read_only: bool = False


_scope: ContextVar[Optional[Scope]] = ContextVar("tenant_scope", default=None)


def current_scope() -> Optional[Scope]:
    return _scope.get()


def current_tenant_id() -> Optional[int]:
    scope = _scope.get()
    return scope.tenant_id if scope else None


def require_tenant_id() -> int:
    tenant_id = current_tenant_id()
    if tenant_id is None:
        raise TenantNotSet("no tenant is set for this unit of work")
    return tenant_id


def is_platform_scope() -> bool:
    scope = _scope.get()
    return bool(scope and scope.platform)


def set_scope(scope: Optional[Scope]) -> Token:
    return _scope.set(scope)


def reset_scope(token: Token) -> None:
    _scope.reset(token)


@contextmanager
def tenant_scope(tenant_id: int) -> Iterator[None]:
    """Run a block as one tenant (Celery tasks, CLI commands with --tenant, tests)."""
    if tenant_id is None:
        raise TenantNotSet("tenant_scope needs a tenant id")
    token = _scope.set(Scope(tenant_id=int(tenant_id)))
    try:
        yield
    finally:
        _scope.reset(token)


@contextmanager
def platform_scope() -> Iterator[None]:
    """Explicitly unfiltered: onboarding, seeds, platform reports. Never used for a tenant's request.
    Every entry is logged with its caller (on PostgreSQL it is also the only way to the platform role)."""
    if _audit.isEnabledFor(logging.INFO):
        caller = sys._getframe(2)  # past contextmanager's __enter__
        _audit.info("platform scope entered by %s:%s", caller.f_globals.get("__name__"), caller.f_code.co_name,
                    extra={"platform_caller": f"{caller.f_globals.get('__name__')}.{caller.f_code.co_name}"})
    token = _scope.set(Scope(platform=True))
    try:
        yield
    finally:
        _scope.reset(token)


@contextmanager
def shared_read(owner_tenant_id: int) -> Iterator[None]:
    """Read a shared matter's rows as the tenant that owns them, for a partner the owner shared it with.
    The caller must first prove the share (a row it can see through the wall); nothing can be written."""
    token = _scope.set(Scope(tenant_id=int(owner_tenant_id), read_only=True))
    try:
        yield
    finally:
        _scope.reset(token)


@contextmanager
def no_scope() -> Iterator[None]:
    token = _scope.set(None)
    try:
        yield
    finally:
        _scope.reset(token)

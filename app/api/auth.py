"""Who is calling the open API: an integration key (X-API-Key, or Open311's api_key), a user's JWT from
/api/v1/security/login (Authorization: Bearer), or nobody. A browser session is never enough: the API takes
no cookies, so no other site can make a signed-in browser call it. The caller's tenant becomes the tenant
of the unit of work, exactly as for a staff request; what the key may do is its scopes, on top of what its
acting user may do."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import wraps
from typing import Optional

from flask import current_app, g, request
from flask_babel import lazy_gettext as _l

from app.api import keys, language, ratelimit
from app.api.errors import ApiError
from app.api.errors import field as field_error
from app.api.models import MANAGE, READ, SCOPES, SUBMIT, IntegrationKey
from app.extensions import db
from app.tenancy.context import Scope, set_scope
from app.tenancy.guard import evict_other_tenants

KEY, USER, ANONYMOUS = "key", "user", "anonymous"


@dataclass
class Principal:
    kind: str
    user: Optional[object] = None
    tenant_id: Optional[int] = None
    scopes: frozenset = field(default_factory=frozenset)
    key_id: Optional[int] = None
    key_name: str = ""

    @property
    def operator(self) -> bool:
        from app.security.services import is_platform_operator

        return self.kind == USER and self.user is not None and self.user.tenant_id is None and \
            is_platform_operator(self.user)


def current() -> Principal:
    return g.get("api_principal") or Principal(ANONYMOUS)


def _token(allow_param: bool) -> tuple[Optional[str], Optional[str]]:
    """(integration key, bearer token) from the request."""
    header = request.headers.get("Authorization", "")
    bearer = header[7:].strip() if header.lower().startswith("bearer ") else None
    key = request.headers.get("X-API-Key") or None
    if key is None and bearer and bearer.startswith(keys.TOKEN_PREFIX):
        key, bearer = bearer, None
    if key is None and allow_param:
        key = request.args.get("api_key") or (request.form.get("api_key") if request.form else None)
    return key, bearer


def _as(user, tenant_id: Optional[int]) -> None:
    g.user = user
    g._login_user = user  # Flask-Login's current_user for this request, and FAB's permission checks
    if tenant_id is not None:
        set_scope(Scope(tenant_id=tenant_id))
        evict_other_tenants(db.session, tenant_id)
    else:
        set_scope(None)


def _key_principal(token: str) -> Principal:
    found = keys.find(token)
    if found is None:
        raise ApiError(401, "invalid_key", _l("This API key is not valid."))
    state = keys.status(found)
    if state == keys.REVOKED:
        raise ApiError(401, "key_revoked", _l("This API key has been revoked."))
    if state == keys.EXPIRED:
        raise ApiError(401, "key_expired", _l("This API key has expired."))
    _as(current_app.login_manager.anonymous_user(), found.tenant_id)
    # The row found is the key (read once per request): it joins the session inside its own tenant, where the
    # guard checks any write to it (touch). Its acting user is read through the tenant wall, with roles,
    # memberships and the permissions version in one statement.
    key = found
    db.session.add(key)
    user = current_app.appbuilder.sm.get_user_by_id(key.acting_user_id)
    if user is None or not user.active or user.tenant is None or not user.tenant.active:
        raise ApiError(401, "key_inactive", _l("The user this API key acts as is no longer active."))
    _as(user, key.tenant_id)
    principal = Principal(KEY, user, key.tenant_id, frozenset(key.scopes), key.id, key.name)
    g._api_key_limit = (key.id, key.rate_limit_per_minute)  # before touch() may commit (and expire the row)
    keys.touch(key, request.remote_addr)
    return principal


def _user_principal() -> Principal:
    from app.tenancy.web import _api_token_user

    user = _api_token_user()
    if user is None or not user.is_active:
        raise ApiError(401, "invalid_token", _l("The access token is not valid or has expired. Log in again."))
    if user.tenant_id is not None and (user.tenant is None or not user.tenant.active):
        raise ApiError(401, "invalid_token", _l("The access token is not valid or has expired. Log in again."))
    _as(user, user.tenant_id)
    return Principal(USER, user, user.tenant_id, frozenset(SCOPES))


def authenticate(allow_param: bool = False) -> None:
    """before_request of every open-API blueprint: find the caller, set the tenant, count the call."""
    language.install()
    _refuse_nul()
    key, bearer = _token(allow_param)
    try:
        if key:
            principal = _key_principal(key)
            identity, per_minute = f"key:{principal.key_id}", _key_limit(principal.key_id)
        elif bearer:
            principal = _user_principal()
            identity, per_minute = f"user:{principal.user.id}", current_app.config.get("API_USER_RATE_LIMIT", 600)
    except ApiError:
        # a refused key or token counts against its address, so keys cannot be guessed at full speed
        allowed, headers = ratelimit.hit(f"address:{request.remote_addr}",
                                         int(current_app.config.get("API_ANONYMOUS_RATE_LIMIT", 60)))
        g.api_rate_headers = headers
        if not allowed:
            raise ApiError(429, headers=headers)
        raise
    if not key and not bearer:
        _as(current_app.login_manager.anonymous_user(), None)
        principal = Principal(ANONYMOUS)
        identity = f"address:{request.remote_addr}"
        per_minute = current_app.config.get("API_ANONYMOUS_RATE_LIMIT", 60)
    g.api_principal = principal
    allowed, headers = ratelimit.hit(identity, int(per_minute))
    g.api_rate_headers = headers
    if not allowed:
        raise ApiError(429, headers=headers)


def _refuse_nul() -> None:
    """PostgreSQL text cannot hold the NUL character: refuse it at the door (400), never let it reach a query."""
    bad = [name for name, value in request.args.items(multi=True) if "\x00" in name or "\x00" in value]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        bad += [name for name, value in request.form.items(multi=True) if "\x00" in name or "\x00" in value]
    elif b"\\u0000" in request.get_data(cache=True) or b"\x00" in request.get_data(cache=True):
        bad.append("_body")
    if bad:
        message = _l("Text may not contain the NUL character (\\u0000).")
        raise ApiError(400, "invalid_characters", message,
                       [field_error(name.replace("\x00", ""), message) for name in bad])


def _key_limit(key_id: int) -> int:
    """The key's calls per minute, as read with the key (no second read of its row)."""
    known = g.get("_api_key_limit")
    if known is not None and known[0] == key_id:
        return known[1]
    return db.session.get(IntegrationKey, key_id).rate_limit_per_minute


def add_rate_headers(response):
    for name, value in (g.get("api_rate_headers") or {}).items():
        response.headers.setdefault(name, value)
    return response


def check(scope: Optional[str] = None, *, operator: bool = False) -> Principal:
    principal = current()
    if principal.kind == ANONYMOUS:
        raise ApiError(401)
    if operator:
        if not principal.operator:
            raise ApiError(403, "operators_only", _l("Only platform operators (with a user's token) may do this."))
        return principal
    if principal.tenant_id is None:
        raise ApiError(403, "no_organisation", _l("This call works inside one organisation: use an organisation's "
                                                  "key or a user of an organisation."))
    if scope and scope not in principal.scopes:
        raise ApiError(403, "insufficient_scope", _l("This API key lacks the scope %(scope)s.", scope=scope))
    return principal


def requires(scope: Optional[str] = None, *, operator: bool = False):
    """Refuse the call unless the caller is known, of an organisation (or an operator) and has the scope."""
    def decorator(func):
        @wraps(func)
        def wrapper(*args, **kwargs):
            check(scope, operator=operator)
            return func(*args, **kwargs)
        return wrapper
    return decorator


def has_permission(permission: str, view: str) -> bool:
    """The acting user's FAB permission (the roles a role manager granted), e.g. ("can_list", "WasteInvoiceView")."""
    return bool(current_app.appbuilder.sm.has_access(permission, view))


def require_permission(permission: str, view: str) -> None:
    if not has_permission(permission, view):
        raise ApiError(403, "forbidden", _l("The user this call acts as may not do this (their roles do not allow it)."))


__all__ = ["READ", "SUBMIT", "MANAGE", "authenticate", "requires", "check", "current", "require_permission"]

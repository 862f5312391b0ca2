"""Integration keys: made, rotated and revoked by the tenant admin, stored as a SHA-256 of the secret (the
secret has 256 bits of randomness, so a slow hash would add nothing), found by their public prefix."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.api.models import SCOPES, IntegrationKey
from app.extensions import db
from app.tenancy.context import platform_scope
from app.tenancy.errors import UserError
from app.tenancy.models import utcnow

TOKEN_PREFIX = "ttk_"
ROTATION_GRACE = timedelta(hours=24)  # the old key keeps working this long after a rotation
TOUCH_EVERY = timedelta(minutes=1)  # last-used time is written at most this often per key

ACTIVE, EXPIRED, REVOKED = "active", "expired", "revoked"
# "Key revoked", not "Revoked": that msgid is a role's (ถอนบทบาท)
STATUS_NAMES = {ACTIVE: _l("Active"), EXPIRED: _l("Expired"), REVOKED: _l("Key revoked")}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_token() -> tuple[str, str]:
    prefix = secrets.token_hex(6)
    return prefix, f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"


def status(key: IntegrationKey, now: Optional[datetime] = None) -> str:
    now = now or utcnow()
    if key.revoked_at is not None:
        return REVOKED
    if key.expires_at is not None and key.expires_at <= now:
        return EXPIRED
    return ACTIVE


def check_settings(scopes, acting_user, tenant_id: int, expires_at: Optional[datetime],
                   rate_limit: int) -> list[str]:
    scopes = sorted(set(scopes or []))
    if not scopes or set(scopes) - set(SCOPES):
        raise UserError(_("Choose at least one of the scopes read, submit and manage."), 422)
    if acting_user is None or acting_user.tenant_id != tenant_id or not acting_user.active:
        raise UserError(_("The key must act as an active user of this organisation."), 422)
    if expires_at is not None and expires_at <= utcnow():
        raise UserError(_("The expiry must be in the future."), 422)
    if not 1 <= int(rate_limit) <= 10000:
        raise UserError(_("The limit must be between 1 and 10,000 calls a minute."), 422)
    return scopes


def issue(tenant_id: int, *, name: str, scopes, acting_user, expires_at: Optional[datetime] = None,
          rate_limit_per_minute: int = 120, created_by_name: str = "",
          rotated_from_id: Optional[int] = None) -> tuple[IntegrationKey, str]:
    """A new key and its token (shown once; only its hash is kept). The caller commits."""
    name = (name or "").strip()
    if not name:
        raise UserError(_("Give the key a name (which system uses it)."), 422)
    scopes = check_settings(scopes, acting_user, tenant_id, expires_at, rate_limit_per_minute)
    prefix, token = _new_token()
    key = IntegrationKey(
        tenant_id=tenant_id, name=name[:100], prefix=prefix, secret_hash=_hash(token), scopes=scopes,
        acting_user_id=acting_user.id, expires_at=expires_at, rate_limit_per_minute=int(rate_limit_per_minute),
        created_by_name=created_by_name[:200], rotated_from_id=rotated_from_id,
    )
    db.session.add(key)
    db.session.flush()
    return key, token


def rotate(key: IntegrationKey, *, by_name: str) -> tuple[IntegrationKey, str]:
    """A new token with the same settings; the old one works for ROTATION_GRACE more, then expires."""
    if status(key) != ACTIVE:
        raise UserError(_("Only an active key can be rotated; make a new one instead."), 422)
    new_key, token = issue(
        key.tenant_id, name=key.name, scopes=key.scopes, acting_user=key.acting_user,
        expires_at=key.expires_at, rate_limit_per_minute=key.rate_limit_per_minute, created_by_name=by_name,
        rotated_from_id=key.id,
    )
    ends = utcnow() + ROTATION_GRACE
    key.expires_at = min(key.expires_at, ends) if key.expires_at else ends
    return new_key, token


def revoke(key: IntegrationKey, *, by_name: str) -> None:
    if key.revoked_at is None:
        key.revoked_at, key.revoked_by_name = utcnow(), by_name[:200]


def find(token: str) -> Optional[IntegrationKey]:
    """The key a token names, whatever its state (the caller tells expired and revoked apart), or None.
    Looked up across tenants: the tenant is not known until the key is found."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    prefix = token[len(TOKEN_PREFIX):].split("_", 1)[0]
    if len(prefix) != 12:
        return None
    with platform_scope():
        key = db.session.scalar(select(IntegrationKey).where(IntegrationKey.prefix == prefix))
        if key is None or not hmac.compare_digest(key.secret_hash, _hash(token)):
            return None
        db.session.expunge(key)  # re-read inside the key's own tenant by the caller
        return key


def touch(key: IntegrationKey, address: Optional[str]) -> None:
    """Record the last use (at most once a minute per key, so reads do not become writes)."""
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY or key.last_used_ip != address:
        key.last_used_at, key.last_used_ip = now, (address or "")[:45] or None
        db.session.commit()

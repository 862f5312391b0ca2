"""A matter's tracking secret: shown to the citizen once, kept only as a keyed hash, and the list of matters
this browser has proved it may see."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app, session

# no 0/O or 1/I: read aloud over the phone or typed from paper without mistakes
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ACCESS_KEY = "portal_access"
MAX_REMEMBERED = 20


def new_secret() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalize(secret: str) -> str:
    return "".join(ch for ch in (secret or "").upper() if ch in ALPHABET)


def hash_secret(secret: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, normalize(secret).encode(), hashlib.sha256).hexdigest()


def matches(stored_hash: str | None, secret: str) -> bool:
    return bool(stored_hash) and hmac.compare_digest(stored_hash, hash_secret(secret))


def grant(tenant_id: int, request_id: int) -> None:
    """This browser may now see the matter (it showed the number and the secret, or filed it)."""
    access = dict(session.get(ACCESS_KEY) or {})
    ids = [i for i in access.get(str(tenant_id), []) if i != request_id] + [request_id]
    access[str(tenant_id)] = ids[-MAX_REMEMBERED:]
    session[ACCESS_KEY] = access


def allowed(tenant_id: int, request_id: int) -> bool:
    return request_id in (session.get(ACCESS_KEY) or {}).get(str(tenant_id), [])

"""A matter's tracking secret: shown to the citizen once, kept only as a keyed hash, sealed (encrypted) while it
waits in the task queue for the e-mail, and the list of matters this browser has proved it may see."""
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


# the e-mail task may wait for a worker or be retried; a message older than this is refused, not mailed
SEALED_MAX_AGE = 3 * 24 * 3600
_SEAL_INFO = b"thongthin: portal tracking code in the task queue"


def _fernet():
    """Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from SECRET_KEY by HKDF, for this purpose only."""
    import base64

    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEAL_INFO).derive(
        current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str) -> str:
    """The secret as the queue carries it: the broker's database never holds it in clear."""
    return _fernet().encrypt(secret.encode()).decode("ascii")


def unseal(sealed: str) -> str | None:
    """The secret back, or None when the message was tampered with, sealed under another key, or too old."""
    from cryptography.fernet import InvalidToken

    try:
        return _fernet().decrypt((sealed or "").encode("ascii"), ttl=SEALED_MAX_AGE).decode()
    except (InvalidToken, UnicodeError, ValueError):
        return None


def grant(tenant_id: int, request_id: int) -> None:
    """This browser may now see the matter (it showed the number and the secret, or filed it)."""
    access = dict(session.get(ACCESS_KEY) or {})
    ids = [i for i in access.get(str(tenant_id), []) if i != request_id] + [request_id]
    access[str(tenant_id)] = ids[-MAX_REMEMBERED:]
    session[ACCESS_KEY] = access


def allowed(tenant_id: int, request_id: int) -> bool:
    return request_id in (session.get(ACCESS_KEY) or {}).get(str(tenant_id), [])

"""Signed webhooks: subscriptions (URL, events, a signing secret kept sealed), the signature receivers check,
and one delivery attempt with its retry schedule. No Flask request objects here: the screens, the REST API
and the Celery task call these.

Signature: ``X-Thongthin-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``. A receiver
recomputes it over the raw body with its secret and refuses an old ``t`` (replays); see verify_signature."""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import random
import secrets
import socket
import time
import uuid
from calendar import timegm
from datetime import datetime, timedelta
from typing import Callable, Iterable, Optional
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update

from app.api.models import (
    EVENTS, FAILED, PENDING, SUCCEEDED, WebhookDelivery, WebhookSubscription,
)
from app.extensions import db
from app.tenancy.errors import UserError
from app.tenancy.models import utcnow

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
USER_AGENT = "Thongthin-Webhooks/1.0"
TIMEOUT_SECONDS = 5
ERROR_MAX = 500  # characters of a receiver's error kept on the delivery
RETRY_CAP_SECONDS = 6 * 3600
CLAIM_SECONDS = 60  # an attempt in progress holds its delivery this long (two workers never send it at once)
DELIVER_TASK = "webhooks.deliver"
_SEAL_INFO = b"thongthin: webhook signing secret"


# --- the signing secret -----------------------------------------------------------------------------------

def _fernet():
    """Fernet with a key derived from SECRET_KEY by HKDF, for webhook secrets only."""
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEAL_INFO).derive(
        current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode("ascii")


def unseal(sealed: str) -> Optional[str]:
    """The secret, or None when it was sealed under another SECRET_KEY (rotate it then)."""
    from cryptography.fernet import InvalidToken

    try:
        return _fernet().decrypt((sealed or "").encode("ascii")).decode()
    except (InvalidToken, UnicodeError, ValueError):
        return None


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


# --- signatures -------------------------------------------------------------------------------------------

def _as_text(body) -> str:
    return body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else str(body)


def sign(secret: str, body, timestamp: Optional[int] = None) -> str:
    """The X-Thongthin-Signature header for this body, signed now (or at `timestamp`)."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode("utf-8"), f"{t}.{_as_text(body)}".encode("utf-8"), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify_signature(secret: str, body, header: str, tolerance: int = 300, now: Optional[float] = None) -> bool:
    """For receivers: True when `header` (X-Thongthin-Signature) signs exactly `body` (the raw bytes received)
    with `secret`, at most `tolerance` seconds from now. Several v1= values (during a secret rotation) are
    accepted if any one matches."""
    try:
        parts = [p.strip().split("=", 1) for p in (header or "").split(",")]
        timestamps = [int(v) for k, v in parts if k == "t"]
        signatures = [v for k, v in parts if k == "v1"]
        body_text = _as_text(body)
    except (ValueError, UnicodeError):
        return False
    if len(timestamps) != 1 or not signatures:
        return False
    t = timestamps[0]
    if abs((time.time() if now is None else now) - t) > tolerance:
        return False
    expected = hmac.new(secret.encode("utf-8"), f"{t}.{body_text}".encode("utf-8"), hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, s) for s in signatures)


def body_of(delivery: WebhookDelivery) -> str:
    """The exact JSON sent: the stored payload, keys sorted, so every attempt and replay sends the same text."""
    return json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# --- URLs: no requests into the organisation's own network ------------------------------------------------

def _allow_private() -> bool:
    return bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE_URLS", False))


def _refused(ip: ipaddress._BaseAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_multicast
            or ip.is_unspecified or not ip.is_global)


def _addresses(host: str, port: int) -> list:
    try:
        return [ipaddress.ip_address(info[4][0].split("%")[0])
                for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)]
    except (socket.gaierror, UnicodeError, ValueError, OSError):
        return []


def check_url(url: str) -> str:
    """The URL as stored, or UserError: http(s) only, a host, and (unless WEBHOOK_ALLOW_PRIVATE_URLS) no
    address that is loopback, private, link-local or otherwise not on the public Internet."""
    url = (url or "").strip()
    if not url:
        raise UserError(_("Give the URL that receives the events."), 422)
    if len(url) > 500:
        raise UserError(_("The URL is at most 500 characters long."), 422)
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UserError(_("The URL must start with https:// or http:// and name a host."), 422) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(_("The URL must start with https:// or http:// and name a host."), 422)
    if parts.username or parts.password:
        raise UserError(_("The URL may not carry a user name or password: the signature proves who sends."), 422)
    if _allow_private():
        return url
    addresses = _addresses(parts.hostname, port)
    if not addresses:
        raise UserError(_("The host of this URL cannot be found."), 422)
    if any(_refused(ip) for ip in addresses):
        raise UserError(_("The URL points into a private network or this server itself: give a public "
                          "address."), 422)
    return url


# --- subscriptions ----------------------------------------------------------------------------------------

def check_events(events: Iterable[str]) -> list[str]:
    chosen = sorted(set(events or []))
    if not chosen or set(chosen) - set(EVENTS):
        raise UserError(_("Choose at least one event: %(events)s.", events=", ".join(EVENTS)), 422)
    return chosen


def _name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise UserError(_("Give the webhook a name (which system receives it)."), 422)
    if len(name) > 100:
        raise UserError(_("The name is at most 100 characters long."), 422)
    return name


def subscribe(*, name: str, url: str, events: Iterable[str], active: bool = True,
              created_by_name: str = "") -> tuple[WebhookSubscription, str]:
    """A new subscription of the current tenant and its secret (shown once). The caller commits."""
    values = dict(name=_name(name), url=check_url(url), events=check_events(events))
    secret = new_secret()
    subscription = WebhookSubscription(**values, active=bool(active), secret_sealed=seal(secret),
                                       created_by_name=(created_by_name or "")[:200])
    db.session.add(subscription)
    db.session.flush()
    return subscription, secret


def change(subscription: WebhookSubscription, *, name=None, url=None, events=None, active=None) -> None:
    """Change what was given (None: keep). Every value is checked before any is set. The caller commits."""
    values = {}
    if name is not None:
        values["name"] = _name(name)
    if url is not None:
        values["url"] = check_url(url)
    if events is not None:
        values["events"] = check_events(events)
    if active is not None:
        values["active"] = bool(active)
    for key, value in values.items():
        setattr(subscription, key, value)
    db.session.flush()


def rotate_secret(subscription: WebhookSubscription) -> str:
    """A new secret (shown once); the old one stops signing at once. The caller commits."""
    secret = new_secret()
    subscription.secret_sealed = seal(secret)
    db.session.flush()
    return secret


def get_subscription(pk) -> Optional[WebhookSubscription]:
    """The current tenant's subscription, or None (unknown, out of range or another tenant's)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    if not 0 < pk < 2**31:
        return None
    return db.session.scalar(select(WebhookSubscription).where(WebhookSubscription.id == pk))


def get_delivery(pk, subscription_id: Optional[int] = None) -> Optional[WebhookDelivery]:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    if not 0 < pk < 2**31:
        return None
    stmt = select(WebhookDelivery).where(WebhookDelivery.id == pk)
    if subscription_id is not None:
        stmt = stmt.where(WebhookDelivery.subscription_id == subscription_id)
    return db.session.scalar(stmt)


# --- events and deliveries --------------------------------------------------------------------------------

def event_payload(event_type: str, jurisdiction_id: str, data: dict, at: Optional[datetime] = None) -> dict:
    return {"id": uuid.uuid4().hex, "type": event_type,
            "created_at": (at or utcnow()).replace(microsecond=0).isoformat() + "Z",
            "jurisdiction_id": jurisdiction_id, "data": data}


def queue(delivery: WebhookDelivery, session=None) -> None:
    """Send it once the transaction commits (nothing is sent for rolled-back work)."""
    from app.tasks import after_commit

    after_commit(DELIVER_TASK, delivery.tenant_id, session=session, delivery_id=delivery.id)


def replay(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the same event again (same body, a new signature time), whatever happened before. The caller
    commits; the attempt is queued after the commit and recorded on the delivery like any other."""
    if not delivery.subscription.active:
        raise UserError(_("The webhook is switched off: switch it on before sending again."), 409)
    delivery.status = PENDING
    delivery.next_attempt_at = None
    delivery.delivered_at = None
    db.session.flush()
    queue(delivery)
    log.info("webhook delivery %s (event %s) replayed", delivery.id, delivery.event_id)
    return delivery


def retry_delay(attempts: int, rand: Callable[[], float] = random.random) -> timedelta:
    """Exponential backoff with jitter: base * 2^(attempts-1), capped at 6 hours, then between half of it
    and all of it (so receivers coming back up are not hit by every retry at once)."""
    base = float(current_app.config.get("WEBHOOK_RETRY_BASE_SECONDS", 30))
    delay = min(RETRY_CAP_SECONDS, base * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=delay / 2 + rand() * delay / 2)


def max_attempts() -> int:
    return int(current_app.config.get("WEBHOOK_MAX_ATTEMPTS", 8))


# A failed attempt's last_error: line 1 is one of these reasons (stored in English, shown translated by
# error_text in the staff's language), line 2 at most the technical detail, trimmed.
REASONS = {
    "off": _l("the webhook is switched off"),
    "secret": _l("the signing secret cannot be opened (SECRET_KEY changed): rotate the secret"),
    "url": _l("the receiving URL is refused"),
    "status": _l("answered %(code)s"),
    "timeout": _l("timed out after %(seconds)s s"),
    "tls": _l("the secure connection (TLS) failed"),
    "connect": _l("could not connect"),
    "other": _l("the sending failed"),
}
DETAIL_MAX = 200


def _reason(kind: str, detail: str = "", **values) -> str:
    first = REASONS[kind]._args[0] % values if values else REASONS[kind]._args[0]
    detail = " ".join((detail or "").split())
    if len(detail) > DETAIL_MAX:
        detail = detail[:DETAIL_MAX - 1] + "…"
    return f"{first}\n{detail}" if detail else first


def _reason_of(exc: Exception) -> str:
    import requests

    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, requests.exceptions.Timeout):
        return _reason("timeout", detail, seconds=TIMEOUT_SECONDS)
    if isinstance(exc, requests.exceptions.SSLError):
        return _reason("tls", detail)
    if isinstance(exc, requests.exceptions.ConnectionError):
        return _reason("connect", detail)
    return _reason("other", detail)


def _pattern(msgid: str):
    import re

    parts = re.split(r"%\((\w+)\)s", msgid)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
    return re.compile(regex + r"\Z")


def error_text(value: Optional[str]) -> tuple[str, str]:
    """A stored last_error as (reason in the current language, technical detail); older free-text errors
    come back as they were."""
    if not value:
        return "", ""
    first, _sep, detail = value.partition("\n")
    for lazy in REASONS.values():
        found = _pattern(lazy._args[0]).match(first)
        if found:
            return _(lazy._args[0], **found.groupdict()), detail
    return first, detail


def _post(url: str, body: bytes, headers: dict):
    import requests

    # redirects are not followed: a public URL could otherwise redirect into the private network
    return requests.post(url, data=body, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False)


def _claim(delivery_id: int, now: datetime) -> bool:
    """Take the delivery for one attempt, unless it is not pending, not due yet, or another worker has it."""
    done = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == PENDING,
               or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now))
        .values(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
        .execution_options(synchronize_session=False))
    db.session.commit()
    return done.rowcount == 1


def deliver(delivery_id: int, *, now: Optional[datetime] = None, post: Callable = None,
            rand: Callable[[], float] = random.random) -> str:
    """One attempt at one delivery (the task's body; safe to run twice): a delivered or failed delivery, or
    one not due yet, is left alone. Returns the delivery's status afterwards ("" when there is none)."""
    now = now or utcnow()
    delivery = db.session.get(WebhookDelivery, int(delivery_id))
    if delivery is None:
        return ""
    if delivery.status != PENDING or not _claim(delivery.id, now):
        return delivery.status
    db.session.refresh(delivery)
    subscription = delivery.subscription
    body = body_of(delivery)
    error, code = None, None
    secret = unseal(subscription.secret_sealed)
    if not subscription.active:
        error = _reason("off")
    elif secret is None:
        error = _reason("secret")
    else:
        try:
            check_url(subscription.url)
        except UserError as exc:
            error = _reason("url", f"refused URL: {exc.message}")
    permanent = error is not None
    if error is None:
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
                   "X-Thongthin-Event": delivery.event_type, "X-Thongthin-Delivery": delivery.event_id,
                   "X-Thongthin-Signature": sign(secret, body, timegm(now.utctimetuple()))}
        try:
            response = (post or _post)(subscription.url, body.encode("utf-8"), headers)
            code = response.status_code
            if not 200 <= code < 300:
                error = _reason("status", f"HTTP {code}: {response.text or ''}", code=code)
        except Exception as exc:  # network errors, timeouts, bad TLS: all mean "try again later"
            error = _reason_of(exc)
    delivery.attempts = (delivery.attempts or 0) + 1
    delivery.last_attempt_at = now
    delivery.last_status_code = code
    if error is None:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at, delivery.last_error = \
            SUCCEEDED, now, None, None
    else:
        delivery.last_error = error[:ERROR_MAX]
        if permanent or delivery.attempts >= max_attempts():
            delivery.status, delivery.next_attempt_at = FAILED, None
        else:
            delivery.next_attempt_at = now + retry_delay(delivery.attempts, rand)
    db.session.commit()
    return delivery.status


def due(now: Optional[datetime] = None, limit: int = 500) -> list[int]:
    """The current tenant's pending deliveries whose time has come (retries, and first attempts the queue
    lost), oldest first."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(WebhookDelivery.id).where(
            WebhookDelivery.status == PENDING,
            or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now))
        .order_by(WebhookDelivery.id).limit(limit)))


# the session listeners that turn the domain's writes into deliveries (installed once, with this module)
from app.api import webhook_events  # noqa: E402,F401

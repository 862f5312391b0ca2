"""Calls per minute per key (the key's own limit), per user token, and per address for calls without either.
Counted in RATELIMIT_STORAGE_URI (memory for one process; Redis in production, shared by every worker)."""
from __future__ import annotations

import math
import time

from flask import Flask, current_app
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

_EXTENSION = "open_api_rate_limiter"


def init_app(app: Flask) -> None:
    storage = storage_from_string(app.config.get("RATELIMIT_STORAGE_URI", "memory://"))
    app.extensions[_EXTENSION] = MovingWindowRateLimiter(storage)


def hit(identity: str, per_minute: int) -> tuple[bool, dict]:
    """Count one call. (allowed, headers): the X-RateLimit-* headers, and Retry-After when refused."""
    if not current_app.config.get("API_RATE_LIMIT_ENABLED", True):
        return True, {}
    limiter: MovingWindowRateLimiter = current_app.extensions[_EXTENSION]
    item = RateLimitItemPerMinute(per_minute)
    allowed = limiter.hit(item, "open-api", identity)
    reset_at, remaining = limiter.get_window_stats(item, "open-api", identity)
    wait = max(1, math.ceil(reset_at - time.time()))
    headers = {"X-RateLimit-Limit": str(per_minute), "X-RateLimit-Remaining": str(max(0, remaining)),
               "X-RateLimit-Reset": str(wait)}
    if not allowed:
        headers["Retry-After"] = str(wait)
    return allowed, headers

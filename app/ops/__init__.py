"""Operations: the health endpoint (health.py), structured logs with request ids (logs.py), and the proxies
in front (TRUSTED_PROXIES).

create_app calls init_logging first (the access line must see each response last) and init_app once
FAB's AppBuilder exists (the health endpoint is exempt from its rate limiter)."""
from __future__ import annotations

from flask import Flask


def init_logging(app: Flask) -> None:
    from app.ops import logs

    logs.init_app(app)


def init_app(app: Flask) -> None:
    from app.ops import health

    health.init_app(app)
    trust_proxies(app)


def trust_proxies(app: Flask) -> None:
    """Behind nginx every request comes from 127.0.0.1: with TRUSTED_PROXIES=n the client's address and scheme
    are taken from the last n proxies' X-Forwarded-For and X-Forwarded-Proto (so the limits per address, the
    logs and the switch log see the real client). 0 (the default): those headers are ignored, a client
    cannot claim another address."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

"""Operations: the health endpoint (health.py) and structured logs with request ids (logs.py).

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

"""GET /health for load balancers, systemd watchdogs and monitoring: no login, no tenant data.

Checks the database (SELECT 1 on a connection from the app's pool) and the Celery broker (a real round trip
with a short timeout: PING on Redis, SELECT 1 on the embedded sqla+sqlite broker, a connection for any other
kombu transport). Answers {"status": "ok", "database": "ok", "broker": "ok"} with 200, or 503 with "fail"
for what failed (the reason goes to the log, never to the caller). In eager mode (CELERY_TASK_ALWAYS_EAGER)
there is no broker to check: "broker": "eager".
"""
from __future__ import annotations

import logging
import threading

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app.extensions import csrf, db

log = logging.getLogger(__name__)
bp = Blueprint("ops", __name__)
OK, FAIL = "ok", "fail"

_clients: dict = {}
_lock = threading.Lock()


def _timeout() -> float:
    return float(current_app.config.get("HEALTH_TIMEOUT_SECONDS", 2))


def check_database() -> str:
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar()
        return OK
    except Exception:
        log.warning("health: the database does not answer", exc_info=True)
        return FAIL


def _cached(key, make):
    with _lock:
        if key not in _clients:
            _clients[key] = make()
        return _clients[key]


def _redis_ping(url: str, timeout: float) -> None:
    import redis

    if url.startswith("redis+socket://"):
        url = "unix://" + url[len("redis+socket://"):]
    client = _cached(("redis", url, timeout), lambda: redis.Redis.from_url(
        url, socket_connect_timeout=timeout, socket_timeout=timeout, retry_on_timeout=False))
    if client.ping() is not True:
        raise RuntimeError("redis did not answer PONG")


def _sqla_ping(url: str, timeout: float) -> None:
    from sqlalchemy import create_engine

    target = url[len("sqla+"):]
    options = {"connect_args": {"timeout": timeout}} if target.startswith("sqlite") else {"pool_pre_ping": True}
    engine = _cached(("sqla", target), lambda: create_engine(target, **options))
    with engine.connect() as conn:
        conn.execute(text("SELECT 1")).scalar()


def _kombu_ping(url: str, timeout: float) -> None:
    from kombu import Connection

    with Connection(url, connect_timeout=timeout) as conn:
        conn.ensure_connection(max_retries=1, timeout=timeout)


def check_broker() -> str:
    if current_app.config.get("CELERY_TASK_ALWAYS_EAGER"):
        return "eager"
    url = current_app.config.get("CELERY_BROKER_URL") or ""
    timeout = _timeout()
    try:
        if url.startswith(("redis://", "rediss://", "redis+socket://")):
            _redis_ping(url, timeout)
        elif url.startswith("sqla+"):
            _sqla_ping(url, timeout)
        else:
            _kombu_ping(url, timeout)
        return OK
    except Exception:
        log.warning("health: the broker does not answer", exc_info=True)
        return FAIL


@bp.route("/health")
def health():
    result = {"database": check_database(), "broker": check_broker()}
    failed = [name for name, value in result.items() if value == FAIL]
    body = {"status": FAIL if failed else OK, **result}
    if failed:
        body["failed"] = failed
    response = jsonify(body)
    response.status_code = 503 if failed else 200
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app) -> None:
    csrf.exempt(bp)
    app.register_blueprint(bp)
    limiter = getattr(getattr(getattr(app, "appbuilder", None), "sm", None), "limiter", None)
    if limiter is not None:
        limiter.exempt(bp)

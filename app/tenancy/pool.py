"""Pooled connections: checked before use only when they sat idle (issue #10, docs/profile-2026-12.md fix 7).

SQLAlchemy's pool_pre_ping costs a round trip (SELECT 1) on every checkout, that is on every request: measured
0.08-0.29 ms median, 0.19-0.52 ms mean per checkout on this 2-core machine, a tenth to a quarter of the 2 ms of
SQL a page may take. A connection checked in a moment ago is as alive as the last statement it ran, so here the
ping is sent only when the connection sat in the pool for longer than DATABASE_PING_IDLE_SECONDS (default 30):
the case where a firewall, PostgreSQL's idle timeouts or a restart during a quiet spell went unnoticed. A
connection that fails the ping is replaced before the request uses it (DisconnectionError: the pool connects
anew). pool_recycle (DATABASE_POOL_RECYCLE_SECONDS, default 1800) replaces connections older than that anyway.
A restart under load is noticed by the first statement on each dead connection: SQLAlchemy then invalidates the
whole pool, so every other connection is replaced at its next checkout and only the requests in flight fail,
as they would with pre-ping too.

DATABASE_PING_IDLE_SECONDS=0 pings on every checkout (pool_pre_ping's behaviour); a negative value never pings."""
from __future__ import annotations

import time
import weakref

from sqlalchemy import event, exc

SETTING = "DATABASE_PING_IDLE_SECONDS"
_CHECKED_IN = "pool_checked_in_at"
_installed: weakref.WeakSet = weakref.WeakSet()


def init_app(app) -> None:
    from app.extensions import db

    with app.app_context():
        for engine in db.engines.values():
            install(engine, float(app.config.get(SETTING, 30)))


def install(engine, idle_seconds: float) -> None:
    """Ping on checkout the connections of `engine` idle for more than `idle_seconds`. Idempotent per engine."""
    if idle_seconds < 0 or engine.dialect.name == "sqlite" or engine in _installed:
        return
    _installed.add(engine)
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record):
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, proxy):
        since = record.info.get(_CHECKED_IN)
        if since is None or time.monotonic() - since <= idle_seconds:
            return  # new (just connected), or back in the pool a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.DisconnectionError() from error  # the pool drops it and connects anew
            raise

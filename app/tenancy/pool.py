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

DATABASE_PING_IDLE_SECONDS=0 pings on every checkout (pool_pre_ping's behaviour); a negative value never pings.

Plans (DATABASE_PLAN_CACHE_MODE, default force_custom_plan): with read-only requests ending in COMMIT
(read_commit.py) psycopg's prepared statements survive, and after five runs PostgreSQL may switch one to a generic
plan, made without knowing which organisation it is for. Organisations differ 800-fold in size: `make bench`
measured a page past the first of the largest (403,952 matters) at 605 ms on the generic plan, which sorts the whole
organisation, against 2.4 ms planned for it. Every connection therefore plans each statement for its parameters
(parsing is still saved); `auto` gives PostgreSQL's default back."""
from __future__ import annotations

import time
import weakref

from sqlalchemy import event, exc

SETTING = "DATABASE_PING_IDLE_SECONDS"
PLAN_SETTING = "DATABASE_PLAN_CACHE_MODE"
PLAN_MODES = ("auto", "force_custom_plan", "force_generic_plan")
_CHECKED_IN = "pool_checked_in_at"
_installed: weakref.WeakSet = weakref.WeakSet()


def init_app(app) -> None:
    from app.extensions import db

    mode = app.config.get(PLAN_SETTING, "force_custom_plan")
    if mode not in PLAN_MODES:
        raise RuntimeError(f"{PLAN_SETTING} must be one of {', '.join(PLAN_MODES)}, not {mode!r}")
    with app.app_context():
        for engine in db.engines.values():
            install(engine, float(app.config.get(SETTING, 30)))
            install_plan_mode(engine, mode)


_plan_modes: weakref.WeakSet = weakref.WeakSet()


def install_plan_mode(engine, mode: str) -> None:
    """SET plan_cache_mode on every new PostgreSQL connection of `engine` (idempotent per engine); connections
    already pooled are closed so that none is left without it."""
    if engine.dialect.name != "postgresql" or engine in _plan_modes:
        return
    _plan_modes.add(engine)

    @event.listens_for(engine, "connect", insert=True)
    def _connected(dbapi_connection, record):
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # a session setting, outside any transaction
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET plan_cache_mode = {mode}")  # one of PLAN_MODES, checked in init_app
        finally:
            dbapi_connection.autocommit = autocommit

    engine.dispose()


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

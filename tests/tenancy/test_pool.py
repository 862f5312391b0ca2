"""Pooled connections are pinged only after sitting idle (no round trip per request); one that died meanwhile is
replaced before a request uses it (app/tenancy/pool.py). PostgreSQL: SQLite has no server to lose."""
from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import create_engine, text

from app.extensions import db
from tests.conftest import make_app

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                                reason="a server connection to lose: PostgreSQL")


def _app(database_url, idle_seconds):
    application = make_app(database_url, FAB_UPDATE_PERMS=False, DATABASE_PING_IDLE_SECONDS=idle_seconds,
                           SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})

    def pid():
        return str(db.session.scalar(text("SELECT pg_backend_pid()")))

    application.add_url_rule("/_pool/pid", "pool_pid", pid)
    return application


def _terminate(database_url, pid: str) -> None:
    """The role may end its own backends: as if a firewall or a restart had dropped the idle connection."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": int(pid)}).scalar()
    engine.dispose()
    time.sleep(0.1)


def test_no_ping_while_the_connection_is_busy_and_a_dead_idle_one_is_replaced(database_url):
    application = _app(database_url, 0.5)
    with application.app_context():
        engine = db.engine
    pings = []
    original = engine.dialect.do_ping
    engine.dialect.do_ping = lambda dbapi_connection: pings.append(1) or original(dbapi_connection)
    try:
        client = application.test_client()
        first = client.get("/_pool/pid").get_data(as_text=True)
        for _ in range(5):  # back in the pool a moment ago: used without a ping
            assert client.get("/_pool/pid").get_data(as_text=True) == first
        assert pings == []
        _terminate(database_url, first)
        time.sleep(0.6)
        second = client.get("/_pool/pid").get_data(as_text=True)  # idle long enough: pinged, found dead, replaced
        assert pings == [1] and second != first
    finally:
        engine.dialect.do_ping = original
        with application.app_context():
            db.engine.dispose()


def test_without_the_ping_the_dead_connection_fails_the_request(database_url):
    """What the ping is for (and the reason one is kept after idle time)."""
    application = _app(database_url, -1)
    try:
        client = application.test_client()
        first = client.get("/_pool/pid").get_data(as_text=True)
        _terminate(database_url, first)
        assert client.get("/_pool/pid").status_code != 200  # the app's database-error page, not the pid
        # the request's rollback survives the lost connection, and the pool connects anew for the next one
        assert client.get("/_pool/pid").get_data(as_text=True) != first
    finally:
        with application.app_context():
            db.engine.dispose()


def _plan_mode_app(database_url, **extra):
    application = make_app(database_url, FAB_UPDATE_PERMS=False, **extra)
    application.add_url_rule("/_pool/plan", "pool_plan",
                             lambda: str(db.session.scalar(text("SHOW plan_cache_mode"))))
    return application


def test_every_connection_plans_for_its_parameters(database_url):
    """Generic plans ignore which organisation a statement is for (sizes differ 800-fold): every connection,
    a replaced one too, plans each statement afresh by default; DATABASE_PLAN_CACHE_MODE=auto restores
    PostgreSQL's own choice; a wrong value stops the app at start."""
    application = _plan_mode_app(database_url, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    client = application.test_client()
    assert client.get("/_pool/plan").get_data(as_text=True) == "force_custom_plan"
    with application.app_context():
        db.engine.dispose()  # a new connection gets it too
    assert client.get("/_pool/plan").get_data(as_text=True) == "force_custom_plan"
    with application.app_context():
        db.engine.dispose()
    auto = _plan_mode_app(database_url, DATABASE_PLAN_CACHE_MODE="auto")
    assert auto.test_client().get("/_pool/plan").get_data(as_text=True) == "auto"
    with auto.app_context():
        db.engine.dispose()
    with pytest.raises(RuntimeError, match="DATABASE_PLAN_CACHE_MODE"):
        make_app(database_url, FAB_UPDATE_PERMS=False, DATABASE_PLAN_CACHE_MODE="custom; DROP TABLE x")

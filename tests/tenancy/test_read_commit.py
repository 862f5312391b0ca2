"""A request that only read ends with COMMIT (psycopg's prepared statements survive it); one that wrote anything,
failed, or queued work for after the commit keeps today's rollback, and nothing it did persists or is sent. On
PostgreSQL: the pooled connection after a read commit carries no tenant, and the pages' statements get prepared."""
from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
from flask import abort, jsonify
from sqlalchemy import event, func, select, text

from app.extensions import db
from app.numbering import NumberCounter
from app.tenancy.context import platform_scope, tenant_scope
from app.tenancy.models import Division
from tests.conftest import login, make_app

POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")
postgres_only = pytest.mark.skipif(not POSTGRES, reason="prepared statements and row-level security: PostgreSQL")
LIST = "/service-requests/list/"


def _routes(application, tenant_id: int) -> None:
    """Test-only endpoints: each works as tenant `tenant_id` and leaves its transaction to the teardown."""

    def read():
        with tenant_scope(tenant_id):
            count = db.session.scalar(select(func.count()).select_from(Division))
            pid = db.session.scalar(text("SELECT pg_backend_pid()")) if POSTGRES else None
        return jsonify(divisions=count, pid=pid)

    def add(series: str) -> None:
        db.session.add(NumberCounter(series=series, year=2570, last_number=0))
        db.session.flush()

    def write_then_fail():
        with tenant_scope(tenant_id):
            add("rc-fail")
            raise RuntimeError("the view failed after its flush")

    def write_then_refuse():
        with tenant_scope(tenant_id):
            add("rc-refuse")
        abort(409)  # handled by Flask: the teardown sees no exception

    def savepoint_undone():
        with tenant_scope(tenant_id):
            nested = db.session.begin_nested()
            add("rc-savepoint")
            nested.rollback()  # the session is clean again, but the transaction wrote
            assert not (db.session.new or db.session.dirty or db.session.deleted)
        return "ok"

    def core_write():
        with tenant_scope(tenant_id):
            db.session.connection().execute(
                text("UPDATE number_counters SET last_number = last_number WHERE tenant_id = :t AND 1 = 0"),
                {"t": tenant_id})
        return "ok"

    def queued_only():
        from app.tasks import after_commit

        with tenant_scope(tenant_id):
            db.session.scalar(select(func.count()).select_from(Division))
            after_commit("webhooks.deliver", tenant_id, delivery_id=0)  # queued, never committed by the view
        return "ok"

    for name, view in [("read", read), ("write_then_fail", write_then_fail),
                       ("write_then_refuse", write_then_refuse), ("savepoint_undone", savepoint_undone),
                       ("core_write", core_write), ("queued_only", queued_only)]:
        application.add_url_rule(f"/_read_commit/{name}", f"read_commit_{name}", view)


def _app(database_url, tenant_id, **extra):
    application = make_app(database_url, FAB_UPDATE_PERMS=False, **extra)
    _routes(application, tenant_id)
    return application


@pytest.fixture(scope="module")
def rc_app(app, database_url, tenant_a):
    """One pooled connection, so every request and check here goes through the same one."""
    application = _app(database_url, tenant_a.id,
                       SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_pre_ping": False})
    yield application
    with application.app_context():
        db.engine.dispose()


@contextmanager
def transactions(application):
    """{"commit": n, "rollback": n} of the app's engine while the block runs (Connection-level events)."""
    seen = {"commit": 0, "rollback": 0}
    with application.app_context():
        engine = db.engine

    def commit(conn):
        seen["commit"] += 1

    def rollback(conn):
        seen["rollback"] += 1

    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", rollback)
    try:
        yield seen
    finally:
        event.remove(engine, "commit", commit)
        event.remove(engine, "rollback", rollback)


def _counters(db_session, tenant_id: int, series: str) -> int:
    with platform_scope():
        return db_session.scalar(select(func.count()).select_from(NumberCounter).where(
            NumberCounter.tenant_id == tenant_id, NumberCounter.series == series))


def test_a_read_request_ends_in_commit(rc_app):
    client = login(rc_app.test_client(), "a.officer")
    client.get(LIST)  # warm-up
    with transactions(rc_app) as seen:
        assert client.get(LIST).status_code == 200
    assert seen == {"commit": 1, "rollback": 0}
    with transactions(rc_app) as seen:
        assert rc_app.test_client().get("/_read_commit/read").get_json()["divisions"] > 0
    assert seen == {"commit": 1, "rollback": 0}


def test_a_write_that_then_failed_is_rolled_back_and_nothing_persists(rc_app, db_session, tenant_a):
    client = rc_app.test_client()
    with transactions(rc_app) as seen, pytest.raises(RuntimeError):
        client.get("/_read_commit/write_then_fail")
    assert seen == {"commit": 0, "rollback": 1}
    # an error Flask handled (the teardown sees no exception): the flush alone keeps the rollback
    with transactions(rc_app) as seen:
        assert client.get("/_read_commit/write_then_refuse").status_code == 409
    assert seen == {"commit": 0, "rollback": 1}
    assert _counters(db_session, tenant_a.id, "rc-fail") == 0
    assert _counters(db_session, tenant_a.id, "rc-refuse") == 0


@pytest.mark.parametrize("endpoint", ["savepoint_undone", "core_write"])
def test_a_write_undone_or_outside_the_orm_is_never_committed(rc_app, db_session, tenant_a, endpoint):
    with transactions(rc_app) as seen:
        assert rc_app.test_client().get(f"/_read_commit/{endpoint}").status_code == 200
    assert seen == {"commit": 0, "rollback": 1}
    assert _counters(db_session, tenant_a.id, "rc-savepoint") == 0


def test_a_read_commit_sends_nothing_queued(rc_app, monkeypatch):
    """Work queued for after a commit (webhooks, e-mail) that the view never committed is dropped, as before."""
    import app.tasks

    sent = []
    monkeypatch.setattr(app.tasks, "celery_for", lambda _app: sent.append("queued"))
    with transactions(rc_app) as seen:
        assert rc_app.test_client().get("/_read_commit/queued_only").status_code == 200
    assert seen == {"commit": 0, "rollback": 1} and sent == []


def test_switched_off_every_request_rolls_back(database_url, tenant_a):
    application = _app(database_url, tenant_a.id, READ_ONLY_COMMIT=False)
    try:
        with transactions(application) as seen:
            assert application.test_client().get("/_read_commit/read").status_code == 200
        assert seen == {"commit": 0, "rollback": 1}
    finally:
        with application.app_context():
            db.engine.dispose()


def _raw(application, sql: str):
    """One row from the pooled connection itself, bypassing every SQLAlchemy event (no tenant set by us)."""
    with application.app_context():
        raw = db.engine.raw_connection()
        try:
            with raw.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchone()
        finally:
            raw.close()


@postgres_only
def test_the_pooled_connection_after_a_read_commit_carries_no_tenant(rc_app):
    with transactions(rc_app) as seen:
        answer = rc_app.test_client().get("/_read_commit/read").get_json()
    assert seen["commit"] == 1 and answer["divisions"] > 0
    with rc_app.app_context():
        runtime = db.engine.url.username
    tenant, role, pid, divisions = _raw(rc_app, "SELECT current_setting('app.tenant_id', true), current_user, "
                                                "pg_backend_pid(), (SELECT count(*) FROM divisions)")
    assert pid == answer["pid"]  # the very connection the request committed on
    assert tenant in ("", None) and role == runtime and divisions == 0


@postgres_only
def test_repeated_list_requests_get_prepared_statements(rc_app, database_url, tenant_a):
    client = login(rc_app.test_client(), "a.officer")
    for _ in range(7):
        assert client.get(LIST).status_code == 200
    (prepared,) = _raw(rc_app, "SELECT count(*) FROM pg_prepared_statements")
    assert prepared >= 3
    # the same requests ending in ROLLBACK, as before: every prepared statement is dropped again
    application = _app(database_url, tenant_a.id, READ_ONLY_COMMIT=False,
                       SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    try:
        client = login(application.test_client(), "a.officer")
        for _ in range(7):
            assert client.get(LIST).status_code == 200
        assert _raw(application, "SELECT count(*) FROM pg_prepared_statements") == (0,)
    finally:
        with application.app_context():
            db.engine.dispose()

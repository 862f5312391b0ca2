"""The second wall: with the ORM guard switched off, PostgreSQL itself shows tenant A nothing of tenant B and
refuses A's writes into B (select, insert, update, delete, foreign keys); a pooled connection never carries one
unit of work's tenant into the next; the platform path is a separate role, entered only explicitly and logged."""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, delete, event, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.tenancy import guard, rls
from app.tenancy.context import no_scope, platform_scope, tenant_scope

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgresql"), reason="row-level security is PostgreSQL's"
)


@contextmanager
def orm_guard_off():
    """As if the application's own filter had a bug: no criteria added, no flush checks."""
    event.remove(Session, "do_orm_execute", guard._on_execute)
    event.remove(Session, "before_flush", guard._on_flush)
    try:
        yield
    finally:
        event.listen(Session, "do_orm_execute", guard._on_execute)
        event.listen(Session, "before_flush", guard._on_flush)


@pytest.fixture
def session(app):
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    s = Session(bind=engine)
    yield s
    s.rollback()
    s.close()


def _refused(session: Session, statement) -> None:
    with pytest.raises(DBAPIError) as caught:
        session.execute(statement)
    session.rollback()
    assert "row-level security" in str(caught.value) or "foreign key" in str(caught.value), caught.value


def test_every_tenant_table_has_forced_row_level_security(session):
    tables = session.execute(text(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN information_schema.columns col ON col.table_schema = n.nspname AND col.table_name = c.relname "
        "WHERE n.nspname = 'public' AND c.relkind = 'r' AND col.column_name = 'tenant_id'"
    )).all()
    assert len(tables) >= 43
    assert [t.relname for t in tables if not (t.relrowsecurity and t.relforcerowsecurity)] == []
    policies = {(r.tablename, r.policyname): r for r in session.execute(text(
        "SELECT tablename, policyname, roles, qual, with_check FROM pg_policies WHERE schemaname = 'public'"))}
    platform = os.environ["DATABASE_PLATFORM_ROLE"]
    for t in tables:
        wall = policies[(t.relname, "tenant_wall")]
        assert "app.tenant_id" in wall.qual and "app.tenant_id" in wall.with_check, t.relname
        assert list(policies[(t.relname, "platform_path")].roles) == [platform], t.relname
    # the app owns none of them and cannot step around the policies
    me = session.execute(text(
        "SELECT current_user, rolsuper, rolbypassrls, rolinherit FROM pg_roles WHERE rolname = current_user")).one()
    assert not me.rolsuper and not me.rolbypassrls and not me.rolinherit
    assert me.current_user not in {t.pg_get_userbyid for t in tables}


def test_orm_guard_off_database_shows_nothing_of_b(session, tenant_a, tenant_b):
    from flask_appbuilder.security.sqla.models import User

    from app.catalog.models import ServiceRequest
    from app.tenancy.models import Division

    with platform_scope():
        a_divisions = session.scalar(select(func.count()).select_from(Division).where(
            Division.tenant_id == tenant_a.id))
        session.rollback()
    with orm_guard_off(), tenant_scope(tenant_a.id):
        tenants = set(session.scalars(select(Division.tenant_id)))
        assert tenants == {tenant_a.id}
        assert session.get(Division, tenant_b.division_ids["finance"]) is None
        assert session.scalar(select(func.count()).select_from(ServiceRequest).where(
            ServiceRequest.tenant_id == tenant_b.id)) == 0
        # A's users, and the platform's operators (no tenant), who may be working inside A
        assert set(session.scalars(select(User.tenant_id))) <= {tenant_a.id, None}
        assert tenant_b.user_ids["b.admin"] not in set(session.scalars(select(User.id)))
        # raw SQL too: the wall is the table's, not the ORM's
        assert session.scalar(text("SELECT count(*) FROM divisions WHERE tenant_id = :b"),
                              {"b": tenant_b.id}) == 0
        assert session.scalar(text("SELECT count(*) FROM divisions")) == a_divisions
        session.rollback()


def test_orm_guard_off_a_tenant_can_neither_make_nor_change_an_operator(session, tenant_a):
    from flask_appbuilder.security.sqla.models import User

    with orm_guard_off(), tenant_scope(tenant_a.id):
        operator = session.scalars(select(User).where(User.tenant_id.is_(None))).first()
        assert operator is not None  # readable: an operator inside A reloads their own row
        _refused(session, update(User).where(User.id == operator.id).values(first_name="ยึด"))
        _refused(session, update(User).where(User.id == tenant_a.user_ids["a.admin"]).values(tenant_id=None))
        _refused(session, insert(User).values(
            first_name="x", last_name="y", username="rls.new.operator", email="rls@x.test", active=True,
            tenant_id=None))


def test_orm_guard_off_no_tenant_sees_nothing(session):
    from app.tenancy.models import Division

    with orm_guard_off(), no_scope():
        assert session.scalar(select(func.count()).select_from(Division)) == 0  # fails closed
        session.rollback()


def test_orm_guard_off_database_refuses_writes_into_b(session, tenant_a, tenant_b):
    from app.security.models import Membership
    from app.tenancy.models import Division

    b_finance = tenant_b.division_ids["finance"]
    with orm_guard_off(), tenant_scope(tenant_a.id):
        # insert a row for B
        _refused(session, insert(Division).values(tenant_id=tenant_b.id, code="rls-x", name_th="แทรก", active=True))
        # update and delete B's rows: the database sees no such rows
        assert session.execute(update(Division).where(Division.id == b_finance).values(name_th="ถูกแก้")).rowcount == 0
        assert session.execute(delete(Division).where(Division.id == b_finance)).rowcount == 0
        # move one of A's rows into B
        a_finance = tenant_a.division_ids["finance"]
        _refused(session, update(Division).where(Division.id == a_finance).values(tenant_id=tenant_b.id))
        # link A's row to B's division (the composite foreign key), or write it as B's (the policy)
        membership = session.scalars(select(Membership).where(Membership.tenant_id == tenant_a.id)).first()
        _refused(session, update(Membership).where(Membership.id == membership.id).values(division_id=b_finance))
        _refused(session, insert(Membership).values(
            tenant_id=tenant_b.id, user_id=membership.user_id, division_id=b_finance,
            role_template_id=membership.role_template_id))
        session.rollback()
    with platform_scope():
        division = session.get(Division, b_finance)
        assert division.name_th != "ถูกแก้" and division.tenant_id == tenant_b.id
        assert session.scalar(select(func.count()).select_from(Division).where(Division.code == "rls-x")) == 0
        session.rollback()


def test_shared_rows_are_seen_by_owner_and_partner_only(session, tenant_a, tenant_b):
    with orm_guard_off(), tenant_scope(tenant_a.id):
        rows = session.execute(text("SELECT tenant_id, partner_tenant_id FROM forwardings")).all()
        assert all(tenant_a.id in (r.tenant_id, r.partner_tenant_id) for r in rows)
        session.rollback()


def test_platform_path_is_the_platform_role_and_logged(session, tenant_a, tenant_b, caplog):
    from app.tenancy.models import Division

    caplog.set_level(logging.INFO, logger="app.audit.platform")
    with platform_scope():
        role = session.scalar(text("SELECT current_user"))
        tenants = set(session.scalars(select(Division.tenant_id)))
        session.rollback()
    assert role == os.environ["DATABASE_PLATFORM_ROLE"]
    assert {tenant_a.id, tenant_b.id} <= tenants
    assert any(r.getMessage().startswith("platform scope entered by")
               and r.getMessage().endswith(":test_platform_path_is_the_platform_role_and_logged")
               for r in caplog.records), [r.getMessage() for r in caplog.records]
    # back to the app's own role, and no tenant, in the next transaction
    with no_scope():
        assert session.scalar(text("SELECT current_user")) != role
        session.rollback()


def _settings(connection) -> tuple:
    return connection.exec_driver_sql(
        "SELECT current_setting('app.tenant_id', true), current_user").one()


def test_pooled_connection_never_carries_a_tenant(app, tenant_a, tenant_b):
    """One connection in the pool, used by A, by the platform, after a rollback and after a savepoint: each next
    unit of work starts with no tenant and the app's own role."""
    from app.extensions import db
    from app.tenancy.models import Division

    with app.app_context():
        url = db.engine.url
    engine = create_engine(url, pool_size=1, max_overflow=0)
    rls.install(engine, os.environ["DATABASE_PLATFORM_ROLE"])
    runtime = url.username
    try:
        with tenant_scope(tenant_a.id), Session(engine) as s:
            assert set(s.scalars(select(Division.tenant_id))) == {tenant_a.id}
            s.commit()
        with no_scope(), engine.connect() as conn:
            assert _settings(conn) in (("", runtime), (None, runtime))
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with platform_scope(), Session(engine) as s:
            assert s.scalar(text("SELECT current_user")) != runtime
            s.rollback()
        with tenant_scope(tenant_b.id), Session(engine) as s:
            assert set(s.scalars(select(Division.tenant_id))) == {tenant_b.id}
            # an error mid-transaction: the rollback takes the tenant with it
            with pytest.raises(DBAPIError):
                s.execute(text("SELECT 1/0"))
            s.rollback()
        with no_scope(), engine.connect() as conn:
            assert _settings(conn) in (("", runtime), (None, runtime))
            assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() == pid  # the same pooled connection
        # a savepoint rolled back undoes a switch made inside it; the hook sets the tenant again
        with tenant_scope(tenant_a.id), Session(engine) as s:
            s.execute(text("SELECT 1"))
            nested = s.begin_nested()
            with platform_scope():
                s.execute(text("SELECT 1"))
            nested.rollback()
            assert set(s.scalars(select(Division.tenant_id))) == {tenant_a.id}
            assert s.scalar(text("SELECT current_setting('app.tenant_id', true)")) == str(tenant_a.id)
            s.commit()
    finally:
        engine.dispose()


def test_requests_of_two_tenants_share_connections_not_tenants(app, client_for, tenant_a, tenant_b):
    from app.extensions import db

    a, b = client_for("a.admin"), client_for("b.admin")
    for _ in range(3):
        assert a.get("/divisions/list/").status_code == 200
        assert b.get("/divisions/list/").status_code == 200
    with app.app_context(), no_scope():
        with db.engine.connect() as conn:
            assert _settings(conn)[0] in ("", None)

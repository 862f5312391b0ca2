"""`flask rls status` tells an operator whether the database's own wall is up; `flask rls grant` repairs the
privileges of the app's roles."""
import os

import pytest
from sqlalchemy import create_engine, text

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")


def test_status_on_sqlite_says_it_is_postgresql_only(app):
    if ON_POSTGRES:
        pytest.skip("SQLite only")
    result = app.test_cli_runner().invoke(args=["rls", "status"])
    assert result.exit_code == 0 and "PostgreSQL" in result.output


@pytest.mark.skipif(not ON_POSTGRES, reason="row-level security is PostgreSQL's")
def test_status_reports_every_tenant_table_walled(app):
    result = app.test_cli_runner().invoke(args=["rls", "status"])
    assert result.exit_code == 0, result.output
    assert "app_web" in result.output and "BAD" not in result.output
    assert "ok   service_requests" in result.output


@pytest.mark.skipif(not ON_POSTGRES, reason="row-level security is PostgreSQL's")
def test_status_fails_when_a_table_loses_its_wall(app):
    owner = create_engine(app.config["DATABASE_OWNER_URL"])
    try:
        with owner.begin() as conn:
            conn.execute(text("ALTER TABLE divisions NO FORCE ROW LEVEL SECURITY"))
        result = app.test_cli_runner().invoke(args=["rls", "status"])
        assert result.exit_code == 1
        assert "BAD  divisions" in result.output
    finally:
        with owner.begin() as conn:
            conn.execute(text("ALTER TABLE divisions FORCE ROW LEVEL SECURITY"))
        owner.dispose()


@pytest.mark.skipif(not ON_POSTGRES, reason="row-level security is PostgreSQL's")
def test_grant_gives_back_lost_privileges_and_keeps_the_history_the_owners(app):
    from app.extensions import db

    owner = create_engine(app.config["DATABASE_OWNER_URL"])
    try:
        with owner.begin() as conn:
            conn.execute(text("REVOKE SELECT ON tenant_types FROM app_web"))
        with app.app_context(), db.engine.connect() as conn:
            assert not conn.execute(text("SELECT has_table_privilege('tenant_types', 'SELECT')")).scalar()
        result = app.test_cli_runner().invoke(args=["rls", "grant"])
        assert result.exit_code == 0, result.output
        assert "app_web, app_platform" in result.output
        with app.app_context(), db.engine.connect() as conn:
            assert conn.execute(text("SELECT has_table_privilege('tenant_types', 'SELECT')")).scalar()
            assert not conn.execute(text("SELECT has_table_privilege('alembic_version', 'UPDATE')")).scalar()
    finally:
        with owner.begin() as conn:
            conn.execute(text("GRANT SELECT ON tenant_types TO app_web"))
        owner.dispose()

"""`flask rls status` (is the second wall up, as the app connects?) and `flask rls grant` (the owner gives the app's
roles what they need on the tables the migrations made)."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

TENANT_TABLES = """
SELECT c.relname AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
       pg_get_userbyid(c.relowner) AS owner,
       array(SELECT p.polname::text FROM pg_policy p WHERE p.polrelid = c.oid ORDER BY 1) AS policies
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind = 'r'
  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
ORDER BY 1
"""


@click.group("rls", help="PostgreSQL row-level security: the database's own tenant wall.")
def rls_cli() -> None:
    pass


def _postgres_or_exit(url) -> None:
    if make_url(url).get_backend_name() != "postgresql":
        click.echo(_("Row-level security is a PostgreSQL feature; this database is %(name)s.",
                     name=make_url(url).get_backend_name()))
        sys.exit(0)


@rls_cli.command("status", help="Check, as the app connects (DATABASE_URL), that every tenant table is walled.")
@with_appcontext
def status() -> None:
    from app.extensions import db

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    _postgres_or_exit(url)
    problems = []
    with db.engine.connect() as conn:
        me = conn.execute(text(
            "SELECT current_user AS name, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
        tables = conn.execute(text(TENANT_TABLES)).all()
    click.echo(_("The app connects as %(role)s.", role=me.name))
    if me.rolsuper or me.rolbypassrls:
        problems.append(_("%(role)s is a superuser or bypasses row-level security.", role=me.name))
    for t in tables:
        ok = t.enabled and t.forced and "tenant_wall" in t.policies
        click.echo(f"{'ok ' if ok else 'BAD'}  {t.name:32} owner={t.owner} policies={','.join(t.policies) or '-'}")
        if not ok:
            problems.append(_("%(table)s has no forced tenant wall.", table=t.name))
        if t.owner == me.name:
            problems.append(_("%(table)s is owned by the app's own role.", table=t.name))
    platform = current_app.config.get("DATABASE_PLATFORM_ROLE")
    if not platform:
        problems.append(_("DATABASE_PLATFORM_ROLE is not set: platform-wide work will see no tenant's rows."))
    click.echo(_("%(count)s tenant tables.", count=len(tables)))
    for problem in problems:
        click.echo(problem, err=True)
    sys.exit(1 if problems else 0)


@rls_cli.command("grant", help="As the owner (DATABASE_OWNER_URL): give the app's role and the platform role "
                               "their privileges on every table, now and for tables made later.")
@with_appcontext
def grant() -> None:
    owner_url = current_app.config.get("DATABASE_OWNER_URL")
    if not owner_url:
        click.echo(_("Set DATABASE_OWNER_URL (the role that owns the tables) first."), err=True)
        sys.exit(2)
    _postgres_or_exit(owner_url)
    runtime = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).username
    platform = current_app.config.get("DATABASE_PLATFORM_ROLE")
    roles = [r for r in (runtime, platform) if r]
    engine = create_engine(owner_url)
    try:
        with engine.begin() as conn:
            owner = conn.execute(text("SELECT current_user")).scalar()
            if runtime == owner:
                click.echo(_("DATABASE_URL connects as the owner %(role)s: row-level security needs a role that "
                             "owns nothing.", role=owner), err=True)
                sys.exit(2)
            grantees = ", ".join(_ident(conn, r) for r in roles)
            conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {grantees}"))
            conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {grantees}"))
            conn.execute(text(f"ALTER DEFAULT PRIVILEGES FOR ROLE {_ident(conn, owner)} IN SCHEMA public "
                              f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {grantees}"))
            conn.execute(text(f"ALTER DEFAULT PRIVILEGES FOR ROLE {_ident(conn, owner)} IN SCHEMA public "
                              f"GRANT USAGE, SELECT ON SEQUENCES TO {grantees}"))
            # the migration history is the owner's alone
            conn.execute(text(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {grantees}"))
            added = 0
            if platform:
                for t in conn.execute(text(TENANT_TABLES)).all():
                    if t.enabled and "platform_path" not in t.policies:
                        conn.execute(text(f"CREATE POLICY platform_path ON {_ident(conn, t.name)} TO "
                                          f"{_ident(conn, platform)} USING (true) WITH CHECK (true)"))
                        added += 1
    finally:
        engine.dispose()
    click.echo(_("Granted to %(roles)s; %(count)s platform policies added.", roles=", ".join(roles), count=added))


def _ident(conn, name: str) -> str:
    return conn.execute(text("SELECT quote_ident(:n)"), {"n": name}).scalar()

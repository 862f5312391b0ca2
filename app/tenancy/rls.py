"""The second wall: PostgreSQL row-level security under the ORM guard.

Every tenant table has RLS enabled and forced, with a policy on tenant_id against the transaction-local setting
`app.tenant_id` (see POLICY_* below, used by the migrations). Before the first statement of a transaction, and again
whenever the unit of work's scope changes inside one, the connection is told the current tenant with
`set_config(..., true)`: local to the transaction, so a pooled connection cannot carry one request's tenant into the
next. The platform path (platform_scope) switches the transaction to the platform role, a separate role that the
runtime role may only become by switching (NOINHERIT); every entry is logged by platform_scope.

Nothing here runs on SQLite."""
from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.tenancy.context import current_scope

log = logging.getLogger(__name__)

SETTING = "app.tenant_id"
_KEY = "tenant_rls_state"
_DEFAULT = ("", None)  # what a fresh transaction holds: no tenant, the connection's own role
_UNKNOWN = object()
_SAVEPOINT_CONTROL = ("SAVE", "RELE", "ROLL")  # after a savepoint rollback, or outside a transaction we saw begin

# The policies of the migrations. CURRENT is NULL (no rows) when no tenant is set.
CURRENT = f"NULLIF(current_setting('{SETTING}', true), '')::integer"
TENANT_POLICY = f"tenant_id = {CURRENT}"
SHARED_POLICY = f"(tenant_id = {CURRENT} OR partner_tenant_id = {CURRENT})"
# users are read (and their login stamps written) before a tenant is known, as the ORM guard allows; an
# operator (no tenant) working inside a tenant stays readable to reload their own row, never writable there
USER_POLICY = f"({CURRENT} IS NULL OR tenant_id = {CURRENT} OR tenant_id IS NULL)"
USER_CHECK = f"({CURRENT} IS NULL OR tenant_id = {CURRENT})"


def _wanted(platform_role: str | None) -> tuple[str, str | None]:
    scope = current_scope()
    if scope is None:
        return _DEFAULT
    if scope.platform:
        return ("", platform_role)
    return (str(scope.tenant_id) if scope.tenant_id is not None else "", None)


def _marker(conn) -> None:
    """Marks an engine whose transactions are told their tenant."""


def install(engine: Engine, platform_role: str | None) -> None:
    """Tell every transaction of this engine its tenant. Idempotent per engine."""
    if engine.dialect.name != "postgresql" or event.contains(engine, "begin", _marker):
        return
    event.listen(engine, "begin", _marker)

    @event.listens_for(engine, "before_cursor_execute")
    def _set_tenant(conn, cursor, statement, parameters, context, executemany):
        wanted = _wanted(platform_role)
        if conn.info.get(_KEY, _UNKNOWN) == wanted or statement[:4] in _SAVEPOINT_CONTROL:
            # SAVEPOINT, RELEASE and ROLLBACK TO touch no rows; a setting made just before ROLLBACK TO would be
            # undone by it while we believed it held
            return
        # a cursor of its own: the statement's cursor may be a server-side one
        with cursor.connection.cursor() as own:
            own.execute(
                "SELECT set_config(%s, %s, true), set_config('role', %s, true)",
                (SETTING, wanted[0], wanted[1] or "none"),
            )
        conn.info[_KEY] = wanted

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.info[_KEY] = _DEFAULT

    def _forget(conn, *args):
        if conn.invalidated:
            return  # the server connection was lost: its info went with it, and reading it would raise
        conn.info.pop(_KEY, None)

    event.listen(engine, "commit", _forget)
    event.listen(engine, "rollback", _forget)

    @event.listens_for(engine, "rollback_savepoint")
    def _savepoint_rolled_back(conn, name, context):
        conn.info[_KEY] = _UNKNOWN  # settings made inside the savepoint are undone

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_connection, record):
        record.info.pop(_KEY, None)


# --- migrations ------------------------------------------------------------------------------------------------


def enable(op, table: str, using: str = TENANT_POLICY, check: str | None = None) -> None:
    """Row-level security on one table (PostgreSQL only): enabled, forced (the owner too), the tenant wall,
    and the platform path for the platform role when that role exists."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"DROP POLICY IF EXISTS tenant_wall ON {table}")
    op.execute(f"CREATE POLICY tenant_wall ON {table} USING ({using}) WITH CHECK ({check or using})")
    op.execute(f"DROP POLICY IF EXISTS platform_path ON {table}")
    role = _platform_role_literal()
    op.execute(
        "DO $$ BEGIN "
        f"IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {role}) THEN "
        f"EXECUTE 'CREATE POLICY platform_path ON {table} TO ' || quote_ident({role}) "
        "|| ' USING (true) WITH CHECK (true)'; END IF; END $$"
    )


def disable(op, table: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP POLICY IF EXISTS platform_path ON {table}")
    op.execute(f"DROP POLICY IF EXISTS tenant_wall ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def _platform_role_literal() -> str:
    from flask import current_app

    role = current_app.config.get("DATABASE_PLATFORM_ROLE") or ""
    return "'" + role.replace("'", "''") + "'"

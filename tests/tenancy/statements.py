"""Test helper: count the SQL statements a block sends (SQLAlchemy's before_cursor_execute on the engine)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import event


@contextmanager
def counting(engine) -> Iterator[list[str]]:
    """with counting(db.engine) as seen: ...  -> seen holds every statement sent, in order (on PostgreSQL
    the tenant's set_config for row-level security included: it is part of the page's cost)."""
    from app.tenancy import rls

    seen: list[str] = []
    last: dict[int, object] = {}

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    def tenant_setting(conn, cursor, statement, *args):
        # Row-level security sets the tenant on a DBAPI cursor of its own (no event sees it) just before a
        # statement, and records a fresh tuple on the connection each time it does: a new tuple here, after
        # the statement, means one set_config more. (begin/commit only reset it to _DEFAULT or drop it.)
        state = conn.info.get(rls._KEY)
        if isinstance(state, tuple) and state is not rls._DEFAULT and state is not last.get(id(conn)):
            seen.insert(len(seen) - 1, "SELECT set_config('app.tenant_id', ...)  -- row-level security")
        last[id(conn)] = state

    event.listen(engine, "before_cursor_execute", count)
    event.listen(engine, "after_cursor_execute", tenant_setting)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)
        event.remove(engine, "after_cursor_execute", tenant_setting)


def page_statements(app, client, url: str):
    """(statements, response) of one GET, after one warm-up GET (FAB fills per-process caches once)."""
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    client.get(url)
    with counting(engine) as seen:
        response = client.get(url)
    return seen, response

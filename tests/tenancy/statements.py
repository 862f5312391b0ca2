"""Test helper: count the SQL statements a block sends (SQLAlchemy's before_cursor_execute on the engine)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import event


@contextmanager
def counting(engine) -> Iterator[list[str]]:
    """with counting(db.engine) as seen: ...  -> seen holds every statement sent, in order (on PostgreSQL
    the tenant's set_config for row-level security included: it is part of the page's cost)."""
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def page_statements(app, client, url: str):
    """(statements, response) of one GET, after one warm-up GET (FAB fills per-process caches once)."""
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    client.get(url)
    with counting(engine) as seen:
        response = client.get(url)
    return seen, response

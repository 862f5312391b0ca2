"""End a successful read-only request with COMMIT instead of ROLLBACK (issue #10, docs/profile-2026-12.md fix 3).

Why: Flask-SQLAlchemy ends every request with a rollback (`session.remove()`), and psycopg clears its whole
prepared-statement cache on ROLLBACK, so the statements a page sends again and again are never prepared and are
planned afresh on every request. A COMMIT keeps the cache: the profile measured 42-65 % less SQL time per page.

What: at app-context teardown, before Flask-SQLAlchemy's (registered after `db.init_app`, so it runs first), the
request's transaction is committed only when all of these hold, else it is left to today's rollback:
- the request raised nothing that reached Flask's teardown;
- the session has nothing new, dirty or deleted, and no savepoint is still open;
- nothing was written in the transaction: no flush (session event), no INSERT/UPDATE/DELETE or other non-read
  statement through the session (ORM execute event) or on its connections (engine event: every statement that is
  not a SELECT, SHOW, plain WITH ... SELECT or savepoint command counts as a write), and no statement failed;
- nothing waits for a commit: no task queued by app.tasks.after_commit (webhooks, e-mail, portal notices) and no
  after-commit listener of the session's own (file removal of app.saraban.retention).
A write that was flushed and then undone (a savepoint rolled back, a handled error) still counts: such a request
is rolled back as before, never committed. A committed read sends nothing: nothing was queued.

Row-level security (app/tenancy/rls.py) is unaffected: the tenant is set with set_config(..., true), local to the
transaction, so COMMIT clears it as ROLLBACK does, and rls forgets its state on both.

Switch: READ_ONLY_COMMIT (default on). Off for PgBouncer in transaction mode: prepared statements that outlive a
transaction are not on the next server connection PgBouncer picks.
Only requests: CLI commands and Celery tasks keep ending their units of work as they always did."""
from __future__ import annotations

import logging
import re

from flask import Flask, g
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

log = logging.getLogger(__name__)

CONFIG = "READ_ONLY_COMMIT"
WROTE = "read_commit_wrote"  # session.info / connection.info: the current transaction wrote (or failed)
_CONNECTIONS = "read_commit_connections"  # session.info: the connections of the current transaction
_REQUEST = "_read_commit_request"  # g: this app context carries a request
_READ_HEADS = ("select", "show", "savepoint", "release", "rollback")  # rollback: ROLLBACK TO SAVEPOINT
_DML = re.compile(r"\b(insert|update|delete|merge)\b", re.IGNORECASE)

_session_events = False


def is_read(statement: str) -> bool:
    """True for a statement that changes no row: SELECT, SHOW, a WITH query without INSERT/UPDATE/DELETE/MERGE,
    and the savepoint commands. Anything else (DML, DDL, SET, LOCK, PRAGMA, ...) counts as a write."""
    head = statement[:40].lstrip()[:10].lower()
    if head.startswith(_READ_HEADS):
        return True
    return head.startswith("with") and _DML.search(statement) is None


def mark_written(session: Session) -> None:
    """Tell the teardown that this transaction wrote something no statement shows (a function with side effects
    called from a SELECT): it is then rolled back or committed by its own code, never by the teardown."""
    session.info[WROTE] = True


# --- tracking ------------------------------------------------------------------------------------------------


def _install_session_events() -> None:
    global _session_events
    if _session_events:
        return
    _session_events = True

    @event.listens_for(Session, "after_begin")
    def _began(session, transaction, connection):
        session.info.setdefault(_CONNECTIONS, []).append(connection)

    @event.listens_for(Session, "after_flush")
    def _flushed(session, flush_context):
        session.info[WROTE] = True  # fires only when the flush had something to write

    @event.listens_for(Session, "do_orm_execute")
    def _executed(state: ORMExecuteState):
        if state.is_insert or state.is_update or state.is_delete:
            state.session.info[WROTE] = True

    @event.listens_for(Session, "after_transaction_end")
    def _ended(session, transaction):
        if transaction.parent is None:  # the whole unit of work ended; a savepoint's end keeps what it did
            session.info.pop(WROTE, None)
            session.info.pop(_CONNECTIONS, None)


def _install_engine_events(engine) -> None:
    if event.contains(engine, "before_cursor_execute", _statement):
        return
    event.listen(engine, "begin", _begin)
    event.listen(engine, "before_cursor_execute", _statement)
    event.listen(engine, "handle_error", _failed)


def _begin(conn) -> None:
    conn.info[WROTE] = False


def _statement(conn, cursor, statement, parameters, context, executemany) -> None:
    if executemany or not is_read(statement):
        conn.info[WROTE] = True


def _failed(exception_context) -> None:
    conn = exception_context.connection
    if conn is not None and not conn.invalidated:
        conn.info[WROTE] = True  # a failed statement may leave PostgreSQL's transaction aborted: roll it back


# --- the decision ----------------------------------------------------------------------------------------------


def committable(session: Session) -> bool:
    """Whether ending this session's transaction with COMMIT can change nothing but the prepared statements."""
    transaction = session.get_transaction()
    if transaction is None or not transaction.is_active or session.in_nested_transaction():
        return False
    if session.new or session.dirty or session.deleted or session.info.get(WROTE):
        return False
    from app.tasks import AFTER_COMMIT

    if session.info.get(AFTER_COMMIT):
        return False  # something would be sent on commit that today's rollback drops
    if getattr(session.dispatch.after_commit, "listeners", None):
        return False  # an after-commit listener of this session's own (files removed once rows are committed)
    connections = session.info.get(_CONNECTIONS) or ()
    if not connections:
        return False  # nothing was sent: nothing to keep
    return all(not c.closed and not c.invalidated and c.info.get(WROTE) is False and c.in_transaction()
               for c in connections)


def _mark_request() -> None:
    g._read_commit_request = True


def _teardown(exc: BaseException | None) -> None:
    from app.extensions import db

    if exc is not None or not g.pop(_REQUEST, False) or not db.session.registry.has():
        return  # Flask-SQLAlchemy's remove() rolls back, as before
    session = db.session()
    if not committable(session):
        return
    try:
        session.commit()
    except Exception:  # the rollback that follows (remove) is today's behaviour: log, never fail the response
        log.warning("read-only commit failed; rolled back", exc_info=True)
        try:
            session.rollback()
        except Exception:  # noqa: BLE001  (remove() closes the session whatever happens)
            pass


def init_app(app: Flask) -> None:
    """Call right after db.init_app(app): teardown functions run in reverse order of registration, so this one
    then runs before Flask-SQLAlchemy's session removal."""
    if not app.config.get(CONFIG, True):
        return
    from app.extensions import db

    _install_session_events()
    with app.app_context():
        for engine in db.engines.values():
            _install_engine_events(engine)
    app.before_request(_mark_request)
    app.teardown_appcontext(_teardown)

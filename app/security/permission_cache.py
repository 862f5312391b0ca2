"""What each role may do, cached in the process and stamped with the permissions version.

The (view, permission) pairs of a role change rarely; reading them with every signed-in user cost a 16-table join
per request. Here each process keeps them per role id, together with the counter of `permissions_version` they were
read under. The counter is read in the same statement as the signed-in user (a scalar subquery), so knowing whether
the cache still holds costs no round trip; when another process (or this one) changed roles or permissions, its
transaction bumped the counter, the next request of every process reads the new number and the cache starts over.

The counter is bumped in the transaction that makes the change, by a session listener: any new, deleted or
changed Role, PermissionView, Permission or ViewMenu (FAB's add/del permission role, its security screens and
`flask fab` commands, the seeds), and any Core INSERT/UPDATE/DELETE sent through a session on their tables. SQL that
goes around the ORM session (psql, a raw connection) must raise the counter itself (bump(), or
`UPDATE permissions_version SET version = version + 1`), otherwise processes keep the old answer until the next
change.

Which roles a user holds (ab_user_role, ab_user_group) is not cached: it is read with the user on every request.
"""
from __future__ import annotations

import threading
from itertools import chain
from typing import Callable, Iterable, Optional

from flask_appbuilder.security.sqla.models import Permission, PermissionView, Role, ViewMenu
from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import ORMExecuteState, Session

from app.security.models import PermissionsVersion

ROW_ID = 1
WATCHED_CLASSES = (Role, PermissionView, Permission, ViewMenu)
WATCHED_TABLES = frozenset({"ab_role", "ab_permission", "ab_view_menu", "ab_permission_view",
                            "ab_permission_view_role"})
CHANGED = "permissions_version_bumped"  # session.info: this transaction changed permissions (not committed yet)

Pairs = frozenset  # of (view name, permission name)


def version_column():
    """The counter as a scalar subquery, to add to the statement that loads the signed-in user."""
    return select(PermissionsVersion.version).where(PermissionsVersion.id == ROW_ID).scalar_subquery()


def read_version(session: Session) -> Optional[int]:
    return session.scalar(select(PermissionsVersion.version).where(PermissionsVersion.id == ROW_ID))


def bump(session: Session) -> None:
    """Raise the counter in the session's transaction: every process drops its cached permissions once this commits."""
    _bump(session)


def _bump(session: Session) -> None:
    if session.info.get(CHANGED):
        return  # once per transaction is enough (and keeps the row lock short to take)
    session.info[CHANGED] = True
    # Core on the session's connection: no ORM events, so no recursion through the listeners below
    session.connection().execute(
        update(PermissionsVersion.__table__).where(PermissionsVersion.__table__.c.id == ROW_ID)
        .values(version=PermissionsVersion.__table__.c.version + 1)
    )


def changed_in_transaction(session: Session) -> bool:
    """This session changed permissions in its open transaction: its answers must not go into the shared cache."""
    return bool(session.info.get(CHANGED))


def _after_flush(session: Session, flush_context) -> None:
    if session.info.get(CHANGED):
        return
    for obj in chain(session.new, session.deleted):
        if isinstance(obj, WATCHED_CLASSES):
            _bump(session)
            return
    for obj in session.dirty:
        if isinstance(obj, WATCHED_CLASSES) and _changes_permissions(obj):
            _bump(session)
            return


# who holds a role is read with the user on every request, so these sides of a role do not concern the cache (and a
# grant or revoke of a membership, which sets user.roles, takes no lock on the counter row)
_ASSIGNMENTS = {"user", "groups"}


def _changes_permissions(obj) -> bool:
    state = inspect(obj)
    ignored = _ASSIGNMENTS if isinstance(obj, Role) else ()
    return any(state.attrs[attr.key].history.has_changes()
               for attr in state.mapper.attrs if attr.key not in ignored)


def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in WATCHED_TABLES:
        _bump(state.session)


def _transaction_ended(session: Session, *args) -> None:
    session.info.pop(CHANGED, None)


_installed = False


def install() -> None:
    """Listen on every session (idempotent)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _on_execute)
    event.listen(Session, "after_commit", _transaction_ended)
    event.listen(Session, "after_rollback", _transaction_ended)
    _installed = True


class RoleCache:
    """Per process: role id -> Pairs, valid for one value of the counter. Thread-safe (gunicorn threads).

    A request uses the cache only under the counter it read itself. A higher counter empties the cache; a request
    holding an older one (it read before a change committed) answers from its own reads and leaves the cache alone,
    so rows read before a change never go into the cache under the number that follows it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: Optional[int] = None
        self._pairs: dict = {}

    def clear(self) -> None:
        with self._lock:
            self._version, self._pairs = None, {}

    @property
    def version(self) -> Optional[int]:
        return self._version

    def get(self, version: Optional[int], keys: Iterable, load: Callable[[list], dict]) -> dict:
        """{key: Pairs} for the keys; load(missing keys) reads the rest from the database."""
        keys = list(dict.fromkeys(keys))
        found: dict = {}
        usable = False
        if version is not None:
            with self._lock:
                if self._version is None or version > self._version:
                    self._version, self._pairs = version, {}
                usable = self._version == version
                if usable:
                    found = {k: self._pairs[k] for k in keys if k in self._pairs}
        missing = [k for k in keys if k not in found]
        if missing:
            loaded = load(missing)
            loaded = {k: frozenset(loaded.get(k, ())) for k in missing}
            if usable:
                with self._lock:
                    if self._version == version:
                        self._pairs.update(loaded)
            found.update(loaded)
        return found


"""Paging by key for deep pages (DESIGN.md speed rules): past the first pages a list goes on from the last
row it showed, `WHERE (col, id) < (:c, :i) ORDER BY col DESC, id DESC LIMIT n`, instead of OFFSET, so a page
deep in a large tenant costs what the first page costs.

The key travels in the URL (`?_after=...`), signed with the app's secret and bound to the list, its order
and the tenant: a tampered, foreign or stale key is refused with a message (never a 500), and even a valid
key only moves the start of a query the tenant wall still filters."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Iterator, Optional

from app.tenancy.errors import UserError

ARG = "_after"
_SALT = "keyset-page-v1"


class BadPageKey(UserError):
    """A page key that is not ours, was changed, or belongs to another list, order or organisation."""

    status = 400

    def __init__(self):
        from flask_babel import gettext as _

        super().__init__(_("This page link is not valid (changed, or made for another list or order). "
                           "Start again from the first page."))


@dataclass
class Keyset:
    """One list request's paging by key: the order it holds for, where to start (after), and, filled in by
    TenantInterface.query, the key of the last row of a full page (where the next page starts)."""

    list_name: str
    order_column: str
    direction: str
    after: Optional[tuple[Any, Any]] = None
    next: Optional[tuple[Any, Any]] = None

    def token(self, key: tuple[Any, Any]) -> str:
        from itsdangerous import URLSafeSerializer

        return _serializer(URLSafeSerializer).dumps(
            [self.list_name, _tenant(), self.order_column, self.direction, _encode(key[0]), _encode(key[1])]
        )

    @property
    def next_token(self) -> Optional[str]:
        return self.token(self.next) if self.next is not None else None


_current: ContextVar[Optional[Keyset]] = ContextVar("keyset", default=None)


def current() -> Optional[Keyset]:
    return _current.get()


@contextmanager
def paging(keyset: Optional[Keyset]) -> Iterator[Optional[Keyset]]:
    """The list query inside this block pages by this key (TenantInterface.query reads it)."""
    reset = _current.set(keyset)
    try:
        yield keyset
    finally:
        _current.reset(reset)


def _tenant() -> Optional[int]:
    from app.tenancy.context import current_tenant_id

    return current_tenant_id()


def _serializer(cls):
    from flask import current_app

    return cls(current_app.secret_key, salt=_SALT)


def _encode(value: Any) -> list:
    if isinstance(value, bool) or value is None:
        raise ValueError("no key for this value")
    if isinstance(value, int):
        return ["i", value]
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, date):
        return ["d", value.isoformat()]
    if isinstance(value, Decimal):
        return ["n", str(value)]
    raise ValueError(f"no key for {type(value).__name__}")


def _decode(item: Any) -> Any:
    kind, raw = item
    if kind == "i" and isinstance(raw, int) and not isinstance(raw, bool) and -2**63 <= raw < 2**63:
        return raw
    if kind == "t" and isinstance(raw, str):
        return datetime.fromisoformat(raw)
    if kind == "d" and isinstance(raw, str):
        return date.fromisoformat(raw)
    if kind == "n" and isinstance(raw, str):
        value = Decimal(raw)
        if value.is_finite():
            return value
    raise ValueError("bad key value")


def keyable(datamodel, order_column: str) -> bool:
    """Lists ordered by the primary key, or by a NOT NULL number/date column of the model itself (with the
    primary key as tie breaker: a unique (column, id)), can page by key. Text orders (Thai collation) and
    related columns keep the numbered pager only."""
    if not order_column or "." in order_column or datamodel.is_pk_composite():
        return False
    if order_column == datamodel.get_pk_name():
        return True
    column = datamodel.list_columns.get(order_column)
    if column is None or datamodel.is_relation(order_column) or column.nullable:
        return False
    return any(check(order_column) for check in (
        datamodel.is_integer, datamodel.is_date, datamodel.is_datetime, datamodel.is_numeric))


def read(token: Optional[str], list_name: str, order_column: str, direction: str) -> Optional[Keyset]:
    """The Keyset of a request: None when the list cannot page by key; BadPageKey for a key that is not
    a valid one of this list, order and organisation."""
    keyset = Keyset(list_name, order_column, "asc" if direction == "asc" else "desc")
    if not token:
        return keyset
    from itsdangerous import BadData, URLSafeSerializer

    try:
        payload = _serializer(URLSafeSerializer).loads(token)
        name, tenant, column, order, value, pk = payload
        if [name, tenant, column, order] != [list_name, _tenant(), order_column, keyset.direction]:
            raise ValueError("key of another list, organisation or order")
        keyset.after = (_decode(value), _decode(pk))
    except (BadData, ValueError, TypeError, InvalidOperation, OverflowError):
        raise BadPageKey() from None
    return keyset

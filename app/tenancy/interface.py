"""The one SQLAInterface subclass every view and API uses. Reads pass through the ORM guard; this class
hides the tenant column from every form, schema and filter, and turns write errors into user messages."""
from __future__ import annotations

from typing import Any, Optional

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.utils.base import is_column_dotted
from sqlalchemy import asc, desc, func, literal, select, tuple_
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from app.tenancy.context import CrossTenantWrite, TenantNotSet
from app.tenancy.errors import UserError, translate_write_error
from app.tenancy.filters import ThaiFilterConverter

HIDDEN_COLUMNS = ("tenant", "tenant_id")
# Lists count exactly only up to this many rows, then say "1,000+"; no page starts beyond it (OFFSET).
COUNT_CAP = 1000


class CappedCount(int):
    """A record count past the cap: arithmetic sees CAP + 1 (FAB's pager), people read "1,000+"."""

    def __str__(self) -> str:
        return f"{COUNT_CAP:,}+"

    def __html__(self) -> str:
        from flask_babel import gettext as _
        from markupsafe import Markup, escape

        return Markup('{} <small class="text-muted">({})</small>').format(
            str(self), escape(_("more than %(count)s; narrow your search for an exact count", count=f"{COUNT_CAP:,}"))
        )


class DeepPage(UserError):
    """A page that starts beyond the counting cap: the way on is a narrower search or another order."""

    status = 400

    def __init__(self):
        from flask_babel import gettext as _

        super().__init__(_("Only the first %(count)s records can be paged through. Narrow your search or "
                           "change the order to reach the others.", count=f"{COUNT_CAP:,}"))
# Thai dictionary order for text columns: ICU on PostgreSQL, our own collation on SQLite (app/__init__.py)
THAI_COLLATIONS = {"postgresql": "th-TH-x-icu", "sqlite": "thai"}


class TenantInterface(SQLAInterface):
    filter_converter_class = ThaiFilterConverter

    def __init__(self, obj, session=None):
        super().__init__(obj, session)
        self.eager_relations: tuple[str, ...] = ()
        self.shown_columns: tuple[str, ...] = ()

    def eager_load(self, columns) -> "TenantInterface":
        """Relations a list shows are loaded with the page (one query each), not once per row."""
        self.shown_columns = tuple(name for name in columns or [] if isinstance(name, str))
        self.eager_relations = tuple(
            name for name in columns or []
            if isinstance(name, str) and name in self.list_properties and self.is_relation(name)
            and self.list_properties[name].lazy in (True, "select")  # joined/selectin ones already are
        )
        return self

    def apply_all(self, query, filters=None, order_column="", order_direction="", page=None,
                  page_size=None, select_columns=None, outer_default_load=False):
        query = super().apply_all(
            query, filters, order_column, order_direction, page, page_size, select_columns, outer_default_load
        )
        # with select_columns (REST lists) FAB joins the relations itself
        if self.eager_relations and not select_columns:
            query = query.options(*(selectinload(getattr(self.obj, name)) for name in self.eager_relations))
        return query

    def query(self, filters=None, order_column="", order_direction="", page=None, page_size=None,
              select_columns=None, outer_default_load=False):
        """FAB's query with the speed rules: a capped count (at most COUNT_CAP + 1 rows are counted, by a
        LIMIT subquery), no count at all when every row is fetched anyway (dropdowns), and no OFFSET beyond
        the cap (DeepPage)."""
        paged = bool(page_size)
        from app.tenancy import keyset as keys

        keyset = keys.current() if paged else None
        if keyset is not None and (keyset.order_column, keyset.direction) != (
                order_column, "asc" if order_direction == "asc" else "desc"):
            keyset = None  # not the order the key was made for (the caller checks; never applied blindly)
        if keyset is not None and keyset.after is not None:
            page = None  # by key: no OFFSET at all, however deep
        if paged and (page or 0) * page_size > COUNT_CAP:
            raise DeepPage()
        query = self.session.query(self.obj)
        count_stmt = None
        if paged:
            inner = self._apply_inner_all(query, filters, select_columns=select_columns, aliases_mapping={})
            # the whole entity stays in the subquery: the tenant guard's criteria attach to entities, and a
            # column-only subquery would be counted without them
            capped = inner.order_by(None).limit(COUNT_CAP + 1).subquery()
            count_stmt = select(func.count()).select_from(capped)
        if keyset is not None and keyset.after is not None:
            query = query.filter(self._after_clause(keyset))
        if paged and page:
            # a page past the first: its ids found first by the filters and the order alone (an index walk over
            # the skipped rows), then only those rows loaded with their joins ("deferred join"): OFFSET no longer
            # builds every skipped row's related rows
            query = query.filter(self.get_pk().in_(self._page_ids(filters, order_column, order_direction, page,
                                                                  page_size)))
            page = None
        query = self.apply_all(query, filters, order_column, order_direction, page, page_size, select_columns,
                               outer_default_load)
        if not select_columns:
            query = query.options(*self.list_loads())
        count = None
        to_many = bool(select_columns) and self.exists_col_to_many(select_columns)
        if count_stmt is not None and not to_many:
            # the capped count rides along with the page's rows: one statement for both
            rows = query.add_columns(count_stmt.scalar_subquery().label("_capped_count")).all()
            name = self.obj.__name__
            if all(hasattr(row, name) for row in rows):
                result = [getattr(row, name) for row in rows]
            else:  # as FAB: rows that are not this model come back as they are (without the count)
                result = [tuple(row)[:-1] for row in rows]
            if rows:
                count = rows[0]._capped_count
            elif not page:
                count = 0
            else:
                count = self.session.scalar(count_stmt) or 0
        else:
            if count_stmt is not None:
                count = self.session.scalar(count_stmt) or 0
            rows = query.all()
            result = []
            for item in rows:
                if hasattr(item, self.obj.__name__):
                    result.append(getattr(item, self.obj.__name__))
                else:
                    result = rows
                    break
        if count is not None and count > COUNT_CAP:
            count = CappedCount(COUNT_CAP + 1)
        if keyset is not None and result and len(result) == page_size:
            keyset.next = self._key_of(result[-1], keyset)
        return (len(result) if count is None else count), result

    def _page_ids(self, filters, order_column, order_direction, page, page_size):
        """The ids of one page (OFFSET/LIMIT) as a subquery: the entity itself stays in its FROM, so the tenant
        guard's criteria attach to it as to every read."""
        ids = SQLAInterface.apply_all(self, self.session.query(self.obj), filters, order_column, order_direction,
                                      page, page_size)
        return ids.with_entities(self.get_pk()).scalar_subquery()

    def list_loads(self) -> tuple:
        """The model's own loader options for a list page (`list_loads_for(shown columns)`, e.g. a matter's
        version without its form JSON: app/catalog/models.py), applied to lists only: get() (the detail page,
        edit forms) keeps the model's default loads."""
        hook = getattr(self.obj, "list_loads_for", None)
        return tuple(hook(self.shown_columns)) if hook is not None else ()

    def _after_clause(self, keyset):
        """WHERE (col, id) < (:c, :i) for newest first (> for oldest first); the primary key alone when the
        list is ordered by it. With tenant_id = :t from the tenant wall, a tenant_id-led index serves it."""
        pk = self.get_pk()
        value, pk_value = keyset.after
        if keyset.order_column == self.get_pk_name():
            return pk > value if keyset.direction == "asc" else pk < value
        left = tuple_(self.list_columns[keyset.order_column], pk)
        right = tuple_(literal(value, type_=self.list_columns[keyset.order_column].type),
                       literal(pk_value, type_=pk.type))
        return left > right if keyset.direction == "asc" else left < right

    def _key_of(self, item, keyset):
        """(order value, primary key) of a row, read only if already loaded (never one more statement)."""
        loaded = sa_inspect(item).dict if hasattr(item, "_sa_instance_state") else {}
        pk_name = self.get_pk_name()
        if pk_name not in loaded or keyset.order_column not in loaded or loaded[keyset.order_column] is None:
            return None
        key = (loaded[keyset.order_column], loaded[pk_name])
        try:
            keyset.token(key)
        except ValueError:
            return None
        return key

    def _visible(self, columns: list[str]) -> list[str]:
        return [c for c in columns if c not in HIDDEN_COLUMNS]

    def get_columns_list(self) -> list[str]:
        return self._visible(super().get_columns_list())

    def get_user_columns_list(self) -> list[str]:
        return self._visible(super().get_user_columns_list())

    def get_search_columns_list(self) -> list[str]:
        return self._visible(super().get_search_columns_list())

    def get_order_columns_list(self, list_columns: list[str] = None) -> list[str]:
        return self._visible(super().get_order_columns_list(list_columns=list_columns))

    def is_nullable(self, col_name: str) -> bool:
        # An unticked checkbox is False, not missing: FAB would mark NOT NULL booleans as required.
        if col_name in self.list_columns and self.is_boolean(col_name):
            return True
        return super().is_nullable(col_name)

    def apply_order_by(self, query, order_column, order_direction, aliases_mapping=None,
                       bypass_many_to_many=False, add_pk=False):
        collation = THAI_COLLATIONS.get(self.session.get_bind().dialect.name)
        if (
            collation and order_column and not is_column_dotted(order_column)
            and order_column in self.list_columns and self.is_string(order_column)
        ):
            direction = asc if order_direction == "asc" else desc
            columns = [direction(self.list_columns[order_column].collate(collation))]
            pk = self.get_pk()
            if add_pk and pk is not None:
                columns.append(direction(pk))
            return query.order_by(*columns)
        return super().apply_order_by(
            query, order_column, order_direction, aliases_mapping=aliases_mapping,
            bypass_many_to_many=bypass_many_to_many, add_pk=add_pk,
        )

    def _coerce_pk(self, value: Any) -> Any:
        """A malformed id is "not found", not a database error."""
        if self.is_pk_composite():
            return value
        pk = self.get_pk_name()
        column = self.list_columns.get(pk)
        try:
            python_type = column.type.python_type if column is not None else None
        except NotImplementedError:
            python_type = None
        if python_type is int:
            number = int(value)
            # beyond the database's integer range no row can match: not found, not a database error
            limit = 2**63 if "BIG" in str(column.type).upper() else 2**31
            if not -limit <= number < limit:
                raise ValueError("id out of range")
            return number
        return value

    def get(self, id: Any, filters=None, select_columns=None, outer_default_load=False):
        try:
            id = self._coerce_pk(id)
        except (TypeError, ValueError):
            return None
        return super().get(
            id, filters=filters, select_columns=select_columns, outer_default_load=outer_default_load
        )

    def get_related_obj(self, col_name: str, value: Any) -> Optional[Any]:
        rel_model = self.get_related_model(col_name)
        related = TenantInterface(rel_model, self._session)
        try:
            return self.session.get(rel_model, related._coerce_pk(value))
        except (TypeError, ValueError):
            return None

    def _write(self, action, item, commit: bool) -> None:
        try:
            action(item)
            if commit:
                self.session.commit()
        except (SQLAlchemyError, CrossTenantWrite, TenantNotSet) as ex:
            self.session.rollback()
            raise translate_write_error(ex) from ex

    def add(self, item, commit: bool = True) -> None:
        self._write(self.session.add, item, commit)

    def edit(self, item, commit: bool = True) -> None:
        self._write(self.session.merge, item, commit)

    def delete(self, item, commit: bool = True) -> None:
        def _delete(obj):
            self._delete_files(obj)
            self.session.delete(obj)

        self._write(_delete, item, commit)

    def delete_all(self, items: list) -> None:
        def _delete_all(objs):
            for obj in objs:
                self._delete_files(obj)
                self.session.delete(obj)

        self._write(_delete_all, items, True)

"""Base classes for every FAB view and REST API: the tenant wall's interface, hidden tenant columns,
translated errors that keep the user's input, and related ids that must already exist in this tenant."""
from __future__ import annotations

import logging
import sys
from typing import Any

from flask import abort, flash, redirect, request
from flask_appbuilder import ModelView, expose
from flask_appbuilder.const import FLAMSG_ERR_SEC_ACCESS_DENIED
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.api.convert import Model2SchemaConverter
from flask_appbuilder.urltools import get_filter_args
from flask_appbuilder.widgets import ListWidget
from flask_babel import gettext as _
from marshmallow import ValidationError
from marshmallow_sqlalchemy.fields import Related
from sqlalchemy.exc import DataError, NoResultFound, StatementError

from app.extensions import db
from app.tenancy.context import CrossTenantWrite, TenantNotSet
from app.tenancy.errors import UserError, translate_write_error
from app.tenancy import keyset as keys
from app.tenancy.interface import COUNT_CAP, HIDDEN_COLUMNS, DeepPage, TenantInterface


def _assert_no_tenant_column(owner: Any) -> None:
    for attr in ("add_columns", "edit_columns", "search_columns", "list_columns", "show_columns"):
        cols = getattr(owner, attr, None) or []
        bad = [c for c in cols if c in HIDDEN_COLUMNS]
        if bad:
            raise RuntimeError(f"{type(owner).__name__}.{attr} exposes {bad}: tenant comes from the login")
    if not isinstance(owner.datamodel, TenantInterface):
        raise RuntimeError(f"{type(owner).__name__} must use TenantInterface")


def _default_formatters(datamodel: TenantInterface) -> dict:
    """Dates in พ.ศ. and Bangkok time, booleans as words, empty relations as a dash."""
    from app import thai

    formatters = {}
    for name in datamodel.list_properties:
        if name in datamodel.list_columns and datamodel.is_boolean(name):
            formatters[name] = thai.format_bool
        elif name in datamodel.list_columns and datamodel.is_datetime(name):
            formatters[name] = thai.format_datetime
        elif name in datamodel.list_columns and datamodel.is_date(name):
            formatters[name] = thai.format_date
        elif datamodel.is_relation_many_to_one(name):
            formatters[name] = lambda value: "-" if value is None else value
    return formatters


log = logging.getLogger(__name__)

# Errors that mean "this request carried a value the database or parser cannot take": a 400, not a 500.
BAD_INPUT_ERRORS = (DataError, StatementError, OverflowError, ValueError, IndexError)


def _rison_parses(value: str | None) -> bool:
    """prison can fail with errors FAB does not catch (e.g. RecursionError on "(((")."""
    if value is None:
        return True
    import prison

    try:
        prison.loads(value)
        return True
    except Exception:
        return False


def _label_blank_choices(*forms) -> None:
    """FAB's optional dropdowns show their blank choice as "__None": show a dash instead."""
    from flask_appbuilder.fields import QuerySelectField
    from wtforms.fields.core import UnboundField

    for form in forms:
        for value in vars(form).values():
            if isinstance(value, UnboundField) and issubclass(value.field_class, QuerySelectField):
                value.kwargs["blank_text"] = "—"


def _thai_date_fields(datamodel: TenantInterface, columns, labels, search: bool = False) -> dict:
    """Every date column in a form or search is typed and shown in พ.ศ. (FAB's picker is C.E. only)."""
    from wtforms.validators import Optional

    from app.thai_forms import DateRequired, ThaiDateField

    fields = {}
    for name in columns or []:
        is_date = name in datamodel.list_columns and (
            datamodel.is_date(name) or (search and datamodel.is_datetime(name))
        )
        if is_date:
            required = not search and not datamodel.is_nullable(name)
            fields[name] = ThaiDateField(
                (labels or {}).get(name, name), validators=[DateRequired() if required else Optional()]
            )
    return fields


class _KeysetNav:
    """What the list widget's template needs for paging by key; next_url is known once the page is read."""

    cap = COUNT_CAP

    def __init__(self, keyset):
        self.keyset = keyset
        self.key_page = keyset is not None and keyset.after is not None

    def _url(self, **extra) -> str:
        from urllib.parse import urlencode

        args = [(k, v) for k, v in request.args.items(multi=True)
                if k != keys.ARG and not k.startswith("page_")]
        args += list(extra.items())
        return request.path + ("?" + urlencode(args) if args else "")

    @property
    def first_url(self) -> str:
        return self._url()

    @property
    def next_url(self):
        token = self.keyset.next_token if self.keyset is not None else None
        return self._url(**{keys.ARG: token}) if token else None


class KeysetListWidget(ListWidget):
    template = "tenancy/keyset_list.html"


class TenantModelView(ModelView):
    """ModelView on TenantInterface. A refused add or edit re-shows the form with the user's input."""

    list_widget = KeysetListWidget

    def __init__(self, *args, **kwargs):
        self.formatters_columns = {**_default_formatters(self.datamodel), **(self.formatters_columns or {})}
        self.add_form_extra_fields = {
            **_thai_date_fields(self.datamodel, self.add_columns, self.label_columns),
            **(self.add_form_extra_fields or {}),
        }
        self.edit_form_extra_fields = {
            **_thai_date_fields(self.datamodel, self.edit_columns, self.label_columns),
            **(self.edit_form_extra_fields or {}),
        }
        self.search_form_extra_fields = {
            **_thai_date_fields(self.datamodel, self.search_columns, self.label_columns, search=True),
            **(self.search_form_extra_fields or {}),
        }
        super().__init__(*args, **kwargs)
        _assert_no_tenant_column(self)
        _label_blank_choices(self.add_form, self.edit_form)
        self.datamodel.eager_load(self.list_columns)

    def _rollback(self) -> None:
        db.session.rollback()

    def _get_list_widget(self, filters, actions=None, order_column="", order_direction="", page=None,
                         page_size=None, widgets=None, **args):
        """A page beyond the counting cap (OFFSET past 1,000 rows) is not read: the first page is shown with
        the way on (a narrower search, another order, or the "older" link that pages by key)."""
        keyset = self._keyset(order_column, order_direction)
        nav = _KeysetNav(keyset)
        kwargs = dict(actions=actions, order_column=order_column, order_direction=order_direction,
                      page_size=page_size, widgets=widgets, keyset_nav=nav, **args)
        with keys.paging(keyset):
            try:
                return super()._get_list_widget(filters, page=None if nav.key_page else page, **kwargs)
            except DeepPage as exc:
                flash(str(exc), "warning")
                return super()._get_list_widget(filters, page=None, **kwargs)

    def _keyset(self, order_column: str, order_direction: str):
        """This request's paging by key, when the list's order allows it (keyset.keyable) and the request is
        this view's own (not a related list on another view's page); a bad key: a message, then page 1."""
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order
        if not keys.keyable(self.datamodel, order_column) or (request.endpoint or "").split(".")[0] != self.endpoint:
            return None
        try:
            return keys.read(request.args.get(keys.ARG), self.endpoint, order_column, order_direction)
        except keys.BadPageKey as exc:
            flash(str(exc), "danger")
            return keys.read(None, self.endpoint, order_column, order_direction)

    def _may(self, action_name: str) -> bool:
        permission = self.get_action_permission_name(action_name)
        return self.appbuilder.sm.has_access(permission, self.class_permission_name)

    # actions that only lead to another page (which asks again and POSTs with a CSRF token)
    navigation_actions: tuple[str, ...] = ()

    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        """FAB would call the action with None for an id the tenant cannot see: 404 instead."""
        # a POST from the detail screen carries FAB's CSRF token; a GET may only navigate
        allowed = (
            request.method == "POST" or name in self.navigation_actions or self.is_get_mutation_allowed()
        )
        if name not in self.actions or not allowed or not self._may(name):
            flash(str(FLAMSG_ERR_SEC_ACCESS_DENIED), "danger")
            return redirect(".")
        item = self.datamodel.get(pk)
        if item is None:
            abort(404)
        return self.actions[name].func(item)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        """Multi-row actions see only this tenant's rows; ids of other tenants count as not found."""
        name = request.form.get("action", "")
        if name not in self.actions or not self._may(name):
            flash(str(FLAMSG_ERR_SEC_ACCESS_DENIED), "danger")
            return redirect(".")
        items = [self.datamodel.get(pk) for pk in request.form.getlist("rowid")]
        if not items or any(item is None for item in items):
            abort(404)
        return self.actions[name].func(items)

    def _add(self):
        is_valid_form = True
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        form = self.add_form.refresh()
        if request.method == "POST":
            self._fill_form_exclude_cols(exclude_cols, form)
            if form.validate():
                self.process_form(form, True)
                item = self.datamodel.obj()
                try:
                    form.populate_obj(item)
                    self.pre_add(item)
                    self.datamodel.add(item)
                except (UserError, CrossTenantWrite, TenantNotSet) as exc:
                    self._rollback()
                    flash(str(translate_write_error(exc)), "danger")
                    is_valid_form = False
                else:
                    self.post_add(item)
                    flash(self.add_row_message, "success")
                    return None
            else:
                is_valid_form = False
        if is_valid_form:
            self.update_redirect()
        return self._get_add_widget(form=form, exclude_cols=exclude_cols)

    def _edit(self, pk):
        if request.method != "POST":
            return super()._edit(pk)
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            from flask import abort

            abort(404)
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        form = self.edit_form.refresh(request.form)
        self._fill_form_exclude_cols(exclude_cols, form)
        form._id = self.datamodel.get_pk_value(item)
        if form.validate():
            self.process_form(form, False)
            try:
                form.populate_obj(item)
                self.pre_update(item)
                self.datamodel.edit(item)
            except (UserError, CrossTenantWrite, TenantNotSet) as exc:
                self._rollback()
                flash(str(translate_write_error(exc)), "danger")
            else:
                self.post_update(item)
                flash(self.edit_row_message, "success")
                return None
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            from flask import abort

            abort(404)
        widgets = self._get_edit_widget(form=form, exclude_cols=exclude_cols)
        widgets = self._get_related_views_widgets(
            item, filters={}, orders={}, pages={}, page_sizes={}, widgets=widgets
        )
        return widgets

    def _delete(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            from flask import abort

            abort(404)
        try:
            self.pre_delete(item)
            self.datamodel.delete(item)
        except (UserError, CrossTenantWrite, TenantNotSet) as exc:
            self._rollback()
            flash(str(translate_write_error(exc)), "danger")
        else:
            self.post_delete(item)
            flash(self.delete_row_message, "success")
        self.update_redirect()


class ExistingRelated(Related):
    """A related id must name an existing row the current tenant can see; marshmallow-sqlalchemy
    would otherwise build a new row for an unknown id."""

    def _deserialize(self, value, *args, **kwargs):
        if not isinstance(value, dict):
            if len(self.related_keys) != 1:
                raise self.make_error("invalid", value=value, keys=[p.key for p in self.related_keys])
            value = {self.related_keys[0].key: value}
        try:
            return self._get_existing_instance(self.related_model, value)
        except (NoResultFound, TypeError, ValueError):
            raise ValidationError(_("The related record was not found."))
        except Exception as exc:  # a malformed id rejected by the database driver
            db.session.rollback()
            raise ValidationError(_("The related record was not found.")) from exc


class TenantSchemaConverter(Model2SchemaConverter):
    def _column2relation(self, datamodel, column, nested=False, parent_schema_name=None):
        field = super()._column2relation(
            datamodel, column, nested=nested, parent_schema_name=parent_schema_name
        )
        if isinstance(field, Related):
            field.__class__ = ExistingRelated
        inner = getattr(field, "inner", None)
        if isinstance(inner, Related):
            inner.__class__ = ExistingRelated
        return field


class TenantModelApi(ModelRestApi):
    """ModelRestApi on TenantInterface: 404 for ids of other tenants, Thai 422 messages, no 500s."""

    model2schemaconverter = TenantSchemaConverter

    def __init__(self, *args, **kwargs):
        from app.validators import ce_date

        dates = {
            name: ce_date
            for name in set(self.add_columns or []) | set(self.edit_columns or [])
            if name in self.datamodel.list_columns
            and (self.datamodel.is_date(name) or self.datamodel.is_datetime(name))
        }
        self.validators_columns = {**dates, **(self.validators_columns or {})}
        super().__init__(*args, **kwargs)
        _assert_no_tenant_column(self)

    def response_500(self, message: str = None, **kwargs):
        """FAB's @safe turns every exception into a 500; bad input deserves a 400 with a message."""
        exc = sys.exc_info()[1]
        db.session.rollback()
        if isinstance(exc, BAD_INPUT_ERRORS) or not _rison_parses(request.args.get("q")):
            log.warning("bad API input on %s", request.path, exc_info=True)
            return self.response_400(message=_("The request has an invalid value."))
        return super().response_500(message=message, **kwargs)

    def _refused(self, exc: Exception):
        db.session.rollback()
        error = translate_write_error(exc)
        if error.status == 404:
            return self.response_404()
        if error.status == 400:
            return self.response_400(message=error.message)
        return self.response_422(message=error.message)

    def _guarded(self, method, *args, **kwargs):
        try:
            return method(*args, **kwargs)
        except TenantNotSet:
            db.session.rollback()
            return self.response_403()
        except (UserError, CrossTenantWrite) as exc:
            return self._refused(exc)

    def get_headless(self, pk, **kwargs):
        return self._guarded(super().get_headless, pk, **kwargs)

    def get_list_headless(self, **kwargs):
        """FAB's list, paged by key when asked (?_after=<next_after of the page before>) and the order allows
        it (keyset.keyable); the answer then carries next_after, the key of the page after it."""
        rison = kwargs.get("rison") or {}
        order_column = rison.get("order_column", "") if isinstance(rison, dict) else ""
        order_direction = rison.get("order_direction", "") if isinstance(rison, dict) else ""
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order
        keyset = None
        if keys.keyable(self.datamodel, order_column):
            try:
                keyset = keys.read(request.args.get(keys.ARG), f"api:{self.resource_name}", order_column,
                                   order_direction)
            except keys.BadPageKey as exc:
                return self.response_400(message=str(exc))
        elif request.args.get(keys.ARG):
            return self.response_400(message=str(keys.BadPageKey()))
        with keys.paging(keyset):
            response = self._guarded(super().get_list_headless, **kwargs)
        if keyset is not None and response.status_code == 200 and response.is_json:
            import json

            body = response.get_json()
            body["next_after"] = keyset.next_token
            response.set_data(json.dumps(body))
        return response

    def info_headless(self, **kwargs):
        return self._guarded(super().info_headless, **kwargs)

    def post_headless(self):
        return self._guarded(super().post_headless)

    def put_headless(self, pk):
        if self.datamodel.get(pk, self._base_filters) is None:
            return self.response_404()
        return self._guarded(super().put_headless, pk)

    def delete_headless(self, pk):
        return self._guarded(super().delete_headless, pk)

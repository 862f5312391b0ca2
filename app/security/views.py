"""Tenant admins and role managers: the users of their own organisation, memberships, grant log."""
from __future__ import annotations

import datetime

from flask import current_app, flash, g, redirect
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.filters import FilterInFunction
from flask_appbuilder.security.views import UserDBModelView
from flask_appbuilder.security.sqla.models import User
from flask_appbuilder.validators import Unique
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, literal, select, union_all
from werkzeug.security import generate_password_hash
from wtforms import ValidationError
from wtforms.fields.core import UnboundField

from app.security import services
from app.security.models import GrantLog, Membership
from app.tenancy.errors import UserError
from app.tenancy.fab import TenantModelView
from app.tenancy.interface import TenantInterface


def _grantable_ids():
    return services.grantable_template_ids(g.user)


def membership_choices() -> dict:
    """{User: [...], Division: [...], RoleTemplate: [...]}: every row the memberships list's drop-downs offer
    (search and grant forms), read in one statement (each model's ids in a UNION ALL, each id joined to its
    row; the tenant guard filters every part), once per request and transaction."""
    from app.extensions import db
    from app.security.models import RoleTemplate
    from app.tenancy.models import Division

    session = db.session()
    transaction = session.get_transaction()
    cached = g.get("_membership_choices")
    if cached is not None and transaction is not None and cached[0] is transaction:
        return cached[1]
    models = (User, Division, RoleTemplate)
    items = union_all(*(select(literal(i).label("kind"), model.id.label("id"))
                        for i, model in enumerate(models))).subquery()
    stmt = select(items.c.kind, *models).select_from(items)
    for i, model in enumerate(models):
        stmt = stmt.outerjoin(model, and_(items.c.kind == i, model.id == items.c.id))
    found: dict = {model: [] for model in models}
    for row in session.execute(stmt.order_by(items.c.kind, items.c.id)).unique():
        item = row[1 + row.kind]
        if item is not None:
            found[models[row.kind]].append(item)
    g._membership_choices = (session.get_transaction(), found)
    return found


class _ChoicesInterface(TenantInterface):
    """A model a membership points at, as the drop-downs read it: all its rows, from membership_choices()
    (filtered reads, like the grant form's grantable roles, are FAB's own query)."""

    def query(self, filters=None, order_column="", order_direction="", page=None, page_size=None,
              select_columns=None, outer_default_load=False):
        if filters is None and not (order_column or page or page_size or select_columns or outer_default_load):
            rows = membership_choices().get(self.obj)
            if rows is not None:
                return len(rows), list(rows)
        return super().query(filters, order_column, order_direction, page, page_size, select_columns,
                             outer_default_load)


class MembershipInterface(TenantInterface):
    """Memberships: the users, กอง and roles of the drop-downs come in one statement, not one each."""

    def get_related_interface(self, col_name: str):
        return _ChoicesInterface(self.get_related_model(col_name))


class MembershipView(TenantModelView):
    route_base = "/memberships"
    datamodel = MembershipInterface(Membership)
    list_title = _l("Memberships")
    show_title = _l("Membership")
    add_title = _l("Grant a role")
    list_columns = ["user", "division", "role", "created_at"]
    search_columns = ["user", "division", "role"]
    show_columns = ["user", "division", "role", "created_at"]
    add_columns = ["user", "division", "role"]
    order_columns = ["created_at"]
    base_order = ("created_at", "desc")
    base_permissions = ["can_list", "can_show", "can_add", "can_delete"]
    label_columns = {
        "user": _l("User"),
        "division": _l("Division"),
        "role": _l("Role"),
        "created_at": _l("Granted at"),
    }
    add_form_query_rel_fields = {"role": [["id", FilterInFunction, _grantable_ids]]}

    def pre_add(self, item: Membership) -> None:
        services.prepare_grant(g.user, item)

    def pre_delete(self, item: Membership) -> None:
        services.prepare_revoke(g.user, item)


class PlatformWideUnique:
    """A username or e-mail address may not be in use anywhere on the platform. The refusal says only
    "taken", the same for a user of this organisation as for one of another (whose, is never shown)."""

    def __init__(self, column: str, message):
        self.column, self.message = column, message

    def __call__(self, form, field) -> None:
        if services.login_identifier_taken(self.column, field.data, getattr(form, "_id", None)):
            raise ValidationError(str(self.message))


class TenantUserView(TenantModelView):
    """Users of the current organisation. Roles come only from memberships, never edited directly."""

    route_base = "/org-users"
    datamodel = TenantInterface(User)
    list_title = _l("Users")
    show_title = _l("User")
    add_title = _l("Add user")
    edit_title = _l("Edit user")
    list_columns = ["username", "first_name", "last_name", "email", "active", "last_login"]
    search_columns = ["username", "first_name", "last_name", "email", "active"]
    show_columns = [
        "username", "first_name", "last_name", "email", "active", "last_login", "login_count",
        "fail_login_count", "created_on",
    ]
    add_columns = ["username", "first_name", "last_name", "email", "active", "password", "conf_password"]
    edit_columns = ["first_name", "last_name", "email", "active"]
    order_columns = ["username", "first_name", "last_name", "last_login"]
    base_order = ("username", "asc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "reset_password"]
    related_views = [MembershipView]
    show_template = "appbuilder/general/model/show_cascade.html"
    label_columns = {
        "username": _l("User Name"),
        "first_name": _l("First Name"),
        "last_name": _l("Last Name"),
        "email": _l("Email"),
        "active": _l("Is Active?"),
        "last_login": _l("Last login"),
        "login_count": _l("Login count"),
        "fail_login_count": _l("Failed login count"),
        "created_on": _l("Created on"),
        "password": _l("Password"),
        "conf_password": _l("Confirm Password"),
    }
    add_form_extra_fields = UserDBModelView.add_form_extra_fields
    validators_columns = {
        "username": [PlatformWideUnique("username", _l(
            "This username is already in use. Usernames are unique across the whole platform; "
            "please choose another."))],
        "email": [PlatformWideUnique("email", _l(
            "This e-mail address is already in use. E-mail addresses are unique across the whole "
            "platform; please use another."))],
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # FAB's Unique looks only inside this organisation (the wall filters it) and answers differently
        # for a name taken here and one taken elsewhere: PlatformWideUnique alone decides.
        for form in (self.add_form, self.edit_form):
            for name in ("username", "email"):
                field = getattr(form, name, None)
                if isinstance(field, UnboundField):
                    validators = field.kwargs.get("validators") or []
                    field.kwargs["validators"] = [v for v in validators if not isinstance(v, Unique)]

    def pre_add(self, item: User) -> None:
        item.password = generate_password_hash(
            password=item.password,
            method=current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
            salt_length=current_app.config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16),
        )
        item.created_by_fk = g.user.id

    def pre_update(self, item: User) -> None:
        item.changed_on = datetime.datetime.now()
        item.changed_by_fk = g.user.id

    @action(
        "reset_password", _l("Reset password"),
        _l("Give this user a new password? The old one stops working at once."), "fa-key",
        multiple=False,
    )
    def reset_password(self, item: User):
        try:
            password = services.reset_password(g.user, item)
        except UserError as exc:
            flash(str(exc), "danger")
            return redirect(self.get_redirect())
        flash(
            _("New password for %(user)s: %(password)s (shown once; the user should change it).",
              user=item.username, password=password),
            "warning",
        )
        return redirect(self.get_redirect())


class GrantLogView(TenantModelView):
    route_base = "/grant-log"
    datamodel = TenantInterface(GrantLog)
    list_title = _l("Grant and revoke log")
    show_title = _l("Grant or revoke")
    list_columns = ["at", "action", "actor_username", "subject_username", "division_name", "role_name"]
    search_columns = ["at", "action", "actor_username", "subject_username", "division_code", "role_name"]
    show_columns = list_columns + ["division_code"]
    base_order = ("at", "desc")
    formatters_columns = {
        "action": lambda value: {"grant": _("Granted"), "revoke": _("Revoked")}.get(value, value),
        "actor_username": lambda value: _("configuration seed") if value == "seed" else value,
    }
    base_permissions = ["can_list", "can_show"]
    label_columns = {
        "at": _l("When"),
        "action": _l("Action"),
        "actor_username": _l("By"),
        "subject_username": _l("User"),
        "division_code": _l("Division code"),
        "division_name": _l("Division"),
        "role_name": _l("Role"),
    }

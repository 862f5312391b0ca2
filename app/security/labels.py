"""Thai labels for Flask-AppBuilder's own security screens (users, roles, groups, permissions, views/menus,
user statistics). FAB leaves many of their columns unlabelled, and then prints the column name ("Label",
"Users", "Last Login") in English whatever the language; every column these screens show, search or edit
gets a translated label here."""
from __future__ import annotations

from flask_appbuilder.security.views import UserStatsChartView as _FabUserStatsChartView
from flask_babel import lazy_gettext as _l

USER_LABELS = {
    "get_full_name": _l("Full Name"),
    "first_name": _l("First Name"),
    "last_name": _l("Last Name"),
    "username": _l("User Name"),
    "password": _l("Password"),
    "conf_password": _l("Confirm Password"),
    "active": _l("Is Active?"),
    "email": _l("Email"),
    "roles": _l("Role"),
    "groups": _l("Groups"),
    "last_login": _l("Last login"),
    "login_count": _l("Login count"),
    "fail_login_count": _l("Failed login count"),
    "created_on": _l("Created on"),
    "created_by": _l("Created by"),
    "changed_on": _l("Changed on"),
    "changed_by": _l("Changed by"),
    "locale": _l("Language"),
    "memberships": _l("Memberships"),
    "tenant": _l("Organisation"),
}
GROUP_LABELS = {
    "name": _l("Name"),
    "label": _l("Label"),
    "description": _l("Description"),
    "users": _l("Users"),
    "roles": _l("Roles"),
}
ROLE_LABELS = {
    "name": _l("Name"),
    "permissions": _l("Permissions"),
    "user": _l("Users"),
    "groups": _l("Groups"),
}
PERMISSION_VIEW_LABELS = {
    "permission": _l("Permission"),
    "view_menu": _l("View/Menu"),
    "role": _l("Roles"),
}


class UserStatsChartView(_FabUserStatsChartView):
    """FAB's user statistics with translated chart names. Same class name, so same permissions and route."""

    label_columns = dict(USER_LABELS)
    definitions = [
        {"label": _l("Login count"), "group": "username", "series": ["login_count"]},
        {"label": _l("Failed login count"), "group": "username", "series": ["fail_login_count"]},
    ]

    def __init__(self, **kwargs):
        # FAB writes into label_columns while building the view: a copy per instance keeps the class clean
        self.label_columns = dict(USER_LABELS)
        super().__init__(**kwargs)
        # FAB names a chart's group column after the chart and its series columns after the column names; the
        # search menu needs the columns' own labels
        self.label_columns = {**self.label_columns, **USER_LABELS}


def apply(manager) -> None:
    """Called by the SecurityManager before FAB instantiates its views (forms take their labels then)."""
    for view, labels in (
        (manager.userdbmodelview, USER_LABELS),
        (manager.groupmodelview, GROUP_LABELS),
        (manager.rolemodelview, ROLE_LABELS),
        (manager.permissionviewmodelview, PERMISSION_VIEW_LABELS),
    ):
        view.label_columns = {**(view.label_columns or {}), **labels}
    # lists open in Thai dictionary order (TenantInterface collates text columns)
    manager.userdbmodelview.base_order = ("first_name", "asc")
    for view in (manager.rolemodelview, manager.groupmodelview, manager.permissionmodelview,
                 manager.viewmenumodelview):
        view.base_order = ("name", "asc")
    if manager.userstatschartview:
        chart = UserStatsChartView
        chart.datamodel = manager.userstatschartview.datamodel
        manager.userstatschartview = chart


def fab_security_views(appbuilder) -> list:
    """The instances of FAB's own security screens (and our user statistics) registered on this app."""
    return [v for v in appbuilder.baseviews
            if type(v).__module__.startswith("flask_appbuilder.security") or isinstance(v, UserStatsChartView)]

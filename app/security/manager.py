"""The one SecurityManager subclass: every FAB security override lives here."""
from __future__ import annotations

from flask import current_app, g, has_app_context
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import (
    Permission,
    PermissionView,
    ViewMenu,
    assoc_permissionview_role,
)
from sqlalchemy import select

from app.tenancy.interface import TenantInterface


class TenantSecurityManager(SecurityManager):
    def __init__(self, appbuilder):
        super().__init__(appbuilder)
        # FAB's own security screens are for platform operators only (permissions say so); they still go
        # through the tenant interface so that an operator switched into a tenant sees only its users.
        for view in (
            self.userdbmodelview,
            self.rolemodelview,
            self.groupmodelview,
            self.permissionmodelview,
            self.viewmenumodelview,
            self.permissionviewmodelview,
        ):
            # roles and groups of each listed user come with the page, not one query per row
            view.datamodel = TenantInterface(view.datamodel.obj).eager_load(view.list_columns)
        if self.userstatschartview:
            self.userstatschartview.datamodel = TenantInterface(self.user_model)
        from app import thai
        from app.security.services import role_names

        self.userdbmodelview.formatters_columns = {
            "active": thai.format_bool,
            "roles": role_names,
            "groups": lambda groups: ", ".join(str(g) for g in groups or []) or "-",
            "last_login": thai.format_datetime,
            "created_on": thai.format_datetime,
            "changed_on": thai.format_datetime,
        }
        from app.security import labels

        labels.apply(self)  # Thai labels for FAB's security screens, before FAB builds their forms

    def register_views(self):
        super().register_views()
        if self.is_auth_limited:
            self._limit_logins()

    def _limit_logins(self) -> None:
        """FAB limits only its login form; the REST login (JWT) would be an open door for guessing
        passwords. Both take AUTH_RATE_LIMIT from one counter per client address."""
        app = current_app
        shared = self.limiter.shared_limit(self.auth_rate_limit, scope="login", methods=["POST"])
        login_paths = {"/login/", f"/api/{self.security_api.version}/{self.security_api.resource_name}/login"}
        limited = set()
        for rule in app.url_map.iter_rules():
            if rule.rule in login_paths and "POST" in (rule.methods or ()) and rule.endpoint not in limited:
                app.view_functions[rule.endpoint] = shared(app.view_functions[rule.endpoint])
                limited.add(rule.endpoint)
        if len(limited) != len(login_paths):  # fail loudly rather than leave a login unlimited
            raise RuntimeError(f"login routes not found for rate limiting: {sorted(login_paths)}")

    def auth_user_db(self, username, password):
        user = super().auth_user_db(username, password)
        # A user of a deactivated organisation cannot log in; the message is the same as a wrong password.
        if user is not None and user.tenant_id is not None and not user.tenant.active:
            return None
        return user

    def exist_permission_on_roles(self, view_name: str, permission_name: str, role_ids) -> bool:
        """FAB asks once per menu item and button; answer from one query per request instead."""
        if not has_app_context():
            return super().exist_permission_on_roles(view_name, permission_name, role_ids)
        key = tuple(sorted(role_ids))
        cache = g.setdefault("_permission_cache", {})
        if key not in cache:
            rows = self.session.execute(
                select(ViewMenu.name, Permission.name)
                .join(PermissionView, PermissionView.view_menu_id == ViewMenu.id)
                .join(Permission, Permission.id == PermissionView.permission_id)
                .join(
                    assoc_permissionview_role,
                    assoc_permissionview_role.c.permission_view_id == PermissionView.id,
                )
                .where(assoc_permissionview_role.c.role_id.in_(key))
            )
            cache[key] = frozenset(rows.tuples())
        return (view_name, permission_name) in cache[key]

"""The one SecurityManager subclass: every FAB security override lives here."""
from __future__ import annotations

from flask import current_app, g, has_request_context, request
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import (
    Group,
    Permission,
    PermissionView,
    Role,
    ViewMenu,
    assoc_permissionview_role,
)
from sqlalchemy import inspect, select
from sqlalchemy.orm import joinedload

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
        # explicit search columns (DESIGN.md speed rules): FAB's default searches every column
        searches = {
            self.rolemodelview: ["name"],
            self.groupmodelview: ["name", "label"],
            self.permissionmodelview: ["name"],
            self.viewmenumodelview: ["name"],
            self.permissionviewmodelview: ["permission", "view_menu"],
        }
        for view, columns in searches.items():
            if "search_columns" not in vars(view):
                view.search_columns = columns
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

    # --- speed: one statement for the user, its roles and their permissions; answers cached per request ---

    def get_user_by_id(self, pk):
        """The signed-in user with roles, groups and their permissions in one statement (FAB would load the
        roles, the groups and then the permissions with a statement each)."""
        user_model = self.user_model
        roles = joinedload(user_model.roles).joinedload(Role.permissions)
        group_roles = joinedload(user_model.groups).joinedload(Group.roles).joinedload(Role.permissions)
        return self.session.scalars(
            select(user_model).where(user_model.id == pk).options(roles, group_roles)
        ).unique().one_or_none()

    def _request_cache(self) -> dict | None:
        """A dict that lives for this one request (None outside a request). g may outlive a request when an
        outer application context is pushed (tests, CLI), so the dict remembers its request and starts empty
        for the next one."""
        if not has_request_context():
            return None
        current = request._get_current_object()
        holder = g.get("_speed_cache")
        if holder is None or holder[0] is not current:
            holder = (current, {})
            g._speed_cache = holder
        return holder[1]

    def _loaded_permissions(self, role_ids) -> frozenset | None:
        """(view, permission) pairs of roles already loaded with the user; None if any is not loaded."""
        from sqlalchemy.orm.util import identity_key

        pairs = set()
        for role_id in role_ids:
            role = self.session.identity_map.get(identity_key(Role, role_id))
            if role is None or "permissions" in inspect(role).unloaded:
                return None
            pairs.update((pv.view_menu.name, pv.permission.name) for pv in role.permissions
                         if pv.view_menu is not None and pv.permission is not None)
        return frozenset(pairs)

    def get_public_role(self):
        """The public role with its permissions in one statement (FAB asks on every REST call)."""
        return self.session.scalars(
            select(Role).where(Role.name == self.auth_role_public).options(joinedload(Role.permissions))
        ).unique().one_or_none()

    def get_public_permissions(self):
        cache = self._request_cache()
        if cache is None:
            return super().get_public_permissions()
        if "public" not in cache:
            cache["public"] = list(super().get_public_permissions())
        return cache["public"]

    def exist_permission_on_roles(self, view_name: str, permission_name: str, role_ids) -> bool:
        """FAB asks once per menu item and button; answer from the roles loaded with the user (or one query),
        cached for this request only and keyed by the user and the roles asked about."""
        cache = self._request_cache()
        if cache is None:
            return super().exist_permission_on_roles(view_name, permission_name, role_ids)
        user = g.get("user")
        key = ("roles", getattr(user, "id", None), tuple(sorted(role_ids)))
        if key not in cache:
            pairs = self._loaded_permissions(key[2])
            if pairs is None:
                rows = self.session.execute(
                    select(ViewMenu.name, Permission.name)
                    .join(PermissionView, PermissionView.view_menu_id == ViewMenu.id)
                    .join(Permission, Permission.id == PermissionView.permission_id)
                    .join(
                        assoc_permissionview_role,
                        assoc_permissionview_role.c.permission_view_id == PermissionView.id,
                    )
                    .where(assoc_permissionview_role.c.role_id.in_(key[2]))
                )
                pairs = frozenset(rows.tuples())
            cache[key] = pairs
        return (view_name, permission_name) in cache[key]

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
    assoc_user_group,
)
from sqlalchemy import inspect, select
from sqlalchemy.orm import joinedload, selectinload

from app.tenancy.interface import TenantInterface

# user id -> tenant id, as last loaded in this process (a user's tenant does not change; a wrong entry costs one
# statement more, never a row of another tenant). Bounded: emptied when full.
_USER_TENANTS: dict[int, int] = {}
_USER_TENANTS_MAX = 50_000


class TenantSecurityManager(SecurityManager):
    def __init__(self, appbuilder):
        super().__init__(appbuilder)
        from app.security import permission_cache

        permission_cache.install()  # role and permission changes bump the version in their own transaction
        self.role_cache = permission_cache.RoleCache()  # one app per process (worker): the process's cache
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

    # --- speed: the user and its roles in one statement; what roles may do from the process cache -------------

    def get_user_by_id(self, pk):
        """The signed-in user with its roles and tenant (not the tenant's type or parent), the permissions version
        (app/security/permission_cache.py) and whether the user is in any group, in one statement. Groups and
        their roles are read (by selectin, two statements more) only for a user who is in a group.

        Inside a tenant (an integration key's acting user) the memberships come along, for the row scope
        (app/service_requests/scope.py). An API request (a JWT) has no tenant yet when its user is loaded; once a
        process has seen the user, it knows the user's tenant and loads the user inside that tenant, memberships
        included. That only narrows the statement: a user who is no longer of that tenant is not found there and
        is loaded again without it.

        An ORM select of the user: the tenant guard still filters it to the current tenant when one is set."""
        from app.tenancy.context import current_scope, tenant_scope

        try:
            pk = int(pk)
        except (TypeError, ValueError):
            return None
        scope = current_scope()
        if scope is not None:
            user = self._load_user(pk, memberships=scope.tenant_id is not None and not scope.platform)
        else:
            hint = _USER_TENANTS.get(pk) if has_request_context() and request.path.startswith("/api/") else None
            user = None
            if hint is not None:
                with tenant_scope(hint):
                    user = self._load_user(pk, memberships=True)
            if user is None:
                user = self._load_user(pk, memberships=False)
        if user is not None and user.tenant_id is not None:
            if len(_USER_TENANTS) >= _USER_TENANTS_MAX:
                _USER_TENANTS.clear()
            _USER_TENANTS[pk] = user.tenant_id
        else:
            _USER_TENANTS.pop(pk, None)
        return user

    def _load_user(self, pk: int, memberships: bool):
        from sqlalchemy.orm import lazyload
        from sqlalchemy.orm.attributes import set_committed_value

        from app.security import permission_cache
        from app.security.models import Membership, RoleTemplate
        from app.tenancy.models import Tenant

        user_model = self.user_model
        in_group = select(assoc_user_group.c.user_id).where(assoc_user_group.c.user_id == pk).exists()
        options = [
            joinedload(user_model.roles),
            joinedload(user_model.tenant).options(lazyload(Tenant.type), lazyload(Tenant.parent)),
        ]
        if memberships:
            options.append(joinedload(user_model.memberships).options(
                lazyload(Membership.user), lazyload(Membership.division),
                joinedload(Membership.role).lazyload(RoleTemplate.role),
            ))
        row = self.session.execute(
            select(user_model, permission_cache.version_column(), in_group)
            .where(user_model.id == pk).options(*options)
        ).unique().one_or_none()
        if row is None:
            return None
        user, version, grouped = row
        cache = self._request_cache()
        if cache is not None:
            cache["version"] = version
        if "groups" in inspect(user).unloaded:
            groups = []
            if grouped:
                groups = list(self.session.scalars(
                    select(Group).join(assoc_user_group, assoc_user_group.c.group_id == Group.id)
                    .where(assoc_user_group.c.user_id == pk).options(selectinload(Group.roles))
                ))
            set_committed_value(user, "groups", groups)
        return user

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

    def _permissions_version(self, cache: dict) -> int | None:
        """The counter this request works under: read with the user, or now (one small statement) for a request
        without one. None (no shared cache) while this transaction itself changed permissions."""
        from app.security import permission_cache

        if permission_cache.changed_in_transaction(self.session):
            return None
        if "version" not in cache:
            cache["version"] = permission_cache.read_version(self.session)
        return cache["version"]

    def _pairs_of_roles(self, role_ids) -> frozenset:
        """(view, permission) pairs of the roles, from the process cache or one statement for the roles missing."""
        cache = self._request_cache()
        key = ("roles", tuple(sorted(set(role_ids))))
        if cache is not None and key in cache:
            return cache[key]

        def load(missing):
            found: dict = {}
            rows = self.session.execute(
                select(assoc_permissionview_role.c.role_id, ViewMenu.name, Permission.name)
                .select_from(assoc_permissionview_role)
                .join(PermissionView, PermissionView.id == assoc_permissionview_role.c.permission_view_id)
                .join(ViewMenu, ViewMenu.id == PermissionView.view_menu_id)
                .join(Permission, Permission.id == PermissionView.permission_id)
                .where(assoc_permissionview_role.c.role_id.in_(missing))
            )
            for role_id, view, permission in rows:
                found.setdefault(role_id, set()).add((view, permission))
            return found

        version = self._permissions_version(cache) if cache is not None else None
        per_role = self.role_cache.get(version, key[1], load)
        pairs = frozenset().union(*per_role.values())
        if cache is not None:
            cache[key] = pairs
        return pairs

    def _public_pairs(self) -> frozenset:
        """The public role's pairs, cached like any role's (its id by name, under the same counter)."""
        cache = self._request_cache()
        if cache is None:
            return frozenset((pv.view_menu.name, pv.permission.name) for pv in super().get_public_permissions()
                             if pv.view_menu is not None and pv.permission is not None)
        if "public" not in cache:
            name = self.auth_role_public

            def load(missing):  # the public role's id (a frozenset of none or one), cached by its name
                return {("public", name): list(self.session.scalars(select(Role.id).where(Role.name == name)))}

            version = self._permissions_version(cache)
            role_ids = list(self.role_cache.get(version, [("public", name)], load)[("public", name)])
            cache["public"] = self._pairs_of_roles(role_ids) if role_ids else frozenset()
        return cache["public"]

    def get_public_role(self):
        """The public role with its permissions in one statement (FAB asks for it for anonymous menus)."""
        return self.session.scalars(
            select(Role).where(Role.name == self.auth_role_public).options(joinedload(Role.permissions))
        ).unique().one_or_none()

    def is_item_public(self, permission_name, view_name):
        """FAB asks first on every REST call: answered from the cache (no statement when the user was loaded)."""
        return (view_name, permission_name) in self._public_pairs()

    def exist_permission_on_roles(self, view_name: str, permission_name: str, role_ids) -> bool:
        """FAB asks once per menu item and button: answered from the roles' cached pairs (app/security/
        permission_cache.py), kept for this request per set of roles."""
        if not role_ids:
            return False
        return (view_name, permission_name) in self._pairs_of_roles(role_ids)

    def _get_user_permission_view_menus(self, user, permission_name: str, view_menus_name):
        """The menu of an anonymous visitor from the public role's cached pairs (FAB would read the role)."""
        if user is None and self.auth_role_public not in self.builtin_roles and self._request_cache() is not None:
            return {view for view, permission in self._public_pairs() if permission == permission_name}
        return super()._get_user_permission_view_menus(user, permission_name, view_menus_name)

    def find_roles_permission_view_menus(self, permission_name: str, role_ids):
        """The menu's one question per request (menu_access on the user's roles), from the same cache: FAB uses
        only the view names of the answer."""
        names = sorted({view for view, permission in self._pairs_of_roles(role_ids) if permission == permission_name})
        return [_ViewMenuOnly(name) for name in names]


class _ViewMenuOnly:
    """What FAB reads of a PermissionView in _get_user_permission_view_menus: its view menu's name."""

    __slots__ = ("view_menu",)

    def __init__(self, name: str) -> None:
        self.view_menu = _Named(name)


class _Named:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

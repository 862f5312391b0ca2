"""REST API for divisions and memberships (tenant wall below, grant rules as in the screens)."""
from __future__ import annotations

from flask import g

from app.security import services
from app.security.models import Membership
from app.tenancy.fab import TenantModelApi
from app.tenancy.interface import TenantInterface
from app.tenancy.models import Division


class DivisionApi(TenantModelApi):
    resource_name = "division"
    datamodel = TenantInterface(Division)
    allow_browser_login = True
    list_columns = ["id", "code", "name_th", "name_en", "active"]
    show_columns = list_columns
    add_columns = ["code", "name_th", "name_en", "active"]
    edit_columns = add_columns
    search_columns = ["code", "name_th", "name_en", "active"]
    order_columns = ["code", "name_th"]
    base_order = ("code", "asc")  # a stable order, so that pages neither repeat nor skip rows


class MembershipApi(TenantModelApi):
    resource_name = "membership"
    datamodel = TenantInterface(Membership)
    allow_browser_login = True
    list_columns = [
        "id", "user.id", "user.username", "division.id", "division.code", "role.id", "role.code", "created_at",
    ]
    show_columns = list_columns
    add_columns = ["user", "division", "role"]
    edit_columns = add_columns
    search_columns = ["user", "division", "role"]
    order_columns = ["id"]
    base_order = ("id", "asc")

    def pre_add(self, item: Membership) -> None:
        services.prepare_grant(g.user, item)

    def pre_update(self, item: Membership) -> None:
        services.prepare_change(g.user, item)

    def pre_delete(self, item: Membership) -> None:
        services.prepare_revoke(g.user, item)

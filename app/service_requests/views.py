"""An organisation's own closures (วันหยุดขององค์กร), which the legal clock skips."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.service_requests.models import TenantClosure
from app.tenancy.fab import TenantModelView
from app.tenancy.interface import TenantInterface


class TenantClosureView(TenantModelView):
    route_base = "/closures"
    datamodel = TenantInterface(TenantClosure)
    list_title = _l("Office closures")
    show_title = _l("Office closure")
    add_title = _l("Add office closure")
    edit_title = _l("Edit office closure")
    list_columns = ["day", "name_th"]
    show_columns = ["day", "name_th"]
    add_columns = ["day", "name_th"]
    edit_columns = ["day", "name_th"]
    search_columns = ["day", "name_th"]
    base_order = ("day", "desc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]
    label_columns = {"day": _l("Date"), "name_th": _l("Reason")}
    description_columns = {
        "day": _l("A day the office is closed besides weekends and national holidays; the legal clock skips it."),
    }

"""Screens for tenants (platform operators) and divisions (tenant admins)."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, session, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.filters import FilterEqualFunction
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.security.services import is_platform_operator
from app.tenancy import services
from app.tenancy.context import current_tenant_id
from app.tenancy.fab import TenantModelView
from app.tenancy.interface import TenantInterface
from app.tenancy.models import Division, Tenant, TenantSwitchLog

TENANT_LABELS = {
    "dla_code": _l("DLA code"),
    "type": _l("Type"),
    "name_th": _l("Name (Thai)"),
    "name_en": _l("Name (English)"),
    "province": _l("Province"),
    "parent": _l("Parent organisation"),
    "active": _l("Active"),
    "thai_digits": _l("Thai digits on official documents"),
    "book_prefix": _l("Book code"),
    "address_th": _l("Address (Thai)"),
    "phone": _l("Telephone"),
    "privacy_notice_th": _l("Privacy notice"),
    "privacy_version": _l("Privacy notice version"),
    "reopen_days": _l("Days to reopen a closed matter"),
    "promptpay_biller_id": _l("PromptPay biller ID"),
    "created_at": _l("Created at"),
}
# what the letterhead fields mean, for the screens that edit them
LETTERHEAD_DESCRIPTIONS = {
    "book_prefix": _l("The code before the number on the organisation's letters (ที่ ...), e.g. ชม 52101."),
    "address_th": _l("The office address printed under the organisation's name on its letters."),
    "phone": _l("The telephone number printed at the foot of the organisation's letters."),
    "privacy_notice_th": _l("Shown on the citizen portal before a request is sent; leave empty for the "
                            "platform's standard notice. Every change makes a new version, recorded with "
                            "each request."),
    "reopen_days": _l("How many days after a matter is closed its applicant may reopen it on the portal."),
    "promptpay_biller_id": _l("15 digits (the tax ID and a 2-digit suffix) from the organisation's bank, for the "
                              "Thai QR that citizens scan to pay fees."),
}


class TenantView(TenantModelView):
    """Platform operators list and manage every อปท.; a new one gets its type's standard กอง."""

    route_base = "/tenants"
    datamodel = TenantInterface(Tenant)
    list_title = _l("Organisations")
    show_title = _l("Organisation")
    add_title = _l("Add organisation")
    edit_title = _l("Edit organisation")
    list_columns = ["dla_code", "name_th", "type", "province", "parent", "active"]
    search_columns = ["dla_code", "name_th", "name_en", "province", "type", "active"]
    show_columns = [
        "dla_code", "name_th", "name_en", "type", "province", "parent", "active", "thai_digits", "created_at",
    ]
    add_columns = ["dla_code", "name_th", "name_en", "type", "province", "parent", "active", "thai_digits"]
    edit_columns = ["name_th", "name_en", "type", "province", "parent", "active", "thai_digits"]
    order_columns = ["dla_code", "name_th", "province"]
    label_columns = TENANT_LABELS
    base_order = ("dla_code", "asc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    navigation_actions = ("switch_into",)

    def post_add(self, item: Tenant) -> None:
        services.create_default_divisions(item)
        db.session.commit()

    @action("switch_into", _l("Work in this organisation"), icon="fa-sign-in", multiple=False)
    def switch_into(self, item: Tenant):
        return redirect(url_for("TenantSwitchView.confirm", pk=item.id))


def _current_tenant_id():
    return current_tenant_id()


class OrganisationSettingsView(TenantModelView):
    """A tenant admin's own organisation: the settings it may change itself (never another's)."""

    route_base = "/organisation"
    datamodel = TenantInterface(Tenant)
    list_title = _l("Organisation settings")
    show_title = _l("Organisation settings")
    edit_title = _l("Organisation settings")
    # with no tenant chosen the filter matches nothing: id == NULL
    base_filters = [["id", FilterEqualFunction, _current_tenant_id]]
    list_columns = ["dla_code", "name_th", "type", "thai_digits"]
    show_columns = ["dla_code", "name_th", "name_en", "type", "province", "parent", "thai_digits",
                    "book_prefix", "address_th", "phone", "reopen_days", "promptpay_biller_id", "privacy_version",
                    "privacy_notice_th"]
    # the letterhead (book code, address, telephone) is printed on the organisation's letters
    edit_columns = ["name_en", "thai_digits", "book_prefix", "address_th", "phone", "reopen_days",
                    "promptpay_biller_id", "privacy_notice_th"]
    search_columns = ["name_th"]
    label_columns = TENANT_LABELS
    description_columns = LETTERHEAD_DESCRIPTIONS
    base_permissions = ["can_list", "can_show", "can_edit"]

    def pre_update(self, item):
        from flask_babel import gettext as _
        from sqlalchemy import inspect

        from app.tenancy.errors import UserError

        if item.reopen_days is None or not 0 <= item.reopen_days <= 365:
            raise UserError(_("Days to reopen must be from 0 to 365."))
        item.promptpay_biller_id = (item.promptpay_biller_id or "").replace("-", "").replace(" ", "") or None
        if item.promptpay_biller_id and not (item.promptpay_biller_id.isdigit()
                                             and len(item.promptpay_biller_id) == 15):
            raise UserError(_("The PromptPay biller ID is 15 digits."))
        if inspect(item).attrs.privacy_notice_th.history.has_changes():
            item.privacy_version = (item.privacy_version or 1) + 1  # consent given earlier names the old one


class TenantSwitchView(BaseView):
    """An operator enters one tenant explicitly, and leaves it; both are recorded."""

    route_base = "/tenant-switch"
    default_view = "confirm"

    @expose("/enter/<int:pk>", methods=["GET", "POST"])
    @has_access
    def confirm(self, pk: int):
        if not is_platform_operator(g.user):
            abort(403)
        tenant = db.session.get(Tenant, pk)
        if tenant is None or not tenant.active:
            abort(404)
        if request.method == "POST":
            services.record_switch(g.user, tenant, "enter", request.remote_addr)
            db.session.commit()
            session[services.ACTING_TENANT_KEY] = tenant.id
            flash(_("You are now working in %(name)s. This is recorded.", name=tenant), "warning")
            return redirect(url_for("DivisionView.list"))
        return self.render_template("tenancy/switch.html", tenant=tenant)

    @expose("/leave", methods=["POST"])
    @has_access
    def leave(self):
        tenant_id = session.pop(services.ACTING_TENANT_KEY, None)
        if tenant_id is not None and is_platform_operator(g.user):
            tenant = db.session.get(Tenant, tenant_id)
            if tenant is not None:
                services.record_switch(g.user, tenant, "leave", request.remote_addr)
                db.session.commit()
            flash(_("You left the organisation."), "info")
        return redirect(url_for("TenantView.list"))


class TenantSwitchLogView(TenantModelView):
    route_base = "/tenant-switch-log"
    datamodel = TenantInterface(TenantSwitchLog)
    list_title = _l("Organisation switch log")
    show_title = _l("Organisation switch")
    list_columns = ["at", "operator_username", "organisation", "action", "remote_addr"]
    search_columns = ["at", "operator_username", "organisation", "action"]
    show_columns = list_columns
    formatters_columns = {
        "action": lambda value: {"enter": _("Entered"), "leave": _("Left")}.get(value, value),
    }
    label_columns = {
        "at": _l("When"),
        "operator_username": _l("Operator"),
        "organisation": _l("Organisation"),
        "action": _l("Action"),
        "remote_addr": _l("IP address"),
    }
    base_order = ("at", "desc")
    base_permissions = ["can_list", "can_show"]


class DivisionView(TenantModelView):
    route_base = "/divisions"
    datamodel = TenantInterface(Division)
    list_title = _l("Divisions")
    show_title = _l("Division")
    add_title = _l("Add division")
    edit_title = _l("Edit division")
    list_columns = ["code", "name_th", "name_en", "active"]
    search_columns = ["code", "name_th", "name_en", "active"]
    show_columns = ["code", "name_th", "name_en", "active"]
    add_columns = ["code", "name_th", "name_en", "active"]
    edit_columns = ["code", "name_th", "name_en", "active"]
    order_columns = ["code", "name_th"]
    base_order = ("code", "asc")
    # no can_download: FAB's file download route is not tenant-aware (no file columns here anyway)
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]
    @action(
        "deactivate", _l("Deactivate"), _l("Deactivate the selected divisions?"), "fa-ban"
    )
    def deactivate(self, items):
        items = items if isinstance(items, list) else [items]
        for item in items:
            item.active = False
        self.datamodel.edit(items[0])
        flash(_("%(n)d division(s) deactivated.", n=len(items)), "success")
        return redirect(self.get_redirect())

    label_columns = {
        "code": _l("Code"),
        "name_th": _l("Name (Thai)"),
        "name_en": _l("Name (English)"),
        "active": _l("Active"),
    }

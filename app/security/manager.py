"""The one SecurityManager subclass: every FAB security override lives here."""
from __future__ import annotations

from flask_appbuilder.security.sqla.manager import SecurityManager

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
            view.datamodel = TenantInterface(view.datamodel.obj)
        if self.userstatschartview:
            self.userstatschartview.datamodel = TenantInterface(self.user_model)

    def auth_user_db(self, username, password):
        user = super().auth_user_db(username, password)
        # A user of a deactivated organisation cannot log in; the message is the same as a wrong password.
        if user is not None and user.tenant_id is not None and not user.tenant.active:
            return None
        return user

"""The staff landing page: who you are, which organisation, which กอง and roles."""
from flask import g, redirect, url_for
from flask_appbuilder import IndexView, expose

from app.extensions import db
from app.security.services import is_platform_operator, memberships_of
from app.tenancy.context import current_tenant_id
from app.tenancy.models import Tenant


class StaffHomeView(IndexView):
    index_template = "home/index.html"

    @expose("/")
    def index(self):
        user = g.user
        if user is None or not user.is_authenticated:
            return redirect(url_for(self.appbuilder.sm.auth_view.__class__.__name__ + ".login"))
        tenant_id = current_tenant_id()
        tenant = db.session.get(Tenant, tenant_id) if tenant_id else None
        memberships = memberships_of(user) if user.tenant_id else []
        return self.render_template(
            self.index_template,
            user=user,
            tenant=tenant,
            memberships=memberships,
            operator=is_platform_operator(user),
            appbuilder=self.appbuilder,
        )

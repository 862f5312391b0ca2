"""Application factory."""
from __future__ import annotations

import logging

from flask import Flask
from flask_appbuilder import AppBuilder
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.extensions import csrf, db, migrate

log = logging.getLogger(__name__)


@event.listens_for(Engine, "connect")
def _sqlite_setup(dbapi_connection, connection_record):
    # SQLite ignores foreign keys (our composite tenant keys included) unless asked per connection,
    # and knows no Thai order: lists sort Thai text with COLLATE thai (PostgreSQL uses ICU).
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        from app.thai import thai_compare

        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        dbapi_connection.create_collation("thai", thai_compare)


def create_app(config_object: object | None = None, **overrides) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(config_object or "config.Config")
    app.config.update(overrides)

    from app.security.passwords import validate_password_policy

    # FAB calls this setting; a dotted path in config.py would not be callable.
    app.config["FAB_PASSWORD_COMPLEXITY_VALIDATOR"] = validate_password_policy
    app.config.setdefault("FAB_BASE_TEMPLATE", "tenant_layout.html")

    from app import ops

    ops.init_logging(app)  # first: request ids, and the access line sees the final response
    _ensure_sqlite_dir(app)
    from app.thai_forms import install_form_translations

    install_form_translations()  # WTForms' own messages in Thai (English on request)
    db.init_app(app)
    from app.tenancy import pool, read_commit

    read_commit.init_app(app)  # right after db.init_app: its teardown runs before the session's removal
    pool.init_app(app)  # a ping only for connections that sat idle
    csrf.init_app(app)
    migrate.init_app(app, db, directory=_migrations_dir(), render_as_batch=True)

    from app import models  # noqa: F401  (registers every table on the shared metadata)
    from app.tenancy import guard

    guard.install()

    with app.app_context():
        from app.tenancy import rls

        rls.install(db.engine, app.config.get("DATABASE_PLATFORM_ROLE"))  # PostgreSQL's own wall
        # Before the first migration there are no tables to keep FAB's permissions in.
        from sqlalchemy import inspect

        if app.config.get("FAB_UPDATE_PERMS", True) and not inspect(db.engine).has_table(
            "ab_permission_view_role"
        ):
            app.config["FAB_UPDATE_PERMS"] = False
        appbuilder = AppBuilder(base_template=app.config["FAB_BASE_TEMPLATE"])
        appbuilder.init_app(app, db.session)
        _register_views(appbuilder)
        from app.security.labels import fab_security_views
        from app.thai_forms import sort_related_choices

        sort_related_choices(fab_security_views(appbuilder))  # FAB's security drop-downs in Thai order

    _register_template_filters(app)
    from app.tenancy import web

    web.init_app(app)
    from app import vendor

    vendor.init_app(app)
    from app.portal import views as portal

    portal.init_app(app)  # after the tenant resolution: the portal's own scope comes second
    from app.billing import views as billing

    billing.init_app(app)
    from app.certificates.views import bp as verify_bp

    app.register_blueprint(verify_bp)
    from app.api import openapi

    openapi.init_app(app)  # the open API: REST, Open311, its spec and docs page
    ops.init_app(app)  # GET /health
    from app.cli import register_cli

    register_cli(app)
    return app


def _register_template_filters(app: Flask) -> None:
    """{{ d|thai_date }}, {{ d|thai_date('long') }}, {{ t|thai_datetime }}, {{ x|baht }}, {{ x|baht_text }}."""
    from app import thai

    app.add_template_filter(thai.format_date, "thai_date")
    app.add_template_filter(thai.format_datetime, "thai_datetime")
    app.add_template_filter(thai.format_baht, "baht")
    app.add_template_filter(thai.baht_text, "baht_text")
    app.add_template_filter(thai.thai_digits, "thai_digits")
    from app.tenancy.models import localized

    app.add_template_global(localized, "localized")  # Thai, or English when the user chose it and it exists
    # An empty column (None) shows as nothing, not "None", in every list, show page and form of FAB's and ours.
    app.jinja_env.finalize = thai.blank_none

    @app.context_processor
    def _unread_notifications():
        """The unread count for the banner: only for a signed-in member of an organisation."""
        from flask import g

        from app.tenancy.context import current_tenant_id

        def unread() -> int:
            user = getattr(g, "user", None)
            if user is None or not getattr(user, "is_authenticated", False) or current_tenant_id() is None:
                return 0
            from app.service_requests.views import unread_count

            return unread_count(user)

        return {"unread_notifications": unread}


def _migrations_dir() -> str:
    import os

    return os.path.join(os.path.dirname(__file__), "migrations")


def _ensure_sqlite_dir(app: Flask) -> None:
    import os

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):
        path = uri[len("sqlite:///"):]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)


def _register_views(appbuilder: AppBuilder) -> None:
    from flask_babel import lazy_gettext as _l

    from app.catalog.admin_views import ServiceAdminView
    from app.catalog.api import ServiceRequestApi
    from app.catalog.views import (
        FeeScheduleView,
        ServiceCatalogView,
        ServiceFieldView,
        ServiceRequestView,
        ServiceTypeView,
    )
    from app.security.api import DivisionApi, MembershipApi
    from app.service_requests.inbox_views import InboxView
    from app.service_requests.forwarding_views import ForwardingView
    from app.service_requests.views import DelegationView, MyNotificationsView, NotificationView, TenantClosureView
    from app.security.views import GrantLogView, MembershipView, TenantUserView
    from app.tenancy.views import (
        DivisionView,
        OrganisationSettingsView,
        TenantSwitchLogView,
        TenantSwitchView,
        TenantView,
    )

    org = "Organisation"
    appbuilder.add_view(
        DivisionView, "Divisions", label=_l("Divisions"), icon="fa-sitemap", category=org,
        category_label=_l("Organisation"),
    )
    appbuilder.add_view(TenantUserView, "Users", label=_l("Users"), icon="fa-user", category=org)
    appbuilder.add_view(
        MembershipView, "Memberships", label=_l("Memberships"), icon="fa-id-badge", category=org
    )
    appbuilder.add_view(
        GrantLogView, "Grant log", label=_l("Grant and revoke log"), icon="fa-history", category=org
    )
    appbuilder.add_view(
        OrganisationSettingsView, "Organisation settings", label=_l("Organisation settings"),
        icon="fa-cog", category=org,
    )
    appbuilder.add_view(
        DelegationView, "Delegations", label=_l("Delegations of authority"), icon="fa-exchange", category=org,
    )
    appbuilder.add_view(
        TenantClosureView, "Office closures", label=_l("Office closures"), icon="fa-calendar-times-o",
        category=org,
    )
    services = "Services"
    appbuilder.add_view(
        ServiceCatalogView, "Service catalogue", label=_l("Services"), icon="fa-th-list", category=services,
        category_label=_l("Services"),
    )
    appbuilder.add_view(
        ServiceRequestView, "Requests", label=_l("Requests"), icon="fa-inbox", category=services
    )
    appbuilder.add_view(InboxView, "Division inbox", label=_l("Division inbox"), icon="fa-tasks",
                        category=services)
    appbuilder.add_link("Approvals", href="/inbox/approvals", label=_l("Waiting for approval"),
                        icon="fa-check-square-o", category=services)
    appbuilder.add_view(ForwardingView, "Forwarded matters", label=_l("Forwarded matters"), icon="fa-share",
                        category=services)
    appbuilder.add_view(MyNotificationsView, "My notifications", label=_l("My notifications"), icon="fa-bell",
                        category=services)
    appbuilder.add_view(NotificationView, "Outbox", label=_l("Outbox"), icon="fa-envelope", category=services)
    from app.billing.views import PaymentView

    appbuilder.add_view(PaymentView, "Payments received", label=_l("Payments received"), icon="fa-money",
                        category=services)
    from app.billing import menu as waste_menu

    waste_menu.register(appbuilder)
    from app.saraban import menu as saraban_menu

    saraban_menu.register(appbuilder)
    from app.api import menu as api_menu

    api_menu.register(appbuilder)
    appbuilder.add_view(
        ServiceTypeView, "Service settings", label=_l("Service settings"), icon="fa-cogs", category=services
    )
    appbuilder.add_view(
        ServiceAdminView, "New service", label=_l("New service"), icon="fa-plus", category=services,
    )
    appbuilder.add_view_no_menu(FeeScheduleView)
    appbuilder.add_view_no_menu(ServiceFieldView)
    platform = "Platform"
    appbuilder.add_view(
        TenantView, "Organisations", label=_l("Organisations"), icon="fa-building", category=platform,
        category_label=_l("Platform"),
    )
    appbuilder.add_view(
        TenantSwitchLogView, "Switch log", label=_l("Organisation switch log"), icon="fa-history",
        category=platform,
    )
    appbuilder.add_view_no_menu(TenantSwitchView)
    appbuilder.add_api(DivisionApi)
    appbuilder.add_api(ServiceRequestApi)
    appbuilder.add_api(MembershipApi)

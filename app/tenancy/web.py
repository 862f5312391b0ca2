"""Per request: resolve the tenant once, from the logged-in user (or an operator's explicit switch)."""
from __future__ import annotations

from flask import Flask, current_app, flash, g, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from app.extensions import db
from app.security.services import is_platform_operator
from app.tenancy.context import Scope, TenantNotSet, platform_scope, reset_scope, set_scope
from app.tenancy.guard import evict_other_tenants
from app.tenancy.models import Tenant
from app.tenancy.services import ACTING_TENANT_KEY


def _api_token_user():
    """REST clients log in with a JWT (FAB's /api/v1/security/login), not a session cookie."""
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        return None
    from flask_jwt_extended import get_current_user, verify_jwt_in_request

    try:
        verify_jwt_in_request(optional=True)
        return get_current_user()
    except Exception:  # expired or forged: FAB's own check answers 401 later
        return None


def _remember_locale(user) -> None:
    """The language a user picks (FAB's /lang/<locale>) is kept on the user and restored at login."""
    if request.endpoint == "LocaleView.index":
        locale = (request.view_args or {}).get("locale")
        if locale in current_app.config["LANGUAGES"] and user.locale != locale:
            with platform_scope():  # the user's own row, whichever tenant an operator is in
                user.locale = locale
                db.session.commit()
    elif user.locale and session.get("_locale_user") != user.id:
        session["locale"] = user.locale
    session["_locale_user"] = user.id


def _resolve() -> None:
    g._tenant_token = set_scope(None)
    g.acting_tenant = None
    user = current_user if current_user and current_user.is_authenticated else None
    if user is None:
        user = _api_token_user()
    if user is None or not user.is_active:
        return
    _remember_locale(user)
    if user.tenant_id is not None:
        tenant = user.tenant
        if tenant is None or not tenant.active:
            logout_user()
            return
        tenant_id = tenant.id
    elif is_platform_operator(user) and session.get(ACTING_TENANT_KEY):
        tenant = db.session.get(Tenant, session[ACTING_TENANT_KEY])
        if tenant is None or not tenant.active:
            session.pop(ACTING_TENANT_KEY, None)
            return
        tenant_id = tenant.id
        g.acting_tenant = tenant
    else:
        return
    set_scope(Scope(tenant_id=tenant_id))
    evict_other_tenants(db.session, tenant_id)


def _reset(exc=None) -> None:
    token = g.pop("_tenant_token", None)
    if token is not None:
        try:
            reset_scope(token)
        except ValueError:  # token from another context (already reset)
            set_scope(None)


def _no_tenant(exc: TenantNotSet):
    db.session.rollback()
    if request.path.startswith("/api/"):
        return jsonify(message=_("Choose an organisation first.")), 403
    flash(_("Choose an organisation to work in first."), "warning")
    return redirect(url_for("TenantView.list") if current_user.is_authenticated else "/")


def _bad_input(exc: Exception):
    """A value the database or FAB's argument parsing cannot take (page=abc, an id out of range)."""
    db.session.rollback()
    current_app.logger.warning("bad input on %s", request.path, exc_info=True)
    message = _("The request has an invalid value.")
    if request.path.startswith("/api/"):
        return jsonify(message=message), 400
    flash(message, "danger")
    if request.method == "GET" and request.query_string:
        return redirect(request.path)  # the same screen without the bad parameters
    return redirect(url_for("StaffHomeView.index"))


def init_app(app: Flask) -> None:
    from app.tenancy.fab import BAD_INPUT_ERRORS

    app.before_request(_resolve)
    app.teardown_request(_reset)
    app.register_error_handler(TenantNotSet, _no_tenant)
    for error in BAD_INPUT_ERRORS:
        app.register_error_handler(error, _bad_input)

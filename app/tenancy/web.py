"""Per request: resolve the tenant once, from the logged-in user (or an operator's explicit switch)."""
from __future__ import annotations

from flask import (
    Flask, current_app, flash, g, jsonify, redirect, render_template, render_template_string, request, session,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from app.extensions import db
from app.security.services import is_platform_operator
from app.tenancy.context import Scope, TenantNotSet, platform_scope, reset_scope, set_scope
from app.tenancy.guard import evict_other_tenants
from app.tenancy.models import Tenant
from app.tenancy.services import ACTING_TENANT_KEY


def _api_token_user():
    """REST clients log in with a JWT (FAB's /api/v1/security/login), not a session cookie. Checked and its user
    loaded once per request (the open API asks again after the tenant resolution)."""
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        return None
    current = request._get_current_object()
    held = g.get("_api_token_user")
    if held is not None and held[0] is current:
        return held[1]
    from flask_jwt_extended import get_current_user, verify_jwt_in_request

    try:
        verify_jwt_in_request(optional=True)
        user = get_current_user()
    except Exception:  # expired or forged: FAB's own check answers 401 later
        user = None
    g._api_token_user = (current, user)
    return user


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
    if not request.path.startswith("/api/"):
        _prefetch_staff_rows(user)


def _prefetch_staff_rows(user) -> None:
    """A staff page needs the user's memberships (row scope, menus) and the banner's unread count: one
    statement for both (DESIGN.md speed rules) instead of a lazy load and a count."""
    from sqlalchemy import func, inspect, select
    from sqlalchemy.orm.attributes import set_committed_value

    from app.security.models import Membership
    from app.service_requests.models import Notification

    if "memberships" not in inspect(user).unloaded:
        return
    unread = select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)).scalar_subquery()
    rows = db.session.execute(
        select(Membership, unread).where(Membership.user_id == user.id).order_by(Membership.id)
    ).unique().all()
    set_committed_value(user, "memberships", [membership for membership, _ in rows])
    if rows:
        # valid while this transaction lasts unchanged (app/service_requests/views.py unread_count)
        g._unread_prefetch = (user.id, db.session().get_transaction(), rows[0][1] or 0)


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


_TOO_MANY_PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{ title }}</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto; padding: 0 1em">
<h1>{{ title }}</h1><p>{{ message }}</p></body></html>"""


def _client_language() -> str | None:
    """English for a client that asks for it: FAB's ?_l_=, the language chosen in the session, or,
    for a client with neither (a REST client), its Accept-Language header. None: the usual locale."""
    languages = list(current_app.config.get("LANGUAGES") or {})
    if request.args.get("_l_") in languages:
        return request.args["_l_"]
    if session.get("locale") in languages:
        return session["locale"]
    return request.accept_languages.best_match(languages) if request.accept_languages else None


def _too_many_requests(exc):
    """Flask-Limiter's 429 (logins, the portal's forms): a clear message in the client's language."""
    with force_locale(_client_language() or current_app.config.get("BABEL_DEFAULT_LOCALE", "th")):
        message = _("Too many attempts from your address. Please wait a while and try again.")
        if request.path.startswith("/api/"):
            response = jsonify(message=message)
        else:
            response = current_app.make_response(render_template_string(
                _TOO_MANY_PAGE, lang=_client_language() or "th", title=_("Too many attempts"),
                message=message,
            ))
    response.status_code = 429
    return response


def _http_error(exc):
    """403, 404 and 405 in the reader's language: JSON for the API, the staff layout (menu and a way back, in
    the language the staff screens use) for signed-in staff, a plain page for everyone else (the portal, the
    login page)."""
    code = getattr(exc, "code", 404) or 404
    from app.api import openapi

    if openapi.is_api_path(request.path):  # the open API answers every error in its own JSON shape
        from app.api import errors, language

        language.install()
        return errors.from_http(exc)

    def texts():
        messages = {
            403: (_("Not permitted"), _("You do not have permission to open this page.")),
            404: (_("Not found"), _("The page or record you asked for does not exist, or you may not see it.")),
            405: (_("Not allowed"), _("This page cannot be opened that way.")),
        }
        return messages.get(code, messages[404])

    if getattr(current_user, "is_authenticated", False) and not request.path.startswith(("/api/", "/t/")):
        title, message = texts()
        try:
            appbuilder = current_app.appbuilder
            return render_template("http_error.html", title=title, message=message, code=code,
                                   appbuilder=appbuilder, base_template=appbuilder.base_template), code
        except Exception:  # the layout itself failed (a broken session): the plain page still answers
            db.session.rollback()
            current_app.logger.exception("error page layout failed")
    with force_locale(_client_language() or current_app.config.get("BABEL_DEFAULT_LOCALE", "th")):
        title, message = texts()
        if request.path.startswith("/api/"):
            return jsonify(message=str(message)), code
        return render_template_string(_TOO_MANY_PAGE, lang=_client_language() or "th", title=title,
                                      message=message), code


def init_app(app: Flask) -> None:
    from app.tenancy.fab import BAD_INPUT_ERRORS

    for code in (403, 404, 405):
        app.register_error_handler(code, _http_error)

    app.before_request(_resolve)
    app.teardown_request(_reset)
    app.register_error_handler(TenantNotSet, _no_tenant)
    app.register_error_handler(429, _too_many_requests)
    for error in BAD_INPUT_ERRORS:
        app.register_error_handler(error, _bad_input)

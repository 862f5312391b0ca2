"""The open API's machinery: flask-smorest builds the OpenAPI 3 spec from the same marshmallow schemas that
parse requests and shape responses, so the spec cannot drift from what the server does. The spec is public
(/api/open/v1/openapi.json), with a Swagger UI page (/api/open/v1/docs) served from Flask-AppBuilder's own
copy of Swagger UI (no CDN)."""
from __future__ import annotations

import importlib

from flask import Blueprint as FlaskBlueprint
from flask import Flask, render_template
from flask_babel import gettext as _
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import RAISE
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from app.api import auth, errors, ratelimit
from app.api.schemas import ErrorSchema

PREFIX = "/api/open/v1"
OPEN311_PREFIX = "/open311/v2"
PREFIXES = (PREFIX, OPEN311_PREFIX, "/open311/discovery")

# every resource of the open API, one module each (each has `blp`, a flask_smorest.Blueprint)
RESOURCES = [
    "app.api.service_types",
    "app.api.requests",
    "app.api.billing",
    "app.api.correspondence",
    "app.api.webhooks_api",
    "app.api.tenants",
    "app.api.open311.api",
    "app.api.open311.discovery",
]

DESCRIPTION = """\
The open API of ท้องถิ่นดิจิทัล. Every call works inside one organisation (อปท.): the one its API key belongs
to, or the one of the user whose token it sends. Nothing of another organisation can be read or changed.

* **Integration keys** (`X-API-Key: ttk_…`, or `Authorization: Bearer ttk_…`) are made by an organisation's
  admin (การเชื่อมต่อระบบ → กุญแจ API). A key acts as one user of the organisation: that user's roles, กอง and the
  workflow's rules apply. Its scopes narrow it further: `read`, `submit`, `manage`.
* **Users** log in with `POST /api/v1/security/login` (`{"username", "password", "provider": "db"}`) and send
  `Authorization: Bearer <access_token>`.
* **Errors** always have the shape `Error`, with the message in Thai and in English.
* **Money** is a string with two decimals (`"40.00"`), never a number.
* **Lists** page by cursor: pass `next_cursor` back as `?cursor=`; `null` means the last page.
* **Limits**: calls per minute per key (its own limit), per user, and per address without either; over it
  the answer is 429 with `Retry-After` (seconds).
* Dates and times are ISO 8601, times in UTC.
"""


class _Parser(FlaskParser):
    # a mistyped query parameter (?servce_type=) is refused, not silently ignored
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": RAISE, "querystring": RAISE}


class ApiBlueprint(SmorestBlueprint):
    """Every open-API blueprint: our argument parser."""

    ARGUMENTS_PARSER = _Parser()


class OpenApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        """The app's own pages keep their handlers: ours are registered on the API's blueprints only."""


def _settings(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "Thongthin Digital open API")
    app.config.setdefault("API_VERSION", "1.0.0")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": DESCRIPTION},
        "components": {"securitySchemes": {
            "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "Bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT or ttk_ key"},
        }},
    })


def _rate_limited_response(api: Api) -> None:
    api.spec.components.response("RATE_LIMITED", {
        "description": "Too many calls: wait Retry-After seconds",
        "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
        "content": {"application/json": {"schema": "Error"}},
    })


def guard_blueprint(blp, *, allow_key_param: bool = False) -> None:
    """The same entrance for every API blueprint: authenticate, count, and answer errors in our shape."""
    blp.before_request(lambda: auth.authenticate(allow_param=allow_key_param))
    blp.after_request(auth.add_rate_headers)
    blp.register_error_handler(errors.ApiError, errors.respond)
    blp.register_error_handler(HTTPException, errors.from_http)
    blp.register_error_handler(Exception, _translate)


def _translate(exc: Exception):
    from marshmallow import ValidationError

    from app.extensions import db
    from app.tenancy.context import TenantNotSet
    from app.tenancy.errors import UserError
    from app.tenancy.fab import BAD_INPUT_ERRORS

    if isinstance(exc, UserError):
        db.session.rollback()
        cause = exc.__cause__
        fields = errors.flatten(cause.messages, "data") if isinstance(cause, ValidationError) else []
        code = errors.GENERIC.get(exc.status, errors.GENERIC[422])[0]
        return errors.respond(errors.ApiError(exc.status, code, exc.message, fields))
    if isinstance(exc, TenantNotSet):
        db.session.rollback()
        return errors.respond(errors.ApiError(403, "no_organisation"))
    if isinstance(exc, BAD_INPUT_ERRORS):
        db.session.rollback()
        return errors.respond(errors.ApiError(400))
    return errors.from_unexpected(exc)


def operation(blp, scope: str | None = None, *, operator: bool = False, public: bool = False):
    """Document and enforce who may call: the security schemes, 401/403/429 responses, the scope check."""
    def decorator(func):
        if not public:
            func = auth.requires(scope, operator=operator)(func)
            func = blp.alt_response(401, response="UNAUTHORIZED")(func)
            func = blp.alt_response(403, response="FORBIDDEN")(func)
        func = blp.alt_response(429, response="RATE_LIMITED")(func)
        security = [] if public else [{"ApiKey": []}, {"Bearer": []}]
        note = "" if public else (f"Needs the scope `{scope}`." if scope else "")
        if operator:
            note = "Platform operators only (a user's token)."
        return blp.doc(security=security, description=((func.__doc__ or "").strip() + "\n\n" + note).strip())(func)
    return decorator


TAGS = {
    "open_service_types": "Service types", "open_requests": "Service requests", "open_billing": "Money",
    "open_correspondence": "Correspondence", "open_tenants": "Organisations (operators)",
    "open_webhooks": "Webhooks", "Open311": "Open311 GeoReport v2", "Open311_discovery": "Open311 discovery",
}


def _readable_tags(api: Api) -> None:
    """Group the operations under readable names in the spec and its Swagger page (flask-smorest tags each
    operation with its blueprint's name, which must be an identifier)."""
    for tag in api.spec._tags:
        tag["name"] = TAGS.get(tag["name"], tag["name"])
    for operations in api.spec._paths.values():
        for operation in operations.values():
            if isinstance(operation, dict) and "tags" in operation:
                operation["tags"] = [TAGS.get(t, t) for t in operation["tags"]]


def _decimal_as_string(self, field, ret, **kwargs) -> dict:
    """A Decimal sent as a string ("20.00") is a string in the spec too (apispec calls every Decimal a number)."""
    from marshmallow import fields as mf

    if isinstance(field, mf.Decimal) and field.as_string:
        return {"type": "string", **({} if "pattern" in ret else {"pattern": r"^-?[0-9]+(\.[0-9]+)?$"})}
    return {}


def _docs_blueprint() -> FlaskBlueprint:
    docs = FlaskBlueprint("open_api_docs", __name__)

    @docs.route(f"{PREFIX}/docs")
    def swagger_ui():
        from flask_babel import get_locale

        return render_template("api/swagger.html", spec_url=f"{PREFIX}/openapi.json",
                               title=_("Open API: ท้องถิ่นดิจิทัล"), lang=str(get_locale() or "th"))

    return docs


def init_app(app: Flask) -> None:
    from app.extensions import csrf

    _settings(app)
    ratelimit.init_app(app)
    api = OpenApi(app)
    api.ma_plugin.converter.add_attribute_function(_decimal_as_string)
    _rate_limited_response(api)
    for name in RESOURCES:
        module = importlib.import_module(name)
        csrf.exempt(module.blp)
        api.register_blueprint(module.blp)
    _readable_tags(api)
    app.register_blueprint(_docs_blueprint())
    app.extensions["open_api"] = api


def is_api_path(path: str) -> bool:
    return path.startswith(PREFIXES) and not path.startswith(f"{PREFIX}/docs")

"""GeoReport v2's endpoints at /open311/v2: each in JSON (.json) and XML (.xml), answering errors in the
standard's own format [{code, description}] (with description_th and description_en added)."""
from __future__ import annotations

from flask import Blueprint as FlaskBlueprint
from flask import jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from app.api import errors
from app.api.errors import ApiError
from app.api.models import READ, SUBMIT
from app.api.open311 import schemas, services, xml
from app.api.open311.services import Open311Error
from app.api.openapi import OPEN311_PREFIX, ApiBlueprint, guard_blueprint
from app.extensions import db

blp = ApiBlueprint(
    "Open311", __name__, url_prefix=OPEN311_PREFIX,
    description="Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2). `jurisdiction_id` (the "
                "organisation's DLA code) is required on every call. Services and tokens are public; filing "
                "needs an api_key with the scope `submit`; reading requests needs `read`, because complaints "
                "hold personal data (PDPA). Requester names, e-mails and phones are never returned. Errors: "
                "`[{code, description, description_th, description_en}]` (XML: errors/error).",
)
guard_blueprint(blp, allow_key_param=True)

XML_DOC = {"type": "string", "description": "the same answer as the .json variant, as GeoReport v2 XML"}
WHY = {400: "The input is not valid (each problem one entry)", 403: "No valid api_key, the key is of another "
       "jurisdiction, or it lacks the scope", 404: "Unknown jurisdiction_id, service_code, request or token",
       429: "Too many calls: wait Retry-After seconds"}


# --- errors in the standard's format ---------------------------------------------------------------------------

def _xml_wanted() -> bool:
    return request.path.endswith(".xml")


def error_response(status: int, messages, headers: dict | None = None):
    lang = services.language()
    items = []
    for message in messages:
        th, en = message.both() if hasattr(message, "both") else errors.both(message)
        items.append({"code": status, "description": en if lang == "en" else th, "description_th": th,
                      "description_en": en})
    response = xml.respond("errors", items, status) if _xml_wanted() else jsonify(items)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _open311_error(exc: Open311Error):
    db.session.rollback()
    return error_response(exc.status, exc.messages, exc.headers)


def _api_error(exc: ApiError):
    db.session.rollback()
    # the standard answers a missing or bad api_key with 403
    status = 403 if exc.status == 401 else exc.status
    return error_response(status, [exc.message], exc.headers)


class _FieldMessage:
    def __init__(self, item: dict):
        self.item = item

    def both(self):
        return f"{self.item['field']}: {self.item['message_th']}", f"{self.item['field']}: {self.item['message_en']}"


def _http_error(exc: HTTPException):
    status = exc.code or 500
    messages = getattr(exc, "data", {}).get("messages") if isinstance(getattr(exc, "data", None), dict) else None
    if messages:  # webargs: a parameter is wrong
        found = [_FieldMessage(f) for location in messages.values() for f in errors.flatten(location)]
        return error_response(400, found or [errors.GENERIC[400][1]])
    if status == 422:
        status = 400
    return error_response(status, [errors.GENERIC.get(status, errors.GENERIC[400])[1]])


def _unexpected(exc: Exception):
    from app.tenancy.errors import UserError

    db.session.rollback()
    if isinstance(exc, UserError):
        return error_response(400, [exc.message])
    from flask import current_app

    current_app.logger.exception("Open311 error on %s", request.path)
    return error_response(500, [errors.GENERIC[500][1]])


def open311_errors(blueprint) -> None:
    """Replace guard_blueprint's error shape with the standard's (registered after it, so these win)."""
    blueprint.register_error_handler(Open311Error, _open311_error)
    blueprint.register_error_handler(ApiError, _api_error)
    blueprint.register_error_handler(HTTPException, _http_error)
    blueprint.register_error_handler(Exception, _unexpected)


open311_errors(blp)


@blp.before_request
def _jurisdiction():
    services.enter_jurisdiction()


def documented(fmt: str, schema, *, statuses=(400, 403, 404), scope: str | None = None, description: str = ""):
    """The success answer and every error the call can give, in the variant's content type."""
    def decorator(func):
        error_schema = schemas.Open311ErrorSchema(many=True) if fmt == "json" else XML_DOC
        content_type = "application/json" if fmt == "json" else "text/xml"
        for status in (*statuses, 429):
            headers = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}} \
                if status == 429 else None
            func = blp.alt_response(status, schema=error_schema, content_type=content_type,
                                    description=WHY[status], headers=headers)(func)
        func = blp.response(200, schema if fmt == "json" else XML_DOC, content_type=content_type)(func)
        note = f"Needs an api_key with the scope `{scope}`." if scope else "Public: no api_key needed."
        security = [{"ApiKey": []}, {"Bearer": []}] if scope else []
        return blp.doc(security=security, description=f"{description}\n\n{note}".strip())(func)
    return decorator


def _answer(fmt: str, root: str, schema, value):
    """The answer through its schema (ISO dates with their zone), as JSON or the standard's XML."""
    data = schema.dump(value)
    return xml.respond(root, data) if fmt == "xml" else jsonify(data)


def _arguments(schema, location: str):
    """webargs' errors answer 400 in the standard's format (see _http_error): no 422 in the spec."""
    def decorator(func):
        func = blp.arguments(schema, location=location)(func)
        func._apidoc.get("arguments", {}).get("responses", {}).pop(422, None)
        return func
    return decorator


def _route(path: str, fmt: str, **options):
    return blp.route(path.replace("{fmt}", fmt), endpoint=f"{options.pop('name')}_{fmt}", **options)


# --- services --------------------------------------------------------------------------------------------------

def _services(fmt):
    def view(args):
        lang = services.language()
        return _answer(fmt, "services", schemas.Open311ServiceSchema(many=True), [services.service_summary(s, lang) for s in services.offered()])
    view.__name__ = f"services_{fmt}"
    view.__doc__ = "The services citizens may request from the jurisdiction (those its portal offers)."
    view = documented(fmt, schemas.Open311ServiceSchema(many=True), statuses=(400, 403, 404),
                      description=view.__doc__)(view)
    view = _arguments(schemas.Open311JurisdictionArgs, "query")(view)
    return _route("/services.{fmt}", fmt, name="services", methods=["GET"])(view)


def _definition(fmt):
    def view(args, service_code):
        item = services.offered_service(service_code)
        return _answer(fmt, "service_definition", schemas.Open311ServiceDefinitionSchema(), services.service_definition(item, services.language()))
    view.__name__ = f"service_definition_{fmt}"
    view.__doc__ = ("A service's attributes: its public fields (the location is the request's lat/long, files "
                    "its media_url).")
    view = _arguments(schemas.Open311JurisdictionArgs, "query")(
        documented(fmt, schemas.Open311ServiceDefinitionSchema, description=view.__doc__)(view))
    return _route("/services/<string:service_code>.{fmt}", fmt, name="service_definition", methods=["GET"])(view)


# --- requests --------------------------------------------------------------------------------------------------

POST_KNOWN = set(schemas.Open311PostRequestForm().fields)


def _post(fmt):
    def view(args):
        services.check(SUBMIT)
        services.require_permission("can_add", "ServiceRequestView")
        unknown = services.unknown_parameters(request.form, POST_KNOWN)
        if unknown:
            raise Open311Error(400, *[_l("%(name)s: not a parameter of this call.", name=name) for name in unknown])
        matter, token = services.file(args, request.form)
        notice = services.service_notice(matter.service_type, services.language())
        db.session.commit()
        return _answer(fmt, "service_requests", schemas.Open311PostedSchema(many=True), [{
            "service_request_id": str(matter.id), "token": token, "service_notice": notice,
            "account_id": args.get("account_id")}])
    view.__name__ = f"post_request_{fmt}"
    view.__doc__ = ("File a request (form-encoded): service_code, lat/long or address_string, "
                    "attribute[code]=value for each attribute (attribute[code][]=value for a multivaluelist), "
                    "and the requester's email, first_name, last_name, phone, description, media_url (first_name and "
                    "last_name fill the service's field for the requester's name, e.g. applicant_name, when no "
                    "attribute gives it; email, phone and description fill the first empty field of their "
                    "kind). Checked as "
                    "the portal's form checks it; nothing is saved when anything is wrong.")
    view = _arguments(schemas.Open311PostRequestForm, "form")(
        documented(fmt, schemas.Open311PostedSchema(many=True), scope=SUBMIT, description=view.__doc__)(view))
    return _route("/requests.{fmt}", fmt, name="post_request", methods=["POST"])(view)


def _list(fmt):
    def view(args):
        services.check(READ)
        services.require_permission("can_list", "ServiceRequestView")
        lang = services.language()
        return _answer(fmt, "service_requests", schemas.Open311RequestSchema(many=True), [services.matter_view(m, lang) for m in services.matters(args)])
    view.__name__ = f"requests_{fmt}"
    view.__doc__ = ("The jurisdiction's requests, newest first: the last 90 days by default, at most 1000. "
                    "Within the reach of the key's acting user (an officer's key: their กอง's matters).")
    view = _arguments(schemas.Open311RequestListArgs, "query")(
        documented(fmt, schemas.Open311RequestSchema(many=True), scope=READ, statuses=(400, 403, 404),
                   description=view.__doc__)(view))
    return _route("/requests.{fmt}", fmt, name="requests", methods=["GET"])(view)


def _one(fmt):
    def view(args, service_request_id):
        services.check(READ)
        services.require_permission("can_show", "ServiceRequestView")
        return _answer(fmt, "service_requests", schemas.Open311RequestSchema(many=True),
                       [services.matter_view(services.matter(service_request_id), services.language())])
    view.__name__ = f"request_{fmt}"
    view.__doc__ = "One request (a list of one, as the standard has it)."
    view = _arguments(schemas.Open311JurisdictionArgs, "query")(
        documented(fmt, schemas.Open311RequestSchema(many=True), scope=READ, description=view.__doc__)(view))
    return _route("/requests/<int(signed=True):service_request_id>.{fmt}", fmt, name="request", methods=["GET"])(view)


def _token(fmt):
    def view(args, token):
        found = services.by_token(token)
        return _answer(fmt, "service_requests", schemas.Open311TokenSchema(many=True), [{"token": found.token,
                                                  "service_request_id": str(found.request_id)}])
    view.__name__ = f"token_{fmt}"
    view.__doc__ = "The service_request_id of a token POST requests gave."
    view = _arguments(schemas.Open311JurisdictionArgs, "query")(
        documented(fmt, schemas.Open311TokenSchema(many=True), description=view.__doc__)(view))
    return _route("/tokens/<string:token>.{fmt}", fmt, name="token", methods=["GET"])(view)


def _no_such_resource(rest: str):
    """Any other address under /open311/v2 (an id that is not a number, a mistyped name) answers in the
    standard's format too, not in the app's own."""
    raise Open311Error(404, _l("Not found, or you may not see it."))


# plain Flask registration: not an operation of the spec; the specific routes above win over it
FlaskBlueprint.add_url_rule(blp, "/<path:rest>", "no_such_resource", _no_such_resource,
                            methods=["GET", "POST", "PUT", "PATCH", "DELETE"])

for _fmt in ("json", "xml"):
    for _make in (_services, _definition, _post, _list, _one, _token):
        _make(_fmt)

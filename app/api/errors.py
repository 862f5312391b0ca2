"""One error shape for the whole open API: a machine code, the message in Thai and in English, and the fields
at fault. Every failure (a check, an unknown id, a missing key, too many calls, a route that does not exist)
answers with it, never with an HTML page or a bare 500."""
from __future__ import annotations

from typing import Iterable

from flask import current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from app.api.language import both

GENERIC = {
    400: ("bad_request", _l("The request is not well formed.")),
    401: ("unauthenticated", _l("Send a valid API key (X-API-Key) or a user's access token (Authorization: Bearer).")),
    403: ("forbidden", _l("You do not have permission to do this.")),
    404: ("not_found", _l("Not found, or you may not see it.")),
    405: ("method_not_allowed", _l("This address does not take that method.")),
    406: ("not_acceptable", _l("This address answers only in JSON.")),
    409: ("conflict", _l("Someone else has just changed this. Read it again and retry.")),
    413: ("too_large", _l("The request is too large.")),
    415: ("unsupported_media_type", _l("Send the body as JSON (Content-Type: application/json).")),
    422: ("invalid_input", _l("Some values are not valid: see fields.")),
    429: ("rate_limited", _l("Too many calls with this key. Wait for the time in Retry-After and try again.")),
    500: ("server_error", _l("Something went wrong on our side. Nothing was saved.")),
}


class ApiError(Exception):
    """Raise from any API code: status, a stable code, a message (lazy string or gettext Phrase), fields."""

    def __init__(self, status: int, code: str | None = None, message=None, fields: Iterable[dict] = (),
                 headers: dict | None = None):
        default_code, default_message = GENERIC.get(status, GENERIC[400])
        super().__init__(code or default_code)
        self.status, self.code = status, code or default_code
        self.message = message if message is not None else default_message
        self.fields = list(fields)
        self.headers = headers or {}


def field(name: str, message) -> dict:
    th, en = both(message)
    return {"field": name, "message_th": th, "message_en": en}


def flatten(messages, prefix: str = "") -> list[dict]:
    """marshmallow / webargs messages ({"data": {"phone": ["..."]}}) as a flat list of fields."""
    out: list[dict] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten(value, name))
    elif isinstance(messages, (list, tuple)):
        if all(not isinstance(m, (dict, list, tuple)) for m in messages):
            out.extend(field(prefix or "_body", m) for m in messages)
        else:
            for index, value in enumerate(messages):
                out.extend(flatten(value, f"{prefix}[{index}]" if prefix else str(index)))
    else:
        out.append(field(prefix or "_body", messages))
    return out


def body(status: int, code: str, message, fields: list[dict] | None = None) -> dict:
    th, en = both(message)
    out = {"status": status, "code": code, "message_th": th, "message_en": en, "fields": fields or []}
    request_id = request.headers.get("X-Request-Id") if request else None
    if request_id:
        out["request_id"] = request_id[:64]
    return out


def respond(error: ApiError):
    response = jsonify(body(error.status, error.code, error.message, error.fields))
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


# webargs' own English messages, said in both languages
WEBARGS_MESSAGES = {"Invalid JSON body.": _l("The body is not valid JSON.")}


def _ours(messages):
    if isinstance(messages, dict):
        return {k: _ours(v) for k, v in messages.items()}
    if isinstance(messages, (list, tuple)):
        return [_ours(m) for m in messages]
    return WEBARGS_MESSAGES.get(messages, messages) if isinstance(messages, str) else messages


def from_http(exc: HTTPException):
    """werkzeug's and webargs' exceptions (routing 404/405, a bad JSON body, webargs' 422) in our shape."""
    status = exc.code or 500
    code, message = GENERIC.get(status, GENERIC[400])
    fields: list[dict] = []
    messages = getattr(exc, "data", {}).get("messages") if isinstance(getattr(exc, "data", None), dict) else None
    if messages:
        # webargs: {"json": {...}, "query": {...}}: the location is not part of the field's name
        for location_messages in messages.values():
            fields.extend(flatten(_ours(location_messages)))
    response = respond(ApiError(status, code, message, fields))
    if status == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def from_unexpected(exc: Exception):
    from app.extensions import db

    db.session.rollback()
    current_app.logger.exception("open API error on %s", request.path)
    return respond(ApiError(500))

"""GeoReport v2's parameters and answers as marshmallow schemas: they check what comes in and are the
OpenAPI spec of what goes out (every key always present; null where the standard allows an empty value)."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from marshmallow import INCLUDE, Schema, ValidationError, post_load
from marshmallow import fields as mf

from app.api import validate
from app.schema_base import _COMMON, Strict, fields

DLA_CODE = {"description": "the organisation's DLA code (รหัส อปท.)", "example": "1000001"}


class Float(mf.Float):
    default_error_messages = {**_COMMON, "invalid": _l("Must be a number."), "special": _l("Must be a number.")}


class DateTime(mf.DateTime):
    default_error_messages = {**_COMMON, "invalid": _l("Must be an ISO 8601 date and time, e.g. "
                                                       "2026-12-01T08:00:00+07:00.")}


class Open311JurisdictionArgs(Strict):
    jurisdiction_id = fields.String(required=True, validate=validate.Length(min=1, max=20), metadata=DLA_CODE)
    api_key = fields.String(load_default=None, validate=validate.Length(max=200), metadata={
        "description": "an integration key (ttk_…); the X-API-Key header works too"})
    locale = fields.String(load_default=None, validate=validate.OneOf(("th", "en")), metadata={
        "description": "th (default) or en; Accept-Language works too"})


class Open311RequestListArgs(Open311JurisdictionArgs):
    service_request_id = fields.String(load_default=None, validate=validate.Length(max=2000), metadata={
        "description": "comma-separated ids; when given, the other filters are ignored", "example": "1,2"})
    service_code = fields.String(load_default=None, validate=validate.Length(max=500), metadata={
        "description": "one service_code, or several separated by commas"})
    start_date = DateTime(load_default=None, metadata={"description": "filed at or after (default: end_date "
                                                                       "less 90 days)"})
    end_date = DateTime(load_default=None, metadata={"description": "filed at or before (default: now)"})
    status = fields.String(load_default=None, validate=validate.OneOf(("open", "closed")))

    @post_load
    def _ids(self, data, **kwargs):
        raw = data.get("service_request_id")
        if raw:
            parts = [p.strip() for p in raw.split(",") if p.strip()]
            if not parts or any(not re.fullmatch(r"\d{1,10}", p) for p in parts):
                raise ValidationError(_l("Give request ids as whole numbers separated by commas."),
                                      "service_request_id")
            data["service_request_id"] = [int(p) for p in parts if 0 < int(p) < 2**31] or [0]
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and (start.tzinfo is None) == (end.tzinfo is None) and start > end:
            raise ValidationError(_l("start_date must not be after end_date."), "start_date")
        return data


class Open311PostRequestForm(Schema):
    """POST requests.json's form; attribute[code]=value (attribute[code][]=value for a multivaluelist) come on
    top of these, one per attribute of the service definition."""

    class Meta:
        unknown = INCLUDE  # the attribute[...] parameters; anything else is refused by the view

    error_messages = Strict.error_messages
    jurisdiction_id = fields.String(required=True, validate=validate.Length(min=1, max=20), metadata=DLA_CODE)
    api_key = fields.String(load_default=None, validate=validate.Length(max=200), metadata={
        "description": "an integration key with the scope submit (or the X-API-Key header)"})
    locale = fields.String(load_default=None, validate=validate.OneOf(("th", "en")))
    service_code = fields.String(required=True, validate=validate.Length(min=1, max=48))
    lat = Float(load_default=None, validate=validate.Range(min=-90, max=90), metadata={
        "description": "WGS84 latitude; fills the service's location field"})
    long = Float(load_default=None, validate=validate.Range(min=-180, max=180), metadata={
        "description": "WGS84 longitude"})
    address_string = fields.String(load_default=None, validate=validate.Length(max=500))
    address_id = fields.String(load_default=None, validate=validate.Length(max=100))
    email = fields.Email(load_default=None, validate=validate.Length(max=200), metadata={
        "description": "the requester's e-mail (kept for the staff; fills an e-mail field left empty)"})
    device_id = fields.String(load_default=None, validate=validate.Length(max=100))
    account_id = fields.String(load_default=None, validate=validate.Length(max=100))
    first_name = fields.String(load_default=None, validate=validate.Length(max=100), metadata={
        "description": "with last_name, fills the service's field for the requester's name (e.g. applicant_name) "
                       "when no attribute gives it; its definition says which"})
    last_name = fields.String(load_default=None, validate=validate.Length(max=100))
    phone = fields.String(load_default=None, validate=validate.Length(max=40))
    description = fields.String(load_default=None, validate=validate.Length(max=4000), metadata={
        "description": "fills the service's first long-text field left empty"})
    media_url = fields.String(load_default=None, validate=[
        validate.Length(max=500),
        validate.Regexp(r"^https?://[^\s]+$", _l("Must be an http:// or https:// address.")),
    ])


# --- answers ------------------------------------------------------------------------------------------------

class Open311ServiceSchema(Schema):
    service_code = mf.String(required=True)
    service_name = mf.String(required=True)
    description = mf.String(required=True)
    metadata = mf.Boolean(required=True, metadata={"description": "true: GET services/{service_code} has "
                                                                  "attributes to fill"})
    type = mf.String(required=True, metadata={"enum": ["realtime"]})
    keywords = mf.String(required=True)
    group = mf.String(required=True)


class Open311ValueSchema(Schema):
    key = mf.String(required=True)
    name = mf.String(required=True)


class Open311AttributeSchema(Schema):
    variable = mf.Boolean(required=True)
    code = mf.String(required=True)
    datatype = mf.String(required=True, metadata={"enum": ["string", "number", "datetime", "text",
                                                           "singlevaluelist", "multivaluelist"]})
    required = mf.Boolean(required=True)
    datatype_description = mf.String(required=True)
    order = mf.Integer(required=True)
    description = mf.String(required=True)
    values = mf.List(mf.Nested(Open311ValueSchema), required=True)


class Open311ServiceDefinitionSchema(Schema):
    service_code = mf.String(required=True)
    attributes = mf.List(mf.Nested(Open311AttributeSchema), required=True)


class Open311PostedSchema(Schema):
    service_request_id = mf.String(required=True)
    token = mf.String(required=True, metadata={"description": "GET tokens/{token} gives the id again"})
    service_notice = mf.String(required=True)
    account_id = mf.String(required=True, allow_none=True)


class Open311TokenSchema(Schema):
    token = mf.String(required=True)
    service_request_id = mf.String(required=True)


class Open311RequestSchema(Schema):
    service_request_id = mf.String(required=True)
    status = mf.String(required=True, metadata={"enum": ["open", "closed"],
                                                "description": "closed: the workflow reached a final state"})
    status_notes = mf.String(required=True, allow_none=True, metadata={
        "description": "the latest public note on the matter's timeline"})
    service_name = mf.String(required=True)
    service_code = mf.String(required=True)
    description = mf.String(required=True)
    agency_responsible = mf.String(required=True, metadata={"description": "the กอง that holds the matter now"})
    service_notice = mf.String(required=True)
    requested_datetime = mf.DateTime(required=True)
    updated_datetime = mf.DateTime(required=True)
    expected_datetime = mf.DateTime(required=True, allow_none=True, metadata={
        "description": "the legal deadline: the end of that office day in Bangkok (16:30+07:00), given in UTC "
                       "like every time here (09:30+00:00)"})
    address = mf.String(required=True, allow_none=True)
    address_id = mf.String(required=True, allow_none=True)
    zipcode = mf.String(required=True, allow_none=True)
    lat = mf.Float(required=True, allow_none=True)
    long = mf.Float(required=True, allow_none=True)
    media_url = mf.String(required=True, allow_none=True)


class Open311ErrorSchema(Schema):
    code = mf.Integer(required=True, metadata={"description": "the HTTP status"})
    description = mf.String(required=True, metadata={"description": "in the request's language"})
    description_th = mf.String(required=True, metadata={"description": "our addition: the Thai text"})
    description_en = mf.String(required=True, metadata={"description": "our addition: the English text"})


class Open311EndpointSchema(Schema):
    specification = mf.String(required=True)
    url = mf.String(required=True)
    changeset = mf.DateTime(required=True)
    type = mf.String(required=True, metadata={"enum": ["production", "test"]})
    formats = mf.List(mf.String(), required=True)


class Open311DiscoverySchema(Schema):
    changeset = mf.DateTime(required=True)
    contact = mf.String(required=True)
    key_service = mf.String(required=True)
    endpoints = mf.List(mf.Nested(Open311EndpointSchema), required=True)

"""marshmallow fields and a strict base schema whose messages are translatable (Thai by default): for seed
files and service definitions, where unknown keys are errors and never silently dropped."""
from __future__ import annotations

import datetime

from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema
from marshmallow import fields as mf

_COMMON = {
    "required": _l("Missing: this value is required."),
    "null": _l("Must not be empty."),
    "validator_failed": _l("Invalid value."),
}


class fields:  # noqa: N801 (a namespace of marshmallow fields with translatable messages)
    class String(mf.String):
        default_error_messages = {**_COMMON, "invalid": _l("Must be text.")}

    class Integer(mf.Integer):
        default_error_messages = {**_COMMON, "invalid": _l("Must be a whole number.")}

    class Boolean(mf.Boolean):
        default_error_messages = {**_COMMON, "invalid": _l("Must be true or false.")}

    class Email(mf.Email):
        default_error_messages = {**_COMMON, "invalid": _l("Not a valid email address.")}

    class List(mf.List):
        default_error_messages = {**_COMMON, "invalid": _l("Must be a list.")}

    class Dict(mf.Dict):
        default_error_messages = {**_COMMON, "invalid": _l("Must be a mapping (key: value).")}

    class Nested(mf.Nested):
        default_error_messages = {**_COMMON, "type": _l("Must be a mapping (key: value).")}

    class Date(mf.Date):
        default_error_messages = {**_COMMON, "invalid": _l("Must be an ISO date such as 2025-10-01.")}

        def _deserialize(self, value, attr, data, **kwargs):
            # YAML already reads 2025-10-01 as a date
            if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
                return value
            return super()._deserialize(value, attr, data, **kwargs)

    class Raw(mf.Raw):
        default_error_messages = dict(_COMMON)


class Strict(Schema):
    error_messages = {
        "unknown": _l("Unknown field: a typo, or not used here."),
        "type": _l("Must be a mapping (key: value)."),
    }

    class Meta:
        unknown = RAISE



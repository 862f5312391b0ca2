"""Shapes shared by every resource: the error, money, cursor pages."""
from __future__ import annotations

import datetime

from marshmallow import Schema
from marshmallow import fields as mf

MONEY_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"


class UtcDateTime(mf.DateTime):
    """A moment in UTC, sent as RFC 3339 with its offset ("2026-12-01T07:05:00+00:00"). The database keeps naive
    UTC times; without the offset a value is not a valid OpenAPI date-time."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


def money(**kwargs):
    """A Decimal baht amount, sent as a string with two decimals ("1234.50"), never a float."""
    # "type": apispec documents every Decimal as a number, but as_string sends "40.00": the spec must say string
    metadata = {"type": "string", "description": "Baht, a decimal string with two decimals", "pattern": MONEY_PATTERN,
                "example": "40.00", **kwargs.pop("metadata", {})}
    return mf.Decimal(places=2, as_string=True, metadata=metadata, **kwargs)


class FieldErrorSchema(Schema):
    field = mf.String(required=True, metadata={"description": "the value at fault, e.g. data.phone or limit"})
    message_th = mf.String(required=True)
    message_en = mf.String(required=True)


class ErrorSchema(Schema):
    status = mf.Integer(required=True)
    code = mf.String(required=True, metadata={"description": "stable machine code, e.g. not_found, invalid_input"})
    message_th = mf.String(required=True)
    message_en = mf.String(required=True)
    fields = mf.List(mf.Nested(FieldErrorSchema), required=True)
    request_id = mf.String(metadata={"description": "the X-Request-Id sent, if any"})


_pages: dict[str, type] = {}


def page_of(item_schema: type) -> type:
    """{"items": [item], "next_cursor": "..." | null}, one named schema per item type."""
    name = item_schema.__name__.replace("Schema", "") + "PageSchema"
    if name not in _pages:
        _pages[name] = type(name, (Schema,), {
            "items": mf.List(mf.Nested(item_schema), required=True),
            "next_cursor": mf.String(required=True, allow_none=True,
                                     metadata={"description": "pass as ?cursor= for the next page; null on the last"}),
        })
    return _pages[name]

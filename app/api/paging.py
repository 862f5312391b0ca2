"""Lists page by cursor: newest first by id, `?limit=` rows at a time, `next_cursor` names where the next
page starts. A cursor stays valid while rows are added (no page repeats or skips a row), unlike an offset."""
from __future__ import annotations

import base64
import json

from flask_babel import lazy_gettext as _l
from app.api import validate

from app.api.errors import ApiError, field
from app.extensions import db
from app.schema_base import Strict, fields

MAX_LIMIT = 100
# ids are 32-bit integers in the database: anything beyond names no row (404), never a database error
MAX_ID = 2**31 - 1


class PageArgs(Strict):
    cursor = fields.String(load_default=None, metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=25, validate=validate.Range(min=1, max=MAX_LIMIT),
                           metadata={"description": "rows per page (1-100)"})


def encode(last_id: int) -> str:
    raw = json.dumps({"before": int(last_id)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["before"]
        if not isinstance(value, int) or not 0 < value <= 2**31:
            raise ValueError
        return value
    except (ValueError, KeyError, TypeError, json.JSONDecodeError, UnicodeError):
        raise ApiError(400, "invalid_cursor", _l("This cursor is not valid: use next_cursor from a page as it came."),
                       [field("cursor", _l("This cursor is not valid: use next_cursor from a page as it came."))])


def page(stmt, id_column, args: dict, *, unique: bool = False):
    """Run a select ordered newest first, one page of it: {"items": rows, "next_cursor": str | None}."""
    before = decode(args.get("cursor"))
    limit = args.get("limit") or 25
    if before is not None:
        stmt = stmt.where(id_column < before)
    result = db.session.scalars(stmt.order_by(id_column.desc()).limit(limit + 1))
    rows = list(result.unique() if unique else result)
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": encode(rows[-1].id) if more and rows else None}

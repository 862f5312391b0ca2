"""One parser per field kind. The generated WTForms form (screens, portal) and marshmallow schema (API,
seeds) both call `parse`, so they accept and refuse exactly the same input with the same message.

A raw value is what a person typed (a string, or a list of strings for multi-choice) or a JSON value. The
parsed value is what `ServiceRequest.data` stores: JSON only (decimals as strings, dates as ISO C.E.).
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import geothai
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from app import thai, validators

KINDS = (
    "text", "long_text", "integer", "decimal", "date", "choice", "multi_choice", "yes_no", "national_id",
    "phone", "email", "address", "location", "file",
)
YES = {"y", "yes", "true", "1", "on", "ใช่", "มี"}
NO = {"n", "no", "false", "0", "off", "ไม่ใช่", "ไม่มี"}
# Thailand's bounding box, with a margin: a pin outside it is a mistake
LAT_RANGE, LNG_RANGE = (Decimal("5.0"), Decimal("21.0")), (Decimal("97.0"), Decimal("106.0"))


class FieldError(ValueError):
    """A value a person can correct; the message is ready to show (Thai by default)."""


def is_empty(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, (list, tuple, dict)):
        return not raw or all(is_empty(v) for v in (raw.values() if isinstance(raw, dict) else raw))
    return False


def parse(spec: dict, raw: Any) -> Any:
    """The stored value for `raw`, None when empty and allowed; FieldError otherwise."""
    if is_empty(raw):
        if spec.get("required"):
            raise FieldError(_("This field is required."))
        return None
    kind = spec["kind"]
    if kind in ("text", "long_text"):
        return _text(spec, raw)
    if kind in ("integer", "decimal"):
        return _number(spec, raw)
    if kind == "date":
        return _date(spec, raw)
    if kind == "choice":
        return _choice(spec, raw)
    if kind == "multi_choice":
        return _multi_choice(spec, raw)
    if kind == "yes_no":
        return _yes_no(raw)
    if kind in ("national_id", "phone"):
        return _thai_number(kind, raw)
    if kind == "email":
        return _email(raw)
    if kind == "address":
        return _address(raw)
    if kind == "location":
        return _location(raw)
    if kind == "file":
        return _files(raw)
    raise FieldError(_("Unknown field kind %(kind)s.", kind=kind))


def _as_text(raw: Any) -> str:
    if isinstance(raw, (dict, list, tuple)):
        raise FieldError(_("Must be text."))
    return str(raw).strip()


def _text(spec: dict, raw: Any) -> str:
    value = _as_text(raw)
    if spec["kind"] == "text" and ("\n" in value or "\r" in value):
        raise FieldError(_("Must be a single line."))
    if spec.get("min_length") is not None and len(value) < spec["min_length"]:
        raise FieldError(_("Must be at least %(n)d characters.", n=spec["min_length"]))
    max_length = spec.get("max_length") or (200 if spec["kind"] == "text" else 5000)
    if len(value) > max_length:
        raise FieldError(_("Must be at most %(n)d characters.", n=max_length))
    if spec.get("pattern") and not re.fullmatch(spec["pattern"], value):
        raise FieldError(spec.get("pattern_error_th") or _("Not in the expected format."))
    return value


def _number(spec: dict, raw: Any) -> int | str:
    if isinstance(raw, bool) or isinstance(raw, (dict, list, tuple)):
        raise FieldError(_("Must be a number."))
    text = _as_text(raw).replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise FieldError(_("Must be a number."))
    if spec["kind"] == "integer":
        if number != number.to_integral_value():
            raise FieldError(_("Must be a whole number."))
    elif number.as_tuple().exponent < -2:
        raise FieldError(_("At most 2 decimal places."))
    if spec.get("min") is not None and number < Decimal(str(spec["min"])):
        raise FieldError(_("Must be at least %(n)s.", n=spec["min"]))
    if spec.get("max") is not None and number > Decimal(str(spec["max"])):
        raise FieldError(spec.get("max_error_th") or _("Must be at most %(n)s.", n=spec["max"]))
    if abs(number) >= Decimal("1e12"):
        raise FieldError(_("The number is too large."))
    if spec["kind"] == "integer":
        return int(number)
    return str(number.quantize(Decimal("0.01")) if number.as_tuple().exponent < 0 else number)


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date(spec: dict, raw: Any) -> str:
    if isinstance(raw, date):
        value = raw
    else:
        text = _as_text(raw)
        if _ISO.match(text):  # the API's ISO 8601 C.E.
            try:
                value = date.fromisoformat(text)
            except ValueError:
                raise FieldError(_("This date does not exist.")) from None
            if value.year >= thai.MIN_BE_YEAR:
                raise FieldError(_("ISO dates are C.E.; %(year)d looks like a B.E. year.", year=value.year))
        else:
            try:
                value = thai.parse_date(text)
            except thai.ThaiDateError as exc:
                raise FieldError(str(exc)) from None
    if spec.get("min") and value < date.fromisoformat(str(spec["min"])):
        raise FieldError(_("Must be on or after %(date)s.", date=thai.format_date(date.fromisoformat(str(spec["min"])))))
    if spec.get("max") and value > date.fromisoformat(str(spec["max"])):
        raise FieldError(_("Must be on or before %(date)s.", date=thai.format_date(date.fromisoformat(str(spec["max"])))))
    return value.isoformat()


def _choice_values(spec: dict) -> list[str]:
    return [str(c["value"]) for c in spec.get("choices") or []]


def _choice(spec: dict, raw: Any) -> str:
    value = _as_text(raw)
    if value not in _choice_values(spec):
        raise FieldError(_("Not a valid choice."))
    return value


def _multi_choice(spec: dict, raw: Any) -> list[str]:
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    values = [_as_text(item) for item in items if not is_empty(item)]
    allowed = _choice_values(spec)
    if any(v not in allowed for v in values):
        raise FieldError(_("Not a valid choice."))
    # stored in the order the choices are listed, once each
    return [v for v in allowed if v in values]


def _yes_no(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = _as_text(raw).lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise FieldError(_("Must be yes or no."))


def _thai_number(kind: str, raw: Any) -> str:
    text = _as_text(raw)
    if kind == "national_id":
        if not validators.is_thai_national_id(text):
            raise FieldError(str(validators.MESSAGES["national_id"]))
        return validators.digits_only(text)
    if not validators.is_thai_phone(text):
        raise FieldError(str(validators.MESSAGES["phone"]))
    return validators.format_phone(text)


def _email(raw: Any) -> str:
    text = _as_text(raw)
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        raise FieldError(_("Not a valid email address.")) from None


def _address(raw: Any) -> dict:
    """{line, subdistrict (6-digit DOPA code), postcode}: the subdistrict must use the postcode."""
    if not isinstance(raw, dict):
        raise FieldError(_("Give the house number and road, the subdistrict and the postcode."))
    unknown = set(raw) - {"line", "subdistrict", "postcode"}
    if unknown:
        raise FieldError(_("Unknown address parts: %(parts)s.", parts=", ".join(sorted(unknown))))
    line = _as_text(raw.get("line") or "")
    code = _as_text(raw.get("subdistrict") or "")
    postcode = _as_text(raw.get("postcode") or "")
    if not line or not code or not postcode:
        raise FieldError(_("Give the house number and road, the subdistrict and the postcode."))
    if len(line) > 300:
        raise FieldError(_("Must be at most %(n)d characters.", n=300))
    if not validators.is_thai_postcode(postcode):
        raise FieldError(str(validators.MESSAGES["postcode"]))
    found = geothai.address(code) if re.fullmatch(r"\d{6}", code) else None
    if found is None:
        raise FieldError(_("Unknown subdistrict."))
    if postcode not in found.subdistrict.postal_codes:
        raise FieldError(_("The postcode %(postcode)s is not used in this subdistrict.", postcode=postcode))
    return {"line": line, "subdistrict": code, "postcode": postcode}


def address_text(value: dict | None) -> str:
    """99/1 หมู่ 3 ต.แม่เหียะ อ.เมืองเชียงใหม่ จ.เชียงใหม่ 50100"""
    if not value:
        return ""
    found = geothai.address(value["subdistrict"])
    if found is None:
        return f"{value['line']} {value['postcode']}"
    return (f"{value['line']} ต.{found.subdistrict.name_th} อ.{found.district.name_th} "
            f"จ.{found.province.name_th} {value['postcode']}")


def _location(raw: Any) -> dict:
    """{lat, lng} in Thailand, from "18.7883, 98.9853" or {"lat": .., "lng": ..}."""
    if isinstance(raw, dict):
        parts = [raw.get("lat"), raw.get("lng")]
    else:
        parts = re.split(r"[,\s]+", _as_text(raw))
    try:
        lat, lng = (Decimal(str(p).strip()) for p in parts)
    except (InvalidOperation, ValueError, TypeError):
        raise FieldError(_("Give the location as latitude, longitude, e.g. 18.7883, 98.9853.")) from None
    if not (LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LNG_RANGE[0] <= lng <= LNG_RANGE[1]):
        raise FieldError(_("The location is outside Thailand."))
    q = Decimal("0.000001")
    return {"lat": str(lat.quantize(q)), "lng": str(lng.quantize(q))}


def _files(raw: Any) -> list[int]:
    """Attachment ids (the upload itself is checked and stored by the attachment service)."""
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    ids = []
    for item in items:
        if isinstance(item, bool):
            raise FieldError(_("Not a valid attachment."))
        try:
            ids.append(int(str(item).strip()))
        except ValueError:
            raise FieldError(_("Not a valid attachment.")) from None
    return ids


def display(spec: dict, value: Any) -> str:
    """A stored value as a person reads it (Thai by default)."""
    if value is None or value == [] or value == "":
        return "-"
    kind = spec["kind"]
    if kind == "date":
        return thai.format_date(date.fromisoformat(value), "long")
    if kind == "decimal":
        return f"{Decimal(value):,}" + (f" {spec['unit_th']}" if spec.get("unit_th") else "")
    if kind == "integer":
        return f"{value:,}" + (f" {spec['unit_th']}" if spec.get("unit_th") else "")
    if kind in ("choice", "multi_choice"):
        labels = {str(c["value"]): _choice_label(c) for c in spec.get("choices") or []}
        values = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(v, v) for v in values)
    if kind == "yes_no":
        return thai.format_bool(value)
    if kind == "address":
        return address_text(value)
    if kind == "location":
        return f"{value['lat']}, {value['lng']}"
    if kind == "file":
        return _("%(n)d file(s)", n=len(value))
    return str(value)


def _choice_label(choice: dict) -> str:
    from app.tenancy.models import localized

    return localized(choice.get("label_th") or str(choice["value"]), choice.get("label_en") or "")

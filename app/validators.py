"""Validators for Thai data, one predicate each, wrapped for WTForms (screens) and marshmallow (API,
seeds) so that both refuse the same input with the same message."""
from __future__ import annotations

import re
from typing import Callable

import marshmallow
from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError as FormValidationError

_DIGITS = re.compile(r"\D")


def digits_only(value: str) -> str:
    return _DIGITS.sub("", value or "")


def is_thai_national_id(value: str) -> bool:
    """13 digits whose last is the checksum of the first 12 (dashes and spaces allowed).

    The first digit is the person's category, 1-8, and 0 for persons without registration status
    (บุคคลที่ไม่มีสถานะทางทะเบียน, numbered 0-xxxx-...); every category uses the same mod-11 check digit."""
    raw = (value or "").strip()
    if re.search(r"[^\d\s-]", raw):
        return False
    digits = digits_only(raw)
    if len(digits) != 13 or not digits[:12].strip("0"):  # twelve zeros is no one's number
        return False
    total = sum(int(d) * (13 - i) for i, d in enumerate(digits[:12]))
    return (11 - total % 11) % 10 == int(digits[12])


def is_thai_mobile(value: str) -> bool:
    """06, 08 or 09 and 10 digits; +66 8x... accepted."""
    digits = _national_number(value)
    return bool(re.fullmatch(r"0[689]\d{8}", digits))


def is_thai_landline(value: str) -> bool:
    """02-07 area codes and 9 digits, e.g. 053-123456 or 02-123-4567."""
    digits = _national_number(value)
    return bool(re.fullmatch(r"0[2-7]\d{7}", digits))


def is_thai_phone(value: str) -> bool:
    return is_thai_mobile(value) or is_thai_landline(value)


def _national_number(value: str) -> str:
    raw = (value or "").strip()
    if re.search(r"[^\d\s\-+()]", raw):
        return ""
    digits = digits_only(raw)
    if raw.startswith("+66") or (digits.startswith("66") and len(digits) in (10, 11)):
        digits = "0" + digits[2:]
    return digits


def is_thai_postcode(value: str) -> bool:
    """Five digits starting with a province code, 10 (Bangkok) to 96 (Narathiwat)."""
    raw = (value or "").strip()
    return bool(re.fullmatch(r"\d{5}", raw)) and 10 <= int(raw[:2]) <= 96


def format_phone(value: str) -> str:
    """081-234-5678 / 02-123-4567 / 053-123-456 for display."""
    digits = _national_number(value)
    if len(digits) == 10:
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    if len(digits) == 9 and digits.startswith("02"):
        return f"{digits[:2]}-{digits[2:5]}-{digits[5:]}"
    if len(digits) == 9:
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return value


MESSAGES = {
    "national_id": _l("Not a valid Thai national ID number (13 digits with a correct check digit)."),
    "mobile": _l("Not a valid Thai mobile number (e.g. 081-234-5678)."),
    "landline": _l("Not a valid Thai landline number (e.g. 053-123-456)."),
    "phone": _l("Not a valid Thai phone number (e.g. 081-234-5678 or 02-123-4567)."),
    "postcode": _l("Not a valid Thai postcode (5 digits, e.g. 50100)."),
}
PREDICATES: dict[str, Callable[[str], bool]] = {
    "national_id": is_thai_national_id,
    "mobile": is_thai_mobile,
    "landline": is_thai_landline,
    "phone": is_thai_phone,
    "postcode": is_thai_postcode,
}


class ThaiFormValidator:
    """WTForms: ThaiFormValidator("national_id"). Empty values are left to DataRequired/Optional."""

    def __init__(self, kind: str):
        self.kind = kind
        self.predicate = PREDICATES[kind]

    def __call__(self, form, field) -> None:
        if field.data and not self.predicate(str(field.data)):
            raise FormValidationError(str(MESSAGES[self.kind]))


def marshmallow_validator(kind: str) -> Callable[[str], None]:
    """marshmallow: fields.String(validate=marshmallow_validator("postcode"))."""
    predicate = PREDICATES[kind]

    def validate(value: str) -> None:
        if value and not predicate(str(value)):
            raise marshmallow.ValidationError(str(MESSAGES[kind]))

    return validate


def ce_date(value) -> None:
    """marshmallow: the REST API speaks ISO 8601 C.E.; a พ.ศ. year sent by mistake (2569-11-24) is refused
    rather than stored 543 years in the future."""
    from datetime import date, datetime

    year = value.year if isinstance(value, (date, datetime)) else None
    if year is not None and year >= 2400:
        raise marshmallow.ValidationError(str(_l(
            "The API takes C.E. dates (ISO 8601, e.g. 2026-11-24); %(year)d looks like a B.E. year.",
            year=year,
        )))

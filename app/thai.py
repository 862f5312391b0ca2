"""Thai formatting shared by screens and documents: พ.ศ. dates in Bangkok time, yes/no words."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from babel.dates import get_month_names
from flask_babel import get_locale, gettext as _

BANGKOK = ZoneInfo("Asia/Bangkok")
BE_OFFSET = 543


def _lang() -> str:
    try:
        locale = get_locale()
    except Exception:
        return "th"
    return locale.language if locale is not None else "th"


def to_bangkok(value: datetime) -> datetime:
    """Stored datetimes are naive UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(BANGKOK)


def format_date(value: date | None) -> str:
    """24 พ.ย. 2569 in Thai; 24 Nov 2026 in English."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_bangkok(value).date()
    if _lang() == "en":
        return f"{value.day} {get_month_names('abbreviated', locale='en')[value.month]} {value.year}"
    return f"{value.day} {get_month_names('abbreviated', locale='th')[value.month]} {value.year + BE_OFFSET}"


def format_datetime(value: datetime | None) -> str:
    """24 พ.ย. 2569 14:05 น. in Thai; 24 Nov 2026 14:05 in English."""
    if value is None:
        return ""
    local = to_bangkok(value)
    text = f"{format_date(local.date())} {local:%H:%M}"
    return text if _lang() == "en" else f"{text} น."


def format_bool(value) -> str:
    return _("Yes") if value else _("No")

"""Thai dates, fiscal years and money, shared by screens, documents, numbering and reports.

Dates are shown and typed in พ.ศ. (Buddhist Era, C.E. + 543) in Bangkok time; the REST API keeps ISO 8601
C.E. dates. Money is Decimal baht, never float.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cmp_to_key
from zoneinfo import ZoneInfo

from babel.dates import get_month_names
from flask_babel import get_locale
from flask_babel import gettext as _
from pythainlp.util import arabic_digit_to_thai_digit, collate, num_to_thaiword

BANGKOK = ZoneInfo("Asia/Bangkok")
BE_OFFSET = 543
# Typed years must look like พ.ศ.: 2400-2700 B.E. is 1857-2157 C.E.; a C.E. year falls far below.
MIN_BE_YEAR, MAX_BE_YEAR = 2400, 2700
SATANG = Decimal("0.01")


class ThaiDateError(ValueError):
    """An impossible or ambiguous date typed by a person; the message is ready to show."""


# --- dates ----------------------------------------------------------------------------------------------

def _lang() -> str:
    try:
        locale = get_locale()
    except Exception:  # outside a request: Thai
        return "th"
    return locale.language if locale is not None else "th"


def to_bangkok(value: datetime) -> datetime:
    """Stored datetimes are naive UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(BANGKOK)


def be_year(value: date) -> int:
    return value.year + BE_OFFSET


def month_names(style: str = "wide", lang: str | None = None) -> dict[int, str]:
    """{1: "มกราคม", ...} or abbreviated {1: "ม.ค.", ...}; English when asked."""
    return dict(get_month_names(style, locale=lang or _lang()))


def format_date(value: date | None, style: str = "short") -> str:
    """short: 24 พ.ย. 2569; long: 24 พฤศจิกายน 2569 (24 Nov 2026 / 24 November 2026 in English)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_bangkok(value).date()
    lang = _lang()
    names = month_names("abbreviated" if style == "short" else "wide", lang)
    year = value.year if lang == "en" else be_year(value)
    return f"{value.day} {names[value.month]} {year}"


def format_time(value: datetime) -> str:
    local = to_bangkok(value)
    return f"{local:%H:%M}" if _lang() == "en" else f"{local:%H:%M} น."


def format_datetime(value: datetime | None, style: str = "short") -> str:
    """24 พ.ย. 2569 14:05 น. (Bangkok time)."""
    if value is None:
        return ""
    return f"{format_date(to_bangkok(value).date(), style)} {format_time(value)}"


def format_date_input(value: date | None) -> str:
    """The form value: 24/11/2569."""
    if value is None:
        return ""
    return f"{value.day:02d}/{value.month:02d}/{be_year(value)}"


def _month_from_text(text: str) -> int | None:
    text = text.strip().lower().rstrip(".")
    for lang in ("th", "en"):
        for style in ("wide", "abbreviated"):
            for number, name in month_names(style, lang).items():
                if text == name.lower().rstrip("."):
                    return number
    return None


_NUMERIC = re.compile(r"^\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d+)\s*$")
_WORDS = re.compile(r"^\s*(\d{1,2})\s+(\S+)\s+(?:พ\.ศ\.\s*)?(\d+)\s*$")


def make_be_date(day: int, month: int, year_be: int) -> date:
    """A date from day, month and a พ.ศ. year, refusing C.E. years and impossible days."""
    if year_be < 100:
        raise ThaiDateError(_("Please type the full year in B.E., e.g. %(year)d.", year=be_year(date.today())))
    if 1800 <= year_be < MIN_BE_YEAR:
        raise ThaiDateError(
            _("%(year)d looks like a C.E. year. Please type the year in B.E. (%(be)d).",
              year=year_be, be=year_be + BE_OFFSET)
        )
    if not MIN_BE_YEAR <= year_be <= MAX_BE_YEAR:
        raise ThaiDateError(_("The year %(year)d B.E. is out of range.", year=year_be))
    if not 1 <= month <= 12:
        raise ThaiDateError(_("The month must be between 1 and 12."))
    try:
        return date(year_be - BE_OFFSET, month, day)
    except ValueError:
        raise ThaiDateError(
            _("%(day)d %(month)s %(year)d does not exist.", day=day, month=month_names("wide")[month],
              year=year_be)
        ) from None


def parse_date(text: str) -> date:
    """24/11/2569, 24-11-2569, 24 พ.ย. 2569 or 24 พฤศจิกายน 2569 -> date(2026, 11, 24)."""
    text = (text or "").strip()
    if not text:
        raise ThaiDateError(_("Please enter a date."))
    match = _NUMERIC.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return make_be_date(day, month, year)
    match = _WORDS.match(text)
    if match:
        month = _month_from_text(match.group(2))
        if month is not None:
            return make_be_date(int(match.group(1)), month, int(match.group(3)))
    raise ThaiDateError(_("Please enter the date as day/month/B.E. year, e.g. 24/11/2569."))


# --- fiscal and calendar years ----------------------------------------------------------------------------

def fiscal_year(value: date) -> int:
    """The Thai fiscal year (1 October to 30 September) in พ.ศ., named after its later year."""
    return be_year(value) + (1 if value.month >= 10 else 0)


def fiscal_year_bounds(year_be: int) -> tuple[date, date]:
    """First and last day of fiscal year พ.ศ. year_be: 2569 -> (1 Oct 2025, 30 Sep 2026)."""
    year_ce = year_be - BE_OFFSET
    return date(year_ce - 1, 10, 1), date(year_ce, 9, 30)


def calendar_year_bounds(year_be: int) -> tuple[date, date]:
    year_ce = year_be - BE_OFFSET
    return date(year_ce, 1, 1), date(year_ce, 12, 31)


def today_bangkok() -> date:
    return datetime.now(BANGKOK).date()


# --- money ------------------------------------------------------------------------------------------------

def to_baht(amount) -> Decimal:
    """Decimal baht rounded to the satang. Floats are refused: they cannot hold money exactly."""
    if isinstance(amount, float):
        raise TypeError("money must be Decimal (or int/str), never float")
    try:
        return Decimal(amount).quantize(SATANG, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError(f"not an amount: {amount!r}") from None


def format_baht(amount, unit: bool = True) -> str:
    """1,234.50 บาท (1,234.50 baht in English)."""
    text = f"{to_baht(amount):,.2f}"
    if not unit:
        return text
    return f"{text} baht" if _lang() == "en" else f"{text} บาท"


def baht_text(amount) -> str:
    """The amount in Thai words for receipts: 1234.50 -> หนึ่งพันสองร้อยสามสิบสี่บาทห้าสิบสตางค์."""
    value = to_baht(amount)
    if value < 0:
        return "ลบ" + baht_text(-value)
    baht = int(value)
    satang = int((value - baht) * 100)
    if baht == 0 and satang:
        return f"{num_to_thaiword(satang)}สตางค์"
    words = f"{num_to_thaiword(baht)}บาท"
    return words + (f"{num_to_thaiword(satang)}สตางค์" if satang else "ถ้วน")


# --- digits and order -------------------------------------------------------------------------------------

def thai_digits(text) -> str:
    """๑๒๓ for 123: for official documents of tenants that print Thai digits."""
    return arabic_digit_to_thai_digit(str(text))


def for_document(text, tenant) -> str:
    """Text for an official document of this tenant: Thai digits when the tenant asks for them."""
    return thai_digits(text) if getattr(tenant, "thai_digits", False) else str(text)


def thai_compare(left: str, right: str) -> int:
    """Thai dictionary order (leading vowels and tone marks handled), for the SQLite collation."""
    if left == right:
        return 0
    if left is None or right is None:
        return -1 if left is None else 1
    forward, backward = collate([left, right]), collate([right, left])
    if forward != backward:  # same dictionary key: fall back to code points so the order is total
        return -1 if left < right else 1
    return -1 if forward[0] == left else 1


thai_sort_key = cmp_to_key(thai_compare)


def blank_none(value):
    """Jinja's finalize: {{ None }} prints nothing instead of the word None."""
    return "" if value is None else value


def format_bool(value) -> str:
    return _("Yes") if value else _("No")


__all__ = [
    "BANGKOK", "BE_OFFSET", "ThaiDateError", "baht_text", "be_year", "blank_none", "calendar_year_bounds",
    "fiscal_year", "fiscal_year_bounds", "for_document", "format_baht", "format_bool", "format_date",
    "format_date_input", "format_datetime", "format_time", "make_be_date", "month_names", "parse_date",
    "thai_compare", "thai_digits", "thai_sort_key", "to_bangkok", "to_baht", "today_bangkok",
]

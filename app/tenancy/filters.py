"""Search filters on date columns take the date as a person types it (24/11/2569, พ.ศ.); the REST API's
`q` filters keep ISO C.E. (2026-11-24). FAB's own parsing would read 2569 as a C.E. year."""
from __future__ import annotations

from datetime import date, datetime, time, timezone

from flask_appbuilder.models.sqla import filters as fab
from sqlalchemy import false

from app import thai


def _as_date(value) -> date | None:
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    try:
        return thai.parse_date(text)
    except thai.ThaiDateError:
        pass
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _as_utc_midnight(day: date) -> datetime:
    """Start of that day in Bangkok, as the naive UTC the database stores."""
    local = datetime.combine(day, time.min, tzinfo=thai.BANGKOK)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


class _ThaiDate:
    def apply(self, query, value):
        day = _as_date(value)
        if day is None:
            return query.filter(false())  # an unreadable date matches nothing, never everything
        if self.datamodel.is_datetime(self.column_name):
            return self._apply_datetime(query, day)
        return super().apply(query, day)

    def _apply_datetime(self, query, day):
        query, field = fab.get_field_setup_query(query, self.model, self.column_name)
        start, end = _as_utc_midnight(day), _as_utc_midnight(date.fromordinal(day.toordinal() + 1))
        return query.filter(self._on_day(field, start, end))


class ThaiDateEqual(_ThaiDate, fab.FilterEqual):
    @staticmethod
    def _on_day(field, start, end):
        return (field >= start) & (field < end)


class ThaiDateNotEqual(_ThaiDate, fab.FilterNotEqual):
    @staticmethod
    def _on_day(field, start, end):
        return (field < start) | (field >= end)


class ThaiDateGreater(_ThaiDate, fab.FilterGreater):
    @staticmethod
    def _on_day(field, start, end):
        return field >= end


class ThaiDateSmaller(_ThaiDate, fab.FilterSmaller):
    @staticmethod
    def _on_day(field, start, end):
        return field < start


_THAI = {
    fab.FilterEqual: ThaiDateEqual,
    fab.FilterNotEqual: ThaiDateNotEqual,
    fab.FilterGreater: ThaiDateGreater,
    fab.FilterSmaller: ThaiDateSmaller,
}


class ThaiFilterConverter(fab.SQLAFilterConverter):
    conversion_table = tuple(
        (kind, [_THAI.get(f, f) for f in classes] if kind in ("is_date", "is_datetime") else classes)
        for kind, classes in fab.SQLAFilterConverter.conversion_table
    )

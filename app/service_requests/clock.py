"""The legal clock: working days of Thai government offices (no weekends, national public and government
holidays from the `holidays` package, and the tenant's own closures), for due dates and overdue flags."""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays
from sqlalchemy import select

# Public and government holidays are days off for government offices, except National Labour Day (and its
# day in lieu), which binds private employers only.
NOT_OFFICE_HOLIDAYS = ("National Labor Day",)


@lru_cache(maxsize=64)
def national_holidays(year: int) -> dict[date, str]:
    found = holidays.Thailand(years=[year], categories=("public", "government"), language="en_US")
    thai = holidays.Thailand(years=[year], categories=("public", "government"), language="th")
    return {day: thai.get(day) for day, name in found.items()
            if not any(skip in name for skip in NOT_OFFICE_HOLIDAYS)}


class WorkingCalendar:
    def __init__(self, closures: set[date] | None = None):
        self.closures = set(closures or ())

    @classmethod
    def for_current_tenant(cls) -> "WorkingCalendar":
        """The tenant's closures (through the tenant wall) on top of the national holidays."""
        from app.extensions import db
        from app.service_requests.models import TenantClosure

        return cls(set(db.session.scalars(select(TenantClosure.day))))

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in national_holidays(day.year) and day not in self.closures

    def add_working_days(self, start: date, days: int) -> date:
        """The day `days` working days after `start` (the day of filing does not count)."""
        day, left = start, days
        while left > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (negative when end is earlier)."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(1 for n in range(1, (end - start).days + 1) if self.is_working_day(start + timedelta(days=n)))

    def is_overdue(self, due: date, today: date) -> bool:
        return today > due

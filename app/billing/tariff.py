"""What a waste-collection account pays: the organisation's billing settings, its billing periods, and the
monthly fee of a tier (premises kind, litres a day) under the fee schedule in force, read from the service
type the settings name (its `per: month` rules; the late surcharge rule, if any, for bills paid late)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from app import thai
from app.billing.models import WasteSettings
from app.catalog import fees as fee_calc
from app.catalog.fee_rules import CENT, load_rules
from app.catalog.models import FeeSchedule, ServiceType
from app.extensions import db
from app.tenancy.errors import UserError

PERIOD_MONTHS = (1, 2, 3, 4, 6, 12)
ZERO = Decimal("0.00")


def settings() -> WasteSettings:
    """The current tenant's settings; the defaults (monthly, due 15 days after the period) until saved."""
    from flask import g, has_request_context

    from app.tenancy.context import current_tenant_id

    # read once per request and transaction (a screen may ask several times); a new transaction reads again
    key = (current_tenant_id(), db.session().get_transaction())
    cached = g.get("_waste_settings") if has_request_context() else None
    added = any(isinstance(obj, WasteSettings) for obj in db.session.new)  # saved just now: read it
    if cached is not None and not added and cached[0][0] == key[0] and cached[0][1] is key[1]:
        return cached[1] or default_settings()
    found = db.session.scalar(select(WasteSettings))
    if has_request_context():
        g._waste_settings = (key, found)
    return found or default_settings()


def default_settings() -> WasteSettings:
    """What applies until a tenant saves its own settings (not added to the session)."""
    return WasteSettings(service_code="waste_collection_registration", period_months=1, due_days=15)


# --- periods --------------------------------------------------------------------------------------------------

def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    due: date

    @property
    def code(self) -> str:
        """Ref2 of its bills: the พ.ศ. year and month it starts, e.g. 256912."""
        return f"{thai.be_year(self.start)}{self.start.month:02d}"


def period(start: date, conf: WasteSettings | None = None) -> Period:
    """The period starting on the first day of `start`'s month. Periods of several months start in the months
    that divide the year evenly (January, April, July, October for three months)."""
    conf = conf or settings()
    months = conf.period_months or 1
    if months not in PERIOD_MONTHS:
        raise UserError(_("A billing period is 1, 2, 3, 4, 6 or 12 months."), 422)
    first = date(start.year, start.month, 1)
    if (first.month - 1) % months:
        raise UserError(_("With %(months)d-month periods, a period starts in month %(months_list)s.",
                          months=months, months_list=", ".join(str(m) for m in range(1, 13, months))), 422)
    end = _add_months(first, months) - timedelta(days=1)
    return Period(first, end, end + timedelta(days=conf.due_days or 0))


def period_from_code(code: str, conf: WasteSettings | None = None) -> Period:
    """256912 (or 2569-12, 12/2569) -> the period starting in December 2026."""
    digits = "".join(ch for ch in str(code or "") if ch.isdigit())
    text = str(code or "").strip()
    if "/" in text:
        month_text, _sep, year_text = text.partition("/")
        digits = year_text.strip() + month_text.strip().zfill(2)
    if len(digits) != 6:
        raise UserError(_("Give the period as the Buddhist-era year and month, e.g. 2569-12."), 422)
    year_be, month = int(digits[:4]), int(digits[4:])
    if not 1 <= month <= 12 or not 2500 <= year_be <= 2700:
        raise UserError(_("Give the period as the Buddhist-era year and month, e.g. 2569-12."), 422)
    return period(date(year_be - 543, month, 1), conf)


def period_label(start: date) -> str:
    """ธันวาคม 2569 (December 2026 for a user who chose English, as every English date is)."""
    year = start.year if thai._lang() == "en" else thai.be_year(start)
    return f"{thai.month_names('wide')[start.month]} {year}"


# --- prices ---------------------------------------------------------------------------------------------------

def service_type(conf: WasteSettings | None = None) -> ServiceType | None:
    conf = conf or settings()
    return db.session.scalar(select(ServiceType).where(ServiceType.code == conf.service_code))


@dataclass
class Tariff:
    """The fee schedule in force on one day, priced once per distinct tier (a billing run asks for a
    million accounts, but a tenant has a few dozen distinct tiers)."""

    rules: list[dict]
    months: int
    schedule_id: int
    _cache: dict

    def price(self, kind: str, litres: Decimal) -> tuple[Decimal, str]:
        """(amount for the period, the fee code of Ref2's rule) for a tier; FeeInputError if it cannot be
        priced (litres above the last bracket)."""
        key = (kind, Decimal(litres))
        if key not in self._cache:
            quote = fee_calc.calculate(self.rules, {"premises_kind": kind, "litres_per_day": Decimal(litres)})
            monthly = [line for line in quote.lines if line.period == "month"]
            amount = sum((line.amount for line in monthly), ZERO) * self.months
            code = next((line.code for line in monthly if line.amount), monthly[0].code if monthly else "")
            self._cache[key] = (amount.quantize(CENT), code)
        return self._cache[key]

    def surcharge(self, fee_code: str, amount: Decimal) -> Decimal:
        """The late surcharge on an overdue bill of this schedule (0 when the schedule has none)."""
        total = ZERO
        for rule in self.rules:
            if rule["kind"] == "late_surcharge" and (not rule.get("of") or fee_code in rule["of"]):
                total += (Decimal(amount) * rule["percent"] / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        return total


def tariff(on: date, conf: WasteSettings | None = None) -> Tariff:
    """The schedule in force on `on`; a clear error when the service or its schedule is missing."""
    conf = conf or settings()
    found = service_type(conf)
    if found is None:
        raise UserError(_("This organisation does not offer the service %(code)s, whose fee schedule prices "
                          "waste collection. Add it, or choose another service in the waste-fee settings.",
                          code=conf.service_code), 422)
    rows = [{"effective_from": s.effective_from, "effective_to": s.effective_to, "row": s}
            for s in db.session.scalars(select(FeeSchedule).where(FeeSchedule.service_type_id == found.id))]
    chosen = fee_calc.select_schedule(rows, on)
    if chosen is None:
        raise UserError(_("No fee schedule of %(service)s is in force on %(day)s.", service=str(found),
                          day=thai.format_date(on)), 422)
    schedule = chosen["row"]
    return Tariff(load_rules(schedule.rules), conf.period_months or 1, schedule.id, {})


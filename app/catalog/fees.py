"""Fee calculator: rules loaded by `fee_rules.load_rules` + a request's field values -> a `Quote`.

Money is `Decimal` throughout; input numbers are read through `str` so a float never leaks its binary
error into a fee.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Iterable

from flask_babel import lazy_gettext as _l

from app.catalog.fee_rules import CENT, PERIODS, format_number

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Line:
    code: str
    label_th: str
    label_en: str
    amount: Decimal
    period: str  # once | month | year
    detail: str  # how the amount came about, numbers and symbols only: "120.5 × 0.50"


@dataclass(frozen=True)
class Quote:
    lines: tuple[Line, ...]
    total: Decimal  # every line, whatever its period

    def totals_by_period(self) -> dict[str, Decimal]:
        """Only the periods that have lines, in the order once, month, year."""
        totals: dict[str, Decimal] = {}
        for period in PERIODS:
            amounts = [line.amount for line in self.lines if line.period == period]
            if amounts:
                totals[period] = sum(amounts, ZERO)
        return totals


class FeeInputError(ValueError):
    """A field value the fees cannot be computed from (the form should have refused it first)."""

    def __init__(self, code: str, field: str, value: Any, message: Any) -> None:
        super().__init__(message)
        self.code, self.field, self.value = code, field, value


def _round(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def to_decimal(value: Any) -> Decimal | None:
    """A field value as a Decimal; None when missing or empty. Raises ValueError when not a number."""
    if _is_empty(value):
        return None
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float, str)):
        raise ValueError(value)
    text = value.strip().replace(",", "") if isinstance(value, str) else str(value)  # Thai "1,200.50"
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(value) from None
    if not number.is_finite():
        raise ValueError(value)
    return number


def _quantity(rule: dict, values: dict) -> Decimal | None:
    """The rule's field as a non-negative number, or None when not filled in (then there is no line)."""
    raw = values.get(rule["field"])
    try:
        number = to_decimal(raw)
    except ValueError:
        number = Decimal(-1)  # reported just below, with the same message as a negative number
    if number is not None and number < 0:
        raise FeeInputError(rule["code"], rule["field"], raw,
                            _l("%(field)s must be a number of at least 0 to compute the fee %(code)s.",
                               field=rule["field"], code=rule["code"]))
    return number


def _as_text(value: Any) -> str:
    if isinstance(value, bool):  # YAML `true` and a form's True both read "true"
        return "true" if value else "false"
    return str(value)


def applies(when: dict | None, values: dict) -> bool:
    """`equals` compares as text; for a multi-choice (list) value it means "contains". `in` matches when any
    chosen value is listed. A missing value matches nothing."""
    if not when:
        return True
    value = values.get(when["field"])
    if _is_empty(value):
        return False
    given = {_as_text(v) for v in value} if isinstance(value, (list, tuple, set, frozenset)) else {_as_text(value)}
    if "in" in when:
        return not given.isdisjoint(_as_text(v) for v in when["in"])
    return _as_text(when["equals"]) in given


def _line(rule: dict, amount: Decimal, detail: str) -> Line:
    return Line(code=rule["code"], label_th=rule["label_th"], label_en=rule.get("label_en") or "",
                amount=amount, period=rule.get("per") or "once", detail=detail)


def _flat(rule: dict, values: dict) -> Line:
    return _line(rule, rule["amount"], format_number(rule["amount"]))


def rounded_up(quantity: Decimal, unit: Decimal | None) -> Decimal:
    """The quantity rounded up to a whole number of units (30 litres in units of 20 -> 40)."""
    if not unit:
        return quantity
    return (quantity / unit).to_integral_value(rounding=ROUND_CEILING) * unit


def _counted(quantity: Decimal, unit: Decimal | None) -> str:
    counted = rounded_up(quantity, unit)
    return format_number(quantity) if counted == quantity else f"{format_number(quantity)} → {format_number(counted)}"


def _per_unit(rule: dict, values: dict) -> Line | None:
    quantity = _quantity(rule, values)
    if quantity is None:
        return None
    computed = _round(rule["rate"] * rounded_up(quantity, rule.get("round_up_to")))
    amount = computed
    if rule.get("minimum") is not None:
        amount = max(amount, rule["minimum"])
    if rule.get("maximum") is not None:
        amount = min(amount, rule["maximum"])
    detail = f"{_counted(quantity, rule.get('round_up_to'))} × {format_number(rule['rate'])}"
    if amount != computed:
        detail += f" = {format_number(computed)} → {format_number(amount)}"
    return _line(rule, amount, detail)


def _tiered(rule: dict, values: dict) -> Line | None:
    quantity = _quantity(rule, values)
    if quantity is None:
        return None
    previous: Decimal | None = None
    for bracket in rule["brackets"]:
        limit = bracket["up_to"]
        if limit is None or quantity <= limit:
            return _line(rule, *_bracket_fee(bracket, quantity, previous))
        previous = limit
    # Above the last (closed) bracket: the schedule does not say, so charging nothing would be a guess.
    raise FeeInputError(rule["code"], rule["field"], values.get(rule["field"]),
                        _l("%(field)s is above the last bracket (%(limit)s) of the fee %(code)s.",
                           field=rule["field"], limit=format_number(previous), code=rule["code"]))


def _bracket_fee(bracket: dict, quantity: Decimal, previous: Decimal | None) -> tuple[Decimal, str]:
    if bracket.get("rate") is not None:
        unit = bracket.get("round_up_to")
        return (_round(bracket["rate"] * rounded_up(quantity, unit)),
                f"{_counted(quantity, unit)} × {format_number(bracket['rate'])}")
    if bracket["up_to"] is not None:
        return bracket["amount"], f"{format_number(quantity)} ≤ {format_number(bracket['up_to'])}"
    if previous is not None:
        return bracket["amount"], f"{format_number(quantity)} > {format_number(previous)}"
    return bracket["amount"], format_number(quantity)


def _late_surcharge(rule: dict, ordinary: Iterable[Line]) -> Line:
    named = set(rule["of"]) if rule.get("of") else None  # None: every ordinary line
    base = sum((line.amount for line in ordinary if named is None or line.code in named), ZERO)
    amount = _round(base * rule["percent"] / 100)
    return _line(rule, amount, f"{format_number(base)} × {format_number(rule['percent'])}%")


_ORDINARY = {"flat": _flat, "per_unit": _per_unit, "tiered": _tiered}


def is_late(rule: dict, values: dict, on: date | None, late: bool) -> bool:
    """A surcharge applies when the caller says the fee is late, or when its `due_field` holds a day
    before the day the fee is priced (`on`)."""
    if late:
        return True
    if not rule.get("due_field") or on is None:
        return False
    try:
        due = _as_date(values.get(rule["due_field"]))
    except (TypeError, ValueError):
        return False
    return due is not None and _as_date(on) > due


def calculate(rules: list[dict], values: dict, *, late: bool = False, on: date | None = None) -> Quote:
    """Lines in the schedule's order; surcharges are computed last from the ordinary lines that apply.

    Raises FeeInputError when a field the fees read holds something other than a non-negative number.
    """
    lines: dict[int, Line] = {}
    for index, rule in enumerate(rules):
        if rule["kind"] in _ORDINARY and applies(rule.get("when"), values):
            line = _ORDINARY[rule["kind"]](rule, values)
            if line is not None:
                lines[index] = line
    ordinary = list(lines.values())
    for index, rule in enumerate(rules):
        if rule["kind"] == "late_surcharge" and applies(rule.get("when"), values) \
                and is_late(rule, values, on, late):
            lines[index] = _late_surcharge(rule, ordinary)
    ordered = tuple(lines[index] for index in sorted(lines))
    return Quote(lines=ordered, total=sum((line.amount for line in ordered), ZERO))


def _as_date(value: date | str | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)


def select_schedule(schedules: list[dict], on: date) -> dict | None:
    """The schedule in force on a day: the latest `effective_from` <= on, among those whose `effective_to`
    (inclusive) is absent or not yet past. Two starting the same day: the later listed wins."""
    day = _as_date(on)
    chosen: dict | None = None
    chosen_from: date | None = None
    for schedule in schedules:
        start, end = _as_date(schedule["effective_from"]), _as_date(schedule.get("effective_to"))
        if start is None or start > day or (end is not None and end < day):
            continue
        if chosen_from is None or start >= chosen_from:
            chosen, chosen_from = schedule, start
    return chosen

"""Fee rules and national caps of a service's fee schedule (catalog spec, "Fee rules" and `caps`).

`load_rules` / `load_caps` turn the YAML lists into plain dicts with `Decimal` money; they raise
`marshmallow.ValidationError` whose messages are keyed by list index, then field (then index again for
nested lists), so `app.seeds.loader.flatten_errors(exc.messages, "rules")` prints `rules[2].brackets[1].up_to`.
`check_caps` reports local rules that charge more than a national ceiling allows.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, post_load, validate, validates_schema
from marshmallow import fields as mf

from app.schema_base import Strict, fields

KINDS = ("flat", "per_unit", "tiered", "late_surcharge")
PERIODS = ("once", "month", "year")
MONEY_PLACES = 2
RATE_PLACES = 4  # a rate per unit may be finer than a satang; the line is rounded to 0.01 anyway
CENT = Decimal("0.01")

CODE = validate.Regexp(
    r"^[a-z][a-z0-9_]{0,47}$",
    error=_l("Must start with a lower-case English letter, then letters, digits or _ (at most 48)."),
)
# Digits with an optional fraction; no exponent, sign handled separately, no thousands separators.
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def format_number(value: Decimal) -> str:
    """Plain digits with thousands separators, never exponent notation: 1,234.50."""
    return format(value, ",f")


class DecimalString(mf.Field):
    """A decimal number written as a quoted string, loaded as `Decimal`.

    A YAML/JSON float (20.5) is refused: it has already lost exactness by the time we see it.
    `money=True` also refuses integers (the spec writes money and rates as quoted strings only);
    `cents=True` pads to 2 places so "20" reads 20.00.
    """

    default_error_messages = {
        "required": _l("Missing: this value is required."),
        "null": _l("Must not be empty."),
        "validator_failed": _l("Invalid value."),
    }

    def __init__(self, *, places: int | None, money: bool = False, cents: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.places = places
        self.money = money
        self.cents = cents

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool):
            raise ValidationError([_l('Must be a number written as a quoted string, such as "20.50".')])
        if isinstance(value, (float, int)) and self.money:
            raise ValidationError([_l('Money must be a quoted string such as "20.50", not a number.')])
        if isinstance(value, float):
            raise ValidationError([_l('Write this number as a quoted string such as "20.5", not a bare number.')])
        if isinstance(value, int):
            value = str(value)
        if not isinstance(value, str) or not _NUMBER.match(value):
            raise ValidationError([_l('Must be a number written as a quoted string, such as "20.50".')])
        number = Decimal(value)  # the pattern admits only plain digits: no NaN, no exponent
        if value.startswith("-"):  # "-0" too: a fee, rate or limit is never signed
            raise ValidationError([_l("Must not be negative.")])
        if self.places is not None and -number.as_tuple().exponent > self.places:
            raise ValidationError([_l("At most %(places)s decimal places.", places=self.places)])
        return number.quantize(CENT) if self.cents else number


def Money(**kwargs: Any) -> DecimalString:  # noqa: N802 (reads like a field class)
    return DecimalString(places=MONEY_PLACES, money=True, cents=True, **kwargs)


def Rate(**kwargs: Any) -> DecimalString:  # noqa: N802
    return DecimalString(places=RATE_PLACES, money=True, **kwargs)


class Scalar(mf.Field):
    """A value a field's input is compared with in `when`: text, a whole number or true/false."""

    default_error_messages = DecimalString.default_error_messages

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | int | bool:
        if isinstance(value, float):
            raise ValidationError([_l('Write this value as a quoted string such as "20.5", not a bare number.')])
        if not isinstance(value, (str, int, bool)):
            raise ValidationError([_l("Must be text, a whole number or true/false.")])
        return value


# --- rules ------------------------------------------------------------------------------------------

class WhenSchema(Strict):
    field = fields.String(required=True, validate=CODE)
    equals = Scalar()
    in_ = fields.List(
        Scalar(), data_key="in",
        validate=validate.Length(min=1, error=_l("List at least one value.")),
    )

    @validates_schema
    def _exactly_one_test(self, data: dict, **kwargs: Any) -> None:
        if ("equals" in data) == ("in_" in data):
            raise ValidationError([_l("Give exactly one of `equals` or `in`.")])

    @post_load
    def _rename_in(self, data: dict, **kwargs: Any) -> dict:
        if "in_" in data:  # `in` is a Python keyword, so the attribute is `in_`; callers see the spec's key
            data["in"] = data.pop("in_")
        return data


class RuleBase(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    code = fields.String(required=True, validate=CODE)
    label_th = fields.String(
        required=True, validate=validate.Length(1, 200, error=_l("Must be {min} to {max} characters long."))
    )
    label_en = fields.String(
        load_default="", validate=validate.Length(0, 200, error=_l("Must be {min} to {max} characters long."))
    )
    per = fields.String(
        load_default="once", validate=validate.OneOf(PERIODS, error=_l("Must be one of: {choices}."))
    )
    when = fields.Nested(WhenSchema, load_default=None)


class FlatRule(RuleBase):
    amount = Money(required=True)


def RoundUpTo(**kwargs: Any) -> DecimalString:  # noqa: N802
    """The quantity is first rounded up to a whole number of these units (20 litres, 1,000 litres)."""
    return DecimalString(places=None,  # absent when not given: stored rules stay as they were written
                         validate=validate.Range(min=Decimal("0"), min_inclusive=False,
                                                 error=_l("Must be greater than 0.")), **kwargs)


class PerUnitRule(RuleBase):
    field = fields.String(required=True, validate=CODE)
    rate = Rate(required=True)
    round_up_to = RoundUpTo()
    minimum = Money(load_default=None)
    maximum = Money(load_default=None)

    @validates_schema
    def _minimum_below_maximum(self, data: dict, **kwargs: Any) -> None:
        low, high = data.get("minimum"), data.get("maximum")
        if low is not None and high is not None and low > high:
            raise ValidationError([_l("The maximum must not be below the minimum.")], "maximum")


class Bracket(Strict):
    up_to = DecimalString(places=None, required=True, allow_none=True)
    amount = Money(load_default=None)
    rate = Rate(load_default=None)
    round_up_to = RoundUpTo()

    @validates_schema
    def _amount_or_rate(self, data: dict, **kwargs: Any) -> None:
        if (data.get("amount") is None) == (data.get("rate") is None):
            raise ValidationError([_l("Give exactly one of `amount` (a fixed fee) or `rate` (per unit).")])
        if data.get("round_up_to") is not None and data.get("rate") is None:
            raise ValidationError([_l("Only a bracket with a `rate` rounds its quantity up.")], "round_up_to")


class TieredRule(RuleBase):
    field = fields.String(required=True, validate=CODE)
    brackets = fields.List(
        fields.Nested(Bracket), required=True,
        validate=validate.Length(min=1, error=_l("Give at least one bracket.")),
    )

    @validates_schema
    def _brackets_in_order(self, data: dict, **kwargs: Any) -> None:
        errors = bracket_order_errors([b["up_to"] for b in data["brackets"]])
        if errors:
            raise ValidationError({"brackets": errors})


def bracket_order_errors(limits: list[Decimal | None]) -> dict[int, dict[str, list]]:
    """Only the last bracket may be open (null), and limits must strictly increase."""
    errors: dict[int, dict[str, list]] = {}
    previous: Decimal | None = None
    for index, limit in enumerate(limits):
        if limit is None:
            if index != len(limits) - 1:
                errors[index] = {"up_to": [_l("Only the last bracket may have no limit (null).")]}
            continue
        if previous is not None and limit <= previous:
            errors[index] = {"up_to": [_l("Must be greater than the previous bracket's limit (%(previous)s).",
                                          previous=format_number(previous))]}
        previous = limit
    return errors


class LateSurchargeRule(RuleBase):
    percent = DecimalString(
        places=2, required=True,
        validate=validate.Range(min=0, max=100, error=_l("Must be between {min} and {max}.")),
    )
    # None = every non-surcharge line; an empty list would silently charge nothing.
    of = fields.List(
        fields.String(validate=CODE), load_default=None,
        validate=validate.Length(min=1, error=_l("List at least one rule code, or leave `of` out for all fees.")),
    )
    # a date field holding the day the fee fell due: the surcharge applies by itself when the fee is priced
    # after that day (an annual fee paid late); without it only a caller that says "late" adds it
    due_field = fields.String(validate=CODE)


RULE_SCHEMAS: dict[str, type[RuleBase]] = {
    "flat": FlatRule, "per_unit": PerUnitRule, "tiered": TieredRule, "late_surcharge": LateSurchargeRule,
}


def _merge(into: dict, extra: dict) -> None:
    """Deep-merge error dicts (a rule may fail its own schema and a cross-rule check)."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        elif isinstance(value, list) and isinstance(into.get(key), list):
            into[key] = into[key] + value
        else:
            into[key] = value


def _load_rule(item: Any) -> dict:
    if not isinstance(item, dict):
        raise ValidationError([_l("Must be a mapping (key: value).")])
    kind = item.get("kind")
    schema = RULE_SCHEMAS.get(kind) if isinstance(kind, str) else None
    if schema is None:
        raise ValidationError({"kind": [_l("Must be one of: flat, per_unit, tiered, late_surcharge.")]})
    return schema().load(item)


def _cross_rule_errors(items: list) -> dict[int, dict]:
    """Unique codes, and surcharges naming existing ordinary rules. Read from the raw items so that one
    broken rule does not make every reference to it look wrong too."""
    errors: dict[int, dict] = {}
    kinds: dict[str, Any] = {}
    for index, item in enumerate(items):
        code = item.get("code") if isinstance(item, dict) else None
        if not isinstance(code, str):
            continue
        if code in kinds:
            errors[index] = {"code": [_l("Duplicate code: %(code)s is already used by an earlier rule.",
                                         code=code)]}
        else:
            kinds[code] = item.get("kind")
    for index, item in enumerate(items):
        if not isinstance(item, dict) or item.get("kind") != "late_surcharge" or not isinstance(item.get("of"), list):
            continue
        of_errors: dict[int, list] = {}
        for position, name in enumerate(item["of"]):
            if not isinstance(name, str):
                continue  # the schema reports it
            if name not in kinds:
                of_errors[position] = [_l("No rule with code %(code)s in this schedule.", code=name)]
            elif kinds[name] == "late_surcharge":
                of_errors[position] = [_l("%(code)s is a late surcharge itself; a surcharge applies only to "
                                          "ordinary fees.", code=name)]
        if of_errors:
            _merge(errors.setdefault(index, {}), {"of": of_errors})
    return errors


def load_rules(data: Any) -> list[dict]:
    """Validate a schedule's `rules` list. An empty list is valid: a schedule that waives every fee."""
    if not isinstance(data, list):
        raise ValidationError([_l("Must be a list.")])
    rules: list[dict] = []
    errors: dict[int, Any] = {}
    for index, item in enumerate(data):
        try:
            rules.append(_load_rule(item))
        except ValidationError as exc:
            errors[index] = exc.messages
    for index, extra in _cross_rule_errors(data).items():
        if isinstance(errors.get(index), dict):
            _merge(errors[index], extra)
        elif index not in errors:
            errors[index] = extra
    if errors:
        raise ValidationError(errors)
    return rules


def field_references(rules: list[dict]) -> list[tuple[str, str]]:
    """(path, field code) of every service field the rules read, for the service schema to check."""
    found: list[tuple[str, str]] = []
    for index, rule in enumerate(rules):
        if rule.get("field"):
            found.append((f"rules[{index}].field", rule["field"]))
        if rule.get("when"):
            found.append((f"rules[{index}].when.field", rule["when"]["field"]))
        if rule.get("due_field"):
            found.append((f"rules[{index}].due_field", rule["due_field"]))
    return found


# --- caps -------------------------------------------------------------------------------------------

class CapSchema(Strict):
    rule = fields.String(required=True, validate=CODE)
    max_amount = Money(load_default=None)
    max_rate = Rate(load_default=None)
    legal_source_th = fields.String(
        required=True, validate=validate.Length(1, 500, error=_l("Must be {min} to {max} characters long."))
    )
    legal_source_en = fields.String(
        load_default="", validate=validate.Length(0, 500, error=_l("Must be {min} to {max} characters long."))
    )

    @validates_schema
    def _some_limit(self, data: dict, **kwargs: Any) -> None:
        if data.get("max_amount") is None and data.get("max_rate") is None:
            raise ValidationError([_l("Give `max_amount`, `max_rate` or both.")])


def load_caps(data: Any) -> list[dict]:
    """Validate a template's `caps` list (one cap per rule code)."""
    if not isinstance(data, list):
        raise ValidationError([_l("Must be a list.")])
    caps: list[dict] = []
    errors: dict[int, Any] = {}
    seen: set[str] = set()
    for index, item in enumerate(data):
        try:
            cap = CapSchema().load(item)
        except ValidationError as exc:
            errors[index] = exc.messages
            continue
        if cap["rule"] in seen:
            errors[index] = {"rule": [_l("Duplicate cap: %(code)s already has one.", code=cap["rule"])]}
        seen.add(cap["rule"])
        caps.append(cap)
    if errors:
        raise ValidationError(errors)
    return caps


class RulesField(mf.Field):
    """`rules` inside a larger schema; errors nest under the field name by index."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[dict]:
        return load_rules(value)


class CapsField(mf.Field):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[dict]:
        return load_caps(value)


# --- checking a local schedule against national caps --------------------------------------------------

def _above(path: str, value: Decimal, limit: Decimal, source: str) -> tuple[str, str]:
    return path, str(_l("%(value)s is above the national maximum of %(limit)s (%(source)s).",
                        value=format_number(value), limit=format_number(limit), source=source))


def _amount_problems(path: str, rule: dict, cap: dict) -> list[tuple[str, str]]:
    limit, source = cap["max_amount"], cap["legal_source_th"]
    kind = rule["kind"]
    if kind == "flat" and rule["amount"] > limit:
        return [_above(f"{path}.amount", rule["amount"], limit, source)]
    if kind == "per_unit":
        if rule.get("maximum") is None:  # rate x any quantity is unbounded
            return [(f"{path}.maximum", str(_l("No maximum is set, so the fee can exceed the national maximum "
                                                "of %(limit)s (%(source)s).",
                                                limit=format_number(limit), source=source)))]
        if rule["maximum"] > limit:
            return [_above(f"{path}.maximum", rule["maximum"], limit, source)]
    if kind == "tiered":
        return [p for i, b in enumerate(rule["brackets"])
                for p in _bracket_amount_problems(f"{path}.brackets[{i}]", b, limit, source)]
    return []


def _bracket_amount_problems(path: str, bracket: dict, limit: Decimal, source: str) -> list[tuple[str, str]]:
    if bracket.get("amount") is not None:
        return [_above(f"{path}.amount", bracket["amount"], limit, source)] if bracket["amount"] > limit else []
    if bracket["up_to"] is None:
        return [(f"{path}.rate", str(_l("This bracket has no upper limit, so the fee can exceed the national "
                                         "maximum of %(limit)s (%(source)s).",
                                         limit=format_number(limit), source=source)))]
    highest = (bracket["rate"] * _round_up(bracket["up_to"], bracket.get("round_up_to"))).quantize(CENT)
    if highest > limit:
        return [(f"{path}.rate", str(_l("At %(up_to)s units this rate charges %(value)s, above the national "
                                         "maximum of %(limit)s (%(source)s).",
                                         up_to=format_number(bracket["up_to"]), value=format_number(highest),
                                         limit=format_number(limit), source=source)))]
    return []


def _round_up(quantity: Decimal, unit: Decimal | None) -> Decimal:
    from app.catalog.fees import rounded_up

    return rounded_up(quantity, unit)


def _rate_problems(path: str, rule: dict, cap: dict) -> list[tuple[str, str]]:
    """A rate cap (baht per unit) bounds every way the rule charges: its rates, and its fixed amounts as
    rate x the most units they cover (40 baht for up to 20 litres at 2 baht a litre)."""
    limit, source = cap["max_rate"], cap["legal_source_th"]
    kind = rule["kind"]
    if kind == "flat":
        return [(f"{path}.amount", str(_l("A fixed amount cannot be checked against the national maximum of "
                                           "%(limit)s per unit (%(source)s): charge it per unit or in brackets.",
                                           limit=format_number(limit), source=source)))]
    if kind == "per_unit":
        return [_above(f"{path}.rate", rule["rate"], limit, source)] if rule["rate"] > limit else []
    if kind != "tiered":
        return []
    problems: list[tuple[str, str]] = []
    previous: Decimal | None = None
    for i, bracket in enumerate(rule["brackets"]):
        where = f"{path}.brackets[{i}]"
        if bracket.get("rate") is not None:
            if bracket["rate"] > limit:
                problems.append(_above(f"{where}.rate", bracket["rate"], limit, source))
        else:
            # a fixed amount charged from just above the previous limit: the most units it covers is the
            # bracket's own limit; an open bracket covers at least the previous limit
            units = bracket["up_to"] if bracket["up_to"] is not None else previous
            if units is None:
                problems.append((f"{where}.amount", str(_l(
                    "A fixed amount for any quantity cannot be checked against the national maximum of "
                    "%(limit)s per unit (%(source)s).", limit=format_number(limit), source=source))))
            elif bracket["amount"] > (limit * units).quantize(CENT):
                problems.append((f"{where}.amount", str(_l(
                    "%(amount)s for up to %(units)s units is above the national maximum of %(limit)s per unit, "
                    "%(most)s in all (%(source)s).", amount=format_number(bracket["amount"]),
                    units=format_number(units), limit=format_number(limit),
                    most=format_number((limit * units).quantize(CENT)), source=source))))
        if bracket["up_to"] is not None:
            previous = bracket["up_to"]
    return problems


def template_fee_codes(template_spec: dict | None) -> set[str] | None:
    """The fee codes a template's own schedule uses; None when there is no template schedule."""
    fees = (template_spec or {}).get("fees") or {}
    rules = fees.get("rules")
    return None if rules is None else {r["code"] for r in rules if isinstance(r, dict) and r.get("code")}


def check_caps(rules: list[dict], caps: list[dict], template_codes: set[str] | None = None
               ) -> list[tuple[str, str]]:
    """(path, message) for every place a loaded local rule can charge more than its national cap.

    Caps name the template's fee codes, so under a capped template a local rule must use one of the
    template's codes (`template_codes`): a renamed rule would otherwise slip past its cap. Surcharges are
    exempt (they are a percent of capped lines). A cap for a rule the schedule does not have is fine: the
    local schedule may not charge that fee. Messages are rendered now, in the current locale.
    """
    by_code = {cap["rule"]: cap for cap in caps}
    problems: list[tuple[str, str]] = []
    for index, rule in enumerate(rules):
        path = f"rules[{index}]"
        cap = by_code.get(rule["code"])
        if cap is None:
            if caps and template_codes is not None and rule["kind"] != "late_surcharge" \
                    and rule["code"] not in template_codes:
                problems.append((f"{path}.code", str(_l(
                    "The template has no fee %(code)s. National maximums (%(source)s) apply to this service's "
                    "fees, so a local schedule may use only the template's fee codes: %(codes)s.",
                    code=rule["code"], source=caps[0]["legal_source_th"],
                    codes=", ".join(sorted(template_codes)) or "-"))))
            continue
        if cap.get("max_amount") is not None:
            problems += _amount_problems(path, rule, cap)
        if cap.get("max_rate") is not None:
            problems += _rate_problems(path, rule, cap)
    return problems

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


class PerUnitRule(RuleBase):
    field = fields.String(required=True, validate=CODE)
    rate = Rate(required=True)
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

    @validates_schema
    def _amount_or_rate(self, data: dict, **kwargs: Any) -> None:
        if (data.get("amount") is None) == (data.get("rate") is None):
            raise ValidationError([_l("Give exactly one of `amount` (a fixed fee) or `rate` (per unit).")])


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
    highest = (bracket["rate"] * bracket["up_to"]).quantize(CENT)
    if highest > limit:
        return [(f"{path}.rate", str(_l("At %(up_to)s units this rate charges %(value)s, above the national "
                                         "maximum of %(limit)s (%(source)s).",
                                         up_to=format_number(bracket["up_to"]), value=format_number(highest),
                                         limit=format_number(limit), source=source)))]
    return []


def _rate_problems(path: str, rule: dict, cap: dict) -> list[tuple[str, str]]:
    limit, source = cap["max_rate"], cap["legal_source_th"]
    if rule["kind"] == "per_unit" and rule["rate"] > limit:
        return [_above(f"{path}.rate", rule["rate"], limit, source)]
    if rule["kind"] == "tiered":
        return [_above(f"{path}.brackets[{i}].rate", b["rate"], limit, source)
                for i, b in enumerate(rule["brackets"]) if b.get("rate") is not None and b["rate"] > limit]
    return []


def check_caps(rules: list[dict], caps: list[dict]) -> list[tuple[str, str]]:
    """(path, message) for every place a loaded local rule can charge more than its national cap.

    A cap for a rule the schedule does not have is fine: the local schedule may not charge that fee.
    Messages are rendered now, in the current locale.
    """
    by_code = {cap["rule"]: cap for cap in caps}
    problems: list[tuple[str, str]] = []
    for index, rule in enumerate(rules):
        cap = by_code.get(rule["code"])
        if cap is None:
            continue
        path = f"rules[{index}]"
        if cap.get("max_amount") is not None:
            problems += _amount_problems(path, rule, cap)
        if cap.get("max_rate") is not None:
            problems += _rate_problems(path, rule, cap)
    return problems

"""Fee rules (validation, national caps) and the fee calculator; no database and no app factory needed."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import flask
import flask_babel
import pytest
import yaml
from marshmallow import ValidationError

from app.catalog.fee_rules import CapsField, RulesField, check_caps, field_references, load_caps, load_rules
from app.catalog.fees import FeeInputError, Quote, calculate, select_schedule
from app.seeds.loader import flatten_errors
from app.seeds.schemas import Strict

D = Decimal


@pytest.fixture
def english():
    """lazy_gettext messages render inside an app context (English: no catalogue selected)."""
    app = flask.Flask(__name__)
    flask_babel.Babel(app)
    with app.app_context():
        yield


def rules(*raw: dict) -> list[dict]:
    return load_rules(list(raw))


def problems(data, loader=load_rules, prefix="rules") -> dict[str, list[str]]:
    """{path: [messages]} of a refused list, the way the seed CLI prints them."""
    with pytest.raises(ValidationError) as info:
        loader(data)
    found: dict[str, list[str]] = {}
    for path, message in flatten_errors(info.value.messages, prefix):
        found.setdefault(path, []).append(message)
    return found


def flat(code="permit_fee", amount="20.00", **extra) -> dict:
    return {"kind": "flat", "code": code, "label_th": "ค่าใบอนุญาต", "amount": amount, **extra}


def per_unit(code="plan_check", rate="0.50", **extra) -> dict:
    return {"kind": "per_unit", "code": code, "label_th": "ค่าตรวจแบบ", "field": "floor_area", "rate": rate, **extra}


def tiered(brackets, code="waste_fee", **extra) -> dict:
    return {"kind": "tiered", "code": code, "label_th": "ค่าเก็บขนขยะ", "field": "litres_per_day",
            "brackets": brackets, **extra}


def late(code="late", percent="20", **extra) -> dict:
    return {"kind": "late_surcharge", "code": code, "label_th": "เงินเพิ่ม", "percent": percent, **extra}


WASTE = [{"up_to": "20", "amount": "40.00"}, {"up_to": "500", "amount": "60.00"}, {"up_to": None, "rate": "2.00"}]


def amounts(quote: Quote) -> dict[str, Decimal]:
    return {line.code: line.amount for line in quote.lines}


# --- loading ----------------------------------------------------------------------------------------

def test_loaded_rules_carry_decimals_and_defaults():
    loaded = rules(flat(amount="20"), per_unit(maximum="100.00"), tiered(WASTE, per="month"), late(of=["permit_fee"]))
    assert loaded[0] == {"kind": "flat", "code": "permit_fee", "label_th": "ค่าใบอนุญาต", "label_en": "",
                         "per": "once", "when": None, "amount": D("20.00")}
    assert str(loaded[0]["amount"]) == "20.00"
    assert loaded[1]["rate"] == D("0.50") and loaded[1]["minimum"] is None and loaded[1]["maximum"] == D("100.00")
    assert loaded[2]["per"] == "month" and loaded[2]["brackets"][2] == {"up_to": None, "amount": None, "rate": D("2")}
    assert loaded[3]["percent"] == D(20) and loaded[3]["of"] == ["permit_fee"]
    assert load_rules([]) == []  # a schedule that waives every fee


def test_when_loads_with_the_spec_keys():
    loaded = rules(flat(when={"field": "premises_type", "equals": "business"}),
                   flat(code="other", when={"field": "zone", "in": ["a", "b"]}))
    assert loaded[0]["when"] == {"field": "premises_type", "equals": "business"}
    assert loaded[1]["when"] == {"field": "zone", "in": ["a", "b"]}


def test_float_money_is_refused_with_a_clear_message(english):
    data = yaml.safe_load('- {kind: flat, code: permit_fee, label_th: ค่าใบอนุญาต, amount: 20.5}')
    assert problems(data) == {"rules[0].amount": ['Money must be a quoted string such as "20.50", not a number.']}
    assert "rules[0].rate" in problems([per_unit(rate=0.5)])
    assert "rules[0].amount" in problems([flat(amount=20)])  # money is always quoted, whole baht too


def test_number_format_places_and_sign(english):
    assert problems([flat(amount="20.505")]) == {"rules[0].amount": ["At most 2 decimal places."]}
    assert problems([flat(amount="-1.00")]) == {"rules[0].amount": ["Must not be negative."]}
    assert list(problems([flat(amount="1,000.00")])) == ["rules[0].amount"]
    assert list(problems([flat(amount="1e3")])) == ["rules[0].amount"]
    assert rules(per_unit(rate="0.1255"))[0]["rate"] == D("0.1255")  # a rate may be finer than a satang
    assert list(problems([per_unit(rate="0.12555")])) == ["rules[0].rate"]
    assert list(problems([tiered([{"up_to": 20.5, "amount": "1.00"}, {"up_to": None, "amount": "2.00"}])])) == [
        "rules[0].brackets[0].up_to"]
    assert rules(tiered([{"up_to": 20, "amount": "1.00"}]))[0]["brackets"][0]["up_to"] == D(20)  # whole ok


def test_percent_range_and_minimum_above_maximum():
    assert list(problems([late(percent="100.01")])) == ["rules[0].percent"]
    assert rules(late(percent=100))[0]["percent"] == D(100)
    assert list(problems([per_unit(minimum="50.00", maximum="10.00")])) == ["rules[0].maximum"]


def test_unknown_keys_kinds_and_bad_codes():
    found = problems([flat(rate="0.50"), {"kind": "bonus", "code": "x"}, flat(code="Permit-Fee"), "flat"])
    assert set(found) == {"rules[0].rate", "rules[1].kind", "rules[2].code", "rules[3]"}
    assert list(problems([flat(per="week")])) == ["rules[0].per"]
    assert list(problems([flat(code="a" * 49)])) == ["rules[0].code"]
    assert rules(flat(code="a" * 48))
    assert list(problems({"kind": "flat"})) == ["rules"]


def test_when_needs_exactly_one_test():
    assert list(problems([flat(when={"field": "zone"})])) == ["rules[0].when"]
    assert list(problems([flat(when={"field": "zone", "equals": "a", "in": ["a"]})])) == ["rules[0].when"]
    assert list(problems([flat(when={"field": "zone", "in": []})])) == ["rules[0].when.in"]
    assert list(problems([flat(when={"field": "zone", "equals": "a", "is": "a"})])) == ["rules[0].when.is"]
    assert list(problems([flat(when={"field": "zone", "equals": 1.5})])) == ["rules[0].when.equals"]


def test_bad_tiers(english):
    found = problems([tiered([{"up_to": "20", "amount": "1.00"}, {"up_to": "20", "amount": "2.00"},
                              {"up_to": None, "amount": "3.00"}, {"up_to": "600", "amount": "4.00"}])])
    assert set(found) == {"rules[0].brackets[1].up_to", "rules[0].brackets[2].up_to"}
    assert found["rules[0].brackets[1].up_to"] == ["Must be greater than the previous bracket's limit (20)."]
    assert list(problems([tiered([{"up_to": "500", "amount": "1.00"}, {"up_to": "20", "amount": "2.00"}])])) == [
        "rules[0].brackets[1].up_to"]
    assert list(problems([tiered([{"up_to": None, "amount": "1.00", "rate": "1.00"}])])) == ["rules[0].brackets[0]"]
    assert list(problems([tiered([{"up_to": None}])])) == ["rules[0].brackets[0]"]
    assert list(problems([tiered([{"amount": "1.00"}])])) == ["rules[0].brackets[0].up_to"]
    assert list(problems([tiered([])])) == ["rules[0].brackets"]


def test_duplicate_codes_and_surcharge_references(english):
    found = problems([flat(), per_unit(code="permit_fee"), late(of=["permit_fee", "nothing", "late"])])
    assert found == {
        "rules[1].code": ["Duplicate code: permit_fee is already used by an earlier rule."],
        "rules[2].of[1]": ["No rule with code nothing in this schedule."],
        "rules[2].of[2]": ["late is a late surcharge itself; a surcharge applies only to ordinary fees."],
    }
    assert list(problems([flat(), late(), late(code="late2", of=["late"])])) == ["rules[2].of[0]"]
    assert list(problems([flat(), late(of=[])])) == ["rules[1].of"]


def test_a_broken_rule_still_counts_for_references():
    # rule 0 fails on its own, but late's reference to it is not reported as unknown as well
    assert list(problems([flat(amount=20.0), late(of=["permit_fee"])])) == ["rules[0].amount"]


def test_fields_for_a_larger_schema_keep_the_paths():
    class Schedule(Strict):
        rules = RulesField(required=True)
        caps = CapsField(load_default=list)

    loaded = Schedule().load({"rules": [flat()]})
    assert loaded["rules"][0]["amount"] == D("20.00") and loaded["caps"] == []
    with pytest.raises(ValidationError) as info:
        Schedule().load({"rules": [flat(), tiered([{"up_to": "5", "amount": "1.00"},
                                                   {"up_to": "4", "amount": "2.00"}])],
                         "caps": [{"rule": "permit_fee", "max_amount": "20.00"}]})
    assert [path for path, _m in flatten_errors(info.value.messages, "fees")] == [
        "fees.rules[1].brackets[1].up_to", "fees.caps[0].legal_source_th"]


def test_field_references():
    loaded = rules(per_unit(), flat(when={"field": "premises_type", "equals": "business"}))
    assert field_references(loaded) == [("rules[0].field", "floor_area"), ("rules[1].when.field", "premises_type")]


# --- calculating ------------------------------------------------------------------------------------

def test_flat_and_per_unit_lines():
    quote = calculate(rules(flat(label_en="Permit fee"), per_unit()), {"floor_area": "120.5"})
    assert quote.lines[0].label_en == "Permit fee" and quote.lines[1].label_en == ""
    assert [(line.code, line.amount, line.detail) for line in quote.lines] == [
        ("permit_fee", D("20.00"), "20.00"), ("plan_check", D("60.25"), "120.5 × 0.50")]
    assert quote.total == D("80.25")


@pytest.mark.parametrize("value", [D("120.5"), "120.5", " 120.50 ", 120.5])
def test_values_arrive_in_any_numeric_form(value):
    assert calculate(rules(per_unit()), {"floor_area": value}).total == D("60.25")


def test_rounding_half_up_to_a_satang():
    assert calculate(rules(per_unit(rate="0.5")), {"floor_area": "0.01"}).total == D("0.01")  # 0.005
    assert calculate(rules(per_unit(rate="0.5")), {"floor_area": "0.0098"}).total == D("0.00")  # 0.0049
    assert calculate(rules(per_unit(rate="0.125")), {"floor_area": "3"}).total == D("0.38")  # 0.375
    assert calculate(rules(per_unit(rate="1.10")), {"floor_area": 3}).total == D("3.30")  # no float error


def test_per_unit_minimum_and_maximum():
    rule = rules(per_unit(minimum="50.00", maximum="100.00"))
    low, mid, high = (calculate(rule, {"floor_area": area}).lines[0] for area in ("10", "150", "1000"))
    assert (low.amount, low.detail) == (D("50.00"), "10 × 0.50 = 5.00 → 50.00")
    assert (mid.amount, mid.detail) == (D("75.00"), "150 × 0.50")
    assert (high.amount, high.detail) == (D("100.00"), "1,000 × 0.50 = 500.00 → 100.00")


def test_missing_field_gives_no_line_and_zero_fees_are_kept():
    loaded = rules(per_unit(), tiered(WASTE), flat(amount="0.00"))
    for values in ({}, {"floor_area": None, "litres_per_day": ""}, {"floor_area": "  "}):
        assert amounts(calculate(loaded, values)) == {"permit_fee": D("0.00")}
    assert calculate(loaded, {"floor_area": "0"}).lines[0].amount == D("0.00")


def test_bad_values_are_refused():
    loaded = rules(per_unit())
    for value in ("abc", "-5", "NaN", True, ["1"]):
        with pytest.raises(FeeInputError) as info:
            calculate(loaded, {"floor_area": value})
        assert info.value.field == "floor_area" and info.value.code == "plan_check"
    assert calculate(loaded, {"floor_area": "1,200"}).total == D("600.00")  # Thai thousands separator


def test_tier_boundaries():
    loaded = rules(tiered(WASTE))
    fees = {value: calculate(loaded, {"litres_per_day": value}).lines[0]
            for value in ("0", "20", "20.01", "500", "501")}
    assert {value: line.amount for value, line in fees.items()} == {
        "0": D("40.00"), "20": D("40.00"), "20.01": D("60.00"), "500": D("60.00"), "501": D("1002.00")}
    assert fees["20"].detail == "20 ≤ 20" and fees["501"].detail == "501 × 2.00"


def test_open_amount_bracket_and_rate_brackets():
    loaded = rules(tiered([{"up_to": "100", "rate": "0.25"}, {"up_to": None, "amount": "50.00"}]))
    assert calculate(loaded, {"litres_per_day": "100"}).lines[0].amount == D("25.00")
    assert calculate(loaded, {"litres_per_day": "0.02"}).lines[0].amount == D("0.01")  # 0.005 rounds up
    line = calculate(loaded, {"litres_per_day": "100.5"}).lines[0]
    assert (line.amount, line.detail) == (D("50.00"), "100.5 > 100")
    single = rules(tiered([{"up_to": None, "amount": "10.00"}]))
    assert calculate(single, {"litres_per_day": "7"}).lines[0].detail == "7"


def test_above_a_closed_last_bracket_is_an_error():
    loaded = rules(tiered([{"up_to": "20", "amount": "40.00"}]))
    with pytest.raises(FeeInputError):
        calculate(loaded, {"litres_per_day": "21"})


def test_when_equals_in_and_multi_choice():
    loaded = rules(flat(code="business", when={"field": "premises_type", "equals": "business"}),
                   flat(code="zoned", when={"field": "zone", "in": ["a", "b"]}),
                   flat(code="market", when={"field": "services", "equals": "market"}),
                   flat(code="night", when={"field": "services", "in": ["night", "weekend"]}),
                   flat(code="floors", when={"field": "floors", "equals": 2}),
                   flat(code="corner", when={"field": "corner", "equals": True}))
    assert amounts(calculate(loaded, {})) == {}
    got = calculate(loaded, {"premises_type": "business", "zone": "b", "services": ["market", "weekend"],
                             "floors": D("2"), "corner": True})
    assert [line.code for line in got.lines] == ["business", "zoned", "market", "night", "floors", "corner"]
    got = calculate(loaded, {"premises_type": "home", "zone": "c", "services": ["delivery"], "floors": "3",
                             "corner": False})
    assert got.lines == ()
    assert [line.code for line in calculate(loaded, {"floors": "2", "services": "market"}).lines] == [
        "market", "floors"]


def test_late_surcharge_on_named_lines():
    loaded = rules(flat(code="annual_fee", amount="1000.00", per="year"), flat(code="form_fee", amount="15.00"),
                   late(of=["annual_fee"]))
    on_time = calculate(loaded, {})
    assert amounts(on_time) == {"annual_fee": D("1000.00"), "form_fee": D("15.00")}
    overdue = calculate(loaded, {}, late=True)
    assert overdue.lines[-1].amount == D("200.00") and overdue.lines[-1].detail == "1,000.00 × 20%"
    assert overdue.total == D("1215.00")


def test_late_surcharge_defaults_to_every_ordinary_line_and_does_not_compound():
    loaded = rules(late(code="first", percent="10"), flat(amount="100.00"), per_unit(rate="1.00"),
                   late(code="second", percent="2.5"))
    quote = calculate(loaded, {"floor_area": "50"}, late=True)
    # listed order is kept; both surcharges use the ordinary 150.00 only
    assert [(line.code, line.amount) for line in quote.lines] == [
        ("first", D("15.00")), ("permit_fee", D("100.00")), ("plan_check", D("50.00")), ("second", D("3.75"))]


def test_late_surcharge_rounding_and_absent_base():
    loaded = rules(flat(amount="0.25"), late(percent="2"))
    assert calculate(loaded, {}, late=True).lines[-1].amount == D("0.01")  # 0.005
    loaded = rules(per_unit(), late(of=["plan_check"]))
    assert amounts(calculate(loaded, {}, late=True)) == {"late": D("0.00")}


def test_periods_and_totals_by_period():
    loaded = rules(flat(code="permit_fee", amount="20.00"), flat(code="stall", amount="300.00", per="month"),
                   flat(code="licence", amount="1000.00", per="year"), flat(code="sign", amount="5.00", per="month"))
    quote = calculate(loaded, {})
    assert quote.total == D("1325.00")
    assert quote.totals_by_period() == {"once": D("20.00"), "month": D("305.00"), "year": D("1000.00")}
    assert list(calculate(loaded[1:2], {}).totals_by_period()) == ["month"]
    empty = calculate([], {})
    assert empty.total == D("0.00") and empty.totals_by_period() == {}


# --- national caps ----------------------------------------------------------------------------------

CAPS = [{"rule": "permit_fee", "max_amount": "20.00", "legal_source_th": "กฎกระทรวง ฉบับที่ 7"},
        {"rule": "plan_check", "max_rate": "0.50", "max_amount": "1000.00", "legal_source_th": "กฎกระทรวง ฉบับที่ 7"},
        {"rule": "waste_fee", "max_amount": "60.00", "max_rate": "2.00", "legal_source_th": "กฎกระทรวง พ.ศ. 2560"},
        {"rule": "sign_fee", "max_amount": "5.00", "legal_source_th": "..."}]


def test_caps_load():
    caps = load_caps(CAPS)
    assert caps[0] == {"rule": "permit_fee", "max_amount": D("20.00"), "max_rate": None,
                       "legal_source_th": "กฎกระทรวง ฉบับที่ 7", "legal_source_en": ""}
    bad = [{"rule": "x", "legal_source_th": "ก"},  # no limit at all
           {"rule": "y", "max_amount": 20.0, "legal_source_th": "ก"},
           {"rule": "z", "max_amount": "1.00"},
           {"rule": "w", "max_rate": "1.00", "legal_source_th": "ก", "note": "?"}]
    assert set(problems(bad, load_caps, "caps")) == {
        "caps[0]", "caps[1].max_amount", "caps[2].legal_source_th", "caps[3].note"}
    assert list(problems([CAPS[0], CAPS[0]], load_caps, "caps")) == ["caps[1].rule"]


def test_within_caps_and_caps_for_absent_rules():
    loaded = rules(flat(amount="20.00"), per_unit(rate="0.50", maximum="1000.00"), tiered(WASTE[:2]))
    assert check_caps(loaded, load_caps(CAPS)) == []  # sign_fee is not charged here: fine
    assert check_caps(loaded, []) == []


def test_caps_exceeded(english):
    loaded = rules(flat(amount="20.01"), per_unit(rate="0.75"),
                   tiered([{"up_to": "20", "amount": "40.00"}, {"up_to": "500", "amount": "60.50"},
                           {"up_to": None, "rate": "2.50"}]))
    found = dict(check_caps(loaded, load_caps(CAPS)))
    assert found["rules[0].amount"] == "20.01 is above the national maximum of 20.00 (กฎกระทรวง ฉบับที่ 7)."
    assert set(found) == {"rules[0].amount", "rules[1].maximum", "rules[1].rate",
                          "rules[2].brackets[1].amount", "rules[2].brackets[2].rate"}


def test_caps_on_per_unit_maximum_and_bounded_rate_brackets():
    caps = load_caps(CAPS)
    assert [p for p, _m in check_caps(rules(per_unit(maximum="1000.01")), caps)] == ["rules[0].maximum"]
    ok = rules(tiered([{"up_to": "30", "rate": "2.00"}, {"up_to": "100", "amount": "60.00"}]))
    assert check_caps(ok, caps) == []  # 30 x 2.00 = 60.00, not above 60.00
    too_much = rules(tiered([{"up_to": "31", "rate": "2.00"}]))
    assert [p for p, _m in check_caps(too_much, caps)] == ["rules[0].brackets[0].rate"]


# --- choosing the schedule in force --------------------------------------------------------------------

SCHEDULES = [
    {"effective_from": date(2025, 10, 1), "rules": "old"},
    {"effective_from": date(2026, 10, 1), "rules": "new"},
    {"effective_from": "2024-01-01", "effective_to": "2025-09-30", "rules": "oldest"},
]


@pytest.mark.parametrize("day, expected", [
    (date(2023, 12, 31), None),
    (date(2024, 1, 1), "oldest"),
    (date(2025, 9, 30), "oldest"),  # effective_to is inclusive
    (date(2025, 10, 1), "old"),
    (date(2026, 9, 30), "old"),  # the day before the new schedule
    (date(2026, 10, 1), "new"),  # the day it starts
])
def test_select_schedule_switches_on_the_effective_date(day, expected):
    chosen = select_schedule(SCHEDULES, day)
    assert (chosen["rules"] if chosen else None) == expected


def test_an_ended_schedule_falls_back_to_an_earlier_one_still_in_force():
    schedules = [{"effective_from": date(2025, 1, 1), "rules": "base"},
                 {"effective_from": date(2025, 6, 1), "effective_to": date(2025, 6, 30), "rules": "promotion"}]
    assert select_schedule(schedules, date(2025, 6, 30))["rules"] == "promotion"
    assert select_schedule(schedules, date(2025, 7, 1))["rules"] == "base"
    assert select_schedule([], date(2025, 7, 1)) is None

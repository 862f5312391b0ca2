"""The catalogue's rules without the screens: field date limits, field drafts that keep every setting,
tenant overrides of a template, caps that cannot be renamed around, the late surcharge, rounding up to
units, and the SLA counted in working or calendar days."""
import glob
import os
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
import yaml
from marshmallow import ValidationError

from app.catalog import drafts, services
from app.catalog.fee_rules import check_caps, load_caps, load_rules, template_fee_codes
from app.catalog.fees import calculate
from app.catalog.spec import FieldSpec, ServiceSpec, TemplateFile
from app.seeds.loader import flatten_errors
from tests.conftest import ROOT

TEMPLATES = sorted(glob.glob(os.path.join(ROOT, "seeds", "services", "*.yaml")))
D = Decimal


def _template(path):
    with open(path, encoding="utf-8") as handle:
        return TemplateFile().load(yaml.safe_load(handle))


def _template_row(path):
    spec = services._jsonable({k: v for k, v in _template(path).items() if k != "kind"})
    return SimpleNamespace(code=spec["code"], spec=spec)


# --- date limits of a date field ---------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("2568-10-01", "2568"), ("2025-02-30", "2025-02-30"), ("01/10/2568", "2025-10-01"), ("1800-01-01", "1800"),
])
def test_date_limits_must_be_real_ce_dates(app, value, expected):
    with app.test_request_context():
        with pytest.raises(ValidationError) as error:
            FieldSpec().load({"code": "d", "kind": "date", "label_th": "วันที่", "min": value})
        message = str(error.value.messages["min"])
    assert expected in message
    if value.startswith("2568"):
        assert "พุทธศักราช" in message or "พ.ศ." in message  # the Thai message explains the B.E. year


def test_a_good_date_limit_and_limits_in_order(app):
    with app.test_request_context():
        assert FieldSpec().load({"code": "d", "kind": "date", "label_th": "ว", "min": "2025-10-01"})["min"] == "2025-10-01"
        with pytest.raises(ValidationError) as error:
            FieldSpec().load({"code": "d", "kind": "date", "label_th": "ว", "min": "2026-01-01", "max": "2025-01-01"})
        assert "max" in error.value.messages


# --- drafts keep every field setting -------------------------------------------------------------------

@pytest.mark.parametrize("path", TEMPLATES, ids=os.path.basename)
def test_a_draft_round_trips_every_field_of_every_seed_template(app, path):
    owner = SimpleNamespace(tenant_id=1, id=1)
    with app.test_request_context():
        for spec in _template(path)["fields"]:
            back = FieldSpec().load(drafts.spec_of(drafts.draft_of(spec, owner, 10)))
            assert back == spec, spec["code"]


def test_the_draft_holds_every_fieldspec_setting():
    """A new FieldSpec setting must get a draft column too, or the field editor would drop it."""
    full = {"code": "f", "kind": "file", "label_th": "ก", "label_en": "A", "help_th": "ช่วย", "help_en": "Help",
            "required": True, "visibility": "staff", "unit_th": "ชิ้น", "min_length": 1, "max_length": 9,
            "pattern": "", "pattern_error_th": "", "accept": ["pdf"], "max_size_mb": 3, "max_error_th": "เกิน"}
    spec = drafts.spec_of(drafts.draft_of(full, SimpleNamespace(tenant_id=1, id=1), 10))
    assert set(FieldSpec().fields) - {"min", "max", "choices", "pattern", "pattern_error_th"} <= set(spec)
    text = {"code": "t", "kind": "text", "label_th": "ก", "pattern": "^[0-9]{13}$", "pattern_error_th": "13 หลัก",
            "choices": []}
    assert drafts.spec_of(drafts.draft_of(text, SimpleNamespace(tenant_id=1, id=1), 10))["pattern"] == "^[0-9]{13}$"


# --- tenant overrides of a template ------------------------------------------------------------------

def _waste():
    return _template_row(os.path.join(ROOT, "seeds", "services", "waste_collection_registration.yaml"))


def test_guide_documents_and_laws_are_overridden(app):
    template = _waste()
    entry = {"template": "waste_collection_registration", "extra_fields": [],
             "guide": {"channels_th": ["ที่ทำการเทศบาล"], "complaint_channel_th": "โทร. 053-000000"},
             "documents": [{"code": "id_card_copy", "name_th": "สำเนาบัตร"}],
             "legal_basis": [{"title_th": "เทศบัญญัติ เรื่อง มูลฝอย"}]}
    with app.test_request_context():
        resolved = services.resolve_definition(entry, template)
    assert resolved["guide"]["channels_th"] == ["ที่ทำการเทศบาล"]
    assert resolved["guide"]["complaint_channel_th"] == "โทร. 053-000000"
    assert resolved["guide"]["steps"] == template.spec["guide"]["steps"]  # the rest of the guide stays
    assert [d["name_th"] for d in resolved["documents"]] == ["สำเนาบัตร"]
    assert resolved["legal_basis"] == [{"title_th": "เทศบัญญัติ เรื่อง มูลฝอย", "title_en": ""}]
    assert resolved["template_code"] == "waste_collection_registration"


@pytest.mark.parametrize("entry, path", [
    ({"extra_fields": [{"code": "phone", "kind": "text", "label_th": "โทร"}]}, "extra_fields[0].code"),
    ({"guide": {"steps": [{"name_th": "ก", "days": 999}]}}, "guide.steps[0].days"),
    ({"guide": ["not", "a", "mapping"]}, "guide"),
    ({"documents": [{"code": "x"}]}, "documents[0].name_th"),
    ({"sla_unit": "fortnights"}, "sla_unit"),
])
def test_bad_overrides_are_refused_with_their_path(app, entry, path):
    entry = {"template": "waste_collection_registration", "extra_fields": [], **entry}
    with app.test_request_context():
        with pytest.raises(ValidationError) as error:
            services.resolve_definition(entry, _waste())
        paths = [where for where, _message in flatten_errors(error.value.messages)]
    assert path in paths, paths
    if path.startswith("extra_fields"):
        assert "phone" in dict(flatten_errors(error.value.messages))[path]


# --- caps ------------------------------------------------------------------------------------------

def _waste_caps():
    return load_caps(_waste().spec["caps"])


def _tiered(code, brackets, when="household"):
    return {"kind": "tiered", "code": code, "label_th": "ค่าเก็บขยะ", "field": "litres_per_day", "per": "month",
            "when": {"field": "premises_kind", "equals": when}, "brackets": brackets}


def test_a_renamed_rule_cannot_slip_past_its_cap(app):
    codes = template_fee_codes(_waste().spec)
    rules = load_rules([_tiered("collection_home", [{"up_to": None, "rate": "9.00"}])])
    with app.test_request_context():
        problems = dict(check_caps(rules, _waste_caps(), codes))
    assert "rules[0].code" in problems and "collection_household" in problems["rules[0].code"]
    # the template's own code is checked against its cap
    rules = load_rules([_tiered("collection_household", [{"up_to": None, "rate": "9.00"}])])
    with app.test_request_context():
        assert [p for p, _m in check_caps(rules, _waste_caps(), codes)] == ["rules[0].brackets[0].rate"]


def test_a_rate_cap_checks_fixed_amounts_too(app):
    caps = _waste_caps()
    within = load_rules([_tiered("collection_household", [{"up_to": "20", "amount": "40.00"},
                                                          {"up_to": None, "rate": "2.00", "round_up_to": "20"}])])
    above = load_rules([_tiered("collection_household", [{"up_to": "20", "amount": "45.00"},
                                                         {"up_to": "500", "rate": "2.00"},
                                                         {"up_to": None, "amount": "1001.00"}])])
    flat = load_rules([{"kind": "flat", "code": "collection_household", "label_th": "ก", "amount": "10.00"}])
    with app.test_request_context():
        assert check_caps(within, caps) == []
        found = dict(check_caps(above, caps))
        assert set(found) == {"rules[0].brackets[0].amount", "rules[0].brackets[2].amount"}
        assert "45.00" in found["rules[0].brackets[0].amount"] and "40.00" in found["rules[0].brackets[0].amount"]
        assert [p for p, _m in check_caps(flat, caps)] == ["rules[0].amount"]


def test_every_seed_template_passes_its_own_caps():
    for path in TEMPLATES:
        _template(path)  # TemplateFile runs check_caps on the template's own fees


# --- the late surcharge and rounding up ---------------------------------------------------------------

FOOD = os.path.join(ROOT, "seeds", "services", "food_premises_notification.yaml")


def test_the_food_premises_surcharge_applies_to_a_late_annual_filing():
    rules = load_rules(services._jsonable(_template(FOOD)["fees"]["rules"]))
    annual = {"area": "30", "filing_kind": "annual", "annual_fee_due_on": "2026-10-31"}
    on_time = calculate(rules, annual, on=date(2026, 10, 31))
    late = calculate(rules, annual, on=date(2026, 11, 1))
    new = calculate(rules, {**annual, "filing_kind": "new"}, on=date(2026, 11, 1))
    assert on_time.total == D("100.00") and [line.code for line in on_time.lines] == ["annual_fee"]
    assert late.total == D("120.00") and late.lines[-1].code == "late" and late.lines[-1].amount == D("20.00")
    assert new.total == D("100.00")  # a new notification is never late
    assert calculate(rules, {**annual, "annual_fee_due_on": None}, on=date(2026, 11, 1)).total == D("100.00")
    assert calculate(rules, annual, late=True).total == D("120.00")  # a caller may still say "late"


@pytest.mark.parametrize("litres, expected", [
    ("20", "40.00"), ("21", "80.00"), ("30", "80.00"), ("40", "80.00"), ("41", "120.00"), ("500", "1000.00"),
    ("501", "2000.00"), ("1000", "2000.00"), ("1001", "4000.00"),
])
def test_waste_is_counted_in_whole_units(litres, expected):
    rules = load_rules(services._jsonable(_template(os.path.join(
        ROOT, "seeds", "services", "waste_collection_registration.yaml"))["fees"]["rules"]))
    quote = calculate(rules, {"premises_kind": "household", "litres_per_day": litres})
    assert quote.total == D(expected)
    if litres == "30":
        assert quote.lines[0].detail == "30 → 40 × 2.00"


def test_round_up_only_on_rate_brackets_and_above_zero(app):
    with app.test_request_context():
        with pytest.raises(ValidationError):
            load_rules([_tiered("t", [{"up_to": "20", "amount": "40.00", "round_up_to": "20"}])])
        with pytest.raises(ValidationError):
            load_rules([_tiered("t", [{"up_to": None, "rate": "2.00", "round_up_to": "0"}])])


def test_a_surcharge_due_field_must_be_a_date_field(app):
    spec = _template(FOOD)
    raw = services._jsonable({k: v for k, v in spec.items() if k != "kind"})
    raw["fees"]["rules"][1]["due_field"] = "area"
    with app.test_request_context():
        with pytest.raises(ValidationError) as error:
            ServiceSpec().load(raw)
    assert "due_field" in str(error.value.messages)


# --- the SLA's unit ------------------------------------------------------------------------------------

def test_the_building_permit_counts_45_calendar_days():
    permit = _template(os.path.join(ROOT, "seeds", "services", "building_permit_small.yaml"))
    assert (permit["sla_days"], permit["sla_unit"]) == (45, "calendar")
    st = SimpleNamespace(sla_days=45, sla_unit="calendar")
    assert services.legal_due_date(st, date(2026, 12, 1)) == date(2027, 1, 15)


def test_working_days_skip_weekends_and_holidays(app, tenant_a):
    from app.tenancy.context import tenant_scope

    with app.app_context(), tenant_scope(tenant_a.id):
        st = SimpleNamespace(sla_days=5, sla_unit="working")
        # Fri 4 Dec 2026 + 5 working days: (7 Dec in lieu of Father's Day), 8, 9, (10 Constitution Day), 11,
        # 14, 15; the same 5 calendar days end on the 9th
        assert services.legal_due_date(st, date(2026, 12, 4)) == date(2026, 12, 15)
        assert services.legal_due_date(SimpleNamespace(sla_days=5, sla_unit="calendar"), date(2026, 12, 4)) \
            == date(2026, 12, 9)

"""The form and the schema built from one field list accept and refuse the same input, with the same
message, and store the same value (property tests)."""
import marshmallow
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from app.catalog.builder import build_form, build_schema, form_values

CHOICES = [{"value": "light", "label_th": "ไฟฟ้าดับ"}, {"value": "road", "label_th": "ถนนชำรุด"},
           {"value": "drain", "label_th": "ท่ออุดตัน"}]
INTERESTING = {
    "text": ["สมชาย ใจดี", "a" * 201, "two\nlines", "  padded  ", "ABC123"],
    "long_text": ["บรรทัด\nสอง", "x" * 5001],
    "integer": ["0", "12", "-3", "1,200", "1.0", "1.5", "abc", "1e3", "99999999999999", "NaN", "Infinity"],
    "decimal": ["0.25", "150", "150.01", "1,234.50", "0.005", "-1", "1e2", ".5", "abc", "sNaN"],
    "date": ["24/11/2569", "29/02/2567", "29/02/2566", "24/11/2026", "2026-11-24", "2569-11-24",
             "2026-02-30", "24 พ.ย. 2569", "31/12/2400", "1/1/69", "tomorrow"],
    "choice": ["light", "road", "LIGHT", "other", ""],
    "yes_no": ["y", "n", "yes", "no", "ใช่", "ไม่ใช่", "true", "maybe", "1", "0"],
    "national_id": ["1101700203450", "1-1017-00203-45-0", "1101700203451", "123"],
    "phone": ["0812345678", "081-234-5678", "+66812345678", "021234567", "12345"],
    "email": ["somchai@example.org", "not-an-email", "a@b", "ใจดี@example.org"],
    "location": ["18.7883, 98.9853", "18.7883 98.9853", "0, 0", "18.7883", "abc, def"],
}
SIMPLE = sorted(INTERESTING)


def specs(kind):
    limits = {}
    if kind in ("integer", "decimal"):
        limits = st.fixed_dictionaries({}, optional={"min": st.sampled_from(["0", "1"]),
                                                      "max": st.sampled_from(["150", "1000"])})
    elif kind in ("text", "long_text"):
        limits = st.fixed_dictionaries({}, optional={"min_length": st.integers(0, 5),
                                                      "max_length": st.integers(5, 300)})
    elif kind == "date":
        limits = st.fixed_dictionaries({}, optional={"min": st.just("2020-01-01"), "max": st.just("2030-12-31")})
    else:
        limits = st.just({})
    return st.builds(
        lambda required, extra: {"code": "f", "kind": kind, "required": required, "choices": CHOICES, **extra},
        st.booleans(), limits,
    )


def raws(kind):
    base = st.one_of(st.sampled_from(INTERESTING[kind]), st.text(max_size=25), st.just(""))
    return base


def via_form(app, spec, raw):
    data = MultiDict([(spec["code"], v) for v in raw]) if isinstance(raw, list) else MultiDict({spec["code"]: raw})
    data.add("csrf_token", "posted")  # a real POST always carries the form's token
    with app.test_request_context(method="POST", data=data):
        form = build_form([spec])(meta={"csrf": False})
        ok = form.validate()
        return ok, (form_values(form) if ok else None), (None if ok else form.f.errors[0])


def via_schema(app, spec, raw):
    with app.test_request_context():
        try:
            return True, build_schema([spec])().load({spec["code"]: raw}), None
        except marshmallow.ValidationError as error:
            return False, None, error.messages["f"][0]


def agree(app, spec, raw):
    form, schema = via_form(app, spec, raw), via_schema(app, spec, raw)
    assert form == schema, (spec, raw, form, schema)


@pytest.mark.parametrize("kind", SIMPLE)
def test_form_and_schema_agree(app, kind):
    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(spec=specs(kind), raw=raws(kind))
    def check(spec, raw):
        agree(app, spec, raw)

    check()


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(required=st.booleans(), raw=st.lists(st.sampled_from(["light", "road", "drain", "bogus", ""]), max_size=4))
def test_multi_choice_agrees(app, required, raw):
    agree(app, {"code": "f", "kind": "multi_choice", "required": required, "choices": CHOICES}, raw)


def test_address_agrees_and_checks_postcode_against_subdistrict(app):
    spec = {"code": "f", "kind": "address", "required": True}
    good = {"line": "99/1 หมู่ 3", "subdistrict": "500107", "postcode": "50100"}

    def both(parts):
        data = MultiDict({f"f-{k}": v for k, v in parts.items()})
        data.add("csrf_token", "posted")
        with app.test_request_context(method="POST", data=data):
            form = build_form([spec])(meta={"csrf": False})
            ok = form.validate()
            form_result = (ok, form.f.data if ok else form.f.errors[0])
        schema = via_schema(app, spec, parts)
        return form_result, (schema[0], schema[1]["f"] if schema[0] else schema[2])

    import geothai

    code = geothai.by_postal_code("50100")[0].code
    good["subdistrict"] = code
    f, s = both(good)
    assert f == s and f[0] is True
    for bad in ({**good, "postcode": "10200"}, {**good, "subdistrict": "999999"}, {**good, "line": ""}):
        f, s = both(bad)
        assert f == s and f[0] is False


def test_missing_key_and_unknown_key(app):
    spec = {"code": "f", "kind": "text", "required": True}
    with app.test_request_context():
        with pytest.raises(marshmallow.ValidationError) as error:
            build_schema([spec])().load({})
        assert error.value.messages == {"f": ["กรุณากรอกข้อมูลนี้"]} or "f" in error.value.messages
        with pytest.raises(marshmallow.ValidationError) as error:
            build_schema([spec])().load({"f": "x", "sneaky": "y"})
        assert "sneaky" in error.value.messages


def test_staff_only_fields_are_not_offered_to_citizens(app):
    fields = [{"code": "name", "kind": "text"}, {"code": "inspector_note", "kind": "long_text", "visibility": "staff"}]
    with app.test_request_context():
        assert "inspector_note" not in build_schema(fields, staff=False)().fields
        assert "inspector_note" in build_schema(fields, staff=True)().fields
        with pytest.raises(marshmallow.ValidationError):
            build_schema(fields, staff=False)().load({"name": "x", "inspector_note": "smuggled"})

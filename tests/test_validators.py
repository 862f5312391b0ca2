import marshmallow
import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form, StringField

from app import validators as v


@pytest.mark.parametrize("value, ok", [
    ("1101700203450", True), ("1-1017-00203-45-0", True), ("1 1017 00203 45 0", True),
    ("1101700203451", False), ("110170020345", False), ("0101700203450", False), ("11017OO203450", False),
    # category 0, persons without registration status: a leading 0 with a correct check digit
    ("0123456789016", True), ("0-1234-56789-01-6", True), ("0123456789015", False),
    ("0000000000001", False), ("00000000000000", False),
])
def test_national_id_checksum(value, ok):
    assert v.is_thai_national_id(value) is ok


@pytest.mark.parametrize("value, mobile, landline", [
    ("081-234-5678", True, False), ("+66 81 234 5678", True, False), ("0912345678", True, False),
    ("02-123-4567", False, True), ("053-123456", False, True), ("0112345678", False, False),
    ("08123", False, False), ("phone", False, False),
])
def test_phone_numbers(value, mobile, landline):
    assert v.is_thai_mobile(value) is mobile
    assert v.is_thai_landline(value) is landline
    assert v.is_thai_phone(value) is (mobile or landline)


@pytest.mark.parametrize("value, ok", [("50100", True), ("10200", True), ("96000", True), ("00100", False),
                                       ("97000", False), ("5010", False), ("50 100", False)])
def test_postcodes(value, ok):
    assert v.is_thai_postcode(value) is ok


def test_form_and_schema_refuse_the_same_input_with_the_same_message(app):
    class F(Form):
        pid = StringField(validators=[v.ThaiFormValidator("national_id")])

    class S(marshmallow.Schema):
        pid = marshmallow.fields.String(validate=v.marshmallow_validator("national_id"))

    with app.test_request_context():
        form = F(MultiDict({"pid": "1101700203451"}))
        assert not form.validate()
        with pytest.raises(marshmallow.ValidationError) as error:
            S().load({"pid": "1101700203451"})
        assert error.value.messages["pid"] == form.pid.errors == [
            "เลขประจำตัวประชาชนไม่ถูกต้อง (ต้องมี 13 หลักและเลขตรวจสอบถูกต้อง)"
        ]
        assert F(MultiDict({"pid": "1101700203450"})).validate()
        assert S().load({"pid": "1101700203450"}) == {"pid": "1101700203450"}


def test_api_dates_refuse_be_years(app):
    from datetime import date

    with app.test_request_context():
        v.ce_date(date(2026, 11, 24))
        with pytest.raises(marshmallow.ValidationError) as error:
            v.ce_date(date(2569, 11, 24))
    assert "2569" in str(error.value)

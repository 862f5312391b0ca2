"""พ.ศ. dates in and out, fiscal years, baht, Thai digits and order."""
import os
import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form

from app import thai
from app.thai_forms import ThaiDateField


@pytest.fixture
def th(app):
    with app.test_request_context():
        yield


@pytest.fixture
def en(app):
    with app.test_request_context():
        from flask import session

        session["locale"] = "en"
        yield


def test_formatting_in_thai(th):
    assert thai.format_date(date(2026, 11, 24)) == "24 พ.ย. 2569"
    assert thai.format_date(date(2026, 11, 24), "long") == "24 พฤศจิกายน 2569"
    # 17:30 UTC on 31 Dec is already 1 Jan in Bangkok
    assert thai.format_datetime(datetime(2026, 12, 31, 17, 30)) == "1 ม.ค. 2570 00:30 น."
    assert thai.format_datetime(datetime(2026, 11, 24, 7, 5), "long") == "24 พฤศจิกายน 2569 14:05 น."
    assert thai.format_date_input(date(2024, 2, 29)) == "29/02/2567"
    assert thai.format_bool(True) == "ใช่" and thai.format_bool(False) == "ไม่ใช่"
    assert thai.format_date(None) == "" and thai.format_datetime(None) == ""


def test_formatting_in_english_keeps_ce(en):
    assert thai.format_date(date(2026, 11, 24)) == "24 Nov 2026"
    assert thai.format_baht(Decimal("1234.5")) == "1,234.50 baht"


@pytest.mark.parametrize("day", [
    date(2024, 2, 29), date(2025, 12, 31), date(2026, 1, 1), date(2025, 9, 30), date(2025, 10, 1),
    date(1957, 1, 1), date(2100, 6, 15),
])
def test_round_trip(th, day):
    assert thai.parse_date(thai.format_date_input(day)) == day
    assert thai.parse_date(thai.format_date(day)) == day
    assert thai.parse_date(thai.format_date(day, "long")) == day


@pytest.mark.parametrize("text", ["24/11/2569", "24-11-2569", "24.11.2569", " 24 / 11 / 2569 ", "24 พ.ย. 2569",
                                  "24 พฤศจิกายน 2569", "24 พฤศจิกายน พ.ศ. 2569"])
def test_accepted_spellings(th, text):
    assert thai.parse_date(text) == date(2026, 11, 24)


@pytest.mark.parametrize("text, message", [
    ("24/11/2026", "น่าจะเป็นปีคริสต์ศักราช"),     # C.E. typed by mistake is not stored as B.E. 2026
    ("29/02/2566", "ไม่มีอยู่จริง"),                # 2023 is not a leap year
    ("31/04/2569", "ไม่มีอยู่จริง"),
    ("24/13/2569", "เดือนต้องอยู่ระหว่าง"),
    ("24/11/69", "ให้ครบ 4 หลัก"),                  # two-digit years are ambiguous
    ("24/11/3569", "นอกช่วง"),
    ("tomorrow", "วัน/เดือน/ปี พ.ศ."),
    ("", "กรุณากรอกวันที่"),
])
def test_refused_with_thai_message(th, text, message):
    with pytest.raises(thai.ThaiDateError) as error:
        thai.parse_date(text)
    assert message in str(error.value)


def test_fiscal_year_edges():
    assert thai.fiscal_year(date(2025, 9, 30)) == 2568
    assert thai.fiscal_year(date(2025, 10, 1)) == 2569
    assert thai.fiscal_year(date(2026, 9, 30)) == 2569
    assert thai.fiscal_year(date(2024, 2, 29)) == 2567
    assert thai.fiscal_year_bounds(2569) == (date(2025, 10, 1), date(2026, 9, 30))
    assert thai.calendar_year_bounds(2569) == (date(2026, 1, 1), date(2026, 12, 31))


@pytest.mark.parametrize("amount, words", [
    ("0.25", "ยี่สิบห้าสตางค์"),
    ("1", "หนึ่งบาทถ้วน"),
    ("11", "สิบเอ็ดบาทถ้วน"),
    ("21", "ยี่สิบเอ็ดบาทถ้วน"),
    ("101", "หนึ่งร้อยเอ็ดบาทถ้วน"),
    ("1000001", "หนึ่งล้านเอ็ดบาทถ้วน"),
    ("20000000.50", "ยี่สิบล้านบาทห้าสิบสตางค์"),
    ("1234.50", "หนึ่งพันสองร้อยสามสิบสี่บาทห้าสิบสตางค์"),
    ("21000000", "ยี่สิบเอ็ดล้านบาทถ้วน"),
    ("40", "สี่สิบบาทถ้วน"),
    ("0", "ศูนย์บาทถ้วน"),
])
def test_baht_text(amount, words):
    assert thai.baht_text(Decimal(amount)) == words


def test_money_is_decimal_never_float(th):
    assert thai.format_baht(Decimal("1234.5")) == "1,234.50 บาท"
    assert thai.format_baht(40) == "40.00 บาท"
    assert thai.to_baht("0.005") == Decimal("0.01")
    with pytest.raises(TypeError):
        thai.format_baht(12.5)


def test_thai_digits_for_tenants_that_ask():
    class Tenant:
        thai_digits = True

    assert thai.thai_digits("ที่ 12/2569") == "ที่ ๑๒/๒๕๖๙"
    assert thai.for_document("123", Tenant()) == "๑๒๓"
    Tenant.thai_digits = False
    assert thai.for_document("123", Tenant()) == "123"


def test_thai_dictionary_order():
    words = ["ไก่", "กา", "เกือก", "ขวด", "โต๊ะ", "ค้อน", "กอ"]
    assert sorted(words, key=thai.thai_sort_key) == ["กอ", "กา", "เกือก", "ไก่", "ขวด", "ค้อน", "โต๊ะ"]


class _DateForm(Form):
    when = ThaiDateField("when")


def test_date_field_shows_and_accepts_be(th):
    form = _DateForm(data={"when": date(2026, 11, 24)})
    assert 'value="24/11/2569"' in str(form.when())
    assert "thai-date" in str(form.when())
    form = _DateForm(MultiDict({"when": "29/02/2567"}))
    assert form.validate() and form.when.data == date(2024, 2, 29)


def test_date_field_refuses_ce_year_and_keeps_the_input(th):
    form = _DateForm(MultiDict({"when": "24/11/2026"}))
    assert not form.validate()
    assert "พุทธศักราช" in form.when.errors[0]
    assert 'value="24/11/2026"' in str(form.when())  # what the clerk typed is not lost


def test_lists_sort_thai_names_in_dictionary_order(client_for):
    """SQLite's and PostgreSQL's plain byte order would put เ/ไ words after ข and ค."""
    import re

    client = client_for("a.admin")
    for code, name in [("s-kai", "ไก่ย่าง"), ("s-khuad", "ขวดแก้ว"), ("s-kueak", "เกือกม้า"), ("s-ka", "กาแฟ")]:
        client.post("/divisions/add", data={"code": code, "name_th": name})
    html = client.get(
        "/divisions/list/?_flt_0_code=s-&_oc_DivisionView=name_th&_od_DivisionView=asc&psize_DivisionView=100"
    ).get_data(as_text=True)
    found = [n for n in re.findall(r"<td>\s*([^<]+?)\s*</td>", html) if n in ("ไก่ย่าง", "ขวดแก้ว", "เกือกม้า", "กาแฟ")]
    assert found == ["กาแฟ", "เกือกม้า", "ไก่ย่าง", "ขวดแก้ว"]


def test_rest_api_keeps_iso_ce_dates(client_for):
    row = client_for("a.admin").get("/api/v1/membership/").get_json()["result"][0]
    assert re.fullmatch(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?", row["created_at"]), row["created_at"]


def test_template_filters(app):
    from flask import render_template_string

    with app.test_request_context():
        out = render_template_string(
            "{{ d|thai_date('long') }} | {{ x|baht }} | {{ x|baht_text }} | {{ '2569'|thai_digits }}",
            d=date(2026, 11, 24), x=Decimal("1234.50"),
        )
    assert out == "24 พฤศจิกายน 2569 | 1,234.50 บาท | หนึ่งพันสองร้อยสามสิบสี่บาทห้าสิบสตางค์ | ๒๕๖๙"


def test_every_date_column_in_a_generated_form_gets_the_be_field(app):
    from sqlalchemy import Date, Integer
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    from app.tenancy.fab import _thai_date_fields
    from app.tenancy.interface import TenantInterface

    class Base(DeclarativeBase):
        pass

    class Permit(Base):
        __tablename__ = "permit_example"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        issued_on: Mapped[date] = mapped_column(Date, nullable=False)
        expires_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    with app.app_context():
        fields = _thai_date_fields(TenantInterface(Permit), ["issued_on", "expires_on"], {"issued_on": "ออกเมื่อ"})
    assert set(fields) == {"issued_on", "expires_on"}
    assert all(f.field_class is ThaiDateField for f in fields.values())
    assert fields["issued_on"].args[0] == "ออกเมื่อ"


def test_date_search_filters_read_be_and_iso_never_ce_as_be(client_for):
    today = thai.today_bangkok()
    client = client_for("a.admin")
    be = thai.format_date_input(today)
    html = client.get(f"/grant-log/list/?_flt_0_at={be}").get_data(as_text=True)
    assert "/grant-log/show/" in html, "today's grants are found by a พ.ศ. date"
    # the same digits read as C.E. would be a date 543 years away: nothing is found
    ce = f"{today.day:02d}/{today.month:02d}/{today.year}"
    html = client.get(f"/grant-log/list/?_flt_0_at={ce}").get_data(as_text=True)
    assert "/grant-log/show/" not in html
    html = client.get("/grant-log/list/?_flt_0_at=not-a-date").get_data(as_text=True)
    assert "/grant-log/show/" not in html
    # the search form offers the Thai date box for that column
    assert "thai-date" in client.get("/grant-log/list/").get_data(as_text=True)


def test_wtforms_own_messages_are_thai_and_english_on_request(client_for, tenant_a):
    """WTForms' built-in messages go through our catalogue: a number box and a length limit."""
    admin = client_for("a.admin")
    cases = {
        "th": ("ต้องเป็นตัวเลขจำนวนเต็ม", "ช่องนี้ยาวได้ไม่เกิน 32 ตัวอักษร"),
        "en": ("Not a valid integer value.", "Field cannot be longer than 32 characters."),
    }
    try:
        for lang, (not_integer, too_long) in cases.items():
            admin.get(f"/lang/{lang}")
            response = admin.post(f"/organisation/edit/{tenant_a.id}", data={"name_en": "SAO A", "reopen_days": "สามสิบ"})
            html = response.get_data(as_text=True)
            assert response.status_code == 200 and not_integer in html
            response = admin.post("/divisions/add", data={"code": "x" * 40, "name_th": "กองรหัสยาวเกิน"})
            html = response.get_data(as_text=True)
            assert response.status_code == 200 and too_long in html
            if lang == "th":
                assert "Not a valid integer value." not in html and "Field cannot be longer" not in html
        assert "กองรหัสยาวเกิน" not in admin.get("/divisions/list/").get_data(as_text=True)  # nothing written
    finally:
        admin.get("/lang/th")


def test_every_wtforms_message_has_thai_through_the_form_meta(app):
    from babel.messages.pofile import read_po
    from flask_wtf import FlaskForm
    from wtforms import IntegerField

    from app.thai_forms import TRANSLATIONS

    class F(FlaskForm):
        n = IntegerField("n")

    with app.test_request_context("/", data={"n": "x"}, method="POST"):
        form = F(meta={"csrf": False})
        assert form.meta.get_translations(form) is TRANSLATIONS
        assert not form.validate() and form.n.errors == ["ต้องเป็นตัวเลขจำนวนเต็ม"]
        app.config["WTF_I18N_ENABLED"] = False
        try:
            assert F(meta={"csrf": False}).meta.get_translations(form) is not TRANSLATIONS
        finally:
            app.config["WTF_I18N_ENABLED"] = True
        assert TRANSLATIONS.ngettext("Field must be at least %(min)d character long.",
                                     "Field must be at least %(min)d characters long.", 3) % {"min": 3} == (
            "ช่องนี้ต้องยาวอย่างน้อย 3 ตัวอักษร")
    import wtforms

    with open(os.path.join(os.path.dirname(wtforms.__file__), "locale", "wtforms.pot"), "rb") as fh:
        pot = [m.id for m in read_po(fh) if m.id]
    with app.test_request_context("/"):
        untranslated = [m for m in pot if (TRANSLATIONS.gettext(m) if isinstance(m, str)
                                           else TRANSLATIONS.ngettext(m[0], m[1], 2)) in (m, m[1] if isinstance(m, tuple) else m)]
    assert not untranslated


def test_an_empty_column_shows_empty_not_none(app, client_for, tenant_a):
    """A division without an English name: the list and the show page print nothing, not "None"."""
    from sqlalchemy import delete, select

    from app.extensions import db
    from app.tenancy.context import tenant_scope
    from app.tenancy.models import Division

    with app.app_context(), tenant_scope(tenant_a.id):
        division = Division(code="no-english", name_th="กองไม่มีชื่ออังกฤษ", name_en=None, active=True)
        db.session.add(division)
        db.session.commit()
        pk = division.id
    try:
        admin = client_for("a.admin")
        for path in ("/divisions/list/", f"/divisions/show/{pk}"):
            html = admin.get(path).get_data(as_text=True)
            assert "กองไม่มีชื่ออังกฤษ" in html, path
            text = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S))
            assert not re.search(r"\bNone\b", text), (path, re.findall(r".{40}\bNone\b.{40}", text, re.S))
        with app.test_request_context("/"):
            from flask import render_template_string

            assert render_template_string("[{{ x }}|{{ y }}|{{ 0 }}]", x=None, y="") == "[||0]"
    finally:
        with app.app_context(), tenant_scope(tenant_a.id):
            db.session.execute(delete(Division).where(Division.code == "no-english"))
            db.session.commit()


def test_fab_security_lists_and_dropdowns_are_in_thai_order(app, client_for):
    """The operator's user list opens in Thai dictionary order of first names, and the roles drop-down of the
    user form lists roles in Thai order (a leading vowel sorts by its consonant: เกศ between กมล and ขวัญ)."""
    from flask_appbuilder.security.sqla.models import Role, User
    from sqlalchemy import delete, select

    from app.extensions import db
    from app.tenancy.context import platform_scope

    names = ["ขวัญ", "เกศ", "กมล"]  # code-point order would be กมล, ขวัญ, เกศ
    with app.app_context(), platform_scope():
        role = db.session.scalar(select(Role).where(Role.name == "platform_operator"))
        for i, name in enumerate(names):
            db.session.add(Role(name=f"{name}ทดสอบเรียง"))
            db.session.add(User(first_name=f"{name}ทดสอบเรียง", last_name="ทดสอบ", username=f"order{i}",
                                email=f"order{i}@example.org", active=True, roles=[role]))
        db.session.commit()
    try:
        ops = client_for("ops")
        html = ops.get("/users/list/?psize_UserDBModelView=100").get_data(as_text=True)
        shown = [n for n in re.findall(r"([\u0e00-\u0e7f]+?)ทดสอบเรียง", html) if n in names]
        assert shown == ["กมล", "เกศ", "ขวัญ"], shown
        html = ops.get("/users/add").get_data(as_text=True)
        options = re.findall(r"<option[^>]*>\s*([\u0e00-\u0e7f]+?)ทดสอบเรียง\s*</option>",
                             re.search(r'<select[^>]*name="roles".*?</select>', html, re.S).group(0))
        assert options == ["กมล", "เกศ", "ขวัญ"], options
    finally:
        with app.app_context(), platform_scope():
            db.session.execute(delete(User).where(User.username.like("order%")))
            db.session.execute(delete(Role).where(Role.name.like("%ทดสอบเรียง")))
            db.session.commit()


def test_thai_ordered_keeps_every_object():
    from app.thai_forms import thai_ordered

    class Item:
        def __init__(self, text):
            self.text = text

        def __str__(self):
            return self.text

    items = [Item("ขวัญ"), Item("เกศ"), Item("กมล"), Item("เกศ")]
    assert [str(i) for i in thai_ordered(items)] == ["กมล", "เกศ", "เกศ", "ขวัญ"]
    assert thai_ordered([]) == []

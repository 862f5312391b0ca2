"""Bad input of every field kind through the portal's food-premises form: a Thai message at the field,
nothing filed, and the documents already sent kept for the next try (not chosen again)."""
import io
import re

import pytest
from sqlalchemy import func, select

from app.catalog.attachments import Attachment
from app.catalog.models import ServiceRequest
from app.extensions import db
from app.tenancy.context import platform_scope
from tests.portal.food import CODE, PDF, food, valid_form  # noqa: F401  (fixture)
from tests.portal.test_portal import A, _consent

THAI = re.compile(r"[\u0e00-\u0e7f]")
ERROR = re.compile(r'class="alert alert-danger"[^>]*>([^<]+)<')
BAD = [  # (field kind, what is typed, a part of the Thai message)
    ("national_id", {"national_id": "1101700203451"}, "เลขประจำตัวประชาชน"),
    ("phone", {"phone": "12345"}, "หมายเลขโทรศัพท์"),
    ("date", {"start_date": "31/02/2569"}, "ไม่มีอยู่จริง"),
    ("date in C.E.", {"start_date": "01/12/2026"}, "พุทธศักราช"),
    ("integer", {"staff_count": "3.5"}, "จำนวนเต็ม"),
    ("integer range", {"staff_count": "501"}, "ไม่เกิน"),
    ("decimal", {"area": "สี่สิบ"}, "ตัวเลข"),
    ("decimal limit", {"area": "250"}, "ต้องยื่นขอใบอนุญาต"),
    ("choice", {"premises_type": "casino"}, "ตัวเลือก"),
    ("multi-choice", {"food_kinds": ["cooked", "weapons"]}, "ตัวเลือก"),
    ("yes/no", {"food_safety_training": "maybe"}, "ใช่ หรือ ไม่ใช่"),
    ("address", {"operator_address-subdistrict": ""}, "ตำบล"),
    ("address postcode", {"operator_address-postcode": "10200"}, "รหัสไปรษณีย์"),
    ("location", {"premises_location": "51.5, -0.12"}, "นอกประเทศไทย"),
    ("location text", {"premises_location": "หน้าวัด"}, "ละติจูด"),
    ("email", {"email": "daeng@"}, "อีเมล"),
    ("file type", {"doc_premises_map": (io.BytesIO(b"MZ\x90\x00not a picture"), "map.png")}, "รับเฉพาะไฟล์"),
    ("file size", {"doc_premises_map": (io.BytesIO(b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024 + 1)), "big.pdf")},
     "10 MB"),
    ("required", {"premises_name": ""}, "จำเป็นต้องกรอก"),
    ("text too long", {"opening_hours": "ก" * 101}, "100"),
    ("text too short", {"operator_name": "ก"}, "อย่างน้อย"),
    ("text pattern", {"juristic_id": "12345"}, "13 หลัก"),
    ("contact e-mail", {"contact_email": "not-mail"}, "not-mail"),
    ("consent", {"consent": ""}, "ประกาศความเป็นส่วนตัว"),
]


def _count(app, model):
    with app.app_context(), platform_scope():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("kind, change, says", BAD, ids=[b[0] for b in BAD])
def test_bad_input_gives_a_thai_error_saves_nothing_and_keeps_the_files(app, food, kind, change, says):
    citizen = app.test_client()
    consent = _consent(app, A)
    before, orphans = _count(app, ServiceRequest), _count(app, Attachment)
    response = citizen.post(f"/t/{A}/services/{CODE}/new", data=valid_form(**{"consent": consent, **change}),
                            content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    # the messages at the fields (the flash above the form says only "please correct")
    errors = " ".join(e for e in ERROR.findall(html) if "กรุณาแก้ไขช่องที่มีข้อผิดพลาด" not in e)
    assert says in errors, errors
    assert THAI.search(errors), errors  # the field's message is Thai
    assert "กรุณาแก้ไข" in html  # "Please correct the highlighted fields."
    assert _count(app, ServiceRequest) == before
    # the good documents are kept (stored, on no request yet) and offered again
    assert "id-card.pdf" in html and "house.pdf" in html
    assert _count(app, Attachment) >= orphans
    # the next try, without choosing the documents again, files the matter with them
    fixed = valid_form(consent)
    fixed.pop("doc_id_card_copy"), fixed.pop("doc_house_registration_copy")
    response = citizen.post(f"/t/{A}/services/{CODE}/new", data=fixed, content_type="multipart/form-data")
    assert response.status_code == 302, ERROR.findall(response.get_data(as_text=True))
    pk = int(re.search(r"/submitted/(\d+)", response.headers["Location"]).group(1))
    with app.app_context(), platform_scope():
        names = set(db.session.scalars(select(Attachment.filename).where(Attachment.request_id == pk)))
    assert {"id-card.pdf", "house.pdf"} <= names

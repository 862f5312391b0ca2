"""The outgoing-letter screens (/saraban/outgoing): a draft with mistakes keeps what was typed and shows Thai
messages under the fields; the chain on screen (submit, approve, return with a note, resubmit, sign, send) with
the number shown only after sending; the PDF and the file as sent; a secret letter hidden from people not
named on it (list, page, count, PDF, file) with its openings recorded; tenant B can reach none of A's letters."""
from __future__ import annotations

import re

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import func, select

from app.saraban.models import Document, DocumentFile, DocumentOpening, ReviewStep
import pytest

from app.tenancy.context import platform_scope
from tests.conftest import ids_in_links, record_count
from tests.saraban.people import saraban  # noqa: F401

BASE = "/saraban/outgoing"


class Db:
    """The test's own database look-ups, outside any request (explicitly across tenants: the test checks)."""

    def __init__(self, session):
        self.session = session

    def __getattr__(self, attr):
        method = getattr(self.session, attr)

        def call(*args, **kwargs):
            with platform_scope():
                return method(*args, **kwargs)

        return call


@pytest.fixture
def db(db_session):
    return Db(db_session)


def name(key: str, tenant: str = "a") -> str:
    return f"{tenant}.{key}" if key in ("admin", "mayor", "officer", "manager") else f"{tenant}.sb.{key}"


def form(data, **over):
    values = {"origin_division_id": str(data.divisions["engineering"]), "kind": "external", "urgency": "normal",
              "secrecy": "normal", "subject": "ขออนุญาตใช้พื้นที่สาธารณะ", "addressee": "นายอำเภอเมืองเชียงใหม่",
              "body": "ด้วยกองช่างมีความประสงค์จะขอใช้พื้นที่", "closing": "จึงเรียนมาเพื่อโปรดพิจารณา"}
    values.update(over)
    return values


def new_letter(client, data, **over) -> int:
    response = client.post(f"{BASE}/new", data=form(data, **over))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(re.search(r"/show/(\d+)", response.headers["Location"]).group(1))


def test_new_letter_with_mistakes_keeps_what_was_typed(client_for, saraban, db):  # noqa: F811
    a = saraban["a"]
    officer = client_for(name("engofficer"))
    page = officer.get(f"{BASE}/new")
    assert page.status_code == 200 and 'name="subject"' in page.get_data(as_text=True)
    before = db.scalar(select(func.count()).select_from(Document))
    response = officer.post(f"{BASE}/new", data=form(a, subject="", addressee="", secrecy="secret",
                                                     body="ข้อความที่พิมพ์ไว้แล้ว", urgency="whenever"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="error-subject"' in html and 'id="error-addressee"' in html and 'id="error-reader_ids"' in html
    assert 'id="error-urgency"' in html
    assert "ข้อความที่พิมพ์ไว้แล้ว" in html and "นายอำเภอ" not in html.split('id="addressee"')[1][:80]
    assert "ระบุเรื่อง" in html  # the Thai message
    assert db.scalar(select(func.count()).select_from(Document)) == before
    # a division the officer is not in
    response = officer.post(f"{BASE}/new", data=form(a, origin_division_id=str(a.divisions["finance"])))
    assert response.status_code == 422 and 'id="error-origin_division_id"' in response.get_data(as_text=True)
    pk = new_letter(officer, a)
    page = officer.get(f"{BASE}/show/{pk}").get_data(as_text=True)
    assert "ขออนุญาตใช้พื้นที่สาธารณะ" in page and 'id="submit-form"' in page
    assert pk in ids_in_links(officer.get(f"{BASE}/list/").get_data(as_text=True), BASE)


def test_chain_on_screen_number_at_sending_and_pdf(client_for, saraban, db):  # noqa: F811
    a = saraban["a"]
    officer, director, palad = (client_for(name(k)) for k in ("engofficer", "engdir", "palad"))
    mayor, clerk = client_for(name("mayor")), client_for(name("clerk"))
    pk = new_letter(officer, a)
    # a signer without authority: refused, naming who may sign
    response = officer.post(f"{BASE}/submit/{pk}", data={"reviewer_1": a.users["engdir"],
                                                          "signer_id": a.users["palad"]})
    assert response.status_code == 422 and 'id="error-signer_id"' in response.get_data(as_text=True)
    for bad in ("99999999999", "x", str(saraban["b"].users["mayor"])):  # never a 500, never B's person
        response = officer.post(f"{BASE}/submit/{pk}", data={"reviewer_1": bad, "signer_id": a.users["mayor"]})
        assert response.status_code == 422 and 'id="error-reviewer_ids"' in response.get_data(as_text=True)
    response = officer.post(f"{BASE}/new", data=form(a, origin_division_id="99999999999",
                                                     reader_ids=["99999999999"], secrecy="secret"))
    assert response.status_code == 422
    response = officer.post(f"{BASE}/submit/{pk}", data={"reviewer_1": a.users["engdir"],
                                                          "reviewer_2": a.users["palad"],
                                                          "signer_id": a.users["mayor"]})
    assert response.status_code == 302
    assert 'id="decide-form"' not in palad.get(f"{BASE}/show/{pk}").get_data(as_text=True)  # not yet its turn
    assert 'id="decide-form"' in director.get(f"{BASE}/show/{pk}").get_data(as_text=True)
    assert director.post(f"{BASE}/decide/{pk}", data={"decision": "approve"}).status_code == 302
    response = palad.post(f"{BASE}/decide/{pk}", data={"decision": "return", "note": ""})
    assert response.status_code == 422 and 'id="error-note"' in response.get_data(as_text=True)
    assert palad.post(f"{BASE}/decide/{pk}", data={"decision": "return", "note": "แก้ชื่อผู้รับ"}).status_code == 302
    page = officer.get(f"{BASE}/show/{pk}").get_data(as_text=True)
    assert "แก้ชื่อผู้รับ" in page and 'id="review-timeline"' in page
    assert officer.post(f"{BASE}/edit/{pk}", data=form(a, addressee="นายอำเภอเมือง")).status_code == 302
    officer.post(f"{BASE}/submit/{pk}", data={"reviewer_1": a.users["engdir"], "reviewer_2": a.users["palad"],
                                              "signer_id": a.users["mayor"]})
    director.post(f"{BASE}/decide/{pk}", data={"decision": "approve"})
    palad.post(f"{BASE}/decide/{pk}", data={"decision": "approve", "note": "เห็นควรลงนาม"})
    assert mayor.post(f"{BASE}/sign/{pk}").status_code == 302
    letter = db.get(Document, pk)
    assert letter.status == "signed" and letter.book_no is None
    assert officer.post(f"{BASE}/edit/{pk}", data=form(a, subject="แก้หลังลงนาม")).status_code == 422
    assert clerk.post(f"{BASE}/send/{pk}").status_code == 302
    db.expire_all()
    letter = db.get(Document, pk)
    assert letter.status == "sent" and letter.book_no.startswith("ชม 99901/")
    page = officer.get(f"{BASE}/show/{pk}").get_data(as_text=True)
    assert letter.book_no in page
    assert letter.book_no in officer.get(f"{BASE}/list/").get_data(as_text=True)
    pdf = officer.get(f"{BASE}/pdf/{pk}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    sent = db.scalar(select(DocumentFile).where(DocumentFile.document_id == pk))
    got = officer.get(f"{BASE}/file/{pk}/{sent.id}")
    assert got.status_code == 200 and got.data[:4] == b"%PDF"
    assert clerk.post(f"{BASE}/cancel/{pk}", data={"reason": "ผิด"}).status_code == 422  # a sent letter stays


def test_secret_letter_hidden_from_people_not_named(client_for, saraban, db):  # noqa: F811
    a = saraban["a"]
    officer = client_for(name("engofficer"))
    pk = new_letter(officer, a, secrecy="secret", subject="เรื่องลับสอบข้อเท็จจริง",
                    reader_ids=[str(a.users["clerk"])])
    officer.post(f"{BASE}/submit/{pk}", data={"signer_id": a.users["mayor"]})
    mayor = client_for(name("mayor"))
    mayor.post(f"{BASE}/sign/{pk}")
    clerk = client_for(name("clerk"))
    assert clerk.post(f"{BASE}/send/{pk}").status_code == 302
    file_id = db.scalar(select(DocumentFile.id).where(DocumentFile.document_id == pk))
    opened = db.scalar(select(func.count()).select_from(DocumentOpening).where(
        DocumentOpening.document_id == pk))
    assert clerk.get(f"{BASE}/show/{pk}").status_code == 200
    assert clerk.get(f"{BASE}/pdf/{pk}").status_code == 200
    assert db.scalar(select(func.count()).select_from(DocumentOpening).where(
        DocumentOpening.document_id == pk)) == opened + 2
    for key in ("admin", "palad", "engdir"):
        other = client_for(name(key))
        listing = other.get(f"{BASE}/list/").get_data(as_text=True)
        assert pk not in ids_in_links(listing, BASE) and "เรื่องลับสอบข้อเท็จจริง" not in listing, key
        counted = record_count(other.get(f"{BASE}/list/?_flt_0_subject=เรื่องลับสอบ").get_data(as_text=True)) \
            if "จำนวนรายการ" in other.get(f"{BASE}/list/?_flt_0_subject=เรื่องลับสอบ").get_data(as_text=True) else 0
        assert counted == 0, key
        for url in (f"/show/{pk}", f"/pdf/{pk}", f"/file/{pk}/{file_id}"):
            assert other.get(BASE + url).status_code == 404, (key, url)
        # without the permission FAB answers 403 before the letter is looked up: its existence does not show
        assert other.get(f"{BASE}/edit/{pk}").status_code in (403, 404)
        assert other.post(f"{BASE}/cancel/{pk}", data={"reason": "x"}).status_code in (403, 404)


MAY_POST = {"admin": {"edit", "submit", "send", "cancel"}, "clerk": {"edit", "submit", "send", "cancel"},
            "engofficer": {"edit", "submit", "send", "cancel"}, "mayor": {"decide", "sign"}}


def test_tenant_b_reaches_none_of_a_letters(client_for, saraban, db):  # noqa: F811
    a, b = saraban["a"], saraban["b"]
    officer = client_for(name("engofficer"))
    pk = new_letter(officer, a, subject="หนังสือของเทศบาลเอเท่านั้น")
    officer.post(f"{BASE}/submit/{pk}", data={"signer_id": a.users["mayor"]})
    client_for(name("mayor")).post(f"{BASE}/sign/{pk}")
    client_for(name("clerk")).post(f"{BASE}/send/{pk}")
    file_id = db.scalar(select(DocumentFile.id).where(DocumentFile.document_id == pk))
    draft = new_letter(officer, a, subject="ร่างของเทศบาลเอ")
    before = {(d.id, d.status, d.subject, d.updated_at) for d in db.scalars(
        select(Document).where(Document.id.in_([pk, draft])))}
    steps = db.scalar(select(func.count()).select_from(ReviewStep))
    for key in ("admin", "clerk", "engofficer", "mayor"):
        other = client_for(name(key, "b"))
        listing = other.get(f"{BASE}/list/").get_data(as_text=True)
        assert not {pk, draft} & ids_in_links(listing, BASE) and "เทศบาลเอ" not in listing
        for target in (pk, draft):
            for url in (f"/show/{target}", f"/pdf/{target}", f"/file/{pk}/{file_id}"):
                assert other.get(BASE + url).status_code == 404, (key, url)
            assert other.get(f"{BASE}/edit/{target}").status_code == (404 if "edit" in MAY_POST[key] else 403)
            for url, data in ((f"/edit/{target}", form(b, subject="เปลี่ยน")),
                              (f"/submit/{target}", {"signer_id": b.users["mayor"]}),
                              (f"/decide/{target}", {"decision": "approve"}), (f"/sign/{target}", {}),
                              (f"/send/{target}", {}), (f"/cancel/{target}", {"reason": "ลบ"})):
                # 404 for a step the role may take (the letter is not found); 403 for one it may not
                expected = 404 if url.split("/")[1] in MAY_POST[key] else 403
                assert other.post(BASE + url, data=data).status_code == expected, (key, url)
        assert other.get(f"{BASE}/new?reply_to={pk}").status_code == (404 if "edit" in MAY_POST[key] else 403)
    db.expire_all()
    assert {(d.id, d.status, d.subject, d.updated_at) for d in db.scalars(
        select(Document).where(Document.id.in_([pk, draft])))} == before
    assert db.scalar(select(func.count()).select_from(ReviewStep)) == steps
    # a matter of tenant B cannot be the start of A's letter
    from app.catalog.models import ServiceRequest

    b_request = db.scalar(select(ServiceRequest.id).where(ServiceRequest.tenant_id == b.tenant_id))
    if b_request is not None:
        assert officer.get(f"{BASE}/new?request_id={b_request}").status_code == 404
    assert officer.get(f"{BASE}/new?request_id=abc").status_code == 404
    assert db.get(User, a.users["engofficer"]) is not None

"""Issue #8's "Done when", end to end through the screens: the central registry's clerk registers an incoming
letter with its scan (ด่วนมาก, the subject unspaced Thai) and presents it to the mayor; the mayor endorses it from
the phone inbox and routes it to กองช่าง; the engineering officer acknowledges it and answers with an outgoing
letter, reviewed by the engineering director and signed by the mayor; the registry sends it (the number taken at
sending); the letter's PDF carries the number, the subject and the signer's name; the Thai search finds a word
inside the unspaced subject, both letters; the register books list both."""
from __future__ import annotations

import io
import re

import pypdfium2
from sqlalchemy import select

from app import thai
from app.extensions import db
from app.saraban.models import Document, Endorsement, Register, ReviewStep, Routing
from app.tenancy.context import tenant_scope
from tests.conftest import login
from tests.saraban.people import BOOK_CODES, saraban  # noqa: F401

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SUBJECT = "ขออนุมัติซ่อมแซมถนนคอนกรีตเสริมเหล็กสายบ้านป่าตาลหมู่ที่สาม"
WORD = "คอนกรีต"  # inside the unspaced subject, no space either side
PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/17.5 Mobile/15E148 Safari/604.1")


def _one(app, tenant_id, model, **where):
    with app.app_context(), tenant_scope(tenant_id):
        rows = db.session.scalars(select(model).filter_by(**where).order_by(model.id)).all()
        out = [{c.key: getattr(r, c.key) for c in model.__table__.columns} for r in rows]
        db.session.remove()
    assert len(out) == 1, out
    return out[0]


def _id_from(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return int(re.search(r"/show/(\d+)", response.headers["Location"]).group(1))


def _ok(response):
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return response


def test_a_letter_from_registration_to_a_signed_numbered_answer_found_by_search(app, saraban):  # noqa: F811
    a = saraban["a"]
    clerk, mayor = login(app.test_client(), "a.sb.clerk"), login(app.test_client(), "a.mayor")
    engineer, director = login(app.test_client(), "a.sb.engofficer"), login(app.test_client(), "a.sb.engdir")

    # 1. the central registry registers the letter with its scan, at once numbered
    response = clerk.post("/saraban/incoming/new", content_type="multipart/form-data", data={
        "register_id": str(a.incoming_register_id), "kind": "external", "urgency": "very_urgent",
        "secrecy": "normal", "subject": SUBJECT, "sender": "อำเภอเมืองเชียงใหม่", "addressee": "นายกเทศมนตรี",
        "their_ref": "ชม 0318/4321", "their_date": thai.format_date_input(thai.today_bangkok()),
        "retention_years": "10", "files": (io.BytesIO(PDF), "scan.pdf")})
    letter_id = _id_from(response)
    letter = _one(app, a.tenant_id, Document, id=letter_id)
    assert letter["register_no"] and letter["urgency"] == "very_urgent"
    page = clerk.get(f"/saraban/incoming/show/{letter_id}").get_data(as_text=True)
    assert SUBJECT in page and "ด่วนมาก" in page and "scan.pdf" in page

    # 2. presented to the mayor
    _ok(clerk.post(f"/saraban/incoming/present/{letter_id}",
                   data={"executive_ids": str(a.users["mayor"]), "note": "เสนอเพื่อโปรดพิจารณา"}))
    asked = _one(app, a.tenant_id, Endorsement, document_id=letter_id)

    # 3. the mayor endorses it on the phone, routing it to กองช่าง
    inbox = mayor.get("/saraban/inbox/", headers={"User-Agent": PHONE})
    html = inbox.get_data(as_text=True)
    assert inbox.status_code == 200
    assert '<meta name="viewport" content="width=device-width' in html
    assert f'action="/saraban/incoming/endorse/{asked["id"]}"' in html and 'id="endorse-' in html
    assert SUBJECT in html and 'name="order_text"' in html and 'name="division_ids"' in html
    response = _ok(mayor.post(f"/saraban/incoming/endorse/{asked['id']}", headers={"User-Agent": PHONE}, data={
        "comment": "เห็นควรดำเนินการโดยด่วน", "order_text": "มอบกองช่างดำเนินการ แล้วรายงาน",
        "division_ids": str(a.divisions["engineering"]), "instruction": "ตรวจสอบและตอบอำเภอ",
        "next": "/saraban/inbox/"}))
    assert response.headers["Location"].endswith("/saraban/inbox/")
    assert _one(app, a.tenant_id, Endorsement, document_id=letter_id)["endorsed_at"] is not None
    routing = _one(app, a.tenant_id, Routing, document_id=letter_id)
    assert routing["division_id"] == a.divisions["engineering"]

    # 4. กองช่าง acknowledges and answers with an outgoing letter
    assert f'id="inbox-routing-{routing["id"]}"' in engineer.get("/saraban/inbox/").get_data(as_text=True)
    _ok(engineer.post(f"/saraban/incoming/acknowledge/{routing['id']}", data={"note": "รับทราบ"}))
    assert _one(app, a.tenant_id, Routing, document_id=letter_id)["acknowledged_at"] is not None
    form = engineer.get(f"/saraban/outgoing/new?reply_to={letter_id}").get_data(as_text=True)
    assert SUBJECT in form and "ชม 0318/4321" in form  # the subject and the reference copied from the letter
    response = engineer.post("/saraban/outgoing/new", data={
        "reply_to": str(letter_id), "origin_division_id": str(a.divisions["engineering"]), "kind": "external",
        "urgency": "very_urgent", "secrecy": "normal", "subject": SUBJECT, "addressee": "นายอำเภอเมืองเชียงใหม่",
        "reference": "หนังสืออำเภอเมืองเชียงใหม่ ที่ ชม 0318/4321",
        "body": "เทศบาลได้ตรวจสอบถนนสายดังกล่าวแล้ว และจะดำเนินการซ่อมแซมภายในเดือนนี้",
        "closing": "จึงเรียนมาเพื่อโปรดทราบ"})
    answer_id = _id_from(response)
    answer = _one(app, a.tenant_id, Document, id=answer_id)
    assert answer["reply_to_id"] == letter_id and answer["book_no"] is None and answer["status"] == "draft"

    # 5. submitted: the director reviews, the mayor signs
    _ok(engineer.post(f"/saraban/outgoing/submit/{answer_id}",
                      data={"reviewer_1": str(a.users["engdir"]), "signer_id": str(a.users["mayor"])}))
    assert f"/saraban/outgoing/show/{answer_id}" in director.get("/saraban/inbox/").get_data(as_text=True)
    _ok(director.post(f"/saraban/outgoing/decide/{answer_id}", data={"decision": "approve", "note": "ถูกต้อง"}))
    assert f"/saraban/outgoing/show/{answer_id}" in mayor.get(
        "/saraban/inbox/", headers={"User-Agent": PHONE}).get_data(as_text=True)
    _ok(mayor.post(f"/saraban/outgoing/sign/{answer_id}"))
    steps = {(s["kind"], s["user_id"]): s["status"] for s in _many(app, a.tenant_id, ReviewStep, answer_id)}
    assert steps == {("review", a.users["engdir"]): "approved", ("sign", a.users["mayor"]): "approved"}
    assert _one(app, a.tenant_id, Document, id=answer_id)["book_no"] is None  # signed, not numbered yet

    # 6. sent by the กอง keeping the register it goes into: numbered now
    register = _one(app, a.tenant_id, Register, id=answer["register_id"])
    sender = engineer if register["division_id"] == a.divisions["engineering"] else clerk
    _ok(sender.post(f"/saraban/outgoing/send/{answer_id}"))
    sent = _one(app, a.tenant_id, Document, id=answer_id)
    code = register["book_code"] or BOOK_CODES["1000001"]  # the register's own code, else the organisation's
    assert sent["status"] == "sent" and sent["book_no"] == f"{code}/{sent['register_no']}"
    page = engineer.get(f"/saraban/outgoing/show/{answer_id}").get_data(as_text=True)
    assert sent["book_no"] in page

    pdf = engineer.get(f"/saraban/outgoing/pdf/{answer_id}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(p.get_textpage().get_text_range() for p in pypdfium2.PdfDocument(pdf.data))
    flat = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", sent["book_no"]) in flat
    assert re.sub(r"\s+", "", SUBJECT) in flat
    assert "นายกเอ" in flat  # the signer's name under the signature

    # 7. the search finds both by a word inside the unspaced subject
    found = clerk.get(f"/saraban/search/?q={WORD}").get_data(as_text=True)
    assert f"/saraban/incoming/show/{letter_id}" in found and f"/saraban/outgoing/show/{answer_id}" in found

    # 8. the register books list both
    book_in = clerk.get(f"/saraban/books/?register={letter['register_id']}&year={letter['register_year']}")
    assert book_in.status_code == 200
    row = _book_row(book_in, letter["register_no"])
    assert SUBJECT in row and "ชม 0318/4321" in row and "อำเภอเมืองเชียงใหม่" in row
    book_out = sender.get(f"/saraban/books/?register={sent['register_id']}&year={sent['register_year']}")
    assert book_out.status_code == 200
    row = _book_row(book_out, sent["register_no"])
    assert SUBJECT in row and "นายอำเภอเมืองเชียงใหม่" in row


def _book_row(response, number) -> str:
    """The register book's row of that number (the page lists each number once)."""
    [row] = re.findall(rf'<tr class="book-row" data-number="{number}">.*?</tr>', response.get_data(as_text=True),
                       re.S)
    return row


def _many(app, tenant_id, model, document_id):
    with app.app_context(), tenant_scope(tenant_id):
        rows = db.session.scalars(select(model).filter_by(document_id=document_id)).all()
        out = [{c.key: getattr(r, c.key) for c in model.__table__.columns} for r in rows]
        db.session.remove()
    return out

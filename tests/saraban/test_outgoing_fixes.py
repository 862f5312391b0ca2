"""Outgoing letters after the browser walk: the PDF's layout (every paragraph indented, hanging indents, the
address and telephone of the organisation), the steps a return closes, the page after signing, the pickers
of reviewers and signers, and a letter written about a matter."""
from __future__ import annotations

import os
from contextlib import contextmanager

from sqlalchemy import select

from app.extensions import db
from app.saraban import letter_pdf, outgoing
from app.tenancy.context import tenant_scope
from app.tenancy.models import Tenant
from tests.saraban.people import saraban  # noqa: F401
from tests.saraban.test_outgoing import as_tenant, pdf_text, signed_letter, user, values

LONG_REFERENCE = ("หนังสือจังหวัดเชียงใหม่ ที่ ชม 0017.3/ว 1234 ลงวันที่ 1 ธันวาคม 2569 เรื่อง การสำรวจถนนและทางระบายน้ำ"
                  "ในเขตเทศบาลเพื่อจัดทำแผนพัฒนาท้องถิ่น")
BODY = ("ด้วยเทศบาลมีความประสงค์จะซ่อมแซมถนนสายบ้านดอนแก้ว ซึ่งชำรุดเสียหายจากฝนตกหนักในช่วงที่ผ่านมา "
        "จึงขอความอนุเคราะห์ข้อมูลแนวเขตทางหลวงชนบทที่เกี่ยวข้อง\n\n"
        "ในการนี้ เทศบาลได้มอบหมายให้กองช่างเป็นผู้ประสานงาน และจะจัดส่งแบบแปลนให้ภายในสิบห้าวัน\n"
        "นับแต่วันที่ได้รับข้อมูล")


def _png(data: bytes, name: str) -> None:
    """Pictures of the first page for a person to look at (SARABAN_PNG=/some/dir)."""
    where = os.environ.get("SARABAN_PNG")
    if not where:
        return
    import pypdfium2 as pdfium

    page = pdfium.PdfDocument(data)[0]
    page.render(scale=1.6).to_pil().save(os.path.join(where, name))


def test_letter_pdf_layout(app, saraban):  # noqa: F811
    a = saraban["a"]
    with as_tenant(app, a):
        tenant = db.session.get(Tenant, a.tenant_id)
        tenant.address_th, tenant.phone = "เลขที่ 5 ถนนทดสอบ ตำบลทดสอบ อำเภอเมือง จังหวัดเชียงใหม่ 50100", "0 5312 3456"
        letter = signed_letter(a, reference=LONG_REFERENCE, enclosures="แผนที่แนวถนนสายบ้านดอนแก้ว จำนวน 1 ชุด "
                               "และภาพถ่ายความเสียหายของผิวจราจร จำนวน 12 ภาพ พร้อมรายละเอียดประกอบ", body=BODY,
                               subject="ขอความอนุเคราะห์ข้อมูลแนวเขตทางหลวงชนบทเพื่อประกอบการซ่อมแซมถนนสายบ้านดอนแก้ว"
                                       "ที่ชำรุดจากอุทกภัย")
        data = letter_pdf.render(letter)
        _png(data, "external.png")
        html = letter_pdf.html(letter)
        # every paragraph (a blank line starts one) is indented; a single break stays inside its paragraph
        assert html.count('<p class="text paragraph">') == 2
        assert "ในการนี้ เทศบาล" in html.split('<p class="text paragraph">')[2]
        assert "สิบห้าวัน\nนับแต่" in html
        # the lines after the first of เรื่อง / อ้างถึง / สิ่งที่ส่งมาด้วย hang under their text
        for name in ("subject", "reference", "enclosures"):
            assert f'hang" id="{name}"' in html or f'hang wide" id="{name}"' in html
        text = pdf_text(data)
        assert "เลขที่ 5 ถนนทดสอบ" in text and "โทร. 0 5312 3456" in text
        memo = outgoing.create_draft(values(a, kind="internal", body=BODY,
                                            recipient_division_ids=[a.divisions["finance"]]), user(a, "engofficer"))
        data = letter_pdf.render(memo)
        _png(data, "memo.png")
        assert "โทร. 0 5312 3456" in pdf_text(data)
        assert letter_pdf.html(memo).count('<p class="text paragraph">') == 2
        tenant.phone = None
        assert "โทร." not in pdf_text(letter_pdf.render(letter))


def test_paragraphs_split_on_blank_lines():
    assert letter_pdf.paragraphs("หนึ่ง\r\nต่อ\r\n \r\n\r\nสอง\n\n") == ["หนึ่ง\nต่อ", "สอง"]
    assert letter_pdf.paragraphs(None) == []


def _commit_letter(app, a, build) -> int:
    with as_tenant(app, a):
        letter = build()
        db.session.commit()
        return letter.id


def _names(a, key):
    from tests.saraban.test_outgoing_screens import name

    return name(key)


def test_a_return_closes_the_rounds_remaining_steps(app, saraban, client_for):  # noqa: F811
    from app.saraban.models import SUPERSEDED

    a = saraban["a"]
    with as_tenant(app, a):
        author, director, palad, mayor = (user(a, k) for k in ("engofficer", "engdir", "palad", "mayor"))
        letter = outgoing.create_draft(values(a, subject="หนังสือที่ถูกส่งคืน"), author)
        outgoing.submit(letter, [director.id, palad.id], mayor.id, author)
        outgoing.decide(letter, director, False, "แก้ชื่อเรื่อง")
        assert [(s.seq, s.status) for s in outgoing.steps(letter)] == [
            (1, "returned"), (2, SUPERSEDED), (3, SUPERSEDED)]
        assert outgoing.pending_steps(palad) == [] and outgoing.pending_steps(mayor) == []
        db.session.commit()
        pk = letter.id
        # the next round starts fresh; a return by the signer closes nothing already decided
        outgoing.submit(letter, [director.id], mayor.id, author)
        outgoing.decide(letter, director, True, None)
        outgoing.decide(letter, mayor, False, "ขอปรับถ้อยคำ")
        assert [(s.round, s.seq, s.status) for s in outgoing.steps(letter)][3:] == [
            (2, 1, "approved"), (2, 2, "returned")]
        db.session.rollback()
    client = client_for(_names(a, "engofficer"))
    html = client.get(f"/saraban/outgoing/show/{pk}").get_data(as_text=True)
    timeline = html.split('id="review-timeline"')[1].split("</ul>")[0]
    assert timeline.count("ยกเลิกเมื่อส่งคืน") == 2 and "ยังไม่ถึงลำดับ" not in timeline
    client.get("/lang/en")  # kept on the user: back to Thai for the other tests
    try:
        html = client.get(f"/saraban/outgoing/show/{pk}").get_data(as_text=True)
        assert html.split('id="review-timeline"')[1].split("</ul>")[0].count("Closed by the return") == 2
    finally:
        client.get("/lang/th")


def _office_name(a) -> str:
    from app.tenancy.models import Division

    return db.session.get(Division, a.divisions["office"]).name_th


def test_after_signing_the_page_shows_the_state_and_who_sends(app, saraban, client_for):  # noqa: F811
    a = saraban["a"]

    def build():
        author = user(a, "engofficer")
        letter = outgoing.create_draft(values(a, subject="หนังสือรอลงนามบนหน้าจอ"), author)
        outgoing.submit(letter, [], a.users["mayor"], author)
        return letter

    pk = _commit_letter(app, a, build)
    with as_tenant(app, a):
        office = _office_name(a)
    mayor = client_for(_names(a, "mayor"))
    response = mayor.post(f"/saraban/outgoing/sign/{pk}", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    heading = html.split('class="panel-title"')[1].split("</h4>")[0]
    assert "ลงนามแล้ว รอส่ง" in heading and "ร่าง" not in heading
    assert f"{office}ส่งหนังสือได้" in html and "งานสารบรรณส่งหนังสือได้" not in html
    assert office in html.split('id="who-sends"')[1][:300]
    # the list's number column says the same
    listing = mayor.get("/saraban/outgoing/list/?_flt_0_subject=หนังสือรอลงนามบนหน้าจอ").get_data(as_text=True)
    assert "ลงนามแล้ว รอส่ง" in listing


def _options(html: str, select_id: str) -> dict[str, str]:
    import re

    block = html.split(f'id="{select_id}"')[1].split("</select>")[0]
    return {v: t for v, t in re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', block)}


def test_pickers_show_positions_and_only_signers_who_may(app, saraban, client_for):  # noqa: F811
    from datetime import timedelta

    from app import thai
    from app.saraban import people
    from app.service_requests.models import Delegation

    a = saraban["a"]
    pk = _commit_letter(app, a, lambda: outgoing.create_draft(values(a, subject="หนังสือเลือกผู้ลงนาม"),
                                                             user(a, "engofficer")))
    memo = _commit_letter(app, a, lambda: outgoing.create_draft(
        values(a, kind="internal", subject="บันทึกเลือกผู้ลงนาม", recipient_division_ids=[a.divisions["finance"]]),
        user(a, "engofficer")))
    client = client_for(_names(a, "engofficer"))
    html = client.get(f"/saraban/outgoing/show/{pk}").get_data(as_text=True)
    reviewers, signers = _options(html, "reviewer_1"), _options(html, "signer_id")
    with as_tenant(app, a):
        tenant = db.session.get(Tenant, a.tenant_id)
        director_title = people.title_th(user(a, "engdir"), tenant)
        mayor_title = people.title_th(user(a, "mayor"), tenant)
    assert reviewers[str(a.users["engdir"])].endswith(f"— {director_title}")
    # an external letter: only the นายก signs it
    assert set(signers) == {str(a.users["mayor"])} and signers[str(a.users["mayor"])].endswith(mayor_title)
    # a memo: the กองช่าง director, the ปลัด and the นายก, not an officer nor another กอง's director
    signers = _options(client.get(f"/saraban/outgoing/show/{memo}").get_data(as_text=True), "signer_id")
    assert {str(a.users[k]) for k in ("engdir", "palad", "mayor")} <= set(signers)
    assert str(a.users["engofficer"]) not in signers and str(a.users["clerk"]) not in signers
    # while the นายก's role is delegated to the ปลัด, the ปลัด may sign the external letter too
    with as_tenant(app, a):
        today = thai.today_bangkok()
        db.session.add(Delegation(delegator_id=a.users["mayor"], delegate_id=a.users["palad"], role_code="mayor",
                                  kind="on_behalf", start_on=today - timedelta(days=1),
                                  end_on=today + timedelta(days=1)))
        db.session.commit()
    try:
        signers = _options(client.get(f"/saraban/outgoing/show/{pk}").get_data(as_text=True), "signer_id")
        assert set(signers) == {str(a.users["mayor"]), str(a.users["palad"])}
        assert "ปฏิบัติราชการแทน" in signers[str(a.users["palad"])]
    finally:
        with as_tenant(app, a):
            db.session.execute(Delegation.__table__.delete().where(Delegation.delegate_id == a.users["palad"]))
            db.session.commit()
    # the server still refuses a signer without authority (a forged form)
    response = client.post(f"/saraban/outgoing/submit/{pk}", data={"signer_id": str(a.users["palad"])})
    assert response.status_code == 422 and 'id="error-signer_id"' in response.get_data(as_text=True)


@contextmanager
def scoped(app, a):
    """Tenant A's session outside any request."""
    with app.app_context(), tenant_scope(a.tenant_id):
        try:
            yield
        finally:
            db.session.remove()


def _matter(app, a, requester="มานี มีนา") -> int:
    from app.catalog import services
    from app.catalog.models import ServiceType

    with scoped(app, a):
        water = db.session.scalar(select(ServiceType).where(ServiceType.code == "water_truck"))
        matter = services.file_request(water, {"requester": requester, "litres": 2000}, a.users["clerk"])
        db.session.commit()
        return matter.id


def test_a_letter_about_a_matter_starts_with_its_title_and_a_banner(app, saraban, client_for):  # noqa: F811
    from app.catalog.models import ServiceRequest

    a = saraban["a"]
    matter_id = _matter(app, a)
    with scoped(app, a):
        title = db.session.get(ServiceRequest, matter_id).title
    assert title
    client = client_for(_names(a, "clerk"))
    html = client.get(f"/saraban/outgoing/new?request_id={matter_id}").get_data(as_text=True)
    banner = html.split('id="about-matter"')[1].split("</p>")[0]
    assert f"#{matter_id}" in banner and title in banner and f"/service-requests/show/{matter_id}" in banner
    assert f'value="{title}"' in html.split('id="subject"')[1][:600]
    # after a mistake the banner stays
    response = client.post("/saraban/outgoing/new", data={"request_id": str(matter_id), "subject": ""})
    assert response.status_code == 422 and 'id="about-matter"' in response.get_data(as_text=True)
    # another organisation's matter is not found
    assert client_for("b.sb.clerk").get(f"/saraban/outgoing/new?request_id={matter_id}").status_code == 404


def test_opening_a_matter_from_a_letter_brings_its_answers(app, saraban):  # noqa: F811
    from app.catalog.models import ServiceRequest
    from app.saraban import links
    from tests.saraban.documents import make

    a = saraban["a"]
    matter_id = _matter(app, a, "สมศรี ตอบกลับ")
    with as_tenant(app, a):
        incoming = make(a.incoming_register_id, "ขอรถน้ำช่วยภัยแล้ง", sender="อำเภอเมืองเชียงใหม่")
        other = make(a.incoming_register_id, "หนังสืออื่น", sender="อำเภอเมืองเชียงใหม่")
        body = {k: v for k, v in values(a, origin_division_id=a.divisions["office"]).items()
                if k not in ("addressee", "subject")}
        answer = outgoing.create_draft(body, user(a, "clerk"), reply_to=incoming)
        unrelated = outgoing.create_draft(body, user(a, "clerk"), reply_to=other)
        assert answer.request_id is None
        links.link(incoming, db.session.get(ServiceRequest, matter_id))
        assert answer.request_id == matter_id and unrelated.request_id is None
        assert answer.id in {d.id for d in links.documents_of_request(matter_id, user(a, "clerk"))}
        # a reply drafted after the matter exists copies it from the letter it answers
        later = outgoing.create_draft(body, user(a, "clerk"), reply_to=incoming)
        assert later.request_id == matter_id
        db.session.rollback()

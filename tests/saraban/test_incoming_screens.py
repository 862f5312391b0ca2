"""Incoming letters on screen: registering with mistakes (Thai messages under the fields, nothing saved, what
was typed and the chosen scan kept), numbers in order, presenting, endorsing from the phone inbox (also by a
delegate: ปฏิบัติราชการแทน), routing to two กอง, each acknowledging, finishing; a secret letter seen only by
those named (list, page, count, file) with every opening recorded; tenant B never reaches A's letters."""
from __future__ import annotations

import io
import re

import pytest
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app import thai
from app.extensions import db
from app.saraban.models import (DONE, Document, DocumentFile, DocumentOpening, Endorsement, Routing)
from app.service_requests.models import Delegation
from app.tenancy.context import tenant_scope
from tests.conftest import PASSWORD, login, record_count
from tests.saraban.people import saraban  # noqa: F401

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BASE = "/saraban/incoming"


@pytest.fixture(scope="module")
def clerk2(app, saraban):  # noqa: F811
    """A second officer of สำนักปลัด (the central register's own กอง), named on nothing; made in both tenants
    so that they stay look-alikes."""
    from app.security import services as grants
    from app.security.models import RoleTemplate
    from app.tenancy.models import Division

    for prefix in ("a", "b"):
        people = saraban[prefix]
        with app.app_context(), tenant_scope(people.tenant_id):
            username = f"{prefix}.sbin.clerk2"
            if db.session.scalar(select(User).where(User.username == username)) is None:
                found = User(username=username, first_name="สมศรี", last_name="ลงรับ", email=f"clerk2@{prefix}.test",
                             active=True, tenant_id=people.tenant_id,
                             password=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"))
                db.session.add(found)
                db.session.flush()
                grants.grant(None, found, db.session.get(Division, people.divisions["office"]),
                             db.session.scalar(select(RoleTemplate).where(RoleTemplate.code == "officer")))
                db.session.commit()
            db.session.remove()
    return "a.sbin.clerk2"


SB = ("clerk", "palad", "engdir", "engofficer")  # tests/saraban/people.py names them a.sb.clerk, ...


def client(app, username):
    prefix, _dot, rest = username.partition(".")
    return login(app.test_client(), f"{prefix}.sb.{rest}" if rest in SB else username)


def form(people, **extra):
    data = {"register_id": str(people.incoming_register_id), "kind": "external", "urgency": "normal",
            "secrecy": "normal", "subject": "ขอความอนุเคราะห์ใช้สถานที่จัดงานวันเด็ก", "sender": "โรงเรียนบ้านทดสอบ",
            "addressee": "นายกเทศมนตรี", "their_ref": "ศธ 04001/77",
            "their_date": thai.format_date_input(thai.today_bangkok()), "retention_years": "10"}
    data.update(extra)
    return data


def with_scan(data, name="scan.pdf", content=PDF):
    return {**data, "files": (io.BytesIO(content), name)}


def register(browser, people, **extra) -> int:
    response = browser.post(f"{BASE}/new", data=with_scan(form(people, **extra)), content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return int(re.search(r"/show/(\d+)", response.headers["Location"]).group(1))


def doc(app, people, pk):
    with app.app_context(), tenant_scope(people.tenant_id):
        found = db.session.get(Document, pk)
        db.session.expunge_all()
        db.session.remove()
        return found


def rows(app, people, model, **where):
    with app.app_context(), tenant_scope(people.tenant_id):
        stmt = select(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        found = db.session.scalars(stmt).all()
        db.session.expunge_all()
        db.session.remove()
        return found


def test_a_registration_with_mistakes_keeps_everything_and_saves_nothing(app, saraban):
    a = saraban["a"]
    clerk = client(app, "a.clerk")
    before = len(rows(app, a, Document))
    bad = form(a, subject="", sender="สำนักงานจังหวัดทดสอบ", their_date="01/01/2599", retention_years="0",
               urgent_by_date="01/01/2500")
    response = clerk.post(f"{BASE}/new", data=with_scan(bad), content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "กรุณาระบุเรื่องของหนังสือ" in html and 'id="error-their_date"' in html
    assert 'id="error-retention_years"' in html and 'id="error-urgent_by"' in html
    assert 'value="สำนักงานจังหวัดทดสอบ"' in html  # typed values kept
    token = re.search(r'name="kept_file" value="([0-9a-f]{32})"', html).group(1)  # the chosen scan kept
    assert "scan.pdf" in html
    assert len(rows(app, a, Document)) == before
    # a file that is not a PDF: its own message, the others too
    response = clerk.post(f"{BASE}/new", data=with_scan(form(a, sender=""), "notes.txt", b"hello"),
                          content_type="multipart/form-data")
    assert response.status_code == 422 and 'id="error-files"' in response.get_data(as_text=True)
    assert 'id="error-sender"' in response.get_data(as_text=True)
    # corrected, with the kept scan and no new upload
    fixed = form(a, subject="ขอเชิญร่วมงานวันเด็กแห่งชาติ", sender="สำนักงานจังหวัดทดสอบ", kept_file=token)
    response = clerk.post(f"{BASE}/new", data=fixed, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    pk = int(re.search(r"/show/(\d+)", response.headers["Location"]).group(1))
    assert [f.filename for f in rows(app, a, DocumentFile, document_id=pk)] == ["scan.pdf"]


def test_numbers_follow_each_other(app, saraban):
    a = saraban["a"]
    clerk = client(app, "a.clerk")
    numbers = [doc(app, a, register(clerk, a, subject=f"หนังสือเรียงเลข {n}")).register_no for n in range(3)]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]
    year = thai.be_year(thai.today_bangkok())
    page = clerk.get(f"{BASE}/list/").get_data(as_text=True)
    assert f"{numbers[2]}/{year}" in page and "หนังสือเรียงเลข 2" in page


def test_present_endorse_on_the_phone_route_acknowledge_finish(app, saraban):
    a = saraban["a"]
    clerk, mayor = client(app, "a.clerk"), client(app, "a.mayor")
    pk = register(clerk, a, subject="ขอให้ซ่อมถนนสายบ้านทดสอบ", urgency="most_urgent")
    page = clerk.get(f"{BASE}/show/{pk}").get_data(as_text=True)
    assert 'id="present-form"' in page and 'id="finish-form"' in page
    # nobody chosen: a message at the form, nothing written
    response = clerk.post(f"{BASE}/present/{pk}", data={"note": "เสนอ"})
    assert response.status_code == 422 and "เสนอ" in response.get_data(as_text=True)
    assert rows(app, a, Endorsement, document_id=pk) == []
    assert clerk.post(f"{BASE}/present/{pk}", data={"executive_ids": str(a.users["mayor"]),
                                                    "note": "เสนอเพื่อโปรดพิจารณา"}).status_code == 302
    [asked] = rows(app, a, Endorsement, document_id=pk)

    inbox = mayor.get("/saraban/inbox/")
    html = inbox.get_data(as_text=True)
    assert inbox.status_code == 200
    assert 'name="viewport" content="width=device-width' in html
    assert f'id="inbox-endorsement-{asked.id}"' in html and f'action="{BASE}/endorse/{asked.id}"' in html
    assert "ขอให้ซ่อมถนนสายบ้านทดสอบ" in html
    assert int(re.search(r'id="count-endorse">(\d+)<', html).group(1)) >= 1
    # an endorsement without a word is refused; then endorsed with an order, routed to two กอง
    assert mayor.post(f"{BASE}/endorse/{asked.id}", data={"comment": "", "order_text": ""}).status_code == 422
    response = mayor.post(f"{BASE}/endorse/{asked.id}", data={
        "comment": "เห็นควรดำเนินการ", "order_text": "มอบกองช่างและกองคลังดำเนินการ", "next": "/saraban/inbox/",
        "division_ids": [str(a.divisions["engineering"]), str(a.divisions["finance"])]})
    assert response.status_code == 302 and response.headers["Location"].endswith("/saraban/inbox/")
    assert f"inbox-endorsement-{asked.id}" not in mayor.get("/saraban/inbox/").get_data(as_text=True)
    assert mayor.post(f"{BASE}/endorse/{asked.id}", data={"order_text": "ทราบ"}).status_code == 409
    routed = {r.division_id: r for r in rows(app, a, Routing, document_id=pk)}
    assert set(routed) == {a.divisions["engineering"], a.divisions["finance"]}

    engineer, finance = client(app, "a.engofficer"), client(app, "a.officer")
    eng_routing, fin_routing = routed[a.divisions["engineering"]], routed[a.divisions["finance"]]
    assert f'inbox-routing-{eng_routing.id}"' in engineer.get("/saraban/inbox/").get_data(as_text=True)
    assert engineer.post(f"{BASE}/acknowledge/{fin_routing.id}").status_code == 403  # not their กอง
    assert engineer.post(f"{BASE}/acknowledge/{eng_routing.id}", data={"next": "/saraban/inbox/"}).status_code == 302
    assert finance.post(f"{BASE}/acknowledge/{fin_routing.id}", data={"note": "รับทราบ"}).status_code == 302
    assert finance.post(f"{BASE}/acknowledge/{fin_routing.id}").status_code == 409  # once
    assert engineer.post(f"{BASE}/finish/{pk}", data={"action_taken": ""}).status_code == 422
    assert engineer.post(f"{BASE}/finish/{pk}", data={"action_taken": "ซ่อมถนนเสร็จแล้ว"}).status_code == 302
    assert doc(app, a, pk).status == DONE
    page = clerk.get(f"{BASE}/show/{pk}").get_data(as_text=True)
    for text in ("เสนอเพื่อโปรดพิจารณา", "มอบกองช่างและกองคลังดำเนินการ", "ซ่อมถนนเสร็จแล้ว", "timeline-ack"):
        assert text in page
    assert 'id="present-form"' not in page and 'id="finish-form"' not in page
    done = page[page.index("timeline-done"):]
    assert "ช่าง ประจำกอง" in done[:400]  # who recorded what was done
    listing = clerk.get(f"{BASE}/list/").get_data(as_text=True)
    assert "urgency-most" in listing


def test_a_delegate_endorses_on_behalf_of_the_mayor(app, saraban):
    a = saraban["a"]
    clerk = client(app, "a.clerk")
    pk = register(clerk, a, subject="ขอรับการสนับสนุนงบประมาณโครงการผู้สูงอายุ")
    clerk.post(f"{BASE}/present/{pk}", data={"executive_ids": str(a.users["mayor"])})
    [asked] = rows(app, a, Endorsement, document_id=pk)
    palad = client(app, "a.palad")
    assert palad.post(f"{BASE}/endorse/{asked.id}", data={"order_text": "ทราบ"}).status_code == 403
    today = thai.today_bangkok()
    with app.app_context(), tenant_scope(a.tenant_id):
        delegation = Delegation(delegator_id=a.users["mayor"], delegate_id=a.users["palad"], role_code="mayor",
                                kind="on_behalf", start_on=today, end_on=today)
        db.session.add(delegation)
        db.session.commit()
        delegation_id = delegation.id
        db.session.remove()
    try:
        html = palad.get("/saraban/inbox/").get_data(as_text=True)
        assert f'id="inbox-endorsement-{asked.id}"' in html
        assert palad.post(f"{BASE}/endorse/{asked.id}", data={"order_text": "อนุมัติในหลักการ",
                                                              "next": "/saraban/inbox/"}).status_code == 302
    finally:
        with app.app_context(), tenant_scope(a.tenant_id):
            db.session.delete(db.session.get(Delegation, delegation_id))
            db.session.commit()
            db.session.remove()
    [given] = rows(app, a, Endorsement, document_id=pk)
    assert given.endorsed_by_id == a.users["palad"] and given.delegation_kind == "on_behalf"
    page = clerk.get(f"{BASE}/show/{pk}").get_data(as_text=True)
    assert "ปฏิบัติราชการแทน" in page and "อนุมัติในหลักการ" in page


def test_a_secret_letter_is_seen_only_by_those_named(app, saraban, clerk2):
    a = saraban["a"]
    clerk = client(app, "a.clerk")
    subject = "รายงานการสอบสวนข้อเท็จจริงกรณีร้องเรียนลับเฉพาะ"
    # a secret letter without readers is refused
    response = clerk.post(f"{BASE}/new", data=with_scan(form(a, subject=subject, secrecy="secret")),
                          content_type="multipart/form-data")
    assert response.status_code == 422 and 'id="error-reader_ids"' in response.get_data(as_text=True)
    pk = register(clerk, a, subject=subject, secrecy="secret", reader_ids=str(a.users["palad"]))
    [scan] = rows(app, a, DocumentFile, document_id=pk)
    for outsider in (clerk2, "a.admin", "a.engofficer", "a.mayor"):
        browser = client(app, outsider)
        listing = browser.get(f"{BASE}/list/").get_data(as_text=True)
        assert subject not in listing and f"{BASE}/show/{pk}" not in listing
        counted = browser.get(f"{BASE}/list/?_flt_0_subject=" + "รายงานการสอบสวนข้อเท็จจริง").get_data(as_text=True)
        assert subject not in counted
        if "จำนวนรายการ" in counted or "Record Count" in counted:  # FAB prints no count for an empty list
            assert record_count(counted) == 0
        assert browser.get(f"{BASE}/show/{pk}").status_code == 404
        assert browser.get(f"{BASE}/file/{pk}/{scan.id}").status_code == 404
    palad = client(app, "a.palad")
    counted = palad.get(f"{BASE}/list/?_flt_0_subject=" + "รายงานการสอบสวนข้อเท็จจริง").get_data(as_text=True)
    assert record_count(counted) == 1
    page = palad.get(f"{BASE}/show/{pk}")
    assert page.status_code == 200 and subject in page.get_data(as_text=True)
    assert palad.get(f"{BASE}/file/{pk}/{scan.id}").data.startswith(b"%PDF")
    opened = [(o.user_id, o.action) for o in rows(app, a, DocumentOpening, document_id=pk)]
    assert (a.users["palad"], "open") in opened and (a.users["palad"], "file") in opened
    assert all(user_id in (a.users["palad"], a.users["clerk"]) for user_id, _action in opened)
    # routed to กองช่าง: only its named recipient sees it there
    response = clerk.post(f"{BASE}/route/{pk}", data={"division_ids": str(a.divisions["engineering"])})
    assert response.status_code == 422 and "หนังสือลับต้องส่งถึงผู้รับ" in response.get_data(as_text=True)
    assert rows(app, a, Routing, document_id=pk) == []
    assert clerk.post(f"{BASE}/route/{pk}", data={"division_ids": str(a.divisions["engineering"]),
                                                  "recipient_ids": str(a.users["engdir"])}).status_code == 302
    assert client(app, "a.engdir").get(f"{BASE}/show/{pk}").status_code == 200
    assert client(app, "a.engofficer").get(f"{BASE}/show/{pk}").status_code == 404
    assert subject not in client(app, "a.engofficer").get("/saraban/inbox/").get_data(as_text=True)


def test_another_organisation_cannot_reach_a_letter(app, saraban):
    a, b = saraban["a"], saraban["b"]
    clerk = client(app, "a.clerk")
    subject = "หนังสือของเทศบาลเอเท่านั้นห้ามบีเห็น"
    pk = register(clerk, a, subject=subject)
    clerk.post(f"{BASE}/present/{pk}", data={"executive_ids": str(a.users["mayor"])})
    client(app, "a.mayor").post(f"{BASE}/endorse/" + str(rows(app, a, Endorsement, document_id=pk)[0].id),
                                data={"order_text": "มอบกองช่าง", "division_ids": str(a.divisions["engineering"])})
    [scan] = rows(app, a, DocumentFile, document_id=pk)
    [routing] = rows(app, a, Routing, document_id=pk)
    before = doc(app, a, pk)
    endorsement_id = rows(app, a, Endorsement, document_id=pk)[0].id
    posts = {  # each step tried by B's people who hold its permission: 404, never a hint
        f"{BASE}/present/{pk}": ({"executive_ids": str(b.users["mayor"])}, ("b.clerk", "b.admin")),
        f"{BASE}/route/{pk}": ({"division_ids": str(b.divisions["health"])}, ("b.clerk", "b.admin", "b.mayor")),
        f"{BASE}/acknowledge/{routing.id}": ({}, ("b.clerk", "b.engofficer")),
        f"{BASE}/finish/{pk}": ({"action_taken": "แก้ไขโดยบี"}, ("b.clerk", "b.admin", "b.engofficer")),
        f"{BASE}/endorse/{endorsement_id}": ({"order_text": "บี"}, ("b.mayor", "b.palad")),
    }
    for username in ("b.clerk", "b.admin", "b.mayor", "b.palad", "b.engofficer"):
        other = client(app, username)
        listing = other.get(f"{BASE}/list/").get_data(as_text=True)
        assert subject not in listing and f"{BASE}/show/{pk}" not in listing
        assert other.get(f"{BASE}/show/{pk}").status_code == 404
        assert other.get(f"{BASE}/file/{pk}/{scan.id}").status_code == 404
        assert subject not in other.get("/saraban/inbox/").get_data(as_text=True)
        for url, (data, holders) in posts.items():
            if username in holders:
                assert other.post(url, data=data).status_code == 404, (username, url)
    after = doc(app, a, pk)
    assert (after.status, after.action_taken) == (before.status, before.action_taken)
    assert len(rows(app, a, Routing, document_id=pk)) == 1 and rows(app, a, Routing, document_id=pk)[0].acknowledged_at is None
    assert len(rows(app, a, Endorsement, document_id=pk)) == 1


CHROMIUM = __import__("shutil").which("chromium") or "/usr/bin/chromium"


@pytest.mark.skipif(not __import__("os").path.exists(CHROMIUM), reason="Debian's chromium is not installed")
def test_the_mayor_endorses_on_a_390px_phone(app, saraban, live_server, browser):
    """390 x 844: no sideways scrolling, every button at least 44 px tall, the order typed and endorsed."""
    from tests.test_browser import _log_in

    a = saraban["a"]
    clerk = client(app, "a.clerk")
    pk = register(clerk, a, subject="ขอเชิญประชุมประจำเดือนของคณะผู้บริหารเทศบาลและหัวหน้าส่วนราชการทุกกอง",
                  urgency="most_urgent")
    clerk.post(f"{BASE}/present/{pk}", data={"executive_ids": str(a.users["mayor"])})
    [asked] = rows(app, a, Endorsement, document_id=pk)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    _log_in(phone, live_server, "a.mayor")
    phone.goto(f"{live_server}/saraban/inbox/")
    card = phone.locator(f"#inbox-endorsement-{asked.id}")
    assert "ขอเชิญประชุมประจำเดือน" in card.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    heights = phone.eval_on_selector_all("#saraban-inbox button", "els => els.map(e => e.getBoundingClientRect().height)")
    assert heights and min(heights) >= 44, heights
    card.locator("textarea[name=order_text]").fill("ทราบ มอบสำนักปลัดแจ้งเวียน")
    card.locator("button[type=submit]").click()
    phone.wait_for_load_state()
    assert phone.url.endswith("/saraban/inbox/")
    [given] = rows(app, a, Endorsement, document_id=pk)
    assert given.order_text == "ทราบ มอบสำนักปลัดแจ้งเวียน" and given.endorsed_by_id == a.users["mayor"]


from tests.test_browser import browser, live_server  # noqa: E402,F401  (the browser tests' fixtures)

"""Letters and matters linked both ways: the matter's page lists the letters about it that the user may see
(a secret one only for the people named on it, not even counted for others); an incoming letter opens a matter
through the staff request form (?from_document=), linked in the same transaction; another organisation's
letter, or a secret one not for the user, is not found and never linked; a letter written from a matter shows
on the matter."""
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.catalog import services
from app.catalog.models import ServiceRequest, ServiceType
from app.extensions import db
from app.saraban import links
from app.saraban.models import OUTGOING, SECRET, Document
from app.tenancy.context import tenant_scope
from tests.catalog.helpers import save_request
from tests.saraban import documents
from tests.saraban.documents import document, letter
from tests.saraban.people import saraban  # noqa: F401


@pytest.fixture(autouse=True)
def _app(app):
    documents.use(app)


def _matter(people, requester: str = "มานี มีนา") -> int:
    """A water-truck request of tenant A (kept by the office, as the central registry is)."""
    with documents._app.app_context(), tenant_scope(people.tenant_id):
        water = db.session.scalar(select(ServiceType).where(ServiceType.code == "water_truck"))
        matter = services.file_request(water, {"requester": requester, "litres": 2000}, people.users["clerk"])
        db.session.commit()
        matter_id = matter.id
        db.session.remove()
    return matter_id


def _service_id(tenant_id: int, code: str = "water_truck") -> int:
    with documents._app.app_context(), tenant_scope(tenant_id):
        found = db.session.scalar(select(ServiceType.id).where(ServiceType.code == code))
        db.session.remove()
    return found


def _letter_rows(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'class="request-letter" data-document="(\d+)"', html)}


def _requests(tenant_id: int) -> int:
    with documents._app.app_context(), tenant_scope(tenant_id):
        count = db.session.scalar(select(func.count(ServiceRequest.id)))
        db.session.remove()
    return count


@pytest.fixture
def matter_with_letters(app, saraban):  # noqa: F811
    a = saraban["a"]
    with app.app_context():
        matter_id = _matter(a)
        ids = {
            "normal": letter(a, "ขอรถบรรทุกน้ำช่วยภัยแล้งหมู่ 3", request_id=matter_id),
            "secret": letter(a, "รายงานลับเรื่องน้ำหมู่ 3", secrecy=SECRET, readers=("palad",), request_id=matter_id),
            "draft": letter(a, "ตอบเรื่องรถบรรทุกน้ำ", direction=OUTGOING, numbered=False, request_id=matter_id),
            "other": letter(a, "เรื่องอื่นที่ไม่เกี่ยวข้อง"),
        }
    return matter_id, ids


def test_the_matter_page_lists_its_letters_with_number_date_and_status(app, saraban, client_for,
                                                                       matter_with_letters):  # noqa: F811
    matter_id, ids = matter_with_letters
    normal = document(saraban["a"].tenant_id, ids["normal"])
    html = client_for("a.sb.clerk").get(f"/service-requests/show/{matter_id}").get_data(as_text=True)
    assert _letter_rows(html) == {ids["normal"], ids["secret"], ids["draft"]}
    assert f"รับ {normal.register_no}/{normal.register_year}" in html
    assert "ร่าง" in html and "ขอรถบรรทุกน้ำช่วยภัยแล้งหมู่ 3" in html and "รายงานลับเรื่องน้ำหมู่ 3" in html
    assert "เรื่องอื่นที่ไม่เกี่ยวข้อง" not in html


@pytest.mark.parametrize("username", ["a.admin", "a.mayor"])
def test_a_secret_letter_is_neither_listed_nor_counted_for_someone_not_named(app, saraban, client_for,
                                                                             matter_with_letters,
                                                                             username):  # noqa: F811
    matter_id, ids = matter_with_letters
    response = client_for(username).get(f"/service-requests/show/{matter_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _letter_rows(html) == {ids["normal"], ids["draft"]}
    assert "รายงานลับเรื่องน้ำหมู่ 3" not in html
    assert f'data-document="{ids["secret"]}"' not in html
    with app.test_request_context(), tenant_scope(saraban["a"].tenant_id):
        from flask_appbuilder.security.sqla.models import User

        user = db.session.get(User, saraban["a"].users[username.split(".", 1)[1]])
        assert ids["secret"] not in {d.id for d in links.documents_of_request(matter_id, user)}
        db.session.remove()


def test_the_named_reader_sees_the_secret_letter_on_the_matter(app, saraban, client_for,
                                                               matter_with_letters):  # noqa: F811
    matter_id, ids = matter_with_letters
    html = client_for("a.sb.palad").get(f"/service-requests/show/{matter_id}").get_data(as_text=True)
    assert ids["secret"] in _letter_rows(html) and "รายงานลับเรื่องน้ำหมู่ 3" in html


def test_tenant_b_sees_neither_the_matter_nor_its_letters(app, saraban, client_for,
                                                          matter_with_letters):  # noqa: F811
    matter_id, ids = matter_with_letters
    client = client_for("b.sb.clerk")
    assert client.get(f"/service-requests/show/{matter_id}").status_code == 404
    with app.test_request_context(), tenant_scope(saraban["b"].tenant_id):
        from flask_appbuilder.security.sqla.models import User

        user = db.session.get(User, saraban["b"].users["clerk"])
        assert links.documents_of_request(matter_id, user) == []
        db.session.remove()


def test_open_a_matter_from_a_letter_through_the_staff_form(app, saraban, client_for):  # noqa: F811
    a = saraban["a"]
    letter_id = letter(a, "ขอรับการสนับสนุนรถบรรทุกน้ำหมู่ 7")
    service_id = _service_id(a.tenant_id)
    client = client_for("a.sb.clerk")
    url = f"/service-requests/new/{service_id}?from_document={letter_id}"
    html = client.get(url).get_data(as_text=True)
    assert 'id="from-document"' in html and "ขอรับการสนับสนุนรถบรรทุกน้ำหมู่ 7" in html
    assert f'name="from_document" value="{letter_id}"' in html
    before = _requests(a.tenant_id)
    response = save_request(client, f"/service-requests/new/{service_id}",
                            {"requester": "ผู้ใหญ่บ้านหมู่ 7", "litres": "6000", "from_document": str(letter_id)})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    matter_id = int(re.search(r"/service-requests/show/(\d+)", response.headers["Location"]).group(1))
    assert _requests(a.tenant_id) == before + 1
    assert document(a.tenant_id, letter_id).request_id == matter_id
    # shown on the matter
    html = client.get(f"/service-requests/show/{matter_id}").get_data(as_text=True)
    assert letter_id in _letter_rows(html)
    # a second matter from the same letter is refused: it stays with the first
    again = client.get(url)
    assert again.status_code == 302
    response = save_request(client, url, {"requester": "อีกคน", "litres": "2000", "from_document": str(letter_id)})
    assert response.status_code == 302 and "/service-requests/show/" not in response.headers["Location"]
    assert _requests(a.tenant_id) == before + 1
    assert document(a.tenant_id, letter_id).request_id == matter_id


def test_a_mistake_in_the_form_keeps_the_letter_and_links_nothing(app, saraban, client_for):  # noqa: F811
    a = saraban["a"]
    letter_id = letter(a, "ขอรถน้ำแต่กรอกผิด")
    service_id = _service_id(a.tenant_id)
    client = client_for("a.sb.clerk")
    before = _requests(a.tenant_id)
    response = client.post(f"/service-requests/new/{service_id}",
                           data={"requester": "ผู้ขอ", "litres": "50", "from_document": str(letter_id),
                                 "intent": "save"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'name="from_document" value="{letter_id}"' in html and 'id="from-document"' in html
    assert _requests(a.tenant_id) == before
    assert document(a.tenant_id, letter_id).request_id is None


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_another_tenants_letter_is_not_found_and_never_linked(app, saraban, client_for, method):  # noqa: F811
    a, b = saraban["a"], saraban["b"]
    b_letter = letter(b, "หนังสือของบีที่เอไม่ควรเห็น")
    service_id = _service_id(a.tenant_id)
    client = client_for("a.sb.clerk")
    before = _requests(a.tenant_id)
    url = f"/service-requests/new/{service_id}?from_document={b_letter}"
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data={"requester": "ผู้ขอ", "litres": "2000", "from_document": str(b_letter),
                                          "intent": "save"})
    assert response.status_code == 404
    assert "หนังสือของบี" not in response.get_data(as_text=True)
    assert _requests(a.tenant_id) == before
    assert document(b.tenant_id, b_letter).request_id is None


@pytest.mark.parametrize("value", ["abc", "-1", "99999999999", "0"])
def test_a_bad_letter_id_is_not_found(app, saraban, client_for, value):  # noqa: F811
    service_id = _service_id(saraban["a"].tenant_id)
    assert client_for("a.sb.clerk").get(
        f"/service-requests/new/{service_id}?from_document={value}").status_code == 404


def test_a_secret_letter_not_for_the_user_is_not_found(app, saraban, client_for):  # noqa: F811
    a = saraban["a"]
    secret = letter(a, "หนังสือลับที่ธุรการไม่ได้รับ", secrecy=SECRET, author="palad")
    service_id = _service_id(a.tenant_id)
    before = _requests(a.tenant_id)
    for username in ("a.sb.clerk", "a.admin"):
        client = client_for(username)
        assert client.get(f"/service-requests/new/{service_id}?from_document={secret}").status_code == 404
        assert client.post(f"/service-requests/new/{service_id}?from_document={secret}",
                           data={"requester": "ผู้ขอ", "litres": "2000", "from_document": str(secret),
                                 "intent": "save"}).status_code == 404
    assert _requests(a.tenant_id) == before
    assert document(a.tenant_id, secret).request_id is None
    # the ปลัด, named on it, may open a matter from it
    assert client_for("a.sb.palad").get(
        f"/service-requests/new/{service_id}?from_document={secret}").status_code == 200


def test_an_outgoing_letter_does_not_open_a_matter(app, saraban, client_for):  # noqa: F811
    a = saraban["a"]
    draft = letter(a, "ร่างหนังสือออก", direction=OUTGOING, numbered=False)
    service_id = _service_id(a.tenant_id)
    assert client_for("a.sb.clerk").get(
        f"/service-requests/new/{service_id}?from_document={draft}").status_code == 404


def test_prefill_puts_the_subject_in_the_services_subject_or_description_field():
    letter_row = Document(subject="ร้องเรียนถนนชำรุดหน้าวัด" * 3)
    complaint = SimpleNamespace(fields=[{"code": "applicant_name", "kind": "text"},
                                        {"code": "description", "kind": "long_text", "max_length": 30}])
    assert links.prefill(complaint, letter_row) == {"description": letter_row.subject[:30]}
    permit = SimpleNamespace(fields=[{"code": "owner_name", "kind": "text"}, {"code": "details", "kind": "long_text"},
                                     {"code": "subject", "kind": "choice"}])
    assert links.prefill(permit, letter_row) == {"details": letter_row.subject}
    water = SimpleNamespace(fields=[{"code": "requester", "kind": "text"}, {"code": "litres", "kind": "integer"}])
    assert links.prefill(water, letter_row) == {}


def test_link_refuses_a_second_matter_and_another_organisation(app, saraban):  # noqa: F811
    from app.tenancy.errors import UserError

    a = saraban["a"]
    with app.app_context():
        first, second = _matter(a), _matter(a, "คนที่สอง")
        letter_id, another = letter(a, "หนังสือผูกเรื่องเดียว"), letter(a, "อีกฉบับ")
        with tenant_scope(a.tenant_id):
            row = db.session.get(Document, letter_id)
            links.link(row, db.session.get(ServiceRequest, first))
            links.link(row, db.session.get(ServiceRequest, first))  # again: nothing changes
            with pytest.raises(UserError):
                links.link(row, db.session.get(ServiceRequest, second))
            other = SimpleNamespace(id=first, tenant_id=saraban["b"].tenant_id)
            with pytest.raises(UserError):
                links.link(db.session.get(Document, another), other)
            db.session.rollback()
            db.session.remove()


# --- both pages, end to end through the correspondence screens ----------------------------------------------

def test_the_letter_page_offers_to_open_a_matter_then_shows_it(app, saraban, client_for):  # noqa: F811
    a = saraban["a"]
    letter_id = letter(a, "ขอความอนุเคราะห์รถบรรทุกน้ำหมู่ 9")
    service_id = _service_id(a.tenant_id)
    client = client_for("a.sb.clerk")
    html = client.get(f"/saraban/incoming/show/{letter_id}").get_data(as_text=True)
    assert 'id="open-matter"' in html and 'id="linked-matter"' not in html
    assert f"/service-requests/new/{service_id}?from_document={letter_id}" in html
    response = save_request(client, f"/service-requests/new/{service_id}?from_document={letter_id}",
                            {"requester": "ผู้ใหญ่บ้านหมู่ 9", "litres": "3000", "from_document": str(letter_id)})
    matter_id = int(re.search(r"/service-requests/show/(\d+)", response.headers["Location"]).group(1))
    html = client.get(f"/saraban/incoming/show/{letter_id}").get_data(as_text=True)
    assert 'id="open-matter"' not in html
    assert re.search(rf'id="linked-matter" href="/service-requests/show/{matter_id}"', html)
    assert letter_id in _letter_rows(client.get(f"/service-requests/show/{matter_id}").get_data(as_text=True))


def test_a_letter_written_from_a_matter_shows_on_the_matter_and_the_matter_on_it(app, saraban,
                                                                                  client_for):  # noqa: F811
    a = saraban["a"]
    matter_id = _matter(a, "ผู้ร้องเรื่องน้ำ")
    client = client_for("a.sb.clerk")
    page = client.get(f"/service-requests/show/{matter_id}").get_data(as_text=True)
    assert f'id="write-letter" href="/saraban/outgoing/new?request_id={matter_id}"' in page
    assert client.get(f"/saraban/outgoing/new?request_id={matter_id}").status_code == 200
    response = client.post(f"/saraban/outgoing/new?request_id={matter_id}", data={
        "origin_division_id": str(a.divisions["office"]), "kind": "external", "urgency": "normal",
        "secrecy": "normal", "subject": "แจ้งผลการจัดรถบรรทุกน้ำ", "addressee": "ผู้ใหญ่บ้านหมู่ 3",
        "body": "ตามที่ท่านได้ขอรับการสนับสนุนรถบรรทุกน้ำ องค์การบริหารส่วนตำบลได้จัดรถให้แล้ว",
        "closing": "จึงเรียนมาเพื่อโปรดทราบ"})
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    letter_id = int(re.search(r"/saraban/outgoing/show/(\d+)", response.headers["Location"]).group(1))
    assert document(a.tenant_id, letter_id).request_id == matter_id
    page = client.get(f"/service-requests/show/{matter_id}").get_data(as_text=True)
    assert letter_id in _letter_rows(page) and "แจ้งผลการจัดรถบรรทุกน้ำ" in page and "ร่าง" in page
    assert f"/saraban/outgoing/show/{letter_id}" in page
    letter_page = client.get(f"/saraban/outgoing/show/{letter_id}").get_data(as_text=True)
    assert f"/service-requests/show/{matter_id}" in letter_page


def test_the_write_a_letter_button_needs_the_drafting_permission(app, saraban, client_for):  # noqa: F811
    matter_id = _matter(saraban["a"])
    page = client_for("a.mayor").get(f"/service-requests/show/{matter_id}").get_data(as_text=True)
    assert 'id="write-letter"' not in page  # executives review and sign; they do not draft


def test_another_tenant_cannot_write_a_letter_about_a_matter(app, saraban, client_for):  # noqa: F811
    matter_id = _matter(saraban["a"])
    client = client_for("b.sb.clerk")
    assert client.get(f"/saraban/outgoing/new?request_id={matter_id}").status_code == 404
    response = client.post(f"/saraban/outgoing/new?request_id={matter_id}", data={
        "origin_division_id": str(saraban["b"].divisions["office"]), "kind": "external", "subject": "x",
        "addressee": "x", "body": "x"})
    assert response.status_code == 404
    with documents._app.app_context(), tenant_scope(saraban["b"].tenant_id):
        assert db.session.scalar(select(func.count(Document.id)).where(Document.request_id == matter_id)) == 0
        db.session.remove()


def test_without_the_correspondence_screens_a_letter_is_listed_without_a_link(app, saraban, client_for,
                                                                             matter_with_letters):  # noqa: F811
    """The role manager may read matters but not open letters: the rows are text, and no drafting button."""
    matter_id, ids = matter_with_letters
    response = client_for("a.manager").get(f"/service-requests/show/{matter_id}")
    if response.status_code == 404:
        pytest.skip("the role manager does not reach this matter")
    html = response.get_data(as_text=True)
    assert ids["normal"] in _letter_rows(html)
    assert f"/saraban/incoming/show/{ids['normal']}" not in html and 'id="write-letter"' not in html

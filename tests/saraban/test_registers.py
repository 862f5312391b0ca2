"""Register settings, the register books and the openings log: the regulation's columns, paging by number,
print and CSV; a secret document is left out of the book and its count for someone not named on it (one line
under the table says why numbers are missing, only when some are); another
organisation's registers, rows and openings are never listed, counted, shown or exported."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.saraban import access, books
from app.saraban.models import INCOMING, OUTGOING, SECRET, DocumentOpening, Register
from app.tenancy.context import tenant_scope
from tests.conftest import login
from tests.saraban.documents import make, new_division, new_register
from tests.saraban.people import saraban  # noqa: F401


@pytest.fixture(scope="module")
def book(app, saraban):
    """In each tenant: a register of a fresh กอง with 7 letters of 2569 (the 4th secret, named to the ปลัด)."""
    out = {}
    for key in ("a", "b"):
        s = saraban[key]
        with app.app_context(), tenant_scope(s.tenant_id):
            register = new_register(INCOMING)
            docs = []
            for i in range(1, 8):
                docs.append(make(register.id, f"หนังสือในทะเบียน{key} ฉบับที่ {i}", on=date(2026, 5, i),
                                 sender=f"ผู้ส่ง{key}{i}", addressee="นายก", their_ref=f"ชม 0{i}/2569",
                                 their_date=date(2026, 5, i), remark=f"หมายเหตุ{key}{i}",
                                 secrecy=SECRET if i == 4 else "normal",
                                 named=[s.users["palad"]] if i == 4 else ()))
            access.record_opening(docs[3], None, "open")
            db.session.flush()
            opening = db.session.scalar(select(DocumentOpening.id).where(DocumentOpening.document_id == docs[3].id))
            db.session.commit()
            out[key] = dict(register=register.id, docs=[d.id for d in docs], opening=opening,
                            division=register.division_id)
            db.session.remove()
    return out


def numbers(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'class="book-row" data-number="(\d+)"', html)]


GAP = "เลขทะเบียนที่ไม่ปรากฏเป็นหนังสือที่ท่านไม่มีสิทธิ์เข้าถึง"


def test_the_book_has_the_regulations_columns_and_leaves_out_a_secret_row(app, saraban, book):
    client = login(app.test_client(), "a.admin")
    html = client.get(f"/saraban/books/?register={book['a']['register']}&year=2569").get_data(as_text=True)
    assert numbers(html) == [1, 2, 3, 5, 6, 7]
    for heading in ("เลขทะเบียนรับ", "ที่", "ลงวันที่", "จาก", "ถึง", "เรื่อง", "การปฏิบัติ", "หมายเหตุ", "วันเวลารับ"):
        assert f">{heading}</th>" in html, heading
    assert "หนังสือในทะเบียนa ฉบับที่ 3" in html and "ผู้ส่งa3" in html and "ชม 03/2569" in html
    assert "หนังสือในทะเบียนa ฉบับที่ 4" not in html and "ผู้ส่งa4" not in html and "หมายเหตุa4" not in html
    assert "(ลับ)" not in html and 'data-number="4"' not in html
    assert 'data-count="6"' in html  # only what the reader may see is counted
    assert html.count(GAP) == 1 and 'id="book-gap"' in html
    named = login(app.test_client(), "a.sb.palad").get(
        f"/saraban/books/?register={book['a']['register']}&year=2569").get_data(as_text=True)
    assert "(ลับมาก) หนังสือในทะเบียนa ฉบับที่ 4" in named  # the level, to a named reader
    assert numbers(named) == [1, 2, 3, 4, 5, 6, 7] and 'data-count="7"' in named and GAP not in named


def test_the_gap_line_shows_only_when_numbers_shown_have_a_gap(app, saraban):
    s = saraban["a"]
    with app.app_context(), tenant_scope(s.tenant_id):
        last_secret, first_secret = new_register(INCOMING), new_register(INCOMING)
        for i in range(1, 4):
            make(last_secret.id, f"หนังสือท้ายลับ {i}", on=date(2026, 6, i), secrecy=SECRET if i == 3 else "normal",
                 named=[s.users["palad"]] if i == 3 else ())
            make(first_secret.id, f"หนังสือต้นลับ {i}", on=date(2026, 6, i), secrecy=SECRET if i == 1 else "normal",
                 named=[s.users["palad"]] if i == 1 else ())
        db.session.commit()
        ids = last_secret.id, first_secret.id
        db.session.remove()
    client = login(app.test_client(), "a.admin")
    tail = client.get(f"/saraban/books/?register={ids[0]}&year=2569").get_data(as_text=True)
    # the withheld number comes after the last one shown: nothing shows a gap, so nothing is said
    assert numbers(tail) == [1, 2] and 'data-count="2"' in tail and GAP not in tail
    assert GAP not in client.get(f"/saraban/books/csv?register={ids[0]}&year=2569").get_data().decode("utf-8-sig")
    head = client.get(f"/saraban/books/?register={ids[1]}&year=2569").get_data(as_text=True)
    assert numbers(head) == [2, 3] and 'data-count="2"' in head and GAP in head


def test_the_book_pages_by_register_number(app, saraban, book, monkeypatch):
    monkeypatch.setattr(books, "PAGE_SIZE", 3)
    client = login(app.test_client(), "a.admin")
    url = f"/saraban/books/?register={book['a']['register']}&year=2569"
    first = client.get(url).get_data(as_text=True)
    assert numbers(first) == [1, 2, 3]
    assert 'id="book-next"' in first
    second = client.get(url + "&after=3").get_data(as_text=True)
    assert numbers(second) == [5, 6, 7] and 'id="book-next"' not in second  # 7 is the last one they see
    assert numbers(client.get(url + "&after=6").get_data(as_text=True)) == [7]
    assert numbers(client.get(url + "&before=5").get_data(as_text=True)) == [1, 2, 3]


def test_print_and_csv(app, saraban, book):
    client = login(app.test_client(), "a.admin")
    printed = client.get(f"/saraban/books/?register={book['a']['register']}&year=2569&print=1").get_data(as_text=True)
    assert "size: A4 landscape" in printed and numbers(printed) == [1, 2, 3, 5, 6, 7] and GAP in printed
    response = client.get(f"/saraban/books/csv?register={book['a']['register']}&year=2569")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    data = response.get_data()
    assert data.startswith("\ufeff".encode("utf-8"))
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("เลขทะเบียนรับ,ที่,ลงวันที่,จาก,ถึง,เรื่อง,การปฏิบัติ,หมายเหตุ")
    text = data.decode("utf-8")
    assert len(lines) == 9 and [line.split(",")[0] for line in lines[1:7]] == ["1", "2", "3", "5", "6", "7"]
    assert "ฉบับที่ 4" not in text and "(ลับ)" not in text and lines[7] == "" and lines[8] == GAP


def test_outgoing_book_columns(app, saraban):
    with app.app_context(), tenant_scope(saraban["a"].tenant_id):
        register = new_register(OUTGOING, book_code="ชม 99901.7")
        make(register.id, "หนังสือส่งทดสอบคอลัมน์", on=date(2026, 5, 1), addressee="ผู้ว่าราชการจังหวัด")
        db.session.commit()
        rid = register.id
        db.session.remove()
    html = login(app.test_client(), "a.admin").get(f"/saraban/books/?register={rid}&year=2569").get_data(as_text=True)
    assert ">เลขทะเบียนส่ง</th>" in html and "ชม 99901.7/1" in html and "วันเวลารับ" not in html


def test_books_of_another_organisation_are_not_found(app, saraban, book):
    client = login(app.test_client(), "a.admin")
    for url in (f"/saraban/books/?register={book['b']['register']}&year=2569",
                f"/saraban/books/csv?register={book['b']['register']}&year=2569"):
        assert client.get(url).status_code == 404
    html = client.get("/saraban/books/").get_data(as_text=True)
    assert f'value="{book["b"]["register"]}"' not in html and f'value="{book["a"]["register"]}"' in html


def test_an_officer_reads_only_the_books_of_their_division(app, saraban, book):
    client = login(app.test_client(), "a.officer")  # กองคลัง
    assert client.get(f"/saraban/books/?register={book['a']['register']}&year=2569").status_code == 404
    clerk = login(app.test_client(), "a.sb.clerk")  # สำนักปลัด: the central registers
    html = clerk.get("/saraban/books/").get_data(as_text=True)
    assert f'value="{saraban["a"].incoming_register_id}"' in html and f'value="{book["a"]["register"]}"' not in html


# ---- register settings ----

def _register_form(client, **values):
    return client.post("/saraban/registers/add", data={"active": "y", "year_basis": "calendar", **values},
                       follow_redirects=False)


def test_an_admin_adds_a_register_for_a_division_once(app, saraban):
    with app.app_context(), tenant_scope(saraban["a"].tenant_id):
        division = new_division("sbreg")
        db.session.commit()
        division_id = division.id
        db.session.remove()
    client = login(app.test_client(), "a.admin")
    form = client.get("/saraban/registers/add").get_data(as_text=True)
    assert f'value="{saraban["a"].divisions["engineering"]}"' in form
    assert f'value="{saraban["b"].divisions["engineering"]}"' not in form  # only this organisation's กอง
    response = _register_form(client, direction="outgoing", division=str(division_id), book_code="ชม 99901.3")
    assert response.status_code == 302
    again = _register_form(client, direction="outgoing", division=str(division_id), book_code="ชม 99901.4")
    assert again.status_code == 200
    assert "already keeps" in again.get_data(as_text=True) or "มีทะเบียน" in again.get_data(as_text=True)
    bad = _register_form(client, direction="incoming", division=str(division_id), book_code="<b>")
    assert bad.status_code == 200 and 'value="&lt;b&gt;"' in bad.get_data(as_text=True)
    with app.app_context(), tenant_scope(saraban["a"].tenant_id):
        rows = list(db.session.scalars(select(Register).where(Register.division_id == division_id)))
        assert [(r.direction, r.book_code) for r in rows] == [("outgoing", "ชม 99901.3")]
        db.session.remove()


def test_registers_of_another_organisation_are_untouchable(app, saraban, book):
    client = login(app.test_client(), "a.admin")
    b_register = book["b"]["register"]
    assert client.get(f"/saraban/registers/show/{b_register}").status_code == 404
    assert client.get(f"/saraban/registers/edit/{b_register}").status_code == 404
    assert client.post(f"/saraban/registers/edit/{b_register}", data={"direction": "incoming", "book_code": "x",
                                                                     "year_basis": "fiscal"}).status_code == 404
    listing = client.get("/saraban/registers/list/").get_data(as_text=True)
    assert f"/saraban/registers/show/{b_register}" not in listing
    assert f"/saraban/registers/show/{book['a']['register']}" in listing
    # B's กอง in A's form is refused and nothing is written
    response = _register_form(client, direction="outgoing", division=str(book["b"]["division"]))
    assert response.status_code == 200
    with app.app_context(), tenant_scope(saraban["b"].tenant_id):
        assert db.session.scalar(select(Register.id).where(Register.division_id == book["b"]["division"],
                                                           Register.direction == OUTGOING)) is None
        db.session.remove()


def test_officers_cannot_configure_registers(app, saraban):
    client = login(app.test_client(), "a.sb.clerk")
    assert client.get("/saraban/registers/list/").status_code in (302, 403)
    assert client.get("/saraban/openings/list/").status_code in (302, 403)


# ---- openings ----

def test_openings_log_names_the_number_not_the_subject(app, saraban, book):
    client = login(app.test_client(), "a.admin")
    html = client.get("/saraban/openings/list/").get_data(as_text=True)
    assert f"/saraban/openings/show/{book['a']['opening']}" in html
    assert f"/saraban/openings/show/{book['b']['opening']}" not in html
    assert "หนังสือในทะเบียนa ฉบับที่ 4" not in html and "4/2569" in html
    shown = client.get(f"/saraban/openings/show/{book['a']['opening']}").get_data(as_text=True)
    assert "4/2569" in shown and "ฉบับที่ 4" not in shown
    assert client.get(f"/saraban/openings/show/{book['b']['opening']}").status_code == 404


def test_a_register_with_documents_keeps_its_direction_and_division(app, saraban, book):
    client = login(app.test_client(), "a.admin")
    rid = book["a"]["register"]
    response = client.post(f"/saraban/registers/edit/{rid}", data={
        "direction": "outgoing", "division": str(book["a"]["division"]), "year_basis": "calendar", "active": "y"})
    assert response.status_code == 200
    with app.app_context(), tenant_scope(saraban["a"].tenant_id):
        assert db.session.get(Register, rid).direction == INCOMING
        db.session.remove()
    # its book code and use may still change
    ok = client.post(f"/saraban/registers/edit/{rid}", data={
        "direction": "incoming", "division": str(book["a"]["division"]), "year_basis": "calendar", "book_code": "",
        "active": "y"})
    assert ok.status_code == 302

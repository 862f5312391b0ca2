"""Search letters (/saraban/search): Thai words inside unspaced text, a compound's inner word, filters, paging by
key, highlighted and escaped subjects; a secret document is neither found nor counted by someone not named on
it; another organisation's documents never."""
from __future__ import annotations

import re
from datetime import date

import pytest

from app.extensions import db
from app.saraban import books
from app.saraban.models import (
    INCOMING, INTERNAL, MOST_URGENT, OUTGOING, SECRET, Routing,
)
from app.tenancy.context import tenant_scope
from tests.conftest import login
from tests.saraban.documents import make, register_of
from tests.saraban.people import saraban  # noqa: F401

SENTENCE = "ขอความอนุเคราะห์ซ่อมแซมถนนชำรุดหมู่ที่3"


def ids_in(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'class="search-result" data-id="(\d+)"', html)}


def count_in(html: str) -> int:
    m = re.search(r'id="search-count">\D*([\d,]+)', html)
    return int(m.group(1).replace(",", "")) if m else -1


@pytest.fixture(scope="module")
def docs(app, saraban):
    """A's and B's look-alike letters; A also a secret one named to its ปลัด only."""
    out = {}
    for key in ("a", "b"):
        s = saraban[key]
        with app.app_context(), tenant_scope(s.tenant_id):
            inc, outg = register_of(INCOMING), register_of(OUTGOING)
            road = make(inc, SENTENCE, on=date(2026, 11, 20), sender="ผู้ใหญ่บ้านหมู่ที่ 3",
                        addressee="นายกเทศมนตรี", their_ref="ชม 0001/99")
            memo = make(outg, "ขออนุมัติจัดซื้อวัสดุก่อสร้างซ่อมถนนชำรุด", on=date(2025, 3, 2), kind=INTERNAL,
                        urgency=MOST_URGENT, origin_division_id=s.divisions["engineering"])
            secret = make(inc, "เรื่องลับสอบสวนวินัยข้าราชการชำรุดกรณีพิเศษ", on=date(2026, 11, 21), secrecy=SECRET,
                          named=[s.users["palad"]])
            routed = make(inc, "แจ้งท่อระบายน้ำชำรุดตลาดสด", on=date(2026, 11, 22))
            db.session.add(Routing(document_id=routed.id, division_id=s.divisions["health"], sent_by_name="test"))
            hostile = make(inc, "<script>alert(1)</script> ถนนชำรุด", on=date(2026, 11, 23))
            paging = [make(inc, f"หนังสือทดสอบการแบ่งหน้า zqpage{key} ฉบับ {i}", on=date(2026, 11, 24))
                      for i in range(30)]
            db.session.commit()
            out[key] = dict(road=road.id, memo=memo.id, secret=secret.id, routed=routed.id, hostile=hostile.id,
                            paging=[d.id for d in paging])
            db.session.remove()
    return out


def test_a_word_inside_an_unspaced_sentence_is_found(app, saraban, docs):
    html = login(app.test_client(), "a.sb.clerk").get("/saraban/search/?q=ชำรุด").get_data(as_text=True)
    assert docs["a"]["road"] in ids_in(html)
    assert "<mark>ชำรุด</mark>" in html
    # each result opens its letter's page
    assert f'href="/saraban/incoming/show/{docs["a"]["road"]}"' in html
    outgoing = login(app.test_client(), "a.admin").get("/saraban/search/?q=วัสดุก่อสร้าง").get_data(as_text=True)
    assert f'href="/saraban/outgoing/show/{docs["a"]["memo"]}"' in outgoing


def test_a_compounds_inner_word_is_found(app, saraban, docs):
    client = login(app.test_client(), "a.sb.clerk")
    assert docs["a"]["road"] in ids_in(client.get("/saraban/search/?q=อนุเคราะห์").get_data(as_text=True))
    # every word of the query must be there
    both = ids_in(client.get("/saraban/search/?q=ซ่อมแซม ถนน").get_data(as_text=True))
    assert docs["a"]["road"] in both
    assert docs["a"]["road"] not in ids_in(client.get("/saraban/search/?q=ชำรุด ตลาด").get_data(as_text=True))


def test_the_subject_is_escaped_and_highlighted(app, saraban, docs):
    html = login(app.test_client(), "a.admin").get("/saraban/search/?q=ชำรุด").get_data(as_text=True)
    assert docs["a"]["hostile"] in ids_in(html)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_filters(app, saraban, docs):
    client = login(app.test_client(), "a.admin")
    a = docs["a"]

    def found(query: str) -> set[int]:
        return ids_in(client.get("/saraban/search/?q=ชำรุด&" + query).get_data(as_text=True))

    assert a["memo"] in found("year=2568") and a["road"] not in found("year=2568")
    assert a["memo"] in found("direction=outgoing") and a["road"] not in found("direction=outgoing")
    assert a["memo"] in found("kind=internal") and a["road"] not in found("kind=internal")
    assert a["memo"] in found("urgency=most_urgent") and a["road"] not in found("urgency=most_urgent")
    engineering, health = saraban["a"].divisions["engineering"], saraban["a"].divisions["health"]
    assert a["memo"] in found(f"division={engineering}") and a["road"] not in found(f"division={engineering}")
    assert a["routed"] in found(f"division={health}")  # a กอง it was routed to
    # nonsense filters: a Thai error under the field, no 500, no results
    response = client.get(f"/saraban/search/?q=ชำรุด&year=abc&kind=poem&division={saraban['b'].divisions['health']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert not ids_in(html) and html.count("field-error") == 3


def test_paging_by_key(app, saraban, docs):
    client = login(app.test_client(), "a.sb.clerk")
    first = client.get("/saraban/search/?q=zqpagea").get_data(as_text=True)
    assert count_in(first) == 30 and len(ids_in(first)) == books.SEARCH_PAGE
    nxt = re.search(r'id="search-next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(nxt).get_data(as_text=True)
    assert ids_in(first) | ids_in(second) == set(docs["a"]["paging"])
    assert not ids_in(first) & ids_in(second) and 'id="search-next"' not in second


def test_a_secret_document_is_not_found_nor_counted_by_someone_not_named(app, saraban, docs):
    secret = docs["a"]["secret"]
    for username in ("a.sb.clerk", "a.admin", "a.mayor"):
        client = login(app.test_client(), username)
        html = client.get("/saraban/search/?q=สอบสวนวินัย").get_data(as_text=True)
        assert secret not in ids_in(html) and count_in(html) == 0, username
        assert "สอบสวนวินัย" not in html.split('id="search-count"')[1]
    named = login(app.test_client(), "a.sb.palad").get("/saraban/search/?q=สอบสวนวินัย").get_data(as_text=True)
    assert ids_in(named) == {secret} and count_in(named) == 1


def test_another_organisations_documents_are_never_found(app, saraban, docs):
    client = login(app.test_client(), "a.admin")
    for query in ("ชำรุด", "zqpageb", "อนุเคราะห์"):
        html = client.get(f"/saraban/search/?q={query}").get_data(as_text=True)
        found = ids_in(html)
        assert not found & ({v for k, v in docs["b"].items() if k != "paging"} | set(docs["b"]["paging"]))
    assert count_in(client.get("/saraban/search/?q=zqpageb").get_data(as_text=True)) == 0


def test_an_officer_finds_only_documents_of_their_division(app, saraban, docs):
    html = login(app.test_client(), "a.officer").get("/saraban/search/?q=ชำรุด").get_data(as_text=True)  # กองคลัง
    assert not ids_in(html) & {docs["a"]["road"], docs["a"]["memo"], docs["a"]["routed"]}
    eng = login(app.test_client(), "a.sb.engofficer").get("/saraban/search/?q=ชำรุด").get_data(as_text=True)
    assert docs["a"]["memo"] in ids_in(eng) and docs["a"]["road"] not in ids_in(eng)

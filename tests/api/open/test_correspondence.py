"""Correspondence metadata through the open API: the staff screens' one visibility rule (app/saraban/access.py).
A secret letter exists only for the people named on it and their running delegates (404 and never listed for
anyone else, the same กอง's officer and the organisation's admin included); opening it is recorded as its page
records it; filters, cursor paging, errors in both languages, permission and scope refusals, and B's letters
invisible to A."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import thai
from app.extensions import db
from app.saraban.models import INCOMING, OUTGOING, DocumentOpening
from app.tenancy.context import tenant_scope
from tests.api.open.conftest import API, make_key
from tests.saraban import documents
from tests.saraban.people import saraban  # noqa: F401

DOCS = f"{API}/correspondence/documents"
HUGE = 99999999999


@pytest.fixture(scope="module")
def letters(app, saraban):  # noqa: F811
    """In A: a secret letter owned by กองช่าง (named: the clerk who registered it and the ปลัด), an unclassified
    one of กองช่าง, an outgoing letter sent, and three letters in a register of a กอง of their own; in B a
    look-alike unclassified letter. Returns ids (and the own กอง's code)."""
    documents.use(app)
    a, b = saraban["a"], saraban["b"]
    made = {
        "secret": documents.letter(a, "API ลับ แผนรับมืออุทกภัย", secrecy="secret", readers=("palad",),
                                   division="engineering"),
        "normal": documents.letter(a, "API ขอความอนุเคราะห์ซ่อมถนน", division="engineering"),
        "sent": documents.letter(a, "API แจ้งผลการพิจารณา", direction=OUTGOING, status="sent"),
        "b_normal": documents.letter(b, "API ขอความอนุเคราะห์ซ่อมถนน", division="engineering"),
    }
    with app.app_context(), tenant_scope(a.tenant_id):
        register = documents.new_register(INCOMING)
        made["own"] = [documents.make(register.id, f"API ทะเบียนของกอง {n}", kind="internal",
                                      urgency="most_urgent" if n == 2 else "normal").id for n in range(3)]
        made["own_code"] = register.division.code
        db.session.commit()
        db.session.remove()
    return made


@pytest.fixture(scope="module")
def keys(app, saraban):  # noqa: F811
    """Keys of A's people: each acts as that person."""
    names = {"clerk": "a.sb.clerk", "palad": "a.sb.palad", "engdir": "a.sb.engdir", "engofficer": "a.sb.engofficer",
             "admin": "a.admin", "manager": "a.manager"}
    out = {key: make_key(app, "1000001", username, name=f"A {key}") for key, username in names.items()}
    out["read_less"] = make_key(app, "1000001", "a.admin", scopes=("submit",), name="A no read")
    return out


def _ids(client, query: str = "") -> set[int]:
    body = client.get(f"{DOCS}?limit=100{'&' + query if query else ''}")
    assert body.status_code == 200, body.get_json()
    return {d["id"] for d in body.get_json()["items"]}


def _openings(app, tenant_id: int, document_id: int) -> list[tuple[int, str]]:
    with app.app_context(), tenant_scope(tenant_id):
        rows = [(o.user_id, o.action) for o in db.session.scalars(
            select(DocumentOpening).where(DocumentOpening.document_id == document_id).order_by(DocumentOpening.id))]
        db.session.remove()
    return rows


def test_a_secret_letter_exists_only_for_its_named_readers(app, api_for, saraban, letters, keys):  # noqa: F811
    secret = letters["secret"]
    for who in ("palad", "clerk"):
        client = api_for(keys[who])
        assert secret in _ids(client)
        body = client.get(f"{DOCS}/{secret}").get_json()
        assert body["secrecy"] == "secret" and body["subject"] == "API ลับ แผนรับมืออุทกภัย"
    for who in ("engofficer", "engdir", "admin"):  # the owning กอง's officer and director, the tenant admin
        client = api_for(keys[who])
        assert secret not in _ids(client) and secret not in _ids(client, "division=engineering")
        missing = client.get(f"{DOCS}/{secret}")
        assert missing.status_code == 404 and missing.get_json()["code"] == "not_found"
        assert letters["normal"] in _ids(client)  # the same กอง's unclassified letter they do see


def test_opening_a_secret_letter_is_recorded_as_on_its_page(app, api_for, saraban, letters, keys):  # noqa: F811
    a = saraban["a"]
    before = _openings(app, a.tenant_id, letters["secret"])
    api_for(keys["palad"]).get(f"{DOCS}?limit=100")  # a list is not an opening
    assert _openings(app, a.tenant_id, letters["secret"]) == before
    assert api_for(keys["palad"]).get(f"{DOCS}/{letters['secret']}").status_code == 200
    assert _openings(app, a.tenant_id, letters["secret"]) == before + [(a.users["palad"], "open")]
    api_for(keys["engofficer"]).get(f"{DOCS}/{letters['secret']}")  # refused: nothing recorded
    api_for(keys["engofficer"]).get(f"{DOCS}/{letters['normal']}")  # unclassified: never recorded
    assert _openings(app, a.tenant_id, letters["secret"]) == before + [(a.users["palad"], "open")]
    assert _openings(app, a.tenant_id, letters["normal"]) == []


def test_a_delegate_sees_it_while_the_delegation_runs(app, api_for, saraban, letters, keys):  # noqa: F811
    from app.service_requests.models import Delegation

    a = saraban["a"]
    delegate = api_for(keys["engdir"])
    today = thai.today_bangkok()
    with app.app_context(), tenant_scope(a.tenant_id):
        delegation = Delegation(delegator_id=a.users["palad"], delegate_id=a.users["engdir"],
                                role_code="permanent_secretary", kind="acting", start_on=today, end_on=today)
        db.session.add(delegation)
        db.session.commit()
        delegation_id = delegation.id
        db.session.remove()
    try:
        assert letters["secret"] in _ids(delegate)
        assert delegate.get(f"{DOCS}/{letters['secret']}").status_code == 200
        assert _openings(app, a.tenant_id, letters["secret"])[-1] == (a.users["engdir"], "open")
        with app.app_context(), tenant_scope(a.tenant_id):  # it ended yesterday
            found = db.session.get(Delegation, delegation_id)
            found.start_on, found.end_on = today - timedelta(days=7), today - timedelta(days=1)
            db.session.commit()
            db.session.remove()
        assert letters["secret"] not in _ids(delegate)
        assert delegate.get(f"{DOCS}/{letters['secret']}").status_code == 404
    finally:
        with app.app_context(), tenant_scope(a.tenant_id):
            db.session.delete(db.session.get(Delegation, delegation_id))
            db.session.commit()
            db.session.remove()


def test_metadata_of_a_letter_and_filters(api_for, saraban, letters, keys):  # noqa: F811
    admin = api_for(keys["admin"])
    normal = admin.get(f"{DOCS}/{letters['normal']}").get_json()
    assert set(normal) == {"id", "direction", "register_id", "register_division", "number", "register_no",
                           "register_year", "date", "their_ref", "registered_at", "kind", "urgency", "secrecy",
                           "subject", "sender", "addressee", "origin_division", "routed_to", "state", "created_at"}
    assert normal["direction"] == "incoming" and normal["register_division"] == "office"
    assert normal["origin_division"] == "engineering" and normal["state"] == "registered"
    assert normal["number"] == f"{normal['register_no']}/{normal['register_year']}"
    assert normal["sender"] == "ศาลากลางจังหวัดเชียงใหม่" and normal["their_ref"] == "ชม 0017.2/ว 123"
    assert "body" not in normal and normal["routed_to"] == []
    sent = admin.get(f"{DOCS}/{letters['sent']}").get_json()
    assert sent["direction"] == "outgoing" and sent["number"].startswith("ชม 99901/") and sent["state"] == "sent"
    assert letters["sent"] in _ids(admin, "direction=outgoing") and letters["normal"] not in _ids(
        admin, "direction=outgoing")
    assert letters["normal"] in _ids(admin, "direction=incoming&division=engineering&register=office")
    assert letters["normal"] not in _ids(admin, "division=finance")
    year = normal["register_year"]
    assert letters["normal"] in _ids(admin, f"year={year}") and not _ids(admin, f"year={year - 10}")
    own = set(letters["own"])
    assert _ids(admin, f"register={letters['own_code']}") == own
    assert _ids(admin, f"register={letters['own_code']}&kind=internal&urgency=most_urgent") == {letters["own"][2]}
    assert _ids(admin, f"register={letters['own_code']}&kind=external") == set()


def test_cursor_pages_neither_repeat_nor_skip(api_for, letters, keys):
    admin, seen, cursor = api_for(keys["admin"]), [], None
    while True:
        body = admin.get(f"{DOCS}?register={letters['own_code']}&limit=1" + (f"&cursor={cursor}" if cursor else ""))
        seen += [d["id"] for d in body.get_json()["items"]]
        cursor = body.get_json()["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(letters["own"], reverse=True)


def test_errors_in_both_languages(api_for, keys):
    admin = api_for(keys["admin"])
    bad = admin.get(f"{DOCS}?direction=sideways&year=99&register=a b")
    assert bad.status_code == 422
    named = {f["field"]: f for f in bad.get_json()["fields"]}
    assert set(named) == {"direction", "year", "register"}
    assert named["direction"]["message_en"] == "Must be one of: incoming, outgoing."
    assert named["register"]["message_th"] == "กรุณาระบุรหัสกอง" and named["register"]["message_en"] == "Type a division code."
    assert named["year"]["message_th"] != named["year"]["message_en"]
    for path in (f"{DOCS}/{HUGE}", f"{DOCS}/0", f"{DOCS}/2147483647"):
        assert admin.get(path).status_code == 404


def test_permission_and_scope_refusals(api_for, letters, keys):
    for path in (DOCS, f"{DOCS}/{letters['normal']}"):
        denied = api_for(keys["manager"]).get(path)  # a role manager has no correspondence screen
        assert denied.status_code == 403 and denied.get_json()["code"] == "forbidden"
        refused = api_for(keys["read_less"]).get(path)
        assert refused.status_code == 403 and refused.get_json()["code"] == "insufficient_scope"
        assert api_for(None).get(path).status_code == 401


def test_b_letters_are_not_there_for_a(api_a, api_b, letters, keys, api_for):
    b_id = letters["b_normal"]
    assert api_b.get(f"{DOCS}/{b_id}").status_code == 200
    assert api_a.get(f"{DOCS}/{b_id}").status_code == 404
    for query in ("", "division=engineering", "register=office", "direction=incoming"):
        assert b_id not in _ids(api_a, query)
    assert not _ids(api_b) & ({letters["normal"], letters["secret"], letters["sent"]} | set(letters["own"]))
    assert api_b.get(f"{DOCS}/{letters['normal']}").status_code == 404

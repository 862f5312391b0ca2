"""The secrecy matrix. A secret incoming letter and a secret outgoing letter of tenant A are seen only by the
people named on them (the officer who registered or wrote them, the executive and the director named) and by
someone a named executive has delegated their role to while the delegation runs: not by an officer of another
กอง, not by the office's own clerk who registered nothing, not by the organisation's administrator, not by the
ปลัด before or after the delegation, and not by anyone of tenant B. "Not seen" means the same everywhere: the
access rule, search, files, the list (no row, and the count as it was before the letter existed), the page, the
register book (no subject), the scan, the PDF: 404, never 403, so its existence does not show. Every opening by
a named reader is recorded."""
import re
from datetime import timedelta

import pytest
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import delete, func, select
from werkzeug.exceptions import NotFound

from app import thai
from app.extensions import db
from app.saraban import access, files, search
from app.saraban.models import OUTGOING, SECRET, TOP_SECRET, Document, DocumentFile, DocumentOpening
from app.service_requests.models import Delegation
from app.tenancy.context import tenant_scope
from tests.conftest import ids_in_links, record_count
from tests.saraban import documents
from tests.saraban.documents import letter
from tests.saraban.people import saraban  # noqa: F401

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
TOKEN = "SX7731"  # a word only these letters hold, so that search counts are theirs alone
NAMED = ("engofficer", "engdir", "mayor")  # the author, a named director, a named executive
NOT_NAMED = ("officer", "clerk", "admin", "palad")
LISTS = {"incoming": "/saraban/incoming", "outgoing": "/saraban/outgoing"}


@pytest.fixture(autouse=True)
def _app(app):
    documents.use(app)


def _list_counts(client_for, usernames) -> dict:
    counts = {}
    for username in usernames:
        client = client_for(username)
        for direction, route in LISTS.items():
            response = client.get(f"{route}/list/")
            assert response.status_code == 200, (username, route)
            counts[username, direction] = record_count(response.get_data(as_text=True))
    return counts


@pytest.fixture(scope="module")
def secret(app, saraban):  # noqa: F811
    """The two secret letters of A (with a scan each), a look-alike pair in B, and each A user's list counts
    from before they existed."""
    from tests.conftest import login

    documents.use(app)
    a, b = saraban["a"], saraban["b"]
    everyone = [f"a.sb.{k}" if k in ("clerk", "palad", "engdir", "engofficer") else f"a.{k}"
                for k in NAMED + NOT_NAMED]
    before = _list_counts(lambda u: login(app.test_client(), u), everyone)
    books_before = {u: _book_count(login(app.test_client(), u), a) for u in everyone}
    ids = {
        "incoming": letter(a, f"รายงานผลการสอบข้อเท็จจริงโครงการ {TOKEN}", secrecy=SECRET, author="engofficer",
                           readers=("engdir", "mayor"), division="engineering", scan=PDF),
        "outgoing": letter(a, f"ขอส่งผลการสอบสวนโครงการ {TOKEN}", direction=OUTGOING, secrecy=TOP_SECRET,
                           author="engofficer", readers=("engdir", "mayor"), division="engineering", numbered=False,
                           scan=PDF),
        # named on it: its author and the director, not the mayor (so not the mayor's delegate either)
        "not_mayors": letter(a, f"หนังสือลับที่นายกไม่ได้รับ {TOKEN}", secrecy=SECRET, author="engofficer",
                             readers=("engdir",), division="engineering"),
        "b_incoming": letter(b, f"รายงานผลการสอบข้อเท็จจริงโครงการ {TOKEN}", secrecy=SECRET, author="engofficer",
                             readers=("engdir", "mayor"), division="engineering", scan=PDF),
    }
    with app.app_context(), tenant_scope(a.tenant_id):
        file_ids = {k: db.session.scalar(select(DocumentFile.id).where(DocumentFile.document_id == ids[k]))
                    for k in ("incoming", "outgoing")}
        numbers = {"incoming": db.session.get(Document, ids["incoming"]).register_no}
        db.session.remove()
    return {"ids": ids, "files": file_ids, "numbers": numbers, "before": before, "books before": books_before}


def _book_count(client, people):
    """The count the central incoming book of this year shows the user (None: they may not read it)."""
    response = client.get(f"/saraban/books/?register={people.incoming_register_id}&year={_year()}")
    found = re.search(r'id="book-count" data-count="(\d+)"', response.get_data(as_text=True))
    return int(found.group(1)) if response.status_code == 200 and found else None


def _username(key: str, tenant: str = "a") -> str:
    return f"{tenant}.sb.{key}" if key in ("clerk", "palad", "engdir", "engofficer") else f"{tenant}.{key}"


def _user(tenant_id: int, user_id: int) -> User:
    user = db.session.get(User, user_id)
    assert user is not None and user.tenant_id == tenant_id
    return user


@pytest.fixture
def delegation(app, saraban):  # noqa: F811
    """make(ended=False): the mayor's role delegated to the ปลัด, running today (or ended yesterday);
    removed afterwards so that no other test finds it."""
    a = saraban["a"]
    made = []

    def make(ended: bool = False):
        today = thai.today_bangkok()
        with app.app_context(), tenant_scope(a.tenant_id):
            row = Delegation(delegator_id=a.users["mayor"], delegate_id=a.users["palad"], role_code="mayor",
                             kind="on_behalf", start_on=today - timedelta(days=10),
                             end_on=today - timedelta(days=1) if ended else today + timedelta(days=3))
            db.session.add(row)
            db.session.commit()
            made.append(row.id)
            db.session.remove()

    yield make
    with app.app_context(), tenant_scope(a.tenant_id):
        db.session.execute(delete(Delegation).where(Delegation.id.in_(made)))
        db.session.commit()
        db.session.remove()


# --- the service level ----------------------------------------------------------------------------------------

def _sees(app, people, key, ids) -> dict:
    """What the rule gives this user for each letter: (get, visible count, found by search, file served)."""
    out = {}
    with app.test_request_context(), tenant_scope(people.tenant_id):
        user = _user(people.tenant_id, people.users[key])
        for name, document_id in ids.items():
            got = access.get(document_id, user) is not None
            counted = db.session.scalar(access.visible(
                select(func.count(Document.id)).where(Document.id == document_id), user))
            found = db.session.scalar(access.visible(
                select(func.count(Document.id)).where(Document.id == document_id, search.matches(TOKEN)), user))
            out[name] = (got, counted, found)
        db.session.remove()
    return out


@pytest.mark.parametrize("key", NAMED)
def test_the_named_see_both_letters(app, saraban, secret, key):  # noqa: F811
    ids = {k: secret["ids"][k] for k in ("incoming", "outgoing")}
    assert _sees(app, saraban["a"], key, ids) == {k: (True, 1, 1) for k in ids}


@pytest.mark.parametrize("key", NOT_NAMED)
def test_nobody_else_of_the_organisation_sees_them(app, saraban, secret, key):  # noqa: F811
    ids = {k: secret["ids"][k] for k in ("incoming", "outgoing")}
    assert _sees(app, saraban["a"], key, ids) == {k: (False, 0, 0) for k in ids}
    with app.test_request_context(), tenant_scope(saraban["a"].tenant_id):
        user = _user(saraban["a"].tenant_id, saraban["a"].users[key])
        assert db.session.scalar(access.visible(select(func.count(Document.id)).where(search.matches(TOKEN)),
                                                user)) == 0
        for name in ("incoming", "outgoing"):
            with pytest.raises(NotFound):
                files.response(secret["ids"][name], secret["files"][name], user)
            assert not access.is_named(db.session.get(Document, secret["ids"][name]), user)
        db.session.remove()


@pytest.mark.parametrize("key", NAMED + ("clerk", "admin", "palad"))
def test_tenant_b_sees_none_of_them(app, saraban, secret, key):  # noqa: F811
    b = saraban["b"]
    ids = {k: secret["ids"][k] for k in ("incoming", "outgoing")}
    assert _sees(app, b, key, ids) == {k: (False, 0, 0) for k in ids}
    with app.test_request_context(), tenant_scope(b.tenant_id):
        user = _user(b.tenant_id, b.users[key])
        with pytest.raises(NotFound):
            files.response(secret["ids"]["incoming"], secret["files"]["incoming"], user)
        # B's own look-alike is B's named readers' only
        assert (access.get(secret["ids"]["b_incoming"], user) is not None) == (key in NAMED)
        db.session.remove()


def test_a_running_delegate_of_a_named_executive_sees_them_and_not_after_it_ended(app, saraban, secret,
                                                                                   delegation):  # noqa: F811
    a = saraban["a"]
    ids = {k: secret["ids"][k] for k in ("incoming", "outgoing")}
    delegation(ended=True)
    assert _sees(app, a, "palad", ids) == {k: (False, 0, 0) for k in ids}
    delegation(ended=False)
    assert _sees(app, a, "palad", ids) == {k: (True, 1, 1) for k in ids}
    # the delegation lends sight of what the executive is named on, not of what they are not
    assert _sees(app, a, "palad", {"other": secret["ids"]["not_mayors"]}) == {"other": (False, 0, 0)}


def test_files_response_records_the_opening_of_a_named_reader(app, saraban, secret):  # noqa: F811
    a = saraban["a"]
    with app.test_request_context(), tenant_scope(a.tenant_id):
        user = _user(a.tenant_id, a.users["engdir"])
        before = db.session.scalar(select(func.count(DocumentOpening.id)).where(
            DocumentOpening.document_id == secret["ids"]["incoming"], DocumentOpening.user_id == user.id,
            DocumentOpening.action == "file"))
        response = files.response(secret["ids"]["incoming"], secret["files"]["incoming"], user)
        assert response.status_code == 200 and response.get_data() == PDF
        assert response.headers["Cache-Control"] == "private, no-store"
        after = db.session.scalar(select(func.count(DocumentOpening.id)).where(
            DocumentOpening.document_id == secret["ids"]["incoming"], DocumentOpening.user_id == user.id,
            DocumentOpening.action == "file"))
        assert after == before + 1
        db.session.remove()


# --- the screens ------------------------------------------------------------------------------------------------

def _screens(client, secret, people) -> dict:
    """What one signed-in user gets of the two letters on every screen."""
    ids, file_ids = secret["ids"], secret["files"]
    out = {}
    for direction, route in LISTS.items():
        html = client.get(f"{route}/list/").get_data(as_text=True)
        out[f"{direction} listed"] = ids[direction] in ids_in_links(html, route)
        out[f"{direction} count"] = record_count(html)
        out[f"{direction} page"] = client.get(f"{route}/show/{ids[direction]}").status_code
        out[f"{direction} file"] = client.get(f"{route}/file/{ids[direction]}/{file_ids[direction]}").status_code
    out["pdf"] = client.get(f"/saraban/outgoing/pdf/{ids['outgoing']}").status_code
    html = client.get(f"/saraban/search/?q={TOKEN}").get_data(as_text=True)
    found = re.search(r'id="search-count">\D*([\d,]+)', html)
    out["search count"] = int(found.group(1).replace(",", "")) if found else None
    out["search shows"] = ("รายงานผลการสอบข้อเท็จจริง" in html, "ขอส่งผลการสอบสวน" in html)
    book = client.get(f"/saraban/books/?register={people.incoming_register_id}&year={_year()}"
                      f"&after={secret['numbers']['incoming'] - 1}")
    out["book subject"] = "รายงานผลการสอบข้อเท็จจริง" in book.get_data(as_text=True) if book.status_code == 200 \
        else book.status_code
    out["book row"] = f'data-number="{secret["numbers"]["incoming"]}"' in book.get_data(as_text=True)
    out["book count"] = _book_count(client, people)
    return out


def _year() -> int:
    return thai.be_year(thai.today_bangkok())


@pytest.mark.parametrize("key", NOT_NAMED)
def test_on_screen_the_letters_do_not_exist_for_others(app, saraban, secret, client_for, key):  # noqa: F811
    seen = _screens(client_for(_username(key)), secret, saraban["a"])
    for direction in LISTS:
        assert seen[f"{direction} listed"] is False
        assert seen[f"{direction} count"] == secret["before"][_username(key), direction]
        assert seen[f"{direction} page"] == 404
        assert seen[f"{direction} file"] == 404
    assert seen["pdf"] == 404
    assert seen["search count"] in (0, None) and seen["search shows"] == (False, False)
    assert seen["book subject"] in (False, 404)
    # not even a row with its number, nor a place in the book's count
    assert seen["book row"] is False
    assert seen["book count"] == secret["books before"][_username(key)]


@pytest.mark.parametrize("key", NAMED)
def test_on_screen_the_named_readers_see_them(app, saraban, secret, client_for, key):  # noqa: F811
    seen = _screens(client_for(_username(key)), secret, saraban["a"])
    for direction in LISTS:
        added = 2 if direction == "incoming" and key != "mayor" else 1  # the letter the mayor is not named on
        assert seen[f"{direction} listed"] is True
        assert seen[f"{direction} count"] == secret["before"][_username(key), direction] + added
        assert seen[f"{direction} page"] == 200
        assert seen[f"{direction} file"] == 200
    assert seen["pdf"] == 200
    assert seen["search count"] == (2 if key == "mayor" else 3) and seen["search shows"] == (True, True)
    # a named reader who may read the central book (the mayor) reads the subject there; the กองช่าง's
    # people may not open the central registry's book at all
    assert seen["book subject"] == (True if key == "mayor" else 404)
    if key == "mayor":  # counted: the letter named to the mayor, not the one that is not
        assert seen["book row"] is True and seen["book count"] == secret["books before"]["a.mayor"] + 1


@pytest.mark.parametrize("key", ("clerk", "admin", "mayor", "engdir"))
def test_on_screen_tenant_b_sees_none_of_it(app, saraban, secret, client_for, key):  # noqa: F811
    seen = _screens(client_for(_username(key, "b")), secret, saraban["b"])
    for direction in LISTS:
        assert seen[f"{direction} listed"] is False
        assert seen[f"{direction} page"] == 404
        assert seen[f"{direction} file"] == 404
    assert seen["pdf"] == 404
    # B's named readers find B's own look-alike only
    assert seen["search count"] in ((1,) if key in NAMED else (0, None))
    assert secret["ids"]["incoming"] not in ids_in_links(
        client_for(_username(key, "b")).get(f"/saraban/search/?q={TOKEN}").get_data(as_text=True), "/saraban/incoming")


def test_on_screen_a_running_delegate_sees_them_and_not_after(app, saraban, secret, client_for,
                                                              delegation):  # noqa: F811
    delegation(ended=True)
    seen = _screens(client_for("a.sb.palad"), secret, saraban["a"])
    assert (seen["incoming page"], seen["outgoing page"], seen["pdf"]) == (404, 404, 404)
    assert seen["incoming listed"] is False and seen["search count"] in (0, None)
    delegation(ended=False)
    seen = _screens(client_for("a.sb.palad"), secret, saraban["a"])
    assert (seen["incoming page"], seen["outgoing page"], seen["pdf"]) == (200, 200, 200)
    assert seen["incoming listed"] is True and seen["outgoing listed"] is True and seen["search count"] == 2


def test_every_opening_by_a_named_reader_is_recorded(app, saraban, secret, client_for):  # noqa: F811
    a, ids, file_ids = saraban["a"], secret["ids"], secret["files"]

    def openings() -> list:
        with documents._app.app_context(), tenant_scope(a.tenant_id):
            rows = [(o.document_id, o.user_id, o.action) for o in db.session.scalars(
                select(DocumentOpening).where(DocumentOpening.document_id.in_([ids["incoming"], ids["outgoing"]]))
                .order_by(DocumentOpening.id))]
            db.session.remove()
        return rows

    before = openings()
    reader = client_for("a.sb.engdir")
    assert reader.get(f"/saraban/incoming/show/{ids['incoming']}").status_code == 200
    assert reader.get(f"/saraban/incoming/file/{ids['incoming']}/{file_ids['incoming']}").status_code == 200
    assert reader.get(f"/saraban/outgoing/show/{ids['outgoing']}").status_code == 200
    assert reader.get(f"/saraban/outgoing/pdf/{ids['outgoing']}").status_code == 200
    engdir = a.users["engdir"]
    assert openings()[len(before):] == [(ids["incoming"], engdir, "open"), (ids["incoming"], engdir, "file"),
                                        (ids["outgoing"], engdir, "open"), (ids["outgoing"], engdir, "pdf")]
    # refused attempts leave no trace of an opening
    for username in ("a.sb.clerk", "a.admin", "b.sb.engdir"):
        other = client_for(username)
        other.get(f"/saraban/incoming/show/{ids['incoming']}")
        other.get(f"/saraban/outgoing/pdf/{ids['outgoing']}")
    assert len(openings()) == len(before) + 4

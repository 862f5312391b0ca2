"""The tenant admin's API-key screens: make a key (token shown once), list and show without secrets, rotate
and revoke with a confirmation, Thai errors under the fields with the input kept, B's keys invisible to A."""
from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from app import thai
from tests.api.open.conftest import API, KeyClient, make_key

BASE = "/integrations/keys"


def _form_id(html: str) -> str:
    return re.search(r'<input[^>]*name="form_id"[^>]*value="([^"]+)"', html).group(1)


def _token(html: str) -> str:
    return re.search(r'id="api-token" readonly value="(ttk_[^"]+)"', html).group(1)


def _make(client, user_id: int, **data) -> tuple[str, str]:
    """POST the make-a-key form; (token, page html)."""
    page = client.get(f"{BASE}/add").get_data(as_text=True)
    form = {"form_id": _form_id(page), "name": "ระบบร้องเรียนจังหวัด", "scopes": ["read"],
            "acting_user_id": str(user_id), "expires_on": "", "rate_limit_per_minute": "60", **data}
    response = client.post(f"{BASE}/add", data=form)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    return _token(body), body


def _key_row(db_session, token: str):
    prefix = token[4:16]
    return db_session.execute(text("SELECT * FROM api_keys WHERE prefix = :p"), {"p": prefix}).mappings().one()


def test_make_a_key_shows_the_token_once_and_it_works(app, client_for, tenant_a, db_session):
    admin = client_for("a.admin")
    token, page = _make(admin, tenant_a.user_ids["a.officer"], scopes=["read", "submit"], name="ระบบรับเรื่อง")
    assert "ไม่สามารถแสดงได้อีก" in page and 'id="copy-token"' in page
    row = _key_row(db_session, token)
    assert row["tenant_id"] == tenant_a.id and row["acting_user_id"] == tenant_a.user_ids["a.officer"]
    assert row["rate_limit_per_minute"] == 60 and row["created_by_name"]
    # a second visit (the key's page, the list) never shows the token
    shown = admin.get(f"{BASE}/show/{row['id']}").get_data(as_text=True)
    listed = admin.get(f"{BASE}/list/").get_data(as_text=True)
    for html in (shown, listed):
        assert token not in html and token[17:] not in html and row["secret_hash"] not in html
        assert f"ttk_{row['prefix']}…" in html
    assert re.search(r'id="key-status"><span class="label label-success">ใช้งาน<', shown)
    assert KeyClient(app, token).get(f"{API}/service-types").status_code == 200


def test_resubmitting_the_form_makes_no_second_key(client_for, tenant_a, db_session):
    admin = client_for("a.admin")
    page = admin.get(f"{BASE}/add").get_data(as_text=True)
    form = {"form_id": _form_id(page), "name": "ส่งซ้ำ", "scopes": ["read"],
            "acting_user_id": str(tenant_a.user_ids["a.officer"]), "rate_limit_per_minute": "10"}
    first = admin.post(f"{BASE}/add", data=form)
    token = _token(first.get_data(as_text=True))
    again = admin.post(f"{BASE}/add", data=form)
    assert again.status_code == 302 and f"{BASE}/show/" in again.headers["Location"]
    assert token not in admin.get(again.headers["Location"]).get_data(as_text=True)
    count = db_session.execute(text("SELECT count(*) FROM api_keys WHERE name = 'ส่งซ้ำ'")).scalar()
    assert count == 1


def test_form_offers_only_this_organisations_active_users_in_thai_order(client_for, tenant_a, tenant_b, db_session):
    from flask_appbuilder.security.sqla.models import User
    from sqlalchemy import select

    from app.tenancy.context import platform_scope

    html = client_for("a.admin").get(f"{BASE}/add").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="acting_user_id"[^>]*>(.*?)</select>', html, re.S).group(1)
    values = [int(v) for v in re.findall(r'<option[^>]*value="(\d+)"', select_html)]
    with platform_scope():  # other tests add users to A: compare with the database as it is now
        users = dict(db_session.execute(select(User.id, User.tenant_id).where(User.active.is_(True))).all())
    assert values and all(users.get(v) == tenant_a.id for v in values) and tenant_a.user_ids["a.officer"] in values
    assert {uid for uid, tid in users.items() if tid == tenant_a.id} == set(values)
    assert not set(values) & set(tenant_b.user_ids.values())
    labels = [html_lib.unescape(label) for label in re.findall(r'<option[^>]*value="\d+"[^>]*>([^<]*)<', select_html)]
    from pythainlp.util import collate

    assert labels == collate(labels)
    # the scopes are checkboxes with their Thai explanations
    assert html.count('type="checkbox"') >= 3 and 'name="scopes"' in html


def test_errors_are_thai_under_the_fields_and_the_input_stays(client_for, tenant_a, db_session):
    admin = client_for("a.admin")
    page = admin.get(f"{BASE}/add").get_data(as_text=True)
    yesterday = thai.format_date_input(thai.today_bangkok() - timedelta(days=1))
    response = admin.post(f"{BASE}/add", data={
        "form_id": _form_id(page), "name": "ข้อมูลผิดทุกช่อง", "acting_user_id": str(tenant_a.user_ids["a.officer"]),
        "expires_on": yesterday, "rate_limit_per_minute": "0"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "เลือกขอบเขตอย่างน้อยหนึ่ง" in html
    assert "1 ถึง 10,000" in html
    assert re.search(r'id="row-expires_on".*?field-error', html, re.S)
    assert 'value="ข้อมูลผิดทุกช่อง"' in html and f'value="{yesterday}"' in html
    garbled = admin.post(f"{BASE}/add", data={"form_id": _form_id(page), "name": "", "scopes": ["read"],
                                              "acting_user_id": "", "expires_on": "31/02/2570",
                                              "rate_limit_per_minute": "abc"})
    assert garbled.status_code == 422
    body = garbled.get_data(as_text=True)
    assert re.search(r'class="has-error" id="row-name"', body) and re.search(r'class="has-error" id="row-acting_user_id"', body)
    assert 'value="31/02/2570"' in body
    assert db_session.execute(text("SELECT count(*) FROM api_keys WHERE name = 'ข้อมูลผิดทุกช่อง'")).scalar() == 0


def test_another_organisations_user_cannot_be_chosen(client_for, tenant_a, tenant_b, db_session):
    admin = client_for("a.admin")
    page = admin.get(f"{BASE}/add").get_data(as_text=True)
    response = admin.post(f"{BASE}/add", data={"form_id": _form_id(page), "name": "ผู้ใช้ของ ข", "scopes": ["read"],
                                               "acting_user_id": str(tenant_b.user_ids["b.admin"]),
                                               "rate_limit_per_minute": "5"})
    assert response.status_code == 422
    assert db_session.execute(text("SELECT count(*) FROM api_keys WHERE name = 'ผู้ใช้ของ ข'")).scalar() == 0


def test_the_chosen_day_is_the_keys_last_day_in_bangkok(client_for, tenant_a, db_session):
    admin = client_for("a.admin")
    day = thai.today_bangkok() + timedelta(days=30)
    token, _page = _make(admin, tenant_a.user_ids["a.officer"], name="มีวันหมดอายุ",
                         expires_on=thai.format_date_input(day))
    row = _key_row(db_session, token)
    expires = row["expires_at"]
    if isinstance(expires, str):
        from datetime import datetime

        expires = datetime.fromisoformat(expires)
    # it works all through the chosen day and stops at the midnight that ends it
    assert thai.to_bangkok(expires).date() == day + timedelta(days=1) and thai.to_bangkok(expires).hour == 0
    shown = admin.get(f"{BASE}/show/{row['id']}").get_data(as_text=True)
    assert str(thai.be_year(day)) in re.search(r'id="key-expiry">(.*?)</td>', shown).group(1)


def test_rotate_shows_the_new_token_once_and_the_old_keeps_working_for_the_grace(app, client_for, tenant_a,
                                                                                  db_session):
    admin = client_for("a.admin")
    old_token, _page = _make(admin, tenant_a.user_ids["a.officer"], name="จะหมุน")
    old = _key_row(db_session, old_token)
    confirm = admin.get(f"{BASE}/rotate/{old['id']}").get_data(as_text=True)
    assert "24" in confirm and 'method="post"' in confirm
    rotated = admin.post(f"{BASE}/rotate/{old['id']}")
    assert rotated.status_code == 200 and rotated.headers["Cache-Control"] == "no-store"
    page = rotated.get_data(as_text=True)
    new_token = _token(page)
    assert new_token != old_token and 'id="rotation-grace"' in page
    new = _key_row(db_session, new_token)
    assert new["rotated_from_id"] == old["id"] and new["acting_user_id"] == old["acting_user_id"]
    assert new["rate_limit_per_minute"] == old["rate_limit_per_minute"] and new["name"] == old["name"]
    for token in (old_token, new_token):
        assert KeyClient(app, token).get(f"{API}/service-types").status_code == 200
    # sent again: no third key, the new one is pointed to
    again = admin.post(f"{BASE}/rotate/{old['id']}")
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/show/{new['id']}")
    assert db_session.execute(text("SELECT count(*) FROM api_keys WHERE name = 'จะหมุน'")).scalar() == 2
    assert new_token not in admin.get(f"{BASE}/show/{new['id']}").get_data(as_text=True)


def test_revoke_asks_then_records_who(app, client_for, tenant_a, db_session):
    admin = client_for("a.admin")
    token, _page = _make(admin, tenant_a.user_ids["a.officer"], name="จะเพิกถอน")
    row = _key_row(db_session, token)
    assert admin.get(f"{BASE}/revoke/{row['id']}").status_code == 200
    assert _key_row(db_session, token)["revoked_at"] is None  # the confirmation page changes nothing
    done = admin.post(f"{BASE}/revoke/{row['id']}")
    assert done.status_code == 302
    after = _key_row(db_session, token)
    assert after["revoked_at"] is not None and after["revoked_by_name"]
    shown = admin.get(f"{BASE}/show/{row['id']}").get_data(as_text=True)
    assert 'id="key-revoked"' in shown and ">เพิกถอนแล้ว<" in shown and after["revoked_by_name"] in shown and 'id="rotate-key"' not in shown
    refused = KeyClient(app, token).get(f"{API}/service-types")
    assert refused.status_code == 401 and refused.get_json()["code"] == "key_revoked"


def test_b_keys_are_invisible_and_untouchable_to_a(app, client_for, tenant_b, db_session):
    token_b = make_key(app, "1000002", "b.admin", scopes=("read",), name="กุญแจของ ข")
    row = _key_row(db_session, token_b)
    admin_a = client_for("a.admin")
    listed = admin_a.get(f"{BASE}/list/").get_data(as_text=True)
    assert "กุญแจของ ข" not in listed and row["prefix"] not in listed
    assert admin_a.get(f"{BASE}/show/{row['id']}").status_code == 404
    for path in ("rotate", "revoke"):
        assert admin_a.get(f"{BASE}/{path}/{row['id']}").status_code == 404
        assert admin_a.post(f"{BASE}/{path}/{row['id']}").status_code == 404
    assert admin_a.get(f"{BASE}/show/99999999999").status_code == 404
    after = _key_row(db_session, token_b)
    assert after["revoked_at"] is None and after["expires_at"] is None
    assert db_session.execute(text("SELECT count(*) FROM api_keys WHERE rotated_from_id = :i"),
                              {"i": row["id"]}).scalar() == 0
    # B's admin sees it
    assert "กุญแจของ ข" in client_for("b.admin").get(f"{BASE}/list/").get_data(as_text=True)


@pytest.mark.parametrize("path", ["list/", "add", "show/1", "rotate/1", "revoke/1"])
def test_a_non_admin_cannot_open_the_screens(client_for, path):
    officer = client_for("a.officer")
    assert officer.get(f"{BASE}/{path}").status_code == 403
    if path.startswith(("add", "rotate", "revoke")):
        assert officer.post(f"{BASE}/{path}", data={"name": "x"}).status_code == 403


def test_edit_and_delete_are_not_offered(client_for, app, db_session):
    token = make_key(app, "1000001", "a.admin", scopes=("read",), name="ไม่มีแก้ไข")
    row = _key_row(db_session, token)
    admin = client_for("a.admin")
    assert admin.get(f"{BASE}/edit/{row['id']}").status_code in (403, 404)
    assert admin.post(f"{BASE}/delete/{row['id']}").status_code in (403, 404, 405)
    assert _key_row(db_session, token)["revoked_at"] is None


def test_menu_and_english_labels(client_for):
    admin = client_for("a.admin")
    home = admin.get("/").get_data(as_text=True)
    assert f'href="{BASE}/list/"' in home and "กุญแจ API" in home
    admin.get("/lang/en")
    try:
        listed = admin.get(f"{BASE}/list/").get_data(as_text=True)
        assert "API keys" in listed and "Acts as" in listed and "Calls per minute" in listed
        form = admin.get(f"{BASE}/add").get_data(as_text=True)
        assert "Make the key" in form and "Last day" in form
        assert "read: look up services" in form
    finally:
        admin.get("/lang/th")
    thai_form = admin.get(f"{BASE}/add").get_data(as_text=True)
    assert "Make the key" not in thai_form and "Acts as" not in thai_form


def test_the_list_shows_status_in_thai_and_last_use_with_the_address(app, client_for, db_session):
    token = make_key(app, "1000001", "a.officer", scopes=("read",), name="ดูการใช้ล่าสุด")
    client = KeyClient(app, token)
    client._client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert client.get(f"{API}/service-types").status_code == 200
    row = _key_row(db_session, token)
    html = client_for("a.admin").get(f"{BASE}/show/{row['id']}").get_data(as_text=True)
    last_used = re.search(r'id="key-last-used">(.*?)</td>', html).group(1)
    assert "203.0.113.9" in last_used and str(thai.be_year(thai.today_bangkok())) in last_used
    listed = client_for("a.admin").get(f"{BASE}/list/?_flt_0_name=ดูการใช้ล่าสุด").get_data(as_text=True)
    assert "203.0.113.9" in listed and ">ใช้งาน<" in listed


def test_no_select_of_the_secret_hash_reaches_a_screen():
    from app.api.key_views import IntegrationKeyView

    for attr in ("list_columns", "show_columns", "search_columns", "add_columns", "edit_columns"):
        assert "secret_hash" not in (getattr(IntegrationKeyView, attr, None) or [])


def test_the_forms_need_the_csrf_token(app, database_url, tenant_a, db_session):
    from tests.conftest import PASSWORD, make_app

    guarded = make_app(database_url, WTF_CSRF_ENABLED=True)
    client = guarded.test_client()
    login_page = client.get("/login/").get_data(as_text=True)
    token = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    assert client.post("/login/", data={"username": "a.admin", "password": PASSWORD,
                                        "csrf_token": token}).status_code == 302
    page = client.get(f"{BASE}/add").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = {"form_id": _form_id(page), "name": "ต้องมีโทเคน CSRF", "scopes": ["read"],
            "acting_user_id": str(tenant_a.user_ids["a.officer"]), "rate_limit_per_minute": "10"}
    refused = client.post(f"{BASE}/add", data=form)
    assert refused.status_code == 400 and 'id="api-token"' not in refused.get_data(as_text=True)
    assert db_session.execute(text("SELECT count(*) FROM api_keys WHERE name = 'ต้องมีโทเคน CSRF'")).scalar() == 0
    made = client.post(f"{BASE}/add", data={**form, "csrf_token": csrf})
    key_token = _token(made.get_data(as_text=True))
    row = _key_row(db_session, key_token)
    for action in ("rotate", "revoke"):
        confirm = client.get(f"{BASE}/{action}/{row['id']}").get_data(as_text=True)
        assert 'name="csrf_token"' in confirm
        assert client.post(f"{BASE}/{action}/{row['id']}").status_code == 400  # refused, nothing done
    after = _key_row(db_session, key_token)
    assert after["revoked_at"] is None and after["expires_at"] is None
    assert db_session.execute(text("SELECT count(*) FROM api_keys WHERE rotated_from_id = :i"),
                              {"i": row["id"]}).scalar() == 0
    confirm = client.get(f"{BASE}/revoke/{row['id']}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', confirm).group(1)
    assert client.post(f"{BASE}/revoke/{row['id']}", data={"csrf_token": csrf}).status_code == 302
    assert _key_row(db_session, key_token)["revoked_at"] is not None

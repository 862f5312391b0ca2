"""Usernames and e-mail addresses are unique on the whole platform (one login form for every
organisation). A tenant admin who picks one in use learns only that it is taken: the page is the same
whether the holder is in their own organisation or another, and shows nothing about the holder."""
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import func, select

from app.tenancy.context import platform_scope

USERNAME_TAKEN = "ชื่อผู้ใช้นี้มีผู้ใช้แล้ว ชื่อผู้ใช้ต้องไม่ซ้ำกันทั้งระบบ กรุณาเลือกชื่ออื่น"
EMAIL_TAKEN = "อีเมลนี้มีผู้ใช้แล้ว อีเมลต้องไม่ซ้ำกันทั้งระบบ กรุณาใช้อีเมลอื่น"
# what B's officer is, beyond the login name: none of it may reach A's admin
B_DETAILS = ("officer@b.test", "เจ้าหน้าที่ บี", "องค์การบริหารส่วนตำบลบี", "SAO B", "1000002")
BASE = {"first_name": "ใหม่", "last_name": "เอ", "active": "y", "password": "goodpass2569",
        "conf_password": "goodpass2569"}


def _users(db_session):
    with platform_scope():
        return db_session.scalar(select(func.count()).select_from(User))


def _add(client, username, email):
    response = client.post("/org-users/add", data={**BASE, "username": username, "email": email})
    assert response.status_code == 200  # the form again
    return response.get_data(as_text=True)


def test_taken_username_says_only_taken(client_for, db_session, tenant_b):
    client = client_for("a.admin")
    before = _users(db_session)
    own = _add(client, "a.officer", "fresh1@a.test")
    other = _add(client, "b.officer", "fresh1@a.test")
    upper = _add(client, "B.Officer", "fresh1@a.test")  # logins ignore case, so does the check
    for html in (own, other, upper):
        assert USERNAME_TAKEN in html
    # the same page, whichever organisation holds the name
    assert own.replace("a.officer", "NAME") == other.replace("b.officer", "NAME") == upper.replace("B.Officer", "NAME")
    for detail in B_DETAILS:
        assert detail not in other, detail
    assert f"/org-users/show/{tenant_b.user_ids['b.officer']}" not in other
    assert _users(db_session) == before


def test_taken_email_says_only_taken(client_for, db_session):
    client = client_for("a.admin")
    before = _users(db_session)
    own = _add(client, "a.fresh", "officer@a.test")
    other = _add(client, "a.fresh", "officer@b.test")
    upper = _add(client, "a.fresh", "OFFICER@B.TEST")
    for html in (own, other, upper):
        assert EMAIL_TAKEN in html
    assert own.replace("officer@a.test", "MAIL") == other.replace("officer@b.test", "MAIL") == upper.replace(
        "OFFICER@B.TEST", "MAIL")
    for detail in B_DETAILS[1:]:
        assert detail not in other, detail
    assert _users(db_session) == before


def test_edit_to_a_taken_email_is_refused_and_own_email_is_kept(client_for, db_session, tenant_a):
    client = client_for("a.admin")
    pk = tenant_a.user_ids["a.mayor"]
    data = {"first_name": "นายก", "last_name": "เอ", "active": "y"}
    response = client.post(f"/org-users/edit/{pk}", data={**data, "email": "officer@b.test"})
    assert response.status_code == 200 and EMAIL_TAKEN in response.get_data(as_text=True)
    with platform_scope():
        db_session.expire_all()
        assert db_session.get(User, pk).email == "mayor@a.test"
    # the user's own address is not "taken" by the user
    assert client.post(f"/org-users/edit/{pk}", data={**data, "email": "mayor@a.test"}).status_code == 302


def test_a_free_username_is_created_in_the_admins_organisation(client_for, db_session, tenant_a):
    response = client_for("a.admin").post(
        "/org-users/add", data={**BASE, "username": "a.unique1", "email": "unique1@a.test"})
    assert response.status_code == 302
    with platform_scope():
        assert db_session.scalar(select(User.tenant_id).where(User.username == "a.unique1")) == tenant_a.id

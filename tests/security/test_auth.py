"""Login: rate limited, a failed login reveals nothing, password policy, deactivated organisations."""
import re

from sqlalchemy import select, update

from app.tenancy.context import platform_scope
from app.tenancy.models import Tenant
from tests.conftest import PASSWORD, login, make_app


def _login_page_after(client, username, password):
    response = client.post("/login/", data={"username": username, "password": password}, follow_redirects=True)
    text = response.get_data(as_text=True)
    return re.sub(r'name="csrf_token"[^>]*>', "", text)


def test_failed_login_does_not_reveal_whether_user_exists(app):
    unknown = _login_page_after(app.test_client(), "nobody.here", "wrong-password-1")
    wrong = _login_page_after(app.test_client(), "a.officer", "wrong-password-1")
    assert unknown == wrong


def _limited_app(database_url):
    return make_app(database_url, RATELIMIT_ENABLED=True, AUTH_RATE_LIMITED=True, AUTH_RATE_LIMIT="3 per minute")


WRONG_FORM = {"username": "a.officer", "password": "wrong-password-1"}
WRONG_API = {**WRONG_FORM, "provider": "db"}
TOO_MANY_TH = "มีการลองหลายครั้งเกินไปจากเครื่องของท่าน กรุณารอสักครู่แล้วลองใหม่อีกครั้ง"
TOO_MANY_EN = "Too many attempts from your address. Please wait a while and try again."


def test_login_is_rate_limited(database_url):
    client = _limited_app(database_url).test_client()
    codes = [client.post("/login/", data=WRONG_FORM).status_code for _ in range(4)]
    assert 429 not in codes[:3] and codes[3] == 429
    assert TOO_MANY_TH in client.post("/login/", data=WRONG_FORM).get_data(as_text=True)


def test_api_login_is_rate_limited_per_address(database_url):
    limited = _limited_app(database_url)
    client = limited.test_client()
    codes = [client.post("/api/v1/security/login", json=WRONG_API).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    response = client.post("/api/v1/security/login", json=WRONG_API)
    assert response.status_code == 429 and response.get_json() == {"message": TOO_MANY_TH}
    # English for a client that asks for it (FAB's ?_l_= or Accept-Language)
    response = client.post("/api/v1/security/login?_l_=en", json=WRONG_API)
    assert response.status_code == 429 and response.get_json() == {"message": TOO_MANY_EN}
    response = client.post("/api/v1/security/login", json=WRONG_API, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert response.get_json() == {"message": TOO_MANY_EN}
    # the right password waits too, and no token is handed out
    response = client.post("/api/v1/security/login", json={**WRONG_API, "password": PASSWORD})
    assert response.status_code == 429 and "access_token" not in response.get_json()
    # the limit is per address: another client is not blocked
    other = limited.test_client()
    response = other.post("/api/v1/security/login", json={**WRONG_API, "password": PASSWORD},
                          environ_base={"REMOTE_ADDR": "10.20.30.40"})
    assert response.status_code == 200 and response.get_json()["access_token"]


def test_form_and_api_logins_share_one_counter(database_url):
    client = _limited_app(database_url).test_client()
    assert client.post("/login/", data=WRONG_FORM).status_code != 429
    assert client.post("/login/", data=WRONG_FORM).status_code != 429
    assert client.post("/api/v1/security/login", json=WRONG_API).status_code == 401
    assert client.post("/api/v1/security/login", json=WRONG_API).status_code == 429
    assert client.post("/login/", data=WRONG_FORM).status_code == 429


def test_password_policy_on_new_users(app, client_for):
    client = client_for("a.admin")
    base = {"username": "a.newbie", "first_name": "ใหม่", "last_name": "เอ", "email": "newbie@a.test", "active": "y"}
    for bad in ("short1", "onlyletterslong", "1234567890123"):
        response = client.post("/org-users/add", data={**base, "password": bad, "conf_password": bad})
        assert response.status_code == 200
        assert "a.newbie" in response.get_data(as_text=True)  # input kept
    response = client.post("/org-users/add", data={**base, "password": "goodpass2569", "conf_password": "goodpass2569"})
    assert response.status_code == 302
    new_client = login(app.test_client(), "a.newbie", "goodpass2569")
    assert new_client.get("/").status_code == 200


def test_new_user_is_bound_to_the_admins_tenant(client_for, db_session, tenant_a):
    from flask_appbuilder.security.sqla.models import User

    client = client_for("a.admin")
    data = {"username": "a.bound", "first_name": "ผูก", "last_name": "เอ", "email": "bound@a.test",
            "active": "y", "password": "goodpass2569", "conf_password": "goodpass2569"}
    assert client.post("/org-users/add", data=data).status_code == 302
    with platform_scope():
        assert db_session.scalar(select(User.tenant_id).where(User.username == "a.bound")) == tenant_a.id


def test_users_of_a_deactivated_tenant_cannot_log_in(app, db_session, tenant_b):
    with platform_scope():
        db_session.execute(update(Tenant).where(Tenant.id == tenant_b.id).values(active=False))
        db_session.commit()
    try:
        response = app.test_client().post("/login/", data={"username": "b.officer", "password": PASSWORD})
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    finally:
        with platform_scope():
            db_session.execute(update(Tenant).where(Tenant.id == tenant_b.id).values(active=True))
            db_session.commit()


def test_tenant_admin_resets_own_users_password_only(app, client_for, tenant_a, tenant_b):
    admin = client_for("a.admin")
    response = admin.post(f"/org-users/action/reset_password/{tenant_b.user_ids['b.mayor']}")
    assert response.status_code == 404
    login(app.test_client(), "b.mayor")  # B's password unchanged
    response = admin.post(f"/org-users/action/reset_password/{tenant_a.user_ids['a.mayor']}", follow_redirects=True)
    try:
        match = re.search(r"a\.mayor[^A-Za-z0-9]+([A-Za-z0-9]{14})", response.get_data(as_text=True))
        assert match, "the new password is shown once"
        login(app.test_client(), "a.mayor", match.group(1))
    finally:
        _restore_password(app, "a.mayor")
    # a role manager may not reset the password of someone above them
    manager = client_for("a.manager")
    response = manager.post(f"/org-users/action/reset_password/{tenant_a.user_ids['a.admin']}")
    assert response.status_code in (302, 403)
    login(app.test_client(), "a.admin")


def _restore_password(app, username):
    from flask_appbuilder.security.sqla.models import User
    from werkzeug.security import generate_password_hash

    from app.extensions import db

    with app.app_context(), platform_scope():
        user = db.session.scalar(select(User).where(User.username == username))
        user.password = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        db.session.commit()


def test_staff_see_and_change_their_own_account(app, client_for):
    client = client_for("a.officer")
    assert client.get("/users/userinfo/").status_code == 200
    assert client.get("/resetmypassword/form").status_code == 200
    response = client.post(
        "/resetmypassword/form", data={"password": "changed2569pw", "conf_password": "changed2569pw"}
    )
    assert response.status_code == 302
    try:
        login(app.test_client(), "a.officer", "changed2569pw")
    finally:
        _restore_password(app, "a.officer")
    # but not anyone else's account
    assert client.get("/users/list/").status_code in (302, 403)

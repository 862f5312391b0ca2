"""Integration keys at the open API's door: scopes, expiry, revocation, unknown and tampered tokens, a key whose
user left, rotation with its grace period, the last use recorded at most once a minute, the token never
stored, both ways of sending a key, user tokens, and no session cookie ever authenticating."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text, update
from werkzeug.security import generate_password_hash

from tests.api.open.conftest import API, KeyClient, make_key
from tests.conftest import PASSWORD, login, make_app

SERVICE_TYPES = f"{API}/service-types"


def _prefix(token: str) -> str:
    return token[4:16]


def _set(app, token: str, **values) -> None:
    """Change a key's row directly (as time passing, or another screen, would)."""
    from app.api.models import IntegrationKey
    from app.extensions import db
    from app.tenancy.context import platform_scope

    with app.app_context(), platform_scope():
        db.session.execute(update(IntegrationKey).where(IntegrationKey.prefix == _prefix(token)).values(**values))
        db.session.commit()
        db.session.remove()


def _row(app, token: str):
    from app.api.models import IntegrationKey
    from app.extensions import db
    from app.tenancy.context import platform_scope

    with app.app_context(), platform_scope():
        key = db.session.scalar(select(IntegrationKey).where(IntegrationKey.prefix == _prefix(token)))
        db.session.expunge(key)
        db.session.remove()
        return key


def _error(response, status: int, code: str) -> dict:
    body = response.get_json()
    assert response.status_code == status, body
    assert body["code"] == code and body["status"] == status
    assert body["message_th"] and body["message_en"] and body["message_th"] != body["message_en"]
    return body


# --- scopes: a tiny guarded blueprint with one operation per scope, on an app of its own -------------------

@pytest.fixture(scope="module")
def scoped_app(app, database_url):
    from app.api.models import MANAGE, READ, SUBMIT
    from app.api.openapi import ApiBlueprint, guard_blueprint, operation

    application = make_app(database_url)
    blp = ApiBlueprint("test_key_scopes", __name__, url_prefix=f"{API}/test-scopes")
    guard_blueprint(blp)

    def add(path, scope, method):
        def view():
            return {"scope": scope}

        view.__name__ = f"call_{scope}"
        blp.route(path, methods=[method])(operation(blp, scope)(blp.response(200)(view)))

    add("/read", READ, "GET")
    add("/submit", SUBMIT, "POST")
    add("/manage", MANAGE, "POST")
    application.extensions["open_api"].register_blueprint(blp)
    return application


@pytest.mark.parametrize("scopes, allowed", [
    (("read",), {"read"}),
    (("read", "submit"), {"read", "submit"}),
    (("manage",), {"manage"}),
])
def test_a_key_may_call_only_within_its_scopes(scoped_app, scopes, allowed):
    client = KeyClient(scoped_app, make_key(scoped_app, "1000001", "a.admin", scopes=scopes))
    for scope, method in (("read", "GET"), ("submit", "POST"), ("manage", "POST")):
        response = client.open(method, f"{API}/test-scopes/{scope}")
        if scope in allowed:
            assert response.status_code == 200 and response.get_json() == {"scope": scope}
        else:
            body = _error(response, 403, "insufficient_scope")
            assert scope in body["message_en"]


# --- the key's state ---------------------------------------------------------------------------------------

def test_an_expired_key_is_refused(app, api_for):
    token = make_key(app, "1000001", "a.admin", scopes=("read",), name="expired",
                     expires_at=datetime.utcnow() + timedelta(days=1))
    assert api_for(token).get(SERVICE_TYPES).status_code == 200
    _set(app, token, expires_at=datetime.utcnow() - timedelta(seconds=1))
    _error(api_for(token).get(SERVICE_TYPES), 401, "key_expired")


def test_a_revoked_key_is_refused(app, api_for):
    from app.api import keys
    from app.api.models import IntegrationKey
    from app.extensions import db
    from app.tenancy.context import platform_scope

    token = make_key(app, "1000001", "a.admin", scopes=("read",), name="revoked")
    with app.app_context(), platform_scope():
        keys.revoke(db.session.scalar(select(IntegrationKey).where(IntegrationKey.prefix == _prefix(token))),
                    by_name="pytest")
        db.session.commit()
        db.session.remove()
    _error(api_for(token).get(SERVICE_TYPES), 401, "key_revoked")


@pytest.mark.parametrize("token", [
    "ttk_000000000000_" + "x" * 43, "garbage", "ttk_", "ttk_abc_def", "ttk_" + "0" * 40, "ttk_😀😀😀😀😀😀😀😀😀😀😀😀_x",
])
def test_unknown_or_garbled_tokens_are_invalid(api_for, token):
    _error(api_for(token).get(SERVICE_TYPES), 401, "invalid_key")


def test_no_key_at_all_is_unauthenticated(api_for):
    _error(api_for(None).get(SERVICE_TYPES), 401, "unauthenticated")


def test_a_key_whose_user_left_is_inactive(app, tenant_a, api_for):
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db
    from app.tenancy.context import tenant_scope

    with app.app_context(), tenant_scope(tenant_a.id):
        user = db.session.scalar(select(User).where(User.username == "a.keybot"))
        if user is None:
            db.session.add(User(username="a.keybot", first_name="บอท", last_name="เชื่อมระบบ", email="keybot@a.test",
                                active=True, tenant_id=tenant_a.id,
                                password=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")))
        else:
            user.active = True
        db.session.commit()
        db.session.remove()
    token = make_key(app, "1000001", "a.keybot", scopes=("read",), name="keybot")
    assert api_for(token).get(SERVICE_TYPES).status_code == 200
    with app.app_context(), tenant_scope(tenant_a.id):
        db.session.scalar(select(User).where(User.username == "a.keybot")).active = False
        db.session.commit()
        db.session.remove()
    _error(api_for(token).get(SERVICE_TYPES), 401, "key_inactive")


# --- rotation ----------------------------------------------------------------------------------------------

def test_rotation_keeps_the_old_key_for_the_grace_period_only(app, api_for):
    from app.api import keys
    from app.api.models import IntegrationKey
    from app.extensions import db
    from app.tenancy.context import tenant_scope

    old_token = make_key(app, "1000001", "a.admin", scopes=("read",), name="to rotate")
    old = _row(app, old_token)
    before = datetime.utcnow()
    with app.app_context(), tenant_scope(old.tenant_id):
        key = db.session.get(IntegrationKey, old.id)
        new_key, new_token = keys.rotate(key, by_name="pytest")
        db.session.commit()
        db.session.remove()
    assert new_token != old_token
    old_after = _row(app, old_token)
    assert before + keys.ROTATION_GRACE <= old_after.expires_at <= datetime.utcnow() + keys.ROTATION_GRACE
    assert api_for(new_token).get(SERVICE_TYPES).status_code == 200
    assert api_for(old_token).get(SERVICE_TYPES).status_code == 200  # within the grace period
    # the grace period ends
    _set(app, old_token, expires_at=datetime.utcnow() - timedelta(seconds=1))
    _error(api_for(old_token).get(SERVICE_TYPES), 401, "key_expired")
    assert api_for(new_token).get(SERVICE_TYPES).status_code == 200
    assert _row(app, new_token).rotated_from_id == old.id and _row(app, new_token).expires_at is None


def test_a_revoked_key_cannot_be_rotated(app):
    from app.api import keys
    from app.api.models import IntegrationKey
    from app.extensions import db
    from app.tenancy.context import tenant_scope
    from app.tenancy.errors import UserError

    token = make_key(app, "1000001", "a.admin", scopes=("read",), name="revoked, no rotation")
    row = _row(app, token)
    with app.test_request_context(), tenant_scope(row.tenant_id):
        key = db.session.get(IntegrationKey, row.id)
        keys.revoke(key, by_name="pytest")
        with pytest.raises(UserError):
            keys.rotate(key, by_name="pytest")
        db.session.rollback()
        db.session.remove()


# --- last use ----------------------------------------------------------------------------------------------

def test_last_use_is_written_at_most_once_a_minute(app, api_for):
    token = make_key(app, "1000001", "a.admin", scopes=("read",), name="last used")
    assert _row(app, token).last_used_at is None
    client = api_for(token)
    client._client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert client.get(SERVICE_TYPES).status_code == 200
    first = _row(app, token)
    assert first.last_used_at is not None and first.last_used_ip == "198.51.100.7"
    assert client.get(SERVICE_TYPES).status_code == 200
    assert _row(app, token).last_used_at == first.last_used_at  # the same minute: not written again
    # a minute later it is written again
    _set(app, token, last_used_at=first.last_used_at - timedelta(seconds=61))
    assert client.get(SERVICE_TYPES).status_code == 200
    assert _row(app, token).last_used_at > first.last_used_at - timedelta(seconds=1)
    # another address is recorded at once
    client._client.environ_base["REMOTE_ADDR"] = "198.51.100.8"
    assert client.get(SERVICE_TYPES).status_code == 200
    assert _row(app, token).last_used_ip == "198.51.100.8"


# --- the secret ----------------------------------------------------------------------------------------------

def test_the_token_is_never_stored(app, db_session):
    token = make_key(app, "1000001", "a.admin", scopes=("read",), name="not stored")
    secret = token.split("_", 2)[2]
    rows = db_session.execute(text("SELECT * FROM api_keys")).mappings().all()
    assert rows
    for row in rows:
        for value in row.values():
            assert token not in str(value) and secret not in str(value)
    stored = next(r for r in rows if r["prefix"] == _prefix(token))
    import hashlib

    assert stored["secret_hash"] == hashlib.sha256(token.encode()).hexdigest()


def test_a_prefix_of_b_with_a_tampered_secret_is_refused(app, api_for, key_b):
    before = _row(app, key_b).last_used_at
    tampered = key_b[:-4] + ("AAAA" if not key_b.endswith("AAAA") else "BBBB")
    _error(api_for(tampered).get(SERVICE_TYPES), 401, "invalid_key")
    _error(api_for(key_b[:17]).get(SERVICE_TYPES), 401, "invalid_key")  # the prefix alone
    assert _row(app, key_b).last_used_at == before  # nothing was recorded against B's key
    assert api_for(key_b).get(SERVICE_TYPES).status_code == 200  # B's own key still works


def test_bearer_ttk_works_like_x_api_key(app, key_a):
    client = app.test_client(use_cookies=False)
    by_header = client.get(SERVICE_TYPES, headers={"X-API-Key": key_a}).get_json()
    by_bearer = client.get(SERVICE_TYPES, headers={"Authorization": f"Bearer {key_a}"})
    assert by_bearer.status_code == 200 and by_bearer.get_json() == by_header
    refused = client.get(SERVICE_TYPES, headers={"Authorization": f"Bearer {key_a}x"})
    _error(refused, 401, "invalid_key")


# --- users and sessions --------------------------------------------------------------------------------------

def test_a_session_cookie_alone_does_not_authenticate(app):
    client = login(app.test_client(), "a.admin")
    assert client.get("/integrations/keys/list/").status_code == 200  # the session is good for the screens
    _error(client.get(SERVICE_TYPES), 401, "unauthenticated")


def test_a_user_token_from_the_login_works_and_a_forged_one_does_not(app):
    client = app.test_client(use_cookies=False)
    logged = client.post("/api/v1/security/login", json={"username": "a.admin", "password": PASSWORD,
                                                          "provider": "db"})
    assert logged.status_code == 200
    access = logged.get_json()["access_token"]
    listed = client.get(SERVICE_TYPES, headers={"Authorization": f"Bearer {access}"})
    assert listed.status_code == 200 and {"test_permit", "water_truck"} <= {
        s["code"] for s in listed.get_json()["items"]}
    _error(client.get(SERVICE_TYPES, headers={"Authorization": f"Bearer {access[:-3]}abc"}), 401, "invalid_token")

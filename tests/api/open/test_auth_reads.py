"""What the open API's authentication costs (app/api/auth.py): the key's row is read once per call, its acting
user once (with roles, memberships and the permissions version), a user's token is checked once; the row scope
needs no lazy load of the memberships. The refusals stay as they were."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from tests.api.open.conftest import API, KeyClient, make_key
from tests.conftest import PASSWORD
from tests.tenancy.statements import counting

REQUESTS = f"{API}/requests"


def _statements(app, client, path, **kwargs):
    with app.app_context():
        engine = db.engine
    assert client.get(path, **kwargs).status_code == 200
    with counting(engine) as seen:
        response = client.get(path, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return [s for s in seen if "set_config" not in s]


def test_a_key_call_reads_its_key_and_its_user_once(app, key_a):
    seen = _statements(app, KeyClient(app, key_a), REQUESTS)
    assert len([s for s in seen if "FROM api_keys" in s]) == 1, seen
    assert len([s for s in seen if "FROM ab_user " in s or "FROM ab_user\n" in s]) == 1, seen
    assert not [s for s in seen if s.lstrip().startswith("SELECT memberships")], seen  # joined with the user
    assert not [s for s in seen if "ab_permission" in s or "FROM ab_role" in s], seen


def test_a_token_call_checks_the_token_once(app, tenant_a):
    token = app.test_client().post("/api/v1/security/login", json={
        "username": "a.officer", "password": PASSWORD, "provider": "db"}).get_json()["access_token"]
    client = app.test_client(use_cookies=False)
    seen = _statements(app, client, REQUESTS, headers={"Authorization": f"Bearer {token}"})
    assert len([s for s in seen if "ab_user" in s.split("WHERE")[0] and s.lstrip().startswith("SELECT ab_user")]) == 1
    assert not [s for s in seen if s.lstrip().startswith("SELECT memberships")], seen


def test_the_key_limit_is_the_keys_own_and_touch_still_writes(app):
    from app.api.models import IntegrationKey
    from app.tenancy.context import platform_scope

    token = make_key(app, "1000001", "a.admin", scopes=("read",), name="reads once", rate_limit_per_minute=7)
    client = KeyClient(app, token)
    response = client.get(REQUESTS)
    assert response.status_code == 200 and response.headers["X-RateLimit-Limit"] == "7"
    assert client.get(REQUESTS).headers["X-RateLimit-Remaining"] == "5"
    with app.app_context(), platform_scope():
        key = db.session.scalar(select(IntegrationKey).where(IntegrationKey.name == "reads once"))
        assert key.last_used_at is not None and key.last_used_ip
        db.session.remove()


def test_a_revoked_key_and_an_inactive_acting_user_are_still_refused(app):
    from flask_appbuilder.security.sqla.models import User

    from app.api.models import IntegrationKey
    from app.tenancy.context import platform_scope
    from app.tenancy.models import utcnow

    token = make_key(app, "1000001", "a.mayor", scopes=("read",), name="refusals")
    client = KeyClient(app, token)
    assert client.get(REQUESTS).status_code == 200
    with app.app_context(), platform_scope():
        user = db.session.scalar(select(User).where(User.username == "a.mayor"))
        user.active = False
        db.session.commit()
        db.session.remove()
    try:
        response = client.get(REQUESTS)
        assert response.status_code == 401 and response.get_json()["code"] == "key_inactive"
    finally:
        with app.app_context(), platform_scope():
            user = db.session.scalar(select(User).where(User.username == "a.mayor"))
            user.active = True
            db.session.commit()
            db.session.remove()
    assert client.get(REQUESTS).status_code == 200
    with app.app_context(), platform_scope():
        key = db.session.scalar(select(IntegrationKey).where(IntegrationKey.name == "refusals"))
        key.revoked_at = utcnow()
        db.session.commit()
        db.session.remove()
    response = client.get(REQUESTS)
    assert response.status_code == 401 and response.get_json()["code"] == "key_revoked"

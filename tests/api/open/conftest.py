"""Open API fixtures: integration keys for tenants A and B (made through the same service the admin screen
uses), and a client that sends one."""
from __future__ import annotations

import pytest
from sqlalchemy import select


def make_key(app, dla_code: str, username: str, scopes=("read", "submit", "manage"), **settings) -> str:
    """A new key of the tenant acting as `username`; returns the token."""
    from flask_appbuilder.security.sqla.models import User

    from app.api import keys
    from app.extensions import db
    from app.tenancy.context import platform_scope, tenant_scope
    from app.tenancy.models import Tenant

    with app.test_request_context():
        with platform_scope():
            tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.dla_code == dla_code))
        with tenant_scope(tenant_id):
            user = db.session.scalar(select(User).where(User.username == username))
            _, token = keys.issue(tenant_id, name=settings.pop("name", f"test {username}"), scopes=list(scopes),
                                  acting_user=user, created_by_name="pytest", **settings)
            db.session.commit()
        db.session.remove()
    return token


class KeyClient:
    """app.test_client() that sends X-API-Key on every call (and never a session cookie)."""

    def __init__(self, app, token: str | None):
        self._client = app.test_client(use_cookies=False)
        self.token = token

    def _headers(self, headers):
        out = dict(headers or {})
        if self.token:
            out.setdefault("X-API-Key", self.token)
        return out

    def open(self, method, path, headers=None, **kwargs):
        return self._client.open(path, method=method, headers=self._headers(headers), **kwargs)

    def get(self, path, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.open("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self.open("PUT", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.open("DELETE", path, **kwargs)


@pytest.fixture(scope="session")
def key_a(app, tenant_a) -> str:
    # a limit no test reaches: the whole suite shares this key (limits are tested with keys of their own)
    return make_key(app, "1000001", "a.admin", name="A all scopes", rate_limit_per_minute=10000)


@pytest.fixture(scope="session")
def key_b(app, tenant_b) -> str:
    return make_key(app, "1000002", "b.admin", name="B all scopes", rate_limit_per_minute=10000)


@pytest.fixture
def api_a(app, key_a) -> KeyClient:
    return KeyClient(app, key_a)


@pytest.fixture
def api_b(app, key_b) -> KeyClient:
    return KeyClient(app, key_b)


@pytest.fixture
def api_for(app):
    """api_for(token) -> a client sending that key; api_for(None) sends none."""
    return lambda token: KeyClient(app, token)


API = "/api/open/v1"

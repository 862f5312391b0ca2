"""Platform tenants through the open API: a platform operator's token (POST /api/v1/security/login) lists the
organisations with aggregate counts, filters and pages them; an organisation's key or user is refused with
operators_only, whoever they act as."""
from __future__ import annotations

import pytest
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import func, select

from app.catalog.models import ServiceType
from app.extensions import db
from app.tenancy.context import platform_scope
from app.tenancy.models import Division, Tenant
from tests.api.open.conftest import API
from tests.conftest import PASSWORD

TENANTS = f"{API}/tenants"
INACTIVE = "9990901"


class TokenClient:
    """A client sending a user's access token (and no cookie)."""

    def __init__(self, app, token: str | None):
        self._client = app.test_client(use_cookies=False)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path, **kwargs):
        return self._client.get(path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)


def _token(app, username: str) -> str:
    response = app.test_client(use_cookies=False).post(
        "/api/v1/security/login", json={"username": username, "password": PASSWORD, "provider": "db"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]


@pytest.fixture(scope="module")
def operator(app, tenant_a):
    return TokenClient(app, _token(app, "ops"))


@pytest.fixture(scope="module")
def inactive(app, tenant_a):
    """An inactive organisation in a province no other test uses (removed after the module)."""
    with app.app_context(), platform_scope():
        db.session.add(Tenant(dla_code=INACTIVE, type_code="sao", name_th="อบต.ทดสอบปิดใช้งาน", name_en="Closed SAO",
                              province="แม่ฮ่องสอน", active=False))
        db.session.commit()
        db.session.remove()
    yield INACTIVE
    with app.app_context(), platform_scope():
        db.session.delete(db.session.scalar(select(Tenant).where(Tenant.dla_code == INACTIVE)))
        db.session.commit()
        db.session.remove()


def _codes(client, query: str = "") -> list[str]:
    response = client.get(f"{TENANTS}?limit=100{'&' + query if query else ''}")
    assert response.status_code == 200, response.get_json()
    return [t["dla_code"] for t in response.get_json()["items"]]


def test_operator_lists_organisations_with_their_counts(app, operator, tenant_a, tenant_b, inactive):
    body = operator.get(f"{TENANTS}?limit=100").get_json()
    by_code = {t["dla_code"]: t for t in body["items"]}
    assert {"1000001", "1000002", INACTIVE} <= set(by_code)
    a = by_code["1000001"]
    with app.app_context(), platform_scope():
        expected = {"divisions": db.session.scalar(select(func.count()).select_from(Division).where(
                        Division.tenant_id == tenant_a.id)),
                    "users": db.session.scalar(select(func.count()).select_from(User).where(
                        User.tenant_id == tenant_a.id)),
                    "service_types": db.session.scalar(select(func.count()).select_from(ServiceType).where(
                        ServiceType.tenant_id == tenant_a.id))}
        db.session.remove()
    assert {k: a[k] for k in expected} == expected and expected["users"] >= 4 and expected["service_types"] >= 1
    assert a["type"] == "sao" and a["name_th"] == "องค์การบริหารส่วนตำบลเอ" and a["name_en"] == "SAO A"
    assert a["province"] == "เชียงใหม่" and a["active"] is True and a["created_at"].endswith("+00:00")
    assert set(a) == {"dla_code", "type", "name_th", "name_en", "province", "active", "created_at", "divisions",
                      "users", "service_types"}
    assert by_code[INACTIVE]["users"] == 0 and by_code[INACTIVE]["divisions"] == 0
    assert operator.get(f"{TENANTS}/1000001").get_json() == a


def test_filters_and_paging(operator, inactive):
    assert INACTIVE not in _codes(operator, "active=true") and "1000001" in _codes(operator, "active=true")
    assert INACTIVE in _codes(operator, "active=false") and "1000001" not in _codes(operator, "active=false")
    assert _codes(operator, "province=แม่ฮ่องสอน") == [INACTIVE]
    assert {"1000001", "1000002"} <= set(_codes(operator, "province=เชียงใหม่&type=sao"))
    assert _codes(operator, "type=no_such_type") == []
    every, seen, cursor = _codes(operator), [], None
    while True:
        body = operator.get(f"{TENANTS}?limit=1" + (f"&cursor={cursor}" if cursor else "")).get_json()
        seen += [t["dla_code"] for t in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == every


def test_unknown_codes_and_bad_arguments(operator):
    for code in ("9999999", "abc", "1" * 40):
        missing = operator.get(f"{TENANTS}/{code}")
        assert missing.status_code == 404 and missing.get_json()["code"] == "not_found"
    bad = operator.get(f"{TENANTS}?active=maybe&limit=0").get_json()
    assert bad["status"] == 422
    named = {f["field"]: f for f in bad["fields"]}
    assert set(named) == {"active", "limit"}
    assert named["active"]["message_en"] == "Must be true or false."
    assert named["active"]["message_th"] != named["active"]["message_en"]


def test_organisations_keys_and_users_are_refused(app, api_a, api_b):
    a_admin = TokenClient(app, _token(app, "a.admin"))
    for client in (api_a, api_b, a_admin):
        for path in (TENANTS, f"{TENANTS}/1000001", f"{TENANTS}/1000002"):
            refused = client.get(path)
            assert refused.status_code == 403, (path, refused.get_json())
            assert refused.get_json()["code"] == "operators_only"
            assert refused.get_json()["message_th"] != refused.get_json()["message_en"]
    assert TokenClient(app, None).get(TENANTS).status_code == 401
    assert TokenClient(app, "not-a-token").get(TENANTS).status_code == 401

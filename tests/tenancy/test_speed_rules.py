"""DESIGN.md's speed rules, checked on every list that matters: a list page costs the same few SQL
statements for 25 rows as for 100 (related columns eager, permissions read once per request), counts stop at
1,000 ("1,000+"), no page starts beyond the cap, and every view and API names its search columns.

The bulk rows live in a tenant of their own (DLA 1000066), made here and emptied afterwards, so the
record counts other tests assert for tenants A and B never change."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, insert, select

from app.extensions import db
from app.tenancy.context import platform_scope, tenant_scope
from app.tenancy.interface import COUNT_CAP
from tests.conftest import PASSWORD, login, record_count
from tests.tenancy.statements import page_statements

MAX_STATEMENTS = 6
BULK_REQUESTS = COUNT_CAP + 20
BULK_PAYMENTS = 130

TENANT_C = """kind: tenant
tenant: {dla_code: "1000066", type: sao, name_th: องค์การบริหารส่วนตำบลทดสอบความเร็ว, name_en: SAO Speed,
         province: ลำพูน}
divisions:
  - {code: finance, name_th: กองคลัง, name_en: Finance Division}
users:
  - {username: c.admin, first_name: แอดมิน, last_name: ซี, email: admin@c.test, password: %s,
     memberships: [{division: office, role: tenant_admin}]}
  - {username: c.officer, first_name: เจ้าหน้าที่, last_name: ซี, email: officer@c.test, password: %s,
     memberships: [{division: finance, role: officer}]}
services:
  - template: test_permit
""" % (PASSWORD, PASSWORD)


@pytest.fixture(scope="module")
def bulk_tenant(app, tmp_path_factory):
    """Tenant C with 1,020 matters and 130 payments, inserted in bulk; emptied again after the module."""
    from app.billing.models import Payment
    from app.catalog.models import ServiceRequest, ServiceType, ServiceTypeVersion
    from app.seeds.apply import apply_paths
    from app.tenancy.models import Division, Tenant

    path = tmp_path_factory.mktemp("speed") / "tenant_c.yaml"
    path.write_text(TENANT_C, encoding="utf-8")
    with app.app_context():
        plan = apply_paths([str(path)])
        assert not plan.errors, [str(e) for e in plan.errors]
        with platform_scope():
            tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.dla_code == "1000066"))
        with tenant_scope(tenant_id):
            service = db.session.scalars(select(ServiceType).order_by(ServiceType.id)).first()
            version_id = db.session.scalar(select(ServiceTypeVersion.id).where(
                ServiceTypeVersion.service_type_id == service.id).order_by(ServiceTypeVersion.version.desc()))
            division_id = db.session.scalar(select(Division.id).where(Division.code == "finance"))
            db.session.execute(delete(Payment))
            db.session.execute(delete(ServiceRequest).where(ServiceRequest.title.like("speed-%")))
            start = datetime(2026, 1, 5, 9, 0)
            db.session.execute(insert(ServiceRequest), [
                dict(tenant_id=tenant_id, service_type_id=service.id, version_id=version_id,
                     division_id=division_id, title=f"speed-{i:04d}", data={}, status="submitted",
                     fee_total=Decimal("40.00"), due_on=date(2026, 2, 1), created_at=start + timedelta(minutes=i),
                     updated_at=start, channel="staff", reopened_count=0, lock_version=1)
                for i in range(BULK_REQUESTS)
            ])
            ids = db.session.scalars(select(ServiceRequest.id).order_by(ServiceRequest.id)
                                     .limit(BULK_PAYMENTS)).all()
            db.session.execute(insert(Payment), [
                dict(tenant_id=tenant_id, request_id=pk, amount=Decimal("40.00"), paid_on=date(2026, 1, 6),
                     receipt_no=f"SP-{pk}", method="cash", recorded_by_name="speed", recorded_at=start)
                for pk in ids
            ])
            db.session.commit()
        db.session.remove()
    yield tenant_id
    with app.app_context(), tenant_scope(tenant_id):
        db.session.execute(delete(Payment))
        db.session.execute(delete(ServiceRequest))
        db.session.commit()
        db.session.remove()


def _rows(html: str, route: str) -> int:
    return len(set(re.findall(rf"{re.escape(route)}/show/(\d+)", html)))


def _summary(seen: list[str]) -> list[str]:
    return [" ".join(s.split())[:110] for s in seen]


LISTS = [
    # (route, view name for FAB's page-size argument)
    ("/service-requests", "ServiceRequestView"),
    ("/payments", "PaymentView"),
]


@pytest.mark.parametrize("route, view", LISTS)
def test_list_page_statements_capped_and_flat(app, bulk_tenant, route, view):
    client = login(app.test_client(), "c.admin")
    small, r_small = page_statements(app, client, f"{route}/list/?psize_{view}=25")
    large, r_large = page_statements(app, client, f"{route}/list/?psize_{view}=100")
    assert r_small.status_code == r_large.status_code == 200
    html_small, html_large = r_small.get_data(as_text=True), r_large.get_data(as_text=True)
    assert _rows(html_small, route) == 25 and _rows(html_large, route) == 100
    print(f"{route}: {len(small)} statements at 25 rows, {len(large)} at 100")
    assert len(small) == len(large), (_summary(small), _summary(large))
    assert len(small) <= MAX_STATEMENTS, _summary(small)


@pytest.mark.parametrize("url", [
    "/inbox/", "/divisions/list/", "/memberships/list/", "/org-users/list/", "/waste/invoices/",
    "/saraban/incoming/list/", "/saraban/outgoing/list/", "/api/v1/division/", "/api/v1/membership/",
    "/api/v1/service-request/?page_size=100",
])
def test_other_pages_statement_budget(app, bulk_tenant, url):
    """The other staff lists and the REST lists: recorded (printed) and held to a budget."""
    client = login(app.test_client(), "c.admin")
    seen, response = page_statements(app, client, url)
    assert response.status_code == 200, url
    print(f"{url}: {len(seen)} statements")
    assert len(seen) <= 12, _summary(seen)


def test_show_page_statements(app, bulk_tenant):
    from app.catalog.models import ServiceRequest

    with app.app_context(), tenant_scope(bulk_tenant):
        pk = db.session.scalar(select(ServiceRequest.id).order_by(ServiceRequest.id))
        db.session.remove()
    client = login(app.test_client(), "c.admin")
    seen, response = page_statements(app, client, f"/service-requests/show/{pk}")
    assert response.status_code == 200
    print(f"/service-requests/show: {len(seen)} statements")


def test_capped_count_shows_1000_plus_in_thai_and_english(app, bulk_tenant):
    client = login(app.test_client(), "c.admin")
    html = client.get("/service-requests/list/").get_data(as_text=True)
    assert re.search(r"จำนวนรายการ:</strong>\s*1,000\+", html), re.findall(r"จำนวนรายการ.{0,80}", html)
    assert "มากกว่า 1,000" in html
    assert record_count(html) == COUNT_CAP
    # a narrower search is counted exactly again
    narrow = client.get("/service-requests/list/?_flt_0_title=speed-000").get_data(as_text=True)
    assert record_count(narrow) == 10 and "1,000+" not in narrow
    client.get("/lang/en")
    try:
        english = client.get("/service-requests/list/").get_data(as_text=True)
        assert re.search(r"Record Count:</strong>\s*1,000\+", english)
        assert "more than 1,000" in english
    finally:
        client.get("/lang/th")


def test_rest_count_is_capped(app, bulk_tenant):
    client = login(app.test_client(), "c.admin")
    body = client.get("/api/v1/division/").get_json()
    assert body["count"] == len(body["ids"])  # small lists: exact
    listed = client.get("/api/v1/service-request/?page_size=100").get_json()
    assert listed["count"] == COUNT_CAP + 1 and listed["count_capped"] is True and len(listed["result"]) == 100
    assert all(row["title"].startswith("speed-") for row in listed["result"])
    deep = client.get("/api/v1/service-request/?page=41&page_size=25")
    assert deep.status_code == 400 and "1,000" in deep.get_json()["message"]
    assert client.get("/api/v1/service-request/?page=40&page_size=25").status_code == 200
    a = login(app.test_client(), "a.admin").get("/api/v1/service-request/?page_size=100").get_json()
    assert a["count_capped"] is False and not any(r["title"].startswith("speed-") for r in a["result"])


def test_no_page_beyond_the_cap(app, bulk_tenant):
    client = login(app.test_client(), "c.admin")
    deep = client.get("/service-requests/list/?page_ServiceRequestView=60&psize_ServiceRequestView=25")
    assert deep.status_code == 200
    html = deep.get_data(as_text=True)
    assert "1,000" in html and ("แคบ" in html or "Narrow" in html), html[:300]
    assert _rows(html, "/service-requests") == 25  # the first page, with the way on
    # the last page within the cap is still served
    last = client.get(f"/service-requests/list/?page_ServiceRequestView={COUNT_CAP // 25}&psize_ServiceRequestView=25")
    assert _rows(last.get_data(as_text=True), "/service-requests") == 20
    api = client.get("/api/v1/division/?q=(page:100,page_size:25)")
    assert api.status_code == 400 and "1,000" in api.get_json()["message"]


def test_tenant_a_sees_none_of_the_bulk_rows(app, bulk_tenant, tenant_a):
    """The capped count, the list and the search dropdowns stay within the tenant."""
    from tests.conftest import search_options

    client = login(app.test_client(), "a.admin")
    html = client.get("/service-requests/list/?psize_ServiceRequestView=100").get_data(as_text=True)
    assert "speed-0" not in html and "1,000+" not in html
    with app.app_context(), tenant_scope(tenant_a.id):
        from sqlalchemy import func

        from app.catalog.models import ServiceRequest
        own = db.session.scalar(select(func.count()).select_from(ServiceRequest))
        db.session.remove()
    assert record_count(html) == own
    options = search_options(html)
    with app.app_context(), platform_scope():
        from app.tenancy.models import Division

        theirs = {str(i) for i in db.session.scalars(select(Division.id).where(Division.tenant_id == bulk_tenant))}
        db.session.remove()
    assert not theirs & set(options.get("division", {})), options.get("division")
    payments = client.get("/payments/list/").get_data(as_text=True)
    assert "SP-" not in payments


def test_permission_cache_is_per_user_and_per_request(app, bulk_tenant):
    """One user's answers never serve another user, nor the next request (even when an outer application
    context keeps flask.g alive across requests)."""
    admin = login(app.test_client(), "c.admin")
    officer = login(app.test_client(), "c.officer")
    assert admin.get("/org-users/list/").status_code == 200
    assert officer.get("/org-users/list/").status_code == 403
    assert admin.get("/org-users/list/").status_code == 200
    assert officer.get("/org-users/list/").status_code == 403


def test_request_cache_starts_empty_for_each_request(app):
    """Even when one application context (one flask.g) serves several requests, each request gets a fresh
    cache; outside a request nothing is cached."""
    sm = app.appbuilder.sm
    with app.app_context():
        assert sm._request_cache() is None
        with app.test_request_context("/one"):
            first = sm._request_cache()
            first["x"] = 1
            assert sm._request_cache() is first
        with app.test_request_context("/two"):
            assert sm._request_cache() == {}


def test_permission_change_is_seen_by_the_next_request(app, bulk_tenant):
    """A grant takes effect on the user's next request (the cache lives for one request only)."""
    from flask_appbuilder.security.sqla.models import Permission, PermissionView, Role, ViewMenu

    officer = login(app.test_client(), "c.officer")
    assert officer.get("/org-users/list/").status_code == 403
    with app.app_context(), platform_scope():
        sm = app.appbuilder.sm
        role = db.session.scalar(select(Role).join(Role.user).where(
            Role.user.any(username="c.officer")))
        pv = db.session.scalar(select(PermissionView).join(Permission).join(ViewMenu).where(
            Permission.name == "can_list", ViewMenu.name == "TenantUserView"))
        role.permissions.append(pv)
        db.session.commit()
        role_id, pv_id = role.id, pv.id
        db.session.remove()
    try:
        with app.app_context():  # even with g kept alive across the two requests
            assert officer.get("/org-users/list/").status_code == 200
    finally:
        with app.app_context(), platform_scope():
            role = db.session.get(Role, role_id)
            role.permissions = [p for p in role.permissions if p.id != pv_id]
            db.session.commit()
            db.session.remove()
    assert officer.get("/org-users/list/").status_code == 403
    del sm


def test_every_view_and_api_declares_search_columns(app):
    """FAB's default searches every column (slow, and it exposes columns nobody chose): each model view and
    REST API must name its own search_columns."""
    from flask_appbuilder import ModelView
    from flask_appbuilder.api import ModelRestApi

    missing = []
    for view in app.appbuilder.baseviews:
        if not isinstance(view, (ModelView, ModelRestApi)):
            continue
        if "search_columns" not in _declared(type(view)):
            missing.append(type(view).__name__)
    assert not missing, f"views relying on FAB's default search columns: {missing}"


def _declared(cls) -> set[str]:
    """Attributes set by the class or its bases other than FAB's generic ModelView/ModelRestApi bases (FAB's
    own security screens count when they name their columns)."""
    generic = ("flask_appbuilder.baseviews", "flask_appbuilder.views", "flask_appbuilder.api")
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass.__module__ in generic or klass.__module__.startswith("flask_appbuilder.api."):
            continue
        names.update(vars(klass))
    return names



@pytest.mark.parametrize("url", ["/api/v1/membership/?q=(page_size:{size})", "/memberships/list/?psize_MembershipView={size}"])
def test_rest_and_membership_lists_flat(app, tenant_a, url):
    """FAB's REST list and the membership screen (110+ memberships in A, made by the users list test's own
    idempotent helper): the same statements for 25 and 100 rows, within the budget."""
    from tests.security.test_list_queries import _ensure_users

    _ensure_users(app, tenant_a.id, 110)
    client = login(app.test_client(), "a.admin")
    small, r_small = page_statements(app, client, url.format(size=25))
    large, r_large = page_statements(app, client, url.format(size=100))
    assert r_small.status_code == r_large.status_code == 200
    if url.startswith("/api/"):
        assert len(r_small.get_json()["ids"]) == 25 and len(r_large.get_json()["ids"]) == 100
    else:
        assert _rows(r_small.get_data(as_text=True), "/memberships") == 25
        assert _rows(r_large.get_data(as_text=True), "/memberships") == 100
    print(f"{url}: {len(small)} statements at 25 rows, {len(large)} at 100")
    assert len(small) == len(large), (_summary(small), _summary(large))
    assert len(small) <= MAX_STATEMENTS + 1, _summary(small)  # + the user and role drop-downs of its search

"""Paging by key for deep pages (app/tenancy/keyset.py): past the counting cap, staff lists and FAB REST
lists go on from the last row shown (`?_after=`, signed), not by OFFSET: every row once, in order, across the
cap, at the statement cost of page 1; other tenants' rows never; tampered or foreign keys refused cleanly."""
from __future__ import annotations

import html as htmllib
import os
import re

import prison
import pytest
from sqlalchemy import select

from app.extensions import db
from app.tenancy.context import tenant_scope
from tests.conftest import ids_in_order, login
from tests.tenancy.statements import page_statements
from tests.tenancy.test_speed_rules import BULK_REQUESTS, bulk_tenant  # noqa: F401 (fixture)

ROUTE = "/service-requests"


def _ids(page: str) -> list[int]:
    return ids_in_order(page, ROUTE)


def _next(page: str):
    found = re.search(r'href="([^"]+)" rel="next" id="keyset-next"', page)
    return htmllib.unescape(found.group(1)) if found else None


def _expected(app, tenant_id) -> list[int]:
    from app.catalog.models import ServiceRequest

    with app.app_context(), tenant_scope(tenant_id):
        ids = db.session.scalars(select(ServiceRequest.id).order_by(
            ServiceRequest.created_at.desc(), ServiceRequest.id.desc())).all()
        db.session.remove()
    return list(ids)


def test_staff_list_pages_by_key_past_the_cap(app, bulk_tenant):  # noqa: F811
    client = login(app.test_client(), "c.admin")
    expected = _expected(app, bulk_tenant)
    assert len(expected) == BULK_REQUESTS
    page = client.get(f"{ROUTE}/list/?psize_ServiceRequestView=100").get_data(as_text=True)
    assert "1,000+" in page
    url, walked, pages = _next(page), _ids(page), 1
    assert url and "_after=" in url and len(walked) == 100
    first_cost, _ = page_statements(app, client, f"{ROUTE}/list/?psize_ServiceRequestView=100")
    while url:
        seen, response = page_statements(app, client, url)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert 'id="keyset-pager"' in body, body[-3000:]
        page_sql = [s for s in seen if "FROM service_requests" in s and "count(" in s.lower()]
        assert len(page_sql) == 1 and re.search(r"\(service_requests\.created_at, service_requests\.id\) < ",
                                                page_sql[0]), seen
        assert len(seen) == len(first_cost), (seen, first_cost)  # as cheap as page 1, however deep
        walked += _ids(body)
        url, pages = _next(body), pages + 1
    assert walked == expected  # every row once, in order, across the cap (no gaps, no repeats)
    assert pages == 11


def test_tenant_a_never_sees_the_bulk_rows_by_key(app, bulk_tenant, tenant_a):  # noqa: F811
    c_client = login(app.test_client(), "c.admin")
    page = c_client.get(f"{ROUTE}/list/?psize_ServiceRequestView=100").get_data(as_text=True)
    url = _next(page)
    bulk = set(_expected(app, bulk_tenant))
    a_client = login(app.test_client(), "a.admin")
    response = a_client.get(url)  # C's key in A's session: refused (another organisation), page 1 of A
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "ลิงก์หน้านี้ไม่ถูกต้อง" in body
    assert not set(_ids(body)) & bulk


@pytest.mark.parametrize("token", ["garbage", "", "x" * 5000, "WyJTZXJ2aWNlUmVxdWVzdFZpZXciXQ.bad"])
def test_tampered_key_refused_cleanly(app, bulk_tenant, token):  # noqa: F811
    client = login(app.test_client(), "c.admin")
    response = client.get(f"{ROUTE}/list/?_after={token}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    if token:
        assert "ลิงก์หน้านี้ไม่ถูกต้อง" in body
    assert len(_ids(body)) > 0


def test_key_of_another_order_or_list_refused(app, bulk_tenant):  # noqa: F811
    client = login(app.test_client(), "c.admin")
    page = client.get(f"{ROUTE}/list/?psize_ServiceRequestView=100").get_data(as_text=True)
    token = re.search(r"_after=([^&\"]+)", _next(page)).group(1)
    # the same key with the opposite order
    body = client.get(f"{ROUTE}/list/?_after={token}&_od_ServiceRequestView=asc"
                      "&_oc_ServiceRequestView=created_at").get_data(as_text=True)
    assert "ลิงก์หน้านี้ไม่ถูกต้อง" in body
    # a changed character in the signed key
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert "ลิงก์หน้านี้ไม่ถูกต้อง" in client.get(f"{ROUTE}/list/?_after={tampered}").get_data(as_text=True)


def test_english_message(app, bulk_tenant):  # noqa: F811
    client = login(app.test_client(), "c.admin")
    client.get("/lang/en")
    body = client.get(f"{ROUTE}/list/?_after=garbage").get_data(as_text=True)
    client.get("/lang/th")
    assert "This page link is not valid" in body


def test_request_rest_list_pages_by_key(app, bulk_tenant):  # noqa: F811
    client = login(app.test_client(), "c.admin")
    expected = _expected(app, bulk_tenant)
    url = "/api/v1/service-request/?page_size=100"
    first_cost, response = page_statements(app, client, url)
    body = response.get_json()
    walked = [row["id"] for row in body["result"]]
    while body["next_after"]:
        seen, response = page_statements(app, client, f"{url}&_after={body['next_after']}")
        assert response.status_code == 200 and len(seen) == len(first_cost), (seen, first_cost)
        body = response.get_json()
        assert body["count_capped"] is True
        walked += [row["id"] for row in body["result"]]
    assert walked == expected
    # tampered, and C's key used by A: 400 with a message, never a 500
    token = client.get(url).get_json()["next_after"]
    bad = client.get(f"{url}&_after={token[:-3]}xyz")
    assert bad.status_code == 400 and "ลิงก์หน้านี้ไม่ถูกต้อง" in bad.get_json()["message"]
    foreign = login(app.test_client(), "a.admin").get(f"{url}&_after={token}")
    assert foreign.status_code == 400


def test_fab_rest_list_pages_by_key(app, tenant_a, tenant_b):
    """FAB's own REST list (memberships, ordered by id): next_after walks the same rows the numbered pages
    give, B's rows never appear, and a key of A is refused in B."""
    from tests.security.test_list_queries import _ensure_users

    _ensure_users(app, tenant_a.id, 30)
    client = login(app.test_client(), "a.admin")
    numbered = []
    for page in range(100):
        ids = client.get(f"/api/v1/membership/?q={prison.dumps({'page': page, 'page_size': 7})}").get_json()["ids"]
        numbered += ids
        if len(ids) < 7:
            break
    url = f"/api/v1/membership/?q={prison.dumps({'page_size': 7})}"
    first_cost, response = page_statements(app, client, url)
    body = response.get_json()
    walked = list(body["ids"])
    while body["next_after"]:
        seen, response = page_statements(app, client, f"{url}&_after={body['next_after']}")
        assert response.status_code == 200 and len(seen) == len(first_cost)
        body = response.get_json()
        walked += body["ids"]
    assert walked == numbered and len(walked) == len(set(walked)) >= 30
    from app.security.models import Membership

    with app.app_context(), tenant_scope(tenant_b.id):
        b_ids = set(db.session.scalars(select(Membership.id)))
        db.session.remove()
    assert not set(walked) & b_ids
    token = client.get(url).get_json()["next_after"]
    b_client = login(app.test_client(), "b.admin")
    assert b_client.get(f"{url}&_after={token}").status_code == 400
    assert client.get(f"{url}&_after=%00%ff").status_code == 400
    # a list whose order cannot page by key (text) says so
    assert client.get("/api/v1/division/?_after=abc").status_code == 400


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"), reason="PostgreSQL's planner")
def test_deep_page_uses_a_tenant_led_index(app, bulk_tenant):  # noqa: F811
    """EXPLAIN of the page statement the app really sends for a page by key (its parameters included, run as
    the app's role with the tenant set): an index scan on a tenant_id-led index, no sort of the tenant's rows
    by OFFSET. Sequential scans are switched off for the check: 1,020 rows are few enough for the planner to
    prefer one, 400,000 are not."""
    from sqlalchemy import event, text

    client = login(app.test_client(), "c.admin")
    page = client.get(f"{ROUTE}/list/?psize_ServiceRequestView=100").get_data(as_text=True)
    url = _next(_next_page(client, _next(page)))  # the third page, by key
    with app.app_context():
        engine = db.engine
    sent = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if "FROM service_requests" in statement and "created_at, service_requests.id) <" in statement:
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert len(sent) == 1
    statement, parameters = sent[0]
    from sqlalchemy import create_engine

    owner = create_engine(app.config["DATABASE_OWNER_URL"])
    with owner.begin() as conn:  # the bulk rows were just inserted: give the planner their statistics
        conn.execute(text("ANALYZE service_requests"))
    owner.dispose()
    with app.app_context(), tenant_scope(bulk_tenant):
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        raw = db.session.connection().connection.dbapi_connection
        with raw.cursor() as cursor:
            cursor.execute("EXPLAIN " + statement, parameters)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        indexes = dict(db.session.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'service_requests'")).all())
        db.session.rollback()
        db.session.remove()
    print(plan)
    used = set(re.findall(r"Index (?:Only )?Scan(?: Backward)? using (\w+) on service_requests", plan))
    assert used, plan
    for name in used:
        assert re.search(r"\(tenant_id[,)]", indexes[name]), (name, indexes[name], plan)
    # the key itself bounds the index scan (not a filter over every row of the tenant)
    assert re.search(r"Index Cond: \(\(tenant_id = \d+\) AND .*created_at", plan), plan


def _next_page(client, url):
    return client.get(url).get_data(as_text=True)

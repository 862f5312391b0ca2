"""Pages past the first find their ids first (filters and order only, in a subquery), then load those rows with
their joins ("deferred join", app/tenancy/interface.py): the same rows in the same order as a plain OFFSET,
the tenant wall inside the subquery too, and the same statements as the first page."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.tenancy.context import tenant_scope
from tests.conftest import ids_in_links, ids_in_order, login
from tests.tenancy.statements import page_statements

VIEW = "DivisionView"


def _page_ids(html: str) -> list[int]:
    return ids_in_order(html, "/divisions")


def test_every_page_is_the_slice_of_the_whole_order(app, tenant_a, tenant_b):
    from app.tenancy.models import Division

    client = login(app.test_client(), "a.admin")
    whole = _page_ids(client.get(f"/divisions/list/?psize_{VIEW}=100").get_data(as_text=True))
    assert len(whole) >= 4, whole
    size = 2
    for page in range(0, (len(whole) + size - 1) // size):
        html = client.get(f"/divisions/list/?psize_{VIEW}={size}&page_{VIEW}={page}").get_data(as_text=True)
        assert _page_ids(html) == whole[page * size:(page + 1) * size], page
    # descending by code: the order asked for, not the index's
    down = _page_ids(client.get(f"/divisions/list/?psize_{VIEW}=100&_oc_{VIEW}=code&_od_{VIEW}=desc")
                     .get_data(as_text=True))
    second = _page_ids(client.get(f"/divisions/list/?psize_{VIEW}={size}&page_{VIEW}=1&_oc_{VIEW}=code"
                                  f"&_od_{VIEW}=desc").get_data(as_text=True))
    assert second == down[size:2 * size]
    with app.app_context(), tenant_scope(tenant_b.id):
        b_ids = set(db.session.scalars(select(Division.id)))
        db.session.remove()
    assert b_ids and not b_ids & set(whole)
    for page in range(0, 5):
        html = client.get(f"/divisions/list/?psize_{VIEW}=1&page_{VIEW}={page}").get_data(as_text=True)
        assert not ids_in_links(html, "/divisions") & b_ids


def test_later_page_statement_has_the_tenant_inside_and_costs_the_same(app, tenant_a):
    client = login(app.test_client(), "a.admin")
    first, r1 = page_statements(app, client, f"/divisions/list/?psize_{VIEW}=2")
    later, r2 = page_statements(app, client, f"/divisions/list/?psize_{VIEW}=2&page_{VIEW}=1")
    assert r1.status_code == r2.status_code == 200
    assert len(first) == len(later)
    page = [s for s in later if " IN (SELECT divisions.id" in " ".join(s.split())]
    assert len(page) == 1, later
    inner = " ".join(page[0].split()).split(" IN (SELECT divisions.id", 1)[1]
    assert "divisions.tenant_id = " in inner.split(")")[0] + inner.split(")")[1]


from tests.tenancy.test_speed_rules import bulk_tenant  # noqa: E402,F401  (1,020 matters of tenant C)


def test_rest_and_staff_pages_of_matters_are_slices(app, bulk_tenant):  # noqa: F811
    client = login(app.test_client(), "c.admin")
    whole = [r["id"] for r in client.get("/api/v1/service-request/?page_size=100").get_json()["result"]]
    assert len(whole) == 100
    for page in (1, 3, 9):
        got = client.get(f"/api/v1/service-request/?page_size=10&page={page}").get_json()
        assert [r["id"] for r in got["result"]] == whole[page * 10:(page + 1) * 10]
        assert got["count"] == 1001 and got["count_capped"] is True
    view = "ServiceRequestView"
    first = client.get(f"/service-requests/list/?psize_{view}=100").get_data(as_text=True)
    order = ids_in_order(first, "/service-requests")
    later = client.get(f"/service-requests/list/?psize_{view}=25&page_{view}=2").get_data(as_text=True)
    assert ids_in_order(later, "/service-requests") == order[50:75]

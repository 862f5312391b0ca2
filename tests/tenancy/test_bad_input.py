"""Malformed ids and parameters are a 4xx with nothing written, never a 500 (on SQLite and PostgreSQL)."""
import pytest

HUGE = "99999999999999999999"

URLS = [
    f"/divisions/show/{HUGE}", f"/divisions/edit/{HUGE}", "/divisions/show/-1", "/divisions/show/1.5",
    f"/org-users/show/{HUGE}", f"/memberships/show/{HUGE}",
    "/divisions/list/?page_DivisionView=abc", "/divisions/list/?psize_DivisionView=-5",
    "/divisions/list/?_oc_DivisionView=tenant_id&_od_DivisionView=asc",
    "/divisions/list/?_oc_DivisionView=nonexistent", "/divisions/list/?_flt_0_tenant_id=2",
    "/divisions/list/?_flt_9_code=x", f"/api/v1/division/{HUGE}", "/api/v1/division/abc",
    "/api/v1/division/?q=(((", "/api/v1/division/?q=(filters:!((col:tenant_id,opr:eq,value:2)))",
    "/api/v1/division/?q=(order_column:tenant_id,order_direction:asc)",
    f"/api/v1/membership/?q=(filters:!((col:division,opr:rel_o_m,value:{HUGE})))",
]


@pytest.mark.parametrize("url", URLS)
def test_bad_get_is_never_500(client_for, url):
    response = client_for("a.admin").get(url)
    assert response.status_code < 500, (url, response.status_code)
    assert "secret-b" not in response.get_data(as_text=True)


def test_bad_posts_are_never_500(client_for, tenant_a):
    client = client_for("a.admin")
    cases = [
        ("/divisions/add", {"code": "x" * 500, "name_th": "ก"}),
        ("/divisions/add", {"code": "", "name_th": ""}),
        ("/memberships/add", {"user": HUGE, "division": HUGE, "role": HUGE}),
        ("/divisions/action_post", {"action": "deactivate", "rowid": [HUGE]}),
        ("/divisions/action_post", {"action": "no-such-action", "rowid": ["1"]}),
    ]
    for url, data in cases:
        response = client.post(url, data=data)
        assert response.status_code < 500, (url, data, response.status_code)
    json_cases = [
        ("/api/v1/division/", {"code": "x" * 500, "name_th": "ก"}),
        ("/api/v1/division/", {"code": None}),
        ("/api/v1/division/", []),
        ("/api/v1/membership/", {"user": HUGE, "division": HUGE, "role": HUGE}),
        ("/api/v1/membership/", {"user": {"id": 1}, "division": [1], "role": "x"}),
    ]
    for url, payload in json_cases:
        response = client.post(url, json=payload)
        assert response.status_code < 500, (url, payload, response.status_code)
    response = client.put(f"/api/v1/division/{tenant_a.division_ids['finance']}", json={"code": "y" * 500})
    assert response.status_code < 500

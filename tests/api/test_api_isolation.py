"""REST API (FAB ModelRestApi on TenantInterface): tenant A against B's ids, including unknown ids."""
import prison
import pytest
from sqlalchemy import func, select

from app.security.models import GrantLog, Membership, RoleTemplate
from app.tenancy.context import platform_scope
from app.tenancy.models import Division


def _count(db_session, model):
    with platform_scope():
        return db_session.scalar(select(func.count()).select_from(model))


def _template_id(db_session, code):
    return db_session.scalar(select(RoleTemplate.id).where(RoleTemplate.code == code))


def test_list_count_and_q_filters(client_for, tenant_a, tenant_b):
    client = client_for("a.admin")
    # one page holds them all (other tests add divisions to A; FAB's default page is 20)
    body = client.get("/api/v1/division/?q=(page:0,page_size:100)").get_json()
    ids = {row["id"] for row in body["result"]}
    assert set(tenant_a.division_ids.values()) <= ids
    assert not ids & set(tenant_b.division_ids.values())
    assert body["count"] == len(ids)
    # B's code finds none of B's rows (A may have made a division with the same code: only A's)
    q = prison.dumps({"filters": [{"col": "code", "opr": "eq", "value": "secret-b"}]})
    body = client.get(f"/api/v1/division/?q={q}").get_json()
    found = {row["id"] for row in body["result"]}
    assert tenant_b.division_ids["secret-b"] not in found and found <= ids and body["count"] == len(found)
    q = prison.dumps({"filters": [{"col": "name_th", "opr": "ct", "value": "ลับเฉพาะ"}]})
    body = client.get(f"/api/v1/division/?q={q}").get_json()
    assert [r["code"] for r in body["result"]] == ["secret-a"]


def test_get_of_other_tenant_is_404(client_for, tenant_b):
    client = client_for("a.admin")
    assert client.get(f"/api/v1/division/{tenant_b.division_ids['secret-b']}").status_code == 404
    assert client.get(f"/api/v1/membership/{tenant_b.membership_ids[0]}").status_code == 404


@pytest.mark.parametrize("keys", ["add_columns", "edit_columns"])
def test_info_lists_only_own_related_rows(client_for, tenant_a, tenant_b, keys):
    # each related list in one page of 100 (other tests add users and divisions to A; FAB's default page is 20)
    pages = "user:(page:0,page_size:100),division:(page:0,page_size:100)"
    body = client_for("a.admin").get(f"/api/v1/membership/_info?q=(keys:!({keys}),{keys}:({pages}))").get_json()
    columns = {c["name"]: c for c in body[keys]}
    users = {v["id"] for v in columns["user"]["values"]}
    divisions = {v["id"] for v in columns["division"]["values"]}
    assert set(tenant_a.user_ids.values()) <= users and not users & set(tenant_b.user_ids.values())
    assert set(tenant_a.division_ids.values()) <= divisions
    assert not divisions & set(tenant_b.division_ids.values())


def test_post_put_delete_on_other_tenant(client_for, db_session, tenant_a, tenant_b):
    client = client_for("a.admin")
    b_div = tenant_b.division_ids["secret-b"]
    response = client.put(f"/api/v1/division/{b_div}", json={"name_th": "hijacked"})
    assert response.status_code == 404
    assert client.delete(f"/api/v1/division/{b_div}").status_code == 404
    with platform_scope():
        assert db_session.get(Division, b_div).name_th == "กองลับเฉพาะบี"
    # tenant_id in a payload is refused, never used
    response = client.post("/api/v1/division/", json={"code": "api-x", "name_th": "x", "tenant_id": tenant_b.id})
    assert response.status_code == 422


def test_post_division_is_stamped_with_own_tenant(client_for, db_session, tenant_a):
    client = client_for("a.admin")
    response = client.post("/api/v1/division/", json={"code": "api-new", "name_th": "กองใหม่ทาง API"})
    assert response.status_code == 201, response.get_json()
    with platform_scope():
        row = db_session.get(Division, response.get_json()["id"])
        assert row.tenant_id == tenant_a.id
    # the same code again is a clear 422, not a 500
    response = client.post("/api/v1/division/", json={"code": "api-new", "name_th": "ซ้ำ"})
    assert response.status_code == 422
    assert "message" in response.get_json()


def test_membership_post_with_foreign_or_unknown_ids(client_for, db_session, tenant_a, tenant_b):
    client = client_for("a.admin")
    officer = _template_id(db_session, "officer")
    memberships, divisions, logs = (
        _count(db_session, Membership), _count(db_session, Division), _count(db_session, GrantLog)
    )
    payloads = [
        {"user": tenant_a.user_ids["a.officer"], "division": tenant_b.division_ids["secret-b"], "role": officer},
        {"user": tenant_b.user_ids["b.officer"], "division": tenant_a.division_ids["secret-a"], "role": officer},
        {"user": tenant_a.user_ids["a.officer"], "division": 987654, "role": officer},
        {"user": 987654, "division": tenant_a.division_ids["secret-a"], "role": officer},
        {"user": tenant_a.user_ids["a.officer"], "division": tenant_a.division_ids["secret-a"], "role": 987654},
        {"user": tenant_a.user_ids["a.officer"], "division": "abc", "role": officer},
    ]
    for payload in payloads:
        response = client.post("/api/v1/membership/", json=payload)
        assert response.status_code == 422, (payload, response.status_code, response.get_data(as_text=True))
    # nothing was created: no membership, no phantom division for the unknown id, no log
    assert _count(db_session, Membership) == memberships
    assert _count(db_session, Division) == divisions
    assert _count(db_session, GrantLog) == logs


def test_membership_put_and_delete(client_for, db_session, tenant_a, tenant_b):
    client = client_for("a.admin")
    officer = _template_id(db_session, "officer")
    response = client.post(
        "/api/v1/membership/",
        json={"user": tenant_a.user_ids["a.mayor"], "division": tenant_a.division_ids["secret-a"], "role": officer},
    )
    assert response.status_code == 201, response.get_json()
    pk = response.get_json()["id"]
    response = client.put(f"/api/v1/membership/{pk}", json={"division": tenant_b.division_ids["secret-b"]})
    assert response.status_code == 422
    response = client.put(f"/api/v1/membership/{pk}", json={"division": tenant_a.division_ids["finance"]})
    assert response.status_code == 200, response.get_json()
    assert client.put(f"/api/v1/membership/{tenant_b.membership_ids[0]}", json={"role": officer}).status_code == 404
    assert client.delete(f"/api/v1/membership/{tenant_b.membership_ids[0]}").status_code == 404
    assert client.delete(f"/api/v1/membership/{pk}").status_code == 200
    with platform_scope():
        assert db_session.get(Membership, tenant_b.membership_ids[0]) is not None
        actions = db_session.scalars(
            select(GrantLog.action).where(GrantLog.subject_username == "a.mayor", GrantLog.actor_username == "a.admin")
        ).all()
    assert actions == ["grant", "revoke", "grant", "revoke"]


def test_api_needs_login(app):
    assert app.test_client().get("/api/v1/division/").status_code == 401


def test_token_clients_get_their_tenant_only(app, tenant_a, tenant_b):
    client = app.test_client()
    response = client.post(
        "/api/v1/security/login", json={"username": "a.admin", "password": "testpass2569", "provider": "db"}
    )
    token = response.get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    body = client.get("/api/v1/division/", headers=headers).get_json()
    ids = {row["id"] for row in body["result"]}
    assert set(tenant_a.division_ids.values()) <= ids and not ids & set(tenant_b.division_ids.values())
    assert client.get(f"/api/v1/division/{tenant_b.division_ids['secret-b']}", headers=headers).status_code == 404
    bad = {"Authorization": "Bearer not-a-token"}
    assert client.get("/api/v1/division/", headers=bad).status_code in (401, 422)


def _membership_rows(db_session, tenant_id):
    with platform_scope():
        db_session.expire_all()
        return {
            m.id: (m.user_id, m.division_id, m.role_template_id)
            for m in db_session.scalars(select(Membership).where(Membership.tenant_id == tenant_id))
        }


def test_membership_list_shows_only_own_rows(client_for, db_session, tenant_a, tenant_b):
    client = client_for("a.admin")
    listed, rows, page = set(), [], 0
    while True:  # every page
        # pages in a stable order (without one PostgreSQL may repeat or skip rows between pages)
        body = client.get(
            f"/api/v1/membership/?q=(order_column:id,order_direction:asc,page:{page},page_size:100)"
        ).get_json()
        rows += body["result"]
        listed |= {row["id"] for row in body["result"]}
        if len(body["result"]) < 100:
            break
        page += 1
    own = set(_membership_rows(db_session, tenant_a.id))
    assert set(tenant_b.membership_ids) and not listed & set(tenant_b.membership_ids)
    assert listed == own and body["count"] == len(own)
    assert all(row["user"]["username"].startswith("a.") for row in rows)


@pytest.mark.parametrize("col, key", [("division", "division_ids"), ("user", "user_ids")])
def test_membership_q_filter_with_other_tenants_related_ids_finds_nothing(client_for, tenant_a, tenant_b, col, key):
    client = client_for("a.admin")
    for b_id in getattr(tenant_b, key).values():
        for opr in ("rel_o_m", "eq"):
            q = prison.dumps({"filters": [{"col": col, "opr": opr, "value": b_id}]})
            response = client.get(f"/api/v1/membership/?q={q}")
            if response.status_code == 400:  # an operator the column does not take
                continue
            body = response.get_json()
            assert response.status_code == 200 and body["count"] == 0 and body["result"] == [], (col, opr, b_id)
    # the filter itself works: A's own id finds A's rows
    own = {"division": tenant_a.division_ids["finance"], "user": tenant_a.user_ids["a.officer"]}[col]
    q = prison.dumps({"filters": [{"col": col, "opr": "rel_o_m", "value": own}]})
    body = client.get(f"/api/v1/membership/?q={q}").get_json()
    assert body["count"] >= 1 and all(r[col]["id"] == own for r in body["result"])
    assert body["count"] < client.get("/api/v1/membership/").get_json()["count"]  # not ignored


def test_membership_put_with_unknown_related_ids_changes_nothing(client_for, db_session, tenant_a):
    client = client_for("a.admin")
    pk = next(pk for pk, (user, _d, _r) in _membership_rows(db_session, tenant_a.id).items()
              if user == tenant_a.user_ids["a.officer"])
    before = _membership_rows(db_session, tenant_a.id)
    counts = [_count(db_session, model) for model in (Membership, Division, RoleTemplate, GrantLog)]
    for payload in ({"division": 987654}, {"user": 987654}, {"role": 987654},
                    {"division": tenant_a.division_ids["office"], "role": 987654}):
        response = client.put(f"/api/v1/membership/{pk}", json=payload)
        assert response.status_code == 422, (payload, response.status_code, response.get_data(as_text=True))
        assert response.get_json()["message"]
    assert _membership_rows(db_session, tenant_a.id) == before
    assert [_count(db_session, model) for model in (Membership, Division, RoleTemplate, GrantLog)] == counts
    with platform_scope():
        assert db_session.get(Division, 987654) is None and db_session.get(RoleTemplate, 987654) is None

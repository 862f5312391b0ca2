"""Every FAB surface of the division, user and membership screens, as tenant A's admin against B's rows."""
from sqlalchemy import func, select

from app.security.models import GrantLog, Membership
from app.tenancy.context import platform_scope
from app.tenancy.models import Division
from tests.conftest import ids_in_links, record_count, search_options, select_options


class _Snapshot:
    def __init__(self, row):
        self.__dict__.update({c.key: getattr(row, c.key) for c in row.__table__.columns})


def _division(db_session, pk):
    """A fresh read of the row as the database has it now."""
    with platform_scope():
        db_session.expire_all()
        row = db_session.get(Division, pk)
        return _Snapshot(row) if row is not None else None


def _count(db_session, model, **where):
    with platform_scope():
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return db_session.scalar(stmt)


def test_list_and_count_show_only_own_rows(client_for, db_session, tenant_a, tenant_b):
    html = client_for("a.admin").get("/divisions/list/?psize_DivisionView=100").get_data(as_text=True)
    own, other = _count(db_session, Division, tenant_id=tenant_a.id), _count(db_session, Division, tenant_id=tenant_b.id)
    assert other > 0  # B has rows that a leak would add
    listed = ids_in_links(html, "/divisions")
    assert set(tenant_a.division_ids.values()) <= listed
    assert not listed & set(tenant_b.division_ids.values())
    assert "กองลับเฉพาะบี" not in html and "กองลับเฉพาะเอ" in html
    # FAB's record count is the exact number of A's rows, not A's and B's
    assert record_count(html) == own, (record_count(html), own, other)


def test_search_by_code_never_reaches_other_tenant(client_for, tenant_b):
    html = client_for("a.admin").get("/divisions/list/?_flt_0_code=secret-b").get_data(as_text=True)
    assert "กองลับเฉพาะบี" not in html
    html = client_for("a.admin").get("/divisions/list/?_flt_0_name_th=บี").get_data(as_text=True)
    assert not ids_in_links(html, "/divisions")


def test_show_edit_delete_of_other_tenant_are_404(client_for, db_session, tenant_b):
    client = client_for("a.admin")
    b_id = tenant_b.division_ids["secret-b"]
    assert client.get(f"/divisions/show/{b_id}").status_code == 404
    assert client.get(f"/divisions/edit/{b_id}").status_code == 404
    response = client.post(
        f"/divisions/edit/{b_id}", data={"code": "secret-b", "name_th": "hijacked", "name_en": "x"}
    )
    assert response.status_code == 404
    assert client.post(f"/divisions/delete/{b_id}").status_code == 404
    assert client.get("/divisions/show/not-a-number").status_code == 404
    row = _division(db_session, b_id)
    assert row is not None and row.name_th == "กองลับเฉพาะบี"


def test_actions_single_and_multi_row_refuse_other_tenant(client_for, db_session, tenant_a, tenant_b):
    client = client_for("a.admin")
    b_id = tenant_b.division_ids["secret-b"]
    a_id = tenant_a.division_ids["secret-a"]
    response = client.post("/divisions/action_post", data={"action": "deactivate", "rowid": [a_id, b_id]})
    assert response.status_code == 404
    assert _division(db_session, b_id).active is True
    assert _division(db_session, a_id).active is True
    response = client.post("/divisions/action_post", data={"action": "deactivate", "rowid": [b_id]})
    assert response.status_code == 404
    assert client.post(f"/divisions/action/deactivate/{b_id}").status_code == 404  # single-row action
    assert _division(db_session, b_id).active is True


def test_multi_row_action_on_own_rows_works(client_for, db_session, tenant_a):
    client = client_for("a.admin")
    client.post("/divisions/add", data={"code": "to-close", "name_th": "กองที่จะปิด", "name_en": "", "active": "y"})
    with platform_scope():
        pk = db_session.scalar(
            select(Division.id).where(Division.tenant_id == tenant_a.id, Division.code == "to-close")
        )
    response = client.post("/divisions/action_post", data={"action": "deactivate", "rowid": [pk]})
    assert response.status_code == 302
    assert _division(db_session, pk).active is False


def test_file_download_route_is_not_granted(client_for):
    # FAB's download-by-filename route knows no tenant, so no role may use it
    assert client_for("a.admin").get("/divisions/download/anything.csv").status_code in (403, 404)


def test_add_takes_tenant_from_login_and_ignores_posted_tenant(client_for, db_session, tenant_a, tenant_b):
    client = client_for("a.admin")
    client.post(
        "/divisions/add",
        data={"code": "planted", "name_th": "กองปลูก", "name_en": "", "tenant_id": tenant_b.id, "tenant": tenant_b.id},
    )
    with platform_scope():
        rows = db_session.scalars(select(Division).where(Division.code == "planted")).all()
        assert [r.tenant_id for r in rows] == [tenant_a.id]


def test_same_code_as_other_tenant_is_allowed_and_duplicate_in_own_gets_thai_error(
    client_for, db_session, tenant_a
):
    client = client_for("a.admin")
    # B has "secret-b"; A may use it too (uniqueness is per tenant, so nothing about B is revealed)
    response = client.post(
        "/divisions/add", data={"code": "secret-b", "name_th": "กองของเอ", "name_en": ""}
    )
    assert response.status_code == 302
    before = _count(db_session, Division, tenant_id=tenant_a.id)
    response = client.post(
        "/divisions/add", data={"code": "finance", "name_th": "กองคลังซ้ำ", "name_en": "dup"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200  # the form again, with the user's input kept
    assert "กองคลังซ้ำ" in html
    assert "A record with the same value already exists." in html or "มีข้อมูลนี้อยู่แล้ว" in html
    assert _count(db_session, Division, tenant_id=tenant_a.id) == before


def test_user_screens_show_only_own_users(client_for, tenant_a, tenant_b):
    client = client_for("a.admin")
    html = client.get("/org-users/list/?_oc_TenantUserView=username&_od_TenantUserView=desc").get_data(as_text=True)
    assert "a.officer" in html and "a.mayor" in html
    assert "b.officer" not in html and "b.mayor" not in html
    b_user = tenant_b.user_ids["b.officer"]
    assert client.get(f"/org-users/show/{b_user}").status_code == 404
    assert client.get(f"/org-users/edit/{b_user}").status_code == 404
    response = client.post(f"/org-users/edit/{b_user}", data={"first_name": "x", "last_name": "y", "email": "b@x.test"})
    assert response.status_code == 404
    html = client.get("/org-users/list/?_flt_0_username=b.officer").get_data(as_text=True)
    assert not ids_in_links(html, "/org-users")  # the search finds nothing (only the echoed filter)
    assert "officer@b.test" not in html


def test_related_view_of_own_user_lists_own_memberships_only(client_for, tenant_a, tenant_b):
    client = client_for("a.admin")
    html = client.get(f"/org-users/show/{tenant_a.user_ids['a.officer']}").get_data(as_text=True)
    assert "กองคลัง" in html
    assert not ids_in_links(html, "/memberships") & set(tenant_b.membership_ids)


def test_membership_dropdowns_list_only_own_rows(client_for, tenant_a, tenant_b):
    html = client_for("a.admin").get("/memberships/add").get_data(as_text=True)
    users, divisions = select_options(html, "user"), select_options(html, "division")
    assert {str(i) for i in tenant_a.user_ids.values()} <= users
    assert not users & {str(i) for i in tenant_b.user_ids.values()}
    assert {str(i) for i in tenant_a.division_ids.values()} <= divisions
    assert not divisions & {str(i) for i in tenant_b.division_ids.values()}
    assert "กองลับเฉพาะบี" not in html and "b.officer" not in html


def test_list_filter_with_other_tenants_related_id_lists_nothing(client_for, db_session, tenant_a, tenant_b):
    client = client_for("a.admin")
    for b_id in tenant_b.division_ids.values():
        html = client.get(f"/memberships/list/?_flt_0_division={b_id}").get_data(as_text=True)
        assert not ids_in_links(html, "/memberships"), b_id
    for b_id in tenant_b.user_ids.values():
        html = client.get(f"/memberships/list/?_flt_0_user={b_id}").get_data(as_text=True)
        assert not ids_in_links(html, "/memberships"), b_id
    # the filter itself works: A's own สำนักปลัด lists exactly A's memberships there
    html = client.get(
        f"/memberships/list/?_flt_0_division={tenant_a.division_ids['office']}&psize_MembershipView=100"
    ).get_data(as_text=True)
    with platform_scope():
        office = set(db_session.scalars(select(Membership.id).where(
            Membership.division_id == tenant_a.division_ids["office"])))
    assert 0 < len(office) < 100 and ids_in_links(html, "/memberships") == office


def test_search_dropdowns_list_only_own_rows(client_for, tenant_a, tenant_b):
    html = client_for("a.admin").get("/memberships/list/").get_data(as_text=True)
    options = search_options(html)
    users, divisions = set(options["user"]), set(options["division"])
    assert {str(i) for i in tenant_a.user_ids.values()} <= users
    assert not users & {str(i) for i in tenant_b.user_ids.values()}
    assert {str(i) for i in tenant_a.division_ids.values()} <= divisions
    assert not divisions & {str(i) for i in tenant_b.division_ids.values()}
    labels = set(options["division"].values())
    assert "กองลับเฉพาะเอ" in labels and "กองลับเฉพาะบี" not in labels


def test_membership_post_with_other_tenants_ids_writes_nothing(client_for, db_session, tenant_a, tenant_b):
    client = client_for("a.admin")
    with platform_scope():
        officer = db_session.scalar(select(Membership.role_template_id).where(Membership.tenant_id == tenant_a.id))
    before = _count(db_session, Membership)
    logs = _count(db_session, GrantLog)
    attempts = [
        {"user": tenant_a.user_ids["a.officer"], "division": tenant_b.division_ids["secret-b"], "role": officer},
        {"user": tenant_b.user_ids["b.officer"], "division": tenant_a.division_ids["secret-a"], "role": officer},
        {"user": tenant_a.user_ids["a.officer"], "division": 999999, "role": officer},
    ]
    for data in attempts:
        response = client.post("/memberships/add", data=data)
        assert response.status_code == 200  # form re-shown with an error
    # the division preset by a ?_flt_ parameter, pointing at B's division
    response = client.post(
        f"/memberships/add?_flt_0_division={tenant_b.division_ids['secret-b']}",
        data={"user": tenant_a.user_ids["a.officer"], "role": officer},
    )
    assert response.status_code in (200, 302)
    assert _count(db_session, Membership) == before
    assert _count(db_session, GrantLog) == logs


def test_grant_log_shows_only_own_tenant(client_for, tenant_a):
    # searched by user: bulk users other tests make (110+) push a.officer's grant off the first page
    client = client_for("a.admin")
    html = client.get("/grant-log/list/?_flt_0_subject_username=a.officer").get_data(as_text=True)
    assert "a.officer" in html and "b.officer" not in html
    html = client.get("/grant-log/list/?_flt_0_subject_username=b.officer").get_data(as_text=True)
    assert "/grant-log/show/" not in html  # B's grants: not found in A


def test_membership_delete_of_other_tenant_is_404(client_for, db_session, tenant_b):
    client = client_for("a.admin")
    pk = tenant_b.membership_ids[0]
    assert client.post(f"/memberships/delete/{pk}").status_code == 404
    assert client.get(f"/memberships/show/{pk}").status_code == 404
    with platform_scope():
        assert db_session.get(Membership, pk) is not None


def test_division_with_members_cannot_be_deleted(client_for, db_session, tenant_a):
    pk = tenant_a.division_ids["finance"]  # a.officer is a member
    response = client_for("a.admin").post(f"/divisions/delete/{pk}", follow_redirects=True)
    assert "ยังถูกใช้งานอยู่" in response.get_data(as_text=True)
    assert _division(db_session, pk) is not None

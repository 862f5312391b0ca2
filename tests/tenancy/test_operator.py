"""Platform operators manage tenants and enter one explicitly; the switch is recorded."""
from sqlalchemy import func, select

from app.tenancy.context import platform_scope
from app.tenancy.models import Division, Tenant, TenantSwitchLog
from tests.conftest import ids_in_links


def test_operator_without_a_tenant_is_told_to_choose_one(client_for):
    client = client_for("ops")
    response = client.get("/divisions/list/")
    assert response.status_code == 302 and "/tenants/list" in response.headers["Location"]
    assert client.get("/api/v1/division/").status_code == 403


def test_operator_enters_and_leaves_a_tenant_and_it_is_logged(client_for, db_session, tenant_a, tenant_b):
    client = client_for("ops")
    with platform_scope():
        before = db_session.scalar(select(func.count()).select_from(TenantSwitchLog))
    response = client.get(f"/tenants/action/switch_into/{tenant_a.id}")  # the button on the detail screen
    assert response.status_code == 302 and f"/tenant-switch/enter/{tenant_a.id}" in response.headers["Location"]
    assert client.get(f"/tenant-switch/enter/{tenant_a.id}").status_code == 200
    assert client.post(f"/tenant-switch/enter/{tenant_a.id}").status_code == 302
    html = client.get("/divisions/list/").get_data(as_text=True)
    assert set(tenant_a.division_ids.values()) <= ids_in_links(html, "/divisions")
    assert not ids_in_links(html, "/divisions") & set(tenant_b.division_ids.values())
    assert "acting-tenant-banner" in html
    assert client.post("/tenant-switch/leave").status_code == 302
    assert client.get("/divisions/list/").status_code == 302
    with platform_scope():
        rows = db_session.scalars(select(TenantSwitchLog).order_by(TenantSwitchLog.id)).all()[before:]
    assert [(r.operator_username, r.organisation_id, r.action) for r in rows] == [
        ("ops", tenant_a.id, "enter"), ("ops", tenant_a.id, "leave")
    ]


def test_tenant_users_cannot_switch(client_for, tenant_b):
    client = client_for("a.admin")
    assert client.post(f"/tenant-switch/enter/{tenant_b.id}").status_code in (302, 403)
    html = client.get("/divisions/list/").get_data(as_text=True)
    assert not ids_in_links(html, "/divisions") & set(tenant_b.division_ids.values())


def test_operator_creates_a_tenant_with_its_types_divisions(client_for, db_session):
    client = client_for("ops")
    response = client.post(
        "/tenants/add",
        data={"dla_code": "1000099", "name_th": "อบต.ทดสอบใหม่", "name_en": "New SAO", "type": "sao",
              "province": "ลำพูน", "active": "y"},
    )
    assert response.status_code == 302
    with platform_scope():
        tenant = db_session.scalar(select(Tenant).where(Tenant.dla_code == "1000099"))
        codes = set(db_session.scalars(select(Division.code).where(Division.tenant_id == tenant.id)))
    assert codes == {"office", "finance", "engineering", "education"}
    # a duplicate DLA code is a clear error with the input kept
    response = client.post(
        "/tenants/add",
        data={"dla_code": "1000099", "name_th": "ซ้ำ", "name_en": "Dup", "type": "sao", "province": "ลำพูน"},
    )
    assert response.status_code == 200 and "ซ้ำ" in response.get_data(as_text=True)


def test_staff_home_shows_tenant_divisions_and_roles(client_for):
    html = client_for("a.officer").get("/").get_data(as_text=True)
    assert "องค์การบริหารส่วนตำบลเอ" in html
    assert "กองคลัง" in html and "เจ้าหน้าที่" in html
    assert "องค์การบริหารส่วนตำบลบี" not in html


def test_executives_see_their_local_title(client_for):
    html = client_for("a.mayor").get("/").get_data(as_text=True)
    assert "นายกองค์การบริหารส่วนตำบล" in html


def test_tenant_admin_sets_thai_digits_for_own_organisation_only(client_for, db_session, tenant_a, tenant_b):
    client = client_for("a.admin")
    html = client.get("/organisation/list/").get_data(as_text=True)
    assert "องค์การบริหารส่วนตำบลเอ" in html and "องค์การบริหารส่วนตำบลบี" not in html
    assert client.get(f"/organisation/show/{tenant_b.id}").status_code == 404
    assert client.post(f"/organisation/edit/{tenant_b.id}", data={"name_en": "x", "thai_digits": "y"}).status_code == 404
    response = client.post(f"/organisation/edit/{tenant_a.id}", data={"name_en": "SAO A", "thai_digits": "y", "reopen_days": "30"})
    assert response.status_code == 302
    with platform_scope():
        db_session.expire_all()
        assert db_session.get(Tenant, tenant_a.id).thai_digits is True
        assert db_session.get(Tenant, tenant_b.id).thai_digits is False
    client.post(f"/organisation/edit/{tenant_a.id}", data={"name_en": "SAO A", "reopen_days": "30"})
    # other roles cannot change it
    assert client_for("a.manager").get(f"/organisation/edit/{tenant_a.id}").status_code in (302, 403)

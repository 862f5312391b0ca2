"""Role managers grant within their own tenant and level; FAB's global screens are for operators only."""
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import func, select

from app.security.models import GrantLog, Membership, RoleTemplate
from app.tenancy.context import platform_scope
from tests.conftest import select_options


def _template_id(db_session, code):
    return db_session.scalar(select(RoleTemplate.id).where(RoleTemplate.code == code))


def _memberships(db_session, username):
    with platform_scope():
        return db_session.scalars(
            select(RoleTemplate.code).join(Membership, Membership.role_template_id == RoleTemplate.id)
            .join(User, User.id == Membership.user_id).where(User.username == username)
        ).all()


def _log_count(db_session):
    with platform_scope():
        return db_session.scalar(select(func.count()).select_from(GrantLog))


def test_role_manager_sees_only_grantable_roles_up_to_own_level(client_for, db_session):
    html = client_for("a.manager").get("/memberships/add").get_data(as_text=True)
    offered = select_options(html, "role")
    codes = {
        code for (code, pk) in db_session.execute(select(RoleTemplate.code, RoleTemplate.id)) if str(pk) in offered
    }
    assert codes == {"officer", "division_director", "role_manager"}


def test_role_manager_cannot_grant_above_own_level(client_for, db_session, tenant_a):
    client = client_for("a.manager")
    before = _log_count(db_session)
    for role in ("permanent_secretary", "mayor", "tenant_admin"):
        response = client.post(
            "/api/v1/membership/",
            json={"user": tenant_a.user_ids["a.officer"], "division": tenant_a.division_ids["office"],
                  "role": _template_id(db_session, role)},
        )
        assert response.status_code == 422, role
        response = client.post(
            "/memberships/add",
            data={"user": tenant_a.user_ids["a.officer"], "division": tenant_a.division_ids["office"],
                  "role": _template_id(db_session, role)},
        )
        assert response.status_code == 200  # form again with an error
    assert _memberships(db_session, "a.officer") == ["officer"]
    assert _log_count(db_session) == before


def test_platform_role_cannot_be_granted_even_by_tenant_admin(client_for, db_session, tenant_a):
    response = client_for("a.admin").post(
        "/api/v1/membership/",
        json={"user": tenant_a.user_ids["a.officer"], "division": tenant_a.division_ids["office"],
              "role": _template_id(db_session, "platform_operator")},
    )
    assert response.status_code == 422
    assert "platform_operator" not in _memberships(db_session, "a.officer")


def test_role_manager_cannot_revoke_above_own_level(client_for, db_session, tenant_a):
    with platform_scope():
        mayor_membership = db_session.scalar(
            select(Membership.id).where(Membership.user_id == tenant_a.user_ids["a.mayor"],
                                        Membership.role_template_id == _template_id(db_session, "mayor"))
        )
    client = client_for("a.manager")
    assert client.delete(f"/api/v1/membership/{mayor_membership}").status_code == 422
    client.post(f"/memberships/delete/{mayor_membership}")
    assert "mayor" in _memberships(db_session, "a.mayor")


def test_role_manager_cannot_touch_other_tenants_users(client_for, db_session, tenant_a, tenant_b):
    client = client_for("a.manager")
    response = client.post(
        "/api/v1/membership/",
        json={"user": tenant_b.user_ids["b.officer"], "division": tenant_a.division_ids["office"],
              "role": _template_id(db_session, "officer")},
    )
    assert response.status_code == 422
    assert client.get(f"/org-users/show/{tenant_b.user_ids['b.officer']}").status_code == 404
    assert _memberships(db_session, "b.officer") == ["officer"]


def test_grant_and_revoke_are_logged_and_change_permissions(client_for, db_session, tenant_a):
    manager = client_for("a.manager")
    officer_client = client_for("a.officer")
    # the officer cannot see the user list yet
    assert officer_client.get("/org-users/list/").status_code in (302, 403)
    before = _log_count(db_session)
    response = manager.post(
        "/memberships/add",
        data={"user": tenant_a.user_ids["a.officer"], "division": tenant_a.division_ids["engineering"],
              "role": _template_id(db_session, "division_director")},
    )
    assert response.status_code == 302
    assert sorted(_memberships(db_session, "a.officer")) == ["division_director", "officer"]
    assert _log_count(db_session) == before + 1
    # FAB permissions follow the membership at the user's next request
    assert client_for("a.officer").get("/org-users/list/").status_code == 200
    with platform_scope():
        log = db_session.scalars(select(GrantLog).order_by(GrantLog.id.desc())).first()
        assert (log.action, log.actor_username, log.subject_username, log.division_code) == (
            "grant", "a.manager", "a.officer", "engineering"
        )
        pk = db_session.scalar(
            select(Membership.id).where(Membership.user_id == tenant_a.user_ids["a.officer"],
                                        Membership.division_id == tenant_a.division_ids["engineering"])
        )
    assert manager.post(f"/memberships/delete/{pk}").status_code == 302
    assert _memberships(db_session, "a.officer") == ["officer"]
    assert _log_count(db_session) == before + 2
    assert client_for("a.officer").get("/org-users/list/").status_code in (302, 403)
    html = manager.get("/grant-log/list/").get_data(as_text=True)
    assert "engineering" in html or "กองช่าง" in html


def test_fab_security_screens_are_for_operators_only(client_for):
    for username in ("a.admin", "a.manager", "a.mayor"):
        client = client_for(username)
        for url in ("/users/list/", "/roles/list/", "/permissions/list/", "/tenants/list/",
                    "/tenant-switch-log/list/", f"/tenants/show/{1}"):
            assert client.get(url).status_code in (302, 403), (username, url)
    operator = client_for("ops")
    for url in ("/users/list/", "/roles/list/", "/tenants/list/", "/tenant-switch-log/list/"):
        assert operator.get(url).status_code == 200, url


def _snapshot(db_session, tenant_id):
    with platform_scope():
        db_session.expire_all()
        return {
            m.id: (m.user_id, m.division_id, m.role_template_id)
            for m in db_session.scalars(select(Membership).where(Membership.tenant_id == tenant_id))
        }


def _officer_membership(db_session, tenant_a):
    with platform_scope():
        return db_session.scalar(
            select(Membership.id).where(Membership.user_id == tenant_a.user_ids["a.officer"],
                                        Membership.role_template_id == _template_id(db_session, "officer"))
        )


def test_role_manager_cannot_upgrade_a_membership_via_put(client_for, db_session, tenant_a):
    client = client_for("a.manager")
    pk = _officer_membership(db_session, tenant_a)
    before, logs = _snapshot(db_session, tenant_a.id), _log_count(db_session)
    for role in ("permanent_secretary", "mayor", "tenant_admin", "platform_operator"):
        response = client.put(f"/api/v1/membership/{pk}", json={"role": _template_id(db_session, role)})
        assert response.status_code == 422, (role, response.status_code, response.get_data(as_text=True))
        assert response.get_json()["message"]
    assert _snapshot(db_session, tenant_a.id) == before
    assert _log_count(db_session) == logs
    assert _memberships(db_session, "a.officer") == ["officer"]
    # FAB's roles did not follow either: the officer still cannot list users
    assert client_for("a.officer").get("/org-users/list/").status_code in (302, 403)


def test_role_not_marked_grantable_cannot_be_granted(client_for, db_session, tenant_a):
    auditor = _template_id(db_session, "internal_auditor")
    with platform_scope():
        template = db_session.get(RoleTemplate, auditor)
        manager_level = db_session.scalar(select(RoleTemplate.level).where(RoleTemplate.code == "role_manager"))
        assert not template.grantable and not template.platform and template.level < manager_level
    pk = _officer_membership(db_session, tenant_a)
    before, logs = _snapshot(db_session, tenant_a.id), _log_count(db_session)
    target = {"user": tenant_a.user_ids["a.officer"], "division": tenant_a.division_ids["office"], "role": auditor}
    for username in ("a.manager", "a.admin"):
        client = client_for(username)
        assert str(auditor) not in select_options(client.get("/memberships/add").get_data(as_text=True), "role")
        response = client.post("/api/v1/membership/", json=target)
        assert response.status_code == 422
        assert response.get_json()["message"] == "ผู้จัดการสิทธิ์ไม่สามารถมอบบทบาท ผู้ตรวจสอบภายใน ได้"
        assert client.put(f"/api/v1/membership/{pk}", json={"role": auditor}).status_code == 422
        response = client.post("/memberships/add", data=target)
        assert response.status_code == 200  # the form again, refused
    assert _snapshot(db_session, tenant_a.id) == before
    assert _log_count(db_session) == logs


def test_role_manager_cannot_grant_a_platform_role(client_for, db_session, tenant_a):
    client = client_for("a.manager")
    platform = _template_id(db_session, "platform_operator")
    before, logs = _snapshot(db_session, tenant_a.id), _log_count(db_session)
    target = {"user": tenant_a.user_ids["a.officer"], "division": tenant_a.division_ids["office"], "role": platform}
    assert str(platform) not in select_options(client.get("/memberships/add").get_data(as_text=True), "role")
    response = client.post("/api/v1/membership/", json=target)
    assert response.status_code == 422
    assert response.get_json()["message"] == "ไม่สามารถมอบบทบาทระดับแพลตฟอร์มภายในองค์กรได้"
    assert client.post("/memberships/add", data=target).status_code == 200
    assert _snapshot(db_session, tenant_a.id) == before
    assert _log_count(db_session) == logs
    assert "platform_operator" not in _memberships(db_session, "a.officer")

"""The signed-in user loader (app/security/manager.py) and the per-process cache of what roles may do
(app/security/permission_cache.py): one statement for the user, its roles, its tenant and the permissions version;
no permission statement while the version holds; a change made by any process (another app here, with a cache of
its own, as another gunicorn worker) is seen by the next request of every other one; the tenant wall unchanged."""
from __future__ import annotations

import pytest
from flask import g
from sqlalchemy import delete, insert, inspect, select

from app.extensions import db
from app.tenancy.context import platform_scope, tenant_scope
from tests.conftest import login, make_app
from tests.tenancy.statements import counting


@pytest.fixture(scope="module")
def other_process(app, database_url):
    """A second app on the same database: its own security manager, so its own role cache (another worker)."""
    return make_app(database_url)


def _engine(app):
    with app.app_context():
        return db.engine


def _version(app) -> int:
    from app.security import permission_cache

    with app.app_context():
        value = permission_cache.read_version(db.session)
        db.session.remove()
    return value


def _officer_role_and_grant(app):
    """(role id, permission-view id) of the officer role and of can_list on the organisation's users screen,
    which officers do not have."""
    from flask_appbuilder.security.sqla.models import Permission, PermissionView, Role, ViewMenu

    with app.app_context(), platform_scope():
        role_id = db.session.scalar(select(Role.id).where(Role.name == "officer"))
        pv_id = db.session.scalar(select(PermissionView.id).join(Permission).join(ViewMenu).where(
            Permission.name == "can_list", ViewMenu.name == "TenantUserView"))
        db.session.remove()
    assert role_id and pv_id
    return role_id, pv_id


def _change(app, role_id, pv_id, add: bool) -> None:
    """Through FAB's own security manager methods, as its role screens and `flask fab` commands do."""
    from flask_appbuilder.security.sqla.models import PermissionView, Role

    sm = app.appbuilder.sm
    with app.app_context(), platform_scope():
        role, pv = db.session.get(Role, role_id), db.session.get(PermissionView, pv_id)
        (sm.add_permission_role if add else sm.del_permission_role)(role, pv)
        db.session.remove()


def test_user_roles_tenant_and_version_in_one_statement(app, tenant_a):
    sm = app.appbuilder.sm
    pk = tenant_a.user_ids["a.admin"]
    with app.test_request_context("/divisions/list/"):
        g.user = g._login_user = sm.get_user_by_id(pk)
        assert sm.has_access("can_list", "DivisionView")  # fills the role cache
        db.session.remove()
    with app.test_request_context("/divisions/list/"):
        with counting(_engine(app)) as seen:
            user = sm.get_user_by_id(pk)
            g.user = g._login_user = user
            assert sm.has_access("can_list", "DivisionView")
            assert not sm.has_access("can_list", "TenantView")  # a platform screen
            groups, roles, tenant = user.groups, user.roles, user.tenant
        assert len(seen) == 1, seen
        statement = seen[0]
        assert "permissions_version" in statement and "ab_user_role" in statement
        # neither the roles' permissions nor the tenant's type (its JSON) come with the user
        assert "ab_permission_view" not in statement and "tenant_types" not in statement
        assert groups == [] and roles and tenant.id == tenant_a.id
        assert "type" in inspect(tenant).unloaded
        db.session.remove()


def test_groups_are_read_only_for_a_user_in_one(app, tenant_a):
    """FAB's groups lend roles too: a user in a group gets them (the groups and their roles by selectin: two
    statements more, for a user in a group only)."""
    from flask_appbuilder.security.sqla.models import Group, Role, assoc_user_group

    sm = app.appbuilder.sm
    pk = tenant_a.user_ids["a.officer"]
    with app.app_context(), platform_scope():
        manager_role = db.session.scalar(select(Role).where(Role.name == "role_manager"))
        group = Group(name="loader-test-group", label="loader test")
        group.roles = [manager_role]
        db.session.add(group)
        db.session.commit()
        group_id = group.id
        db.session.execute(insert(assoc_user_group).values(user_id=pk, group_id=group_id))
        db.session.commit()
        db.session.remove()
    try:
        with app.test_request_context("/divisions/list/"):
            with counting(_engine(app)) as seen:
                user = sm.get_user_by_id(pk)
            assert len(seen) == 3 and "ab_user_group" in seen[1] and "ab_group_role" in seen[2], seen
            assert [grp.name for grp in user.groups] == ["loader-test-group"]
            assert "role_manager" in {role.name for role in sm.get_user_roles(user)}
            db.session.remove()
    finally:
        with app.app_context(), platform_scope():
            db.session.execute(delete(assoc_user_group).where(assoc_user_group.c.group_id == group_id))
            db.session.delete(db.session.get(Group, group_id))
            db.session.commit()
            db.session.remove()


def test_a_change_in_one_process_is_seen_by_the_next_request_of_another(app, other_process, tenant_a):
    role_id, pv_id = _officer_role_and_grant(app)
    here = login(app.test_client(), "a.officer")
    there = login(other_process.test_client(), "a.officer")
    assert here.get("/org-users/list/").status_code == 403
    assert there.get("/org-users/list/").status_code == 403
    before = _version(app)
    cache = other_process.appbuilder.sm.role_cache
    assert cache.version == before  # the other process answered from its cache, stamped with this version
    _change(app, role_id, pv_id, add=True)
    try:
        assert _version(app) > before
        assert cache.version == before  # nothing told the other process: the version it reads next does
        assert there.get("/org-users/list/").status_code == 200
        assert cache.version == _version(app)
        assert here.get("/org-users/list/").status_code == 200
    finally:
        _change(other_process, role_id, pv_id, add=False)  # and back, from the other side
    assert here.get("/org-users/list/").status_code == 403
    assert there.get("/org-users/list/").status_code == 403


def test_what_bumps_the_version_and_what_does_not(app, tenant_a):
    """Any ORM change to roles or permissions, and Core statements on their tables sent through a session, bump it
    once in their own transaction; a rollback leaves it; a login or a role assignment (read with the user on every
    request anyway) does not."""
    from flask_appbuilder.security.sqla.models import Role, User, assoc_permissionview_role

    from app.security import permission_cache

    role_id, pv_id = _officer_role_and_grant(app)
    start = _version(app)
    with app.app_context(), platform_scope():
        db.session.execute(insert(assoc_permissionview_role).values(role_id=role_id, permission_view_id=pv_id))
        db.session.rollback()
    assert _version(app) == start
    with app.app_context(), platform_scope():
        db.session.execute(insert(assoc_permissionview_role).values(role_id=role_id, permission_view_id=pv_id))
        db.session.execute(delete(assoc_permissionview_role).where(
            assoc_permissionview_role.c.role_id == role_id, assoc_permissionview_role.c.permission_view_id == pv_id))
        db.session.commit()
    assert _version(app) == start + 1  # once per transaction
    with app.app_context(), platform_scope():
        role = db.session.get(Role, role_id)
        name = role.name
        role.name = name + "-renamed"
        db.session.flush()
        role.name = name
        db.session.commit()
    assert _version(app) == start + 2
    login(app.test_client(), "a.officer")
    with app.app_context(), platform_scope():
        role = db.session.get(Role, role_id)
        holders = list(role.user)  # the role's side of the assignment loaded, and changed by the grant
        user = db.session.get(User, tenant_a.user_ids["a.mayor"])
        assert user not in holders
        user.roles.append(role)  # what a membership grant does (app/security/services.py _sync_roles)
        db.session.flush()
        assert user in role.user
        assert not permission_cache.changed_in_transaction(db.session)  # no bump, no lock on the counter
        role.permissions = list(role.permissions)[:-1]  # while a change to what the role may do does bump
        db.session.flush()
        assert permission_cache.changed_in_transaction(db.session)
        db.session.rollback()
        db.session.remove()
    assert _version(app) == start + 2


def test_answers_made_inside_a_changing_transaction_stay_out_of_the_cache(app, tenant_a):
    """A request that changed permissions and asks before committing sees its own change, but the cache (shared
    with requests that will never see it if it rolls back) gets nothing from it."""
    from flask_appbuilder.security.sqla.models import Role, assoc_permissionview_role

    sm = app.appbuilder.sm
    role_id, pv_id = _officer_role_and_grant(app)
    with app.test_request_context("/org-users/list/"):
        with platform_scope():
            db.session.execute(insert(assoc_permissionview_role).values(role_id=role_id, permission_view_id=pv_id))
            assert sm.exist_permission_on_roles("TenantUserView", "can_list", [role_id])
            db.session.rollback()
        db.session.remove()
    with app.test_request_context("/org-users/list/"):
        with platform_scope():
            assert db.session.get(Role, role_id) is not None
            assert not sm.exist_permission_on_roles("TenantUserView", "can_list", [role_id])
        db.session.remove()


def test_anonymous_and_rest_calls_send_no_role_statement(app, tenant_a):
    client = login(app.test_client(), "a.admin")
    engine = _engine(app)
    client.get("/api/v1/division/")
    with counting(engine) as seen:
        assert client.get("/api/v1/division/").status_code == 200
    assert not [s for s in seen if "FROM ab_role" in s or "ab_permission" in s], seen
    anonymous = app.test_client()
    anonymous.get("/login/")
    with counting(engine) as seen:
        assert anonymous.get("/login/").status_code == 200
    assert not [s for s in seen if "ab_permission" in s], seen


def test_the_loader_still_refuses_a_user_of_another_tenant(app, tenant_a, tenant_b):
    sm = app.appbuilder.sm
    b_admin, a_admin = tenant_b.user_ids["b.admin"], tenant_a.user_ids["a.admin"]
    with app.test_request_context("/api/v1/division/"):
        with tenant_scope(tenant_a.id):
            assert sm.get_user_by_id(b_admin) is None
            assert sm.get_user_by_id(a_admin).tenant_id == tenant_a.id
        db.session.remove()


def test_api_user_is_loaded_inside_its_tenant_with_memberships(app, tenant_a, tenant_b):
    """On an API request the process's note of the user's tenant lets one statement bring the memberships; a wrong
    note (or a stale one) finds nothing there and the user is loaded as before, never with another tenant's rows."""
    from app.security import manager
    from app.security.models import Membership

    sm = app.appbuilder.sm
    pk = tenant_a.user_ids["a.officer"]
    with app.test_request_context("/api/v1/division/"):
        sm.get_user_by_id(pk)
        db.session.remove()
    assert manager._USER_TENANTS[pk] == tenant_a.id
    with app.test_request_context("/api/v1/division/"):
        with counting(_engine(app)) as seen:
            user = sm.get_user_by_id(pk)
            memberships = list(user.memberships)
        assert len([s for s in seen if s.lstrip().upper().startswith("SELECT") and "set_config" not in s]) == 1
        assert memberships and {m.tenant_id for m in memberships} == {tenant_a.id}
        db.session.remove()
    manager._USER_TENANTS[pk] = tenant_b.id  # wrong: the user is not found in B, then loaded without a tenant
    try:
        with app.test_request_context("/api/v1/division/"):
            user = sm.get_user_by_id(pk)
            assert user is not None and user.tenant_id == tenant_a.id
            assert "memberships" in inspect(user).unloaded
            db.session.remove()
        assert manager._USER_TENANTS[pk] == tenant_a.id
    finally:
        manager._USER_TENANTS[pk] = tenant_a.id
    with app.app_context(), tenant_scope(tenant_a.id):
        assert db.session.scalar(select(Membership.id).where(Membership.user_id == pk)) is not None
        db.session.remove()

"""Lists cost the same number of SQL statements for 25 rows as for 100 (no per-row queries): the
organisation's users, the operator's FAB user list (all organisations) and the memberships."""
import pytest
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import event, func, select
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.security import services
from app.security.models import Membership, RoleTemplate
from app.tenancy.context import tenant_scope
from app.tenancy.models import Division


def _ensure_users(app, tenant_id, n):
    """n users in the tenant, each an officer (so each row has roles and a membership) of a กอง of their
    own that no matter ever reaches: other tests' notices to กอง members stay as they were."""
    with app.app_context(), tenant_scope(tenant_id):
        have = db.session.scalar(select(func.count()).select_from(User).where(User.username.like("a.bulk%")))
        password = generate_password_hash("bulkpass2569", method="pbkdf2:sha256:1000")
        division = db.session.scalar(select(Division).where(Division.code == "bulk"))
        if division is None:
            division = Division(code="bulk", name_th="กองทดสอบจำนวนมาก", name_en="Bulk test division")
            db.session.add(division)
        officer = db.session.scalar(select(RoleTemplate).where(RoleTemplate.code == "officer"))
        for i in range(have, n):
            user = User(
                username=f"a.bulk{i:03d}", first_name="จำนวน", last_name=f"{i}", email=f"bulk{i}@a.test",
                active=True, password=password, tenant_id=tenant_id,
            )
            db.session.add(user)
            services.grant(None, user, division, officer)
        db.session.commit()
        db.session.remove()


def _statements(app, client, url):
    with app.app_context():
        engine = db.engine
    seen = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return seen, response.get_data(as_text=True)


@pytest.mark.parametrize(
    "username, route, view",
    [
        ("a.admin", "/org-users", "TenantUserView"),
        ("ops", "/users", "UserDBModelView"),
        ("a.admin", "/memberships", "MembershipView"),
    ],
)
def test_list_statement_count_does_not_grow_with_rows(app, client_for, tenant_a, username, route, view):
    _ensure_users(app, tenant_a.id, 110)
    client = client_for(username)
    client.get(f"{route}/list/")  # warm FAB's per-process caches
    small, html_small = _statements(app, client, f"{route}/list/?psize_{view}=25")
    large, html_large = _statements(app, client, f"{route}/list/?psize_{view}=100")
    rows_small, rows_large = html_small.count(f"{route}/show/"), html_large.count(f"{route}/show/")
    assert rows_small >= 25 and rows_large >= 100 and rows_small < rows_large, (rows_small, rows_large)
    assert len(small) == len(large), (len(small), len(large), large[len(small):][:5])

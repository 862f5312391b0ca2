"""The users list costs the same number of SQL statements for 25 rows as for 100 (no per-row queries)."""
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import event, func, select
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.tenancy.context import tenant_scope


def _ensure_users(app, tenant_id, n):
    with app.app_context(), tenant_scope(tenant_id):
        have = db.session.scalar(select(func.count()).select_from(User))
        password = generate_password_hash("bulkpass2569", method="pbkdf2:sha256:1000")
        for i in range(have, n):
            db.session.add(User(
                username=f"a.bulk{i:03d}", first_name="จำนวน", last_name=f"{i}", email=f"bulk{i}@a.test",
                active=True, password=password,
            ))
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
    return len(seen), response.get_data(as_text=True)


def test_users_list_statement_count_does_not_grow_with_rows(app, client_for, tenant_a):
    _ensure_users(app, tenant_a.id, 110)
    client = client_for("a.admin")
    client.get("/org-users/list/")  # warm FAB's per-process caches
    small, html_small = _statements(app, client, "/org-users/list/?psize_TenantUserView=25")
    large, html_large = _statements(app, client, "/org-users/list/?psize_TenantUserView=100")
    assert html_small.count("/org-users/show/") < html_large.count("/org-users/show/")
    assert small == large, (small, large)

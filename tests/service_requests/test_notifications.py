"""Notifications: the staff who may take the next step are told in the app (and by e-mail once SMTP is set,
after commit), the applicant is e-mailed public steps only, and each person sees only their own."""
from sqlalchemy import func, select

from app.extensions import db
from app.service_requests.models import Notification
from app.tenancy.context import platform_scope, tenant_scope
from tests.service_requests.conftest import act, file_complaint


def _mine(app, tenant_id, user_id, request_id=None):
    with app.app_context(), tenant_scope(tenant_id):
        stmt = select(Notification).where(Notification.user_id == user_id)
        if request_id is not None:
            stmt = stmt.where(Notification.request_id == request_id)
        rows = db.session.scalars(stmt).all()
        db.session.expunge_all()
        return rows


def test_the_next_step_is_announced_to_who_can_take_it(app, client_for, tenant_a, tenant_b, service):
    officer = client_for("a.officer")
    pk = file_complaint(officer, service)
    act(officer, pk, "accept")
    # a.officer took the step and holds the next ones: nobody else in finance, so nobody else is told;
    # the mayor (whole organisation) may not take an officer's step and is not told either
    assert not _mine(app, tenant_a.id, tenant_a.user_ids["a.officer"], pk)
    assert not _mine(app, tenant_a.id, tenant_a.user_ids["a.mayor"], pk)


def test_staff_see_and_open_only_their_own_notifications(app, client_for, tenant_a, tenant_b,
                                                         director_in_engineering):
    from tests.service_requests.test_workflow import _act, _file

    officer, mayor = client_for("a.officer"), client_for("a.mayor")
    pk = _file(officer, app, tenant_a.id)
    _act(officer, pk, "accept")
    _act(officer, pk, "propose")
    told = _mine(app, tenant_a.id, tenant_a.user_ids["a.mayor"], pk)
    assert [n.kind for n in told] == ["new_step"] and told[0].link == f"/service-requests/show/{pk}"
    assert told[0].recipient == "mayor@a.test" and f"{pk}" in told[0].subject
    html = mayor.get("/notifications/").get_data(as_text=True)
    assert told[0].subject in html and 'id="unread-banner"' in html
    # nobody else may open it: not a colleague, not another organisation
    assert officer.post(f"/notifications/{told[0].id}/open").status_code == 404
    assert client_for("b.mayor").post(f"/notifications/{told[0].id}/open").status_code == 404
    assert told[0].subject not in officer.get("/notifications/").get_data(as_text=True)
    opened = mayor.post(f"/notifications/{told[0].id}/open")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/service-requests/show/{pk}")
    assert _mine(app, tenant_a.id, tenant_a.user_ids["a.mayor"], pk)[0].read_at is not None
    mayor.post("/notifications/read-all")
    assert 'id="unread-banner"' not in mayor.get("/notifications/").get_data(as_text=True)
    # the other tenant's outbox does not list it
    assert told[0].subject not in client_for("b.admin").get("/outbox/list/").get_data(as_text=True)


def test_a_notification_never_redirects_off_site(app, client_for, tenant_a):
    with app.app_context(), tenant_scope(tenant_a.id):
        n = Notification(user_id=tenant_a.user_ids["a.mayor"], kind="new_step", recipient="mayor@a.test",
                         subject="x", body="x", link="//evil.example.com/")
        db.session.add(n)
        db.session.commit()
        pk = n.id
    response = client_for("a.mayor").post(f"/notifications/{pk}/open")
    assert response.status_code == 302 and "evil" not in response.headers["Location"]


def test_the_applicant_is_emailed_public_steps_once_after_commit(app, client_for, tenant_a, service, smtp_server):
    officer = client_for("a.officer")
    pk = file_complaint(officer, service)
    act(officer, pk, "accept", note="รับเรื่องแล้ว จะส่งช่างไปตรวจ")
    act(officer, pk, "close", note="ตรวจภายใน", staff_only="y")
    to_applicant = [m for rcpt, m in smtp_server if rcpt == ["somsri@example.com"]]
    assert len(to_applicant) == 1
    with app.app_context(), tenant_scope(tenant_a.id):
        rows = db.session.scalars(select(Notification).where(Notification.request_id == pk,
                                                             Notification.kind == "status")).all()
        assert len(rows) == 1 and rows[0].emailed is True and "รับเรื่องแล้ว จะส่งช่างไปตรวจ" in rows[0].body


def test_nothing_is_sent_for_a_step_that_fails(app, client_for, tenant_a, service, smtp_server):
    officer = client_for("a.officer")
    pk = file_complaint(officer, service)
    act(officer, pk, "accept")
    # forwarding without a target fails: no notification is written or sent
    act(officer, pk, "forward", note="ส่งต่อ")
    with app.app_context(), platform_scope():
        kinds = db.session.scalars(select(Notification.kind).where(Notification.request_id == pk)).all()
    assert kinds == ["status"]
    assert len([1 for rcpt, _m in smtp_server if rcpt == ["somsri@example.com"]]) == 1


def test_the_division_queue_has_a_mine_section(app, client_for, tenant_a, service):
    officer = client_for("a.officer")
    pk = file_complaint(officer, service, what="ท่อระบายน้ำอุดตันซอย 3")
    html = officer.get("/inbox/").get_data(as_text=True)
    mine = html.split('id="inbox-mine"')[1].split('id="inbox-new"')[0]
    assert f"#{pk} " not in mine
    act(officer, pk, "accept")
    html = officer.get("/inbox/").get_data(as_text=True)
    mine = html.split('id="inbox-mine"')[1].split('id="inbox-new"')[0]
    assert f"#{pk} " in mine


def test_tasks_reach_only_their_own_tenants_rows(app, client_for, tenant_a, tenant_b, tenant_c, service,
                                                 smtp_server):
    """The e-mail task and the forwarding task, given another organisation's ids, touch nothing."""
    from app.service_requests.models import Forwarding
    from app.tasks import celery_for

    officer = client_for("a.officer")
    pk = file_complaint(officer, service)
    with app.app_context(), tenant_scope(tenant_a.id):
        # written as already e-mailed (so the after-commit hand-over skips it), then unsent again
        n = Notification(request_id=pk, kind="status", recipient="somsri@example.com", subject="s", body="b",
                         emailed=True)
        db.session.add(n)
        db.session.commit()
        n.emailed = False
        db.session.commit()
        ids = [n.id]
    smtp_server.clear()
    celery = celery_for(app)
    assert celery.tasks["notifications.send"].delay(tenant_id=tenant_b.id, ids=ids).get() == 0
    assert not smtp_server
    act(officer, pk, "accept")
    act(officer, pk, "forward", note="ส่งต่อ", forward_tenant=str(tenant_b.id))
    with app.app_context(), platform_scope():
        fid = db.session.scalar(select(Forwarding.id).where(Forwarding.request_id == pk))
        before = db.session.scalar(select(func.count(Notification.id)))
    assert celery.tasks["forwarding.notify"].delay(tenant_id=tenant_c, forwarding_id=fid, event="sent").get() == 0
    with app.app_context(), platform_scope():
        assert db.session.scalar(select(func.count(Notification.id))) == before
    assert celery.tasks["notifications.send"].delay(tenant_id=tenant_a.id, ids=ids).get() == 1

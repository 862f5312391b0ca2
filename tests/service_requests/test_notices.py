"""Delay notices (s.10): one per request per 7 days however often the task runs, only for open overdue
matters of the task's own tenant; and a real Celery worker on the embedded broker runs the task."""
import os
import subprocess
import sys
from datetime import date, timedelta

from sqlalchemy import func, select, update

from app.catalog import services
from app.catalog.models import ServiceRequest, ServiceType
from app.extensions import db
from app.service_requests.models import Notification
from app.service_requests.notices import DELAY, OPDC_COPY, delay_notices
from app.tenancy.context import platform_scope, tenant_scope
from tests.conftest import ROOT


def _overdue_request(app, tenant_id, days_late=1):
    with app.test_request_context(), tenant_scope(tenant_id):
        st = db.session.scalar(select(ServiceType).where(ServiceType.code == "test_permit"))
        request = services.file_request(st, {"applicant": "มานี", "area": "10", "kind_of_use": "home"}, None)
        db.session.flush()
        request.due_on = date.today() - timedelta(days=days_late)
        db.session.commit()
        return request.id


def _notices(app, pk):
    with app.app_context(), platform_scope():
        return db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.request_id == pk, Notification.kind == DELAY))


def test_one_notice_per_seven_days_even_when_run_twice(app, tenant_a, tenant_b):
    pk = _overdue_request(app, tenant_a.id)
    with app.test_request_context(), tenant_scope(tenant_a.id):
        delay_notices()
        delay_notices()
    assert _notices(app, pk) == 1
    with app.test_request_context(), tenant_scope(tenant_a.id):
        delay_notices(today=date.today() + timedelta(days=3))  # still the same week
        assert _notices(app, pk) == 1
        delay_notices(today=date.today() + timedelta(days=6))  # 7 days after the first notice
        delay_notices(today=date.today() + timedelta(days=6))
    assert _notices(app, pk) == 2
    with app.app_context(), platform_scope():
        notice = db.session.scalars(select(Notification).where(Notification.request_id == pk)).first()
        assert notice.copy_to_opdc and "มาตรา 10" in notice.body and notice.recipient == "มานี"


def test_closed_and_other_tenants_matters_get_none(app, tenant_a, tenant_b):
    pk = _overdue_request(app, tenant_a.id)
    with app.app_context(), platform_scope():
        db.session.execute(update(ServiceRequest).where(ServiceRequest.id == pk).values(status="completed"))
        db.session.commit()
    b_pk = _overdue_request(app, tenant_b.id)
    with app.test_request_context(), tenant_scope(tenant_a.id):
        delay_notices()
    assert _notices(app, pk) == 0 and _notices(app, b_pk) == 0


def test_outbox_is_walled(app, client_for, tenant_a, tenant_b):
    pk = _overdue_request(app, tenant_a.id)
    with app.test_request_context(), tenant_scope(tenant_a.id):
        delay_notices()
    html = client_for("a.officer").get("/outbox/list/").get_data(as_text=True)
    assert "แจ้งความล่าช้า" in html
    with app.app_context(), platform_scope():
        ids = set(db.session.scalars(select(Notification.id).where(Notification.request_id == pk)))
    b = client_for("b.officer")
    for notice_id in ids:
        assert b.get(f"/outbox/show/{notice_id}").status_code == 404


def test_a_real_worker_runs_the_task_on_the_embedded_broker(app, database_url, tenant_a, tmp_path):
    pk = _overdue_request(app, tenant_a.id, days_late=2)
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret-key-with-at-least-32-bytes",
           "CELERY_BROKER_URL": f"sqla+sqlite:///{tmp_path}/broker.db",
           "CELERY_RESULT_BACKEND": f"db+sqlite:///{tmp_path}/results.db", "INSTANCE_DIR": str(tmp_path)}
    log = open(tmp_path / "worker.log", "wb")  # a file, not a pipe nobody reads: a full pipe would stall it
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "app.celery_worker", "worker", "--pool=solo", "--loglevel=warning",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        code = (
            "from app.celery_worker import celery\n"
            f"r = celery.tasks['service_requests.delay_notices'].delay(tenant_id={tenant_a.id})\n"
            "print('written', r.get(timeout=90))\n"
        )
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=120)
        assert "written" in result.stdout, (result.stdout + result.stderr
                                            + (tmp_path / "worker.log").read_text(errors="replace"))
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
    assert _notices(app, pk) == 1


def test_notices_are_emailed_when_smtp_is_configured(app, tenant_a, smtp_server):
    received = smtp_server
    with app.test_request_context(), tenant_scope(tenant_a.id):
        st = db.session.scalar(select(ServiceType).where(ServiceType.code == "test_permit"))
        request = services.file_request(
            st, {"applicant": "somchai@example.org", "area": "10", "kind_of_use": "home"}, None)
        db.session.flush()
        request.due_on = date.today() - timedelta(days=1)
        db.session.commit()
        pk = request.id
        delay_notices()
        delay_notices()  # a second run sends nothing again
    mine = [r for r in received if r[0] == ["somchai@example.org"]]
    assert len(mine) == 1
    with app.app_context(), platform_scope():
        assert db.session.scalars(select(Notification.emailed).where(
            Notification.request_id == pk, Notification.kind == DELAY)).one() is True


def test_a_portal_applicant_is_emailed_at_their_contact_address(app, tenant_a, smtp_server):
    """The citizen portal keeps the applicant's e-mail as the matter's contact address, not a form field."""
    pk = _overdue_request(app, tenant_a.id)
    with app.app_context(), platform_scope():
        request = db.session.get(ServiceRequest, pk)
        request.channel, request.contact_email = "portal", "manee.portal@example.org"
        db.session.commit()
    with app.test_request_context(), tenant_scope(tenant_a.id):
        delay_notices()
    assert [r for r in smtp_server if r[0] == ["manee.portal@example.org"]]
    with app.app_context(), platform_scope():
        notice = db.session.scalars(select(Notification).where(
            Notification.request_id == pk, Notification.kind == DELAY)).one()
        assert notice.recipient == "manee.portal@example.org" and notice.emailed


def test_the_copy_to_opdc_is_its_own_outbox_entry(app, client_for, tenant_a, tenant_b):
    """s.10: the copy to ก.พ.ร. is recorded as a notice of its own, once per period, reviewable in the outbox
    (e-mailed when the platform is given ก.พ.ร.'s address)."""
    pk = _overdue_request(app, tenant_a.id)
    with app.test_request_context(), tenant_scope(tenant_a.id):
        delay_notices()
        delay_notices()
        delay_notices(today=date.today() + timedelta(days=6))  # the next 7-day period
    with app.app_context(), platform_scope():
        copies = db.session.scalars(select(Notification).where(
            Notification.request_id == pk, Notification.kind == OPDC_COPY).order_by(Notification.period)).all()
        notices = db.session.scalars(select(Notification).where(
            Notification.request_id == pk, Notification.kind == DELAY).order_by(Notification.period)).all()
        assert [c.period for c in copies] == [n.period for n in notices] == [0, 1]
        assert "ก.พ.ร." in copies[0].recipient and copies[0].subject.startswith("สำเนา")
        assert notices[0].body in copies[0].body and "มานี" in copies[0].body  # whom the original went to
        copy_id = copies[0].id
    html = client_for("a.officer").get("/outbox/list/").get_data(as_text=True)
    assert "สำเนาหนังสือแจ้งความล่าช้าถึงสำนักงาน ก.พ.ร." in html
    page = client_for("a.officer").get(f"/outbox/show/{copy_id}")
    assert page.status_code == 200 and "มาตรา 10" in page.get_data(as_text=True)
    assert client_for("b.officer").get(f"/outbox/show/{copy_id}").status_code == 404


def test_complaints_get_no_licensing_act_notices(app, client_for, tenant_a, service):
    """s.10 is about permits, licences, registrations and notifications; a late complaint is flagged in the
    queues but not sent a notice citing that Act."""
    from tests.service_requests.conftest import file_complaint

    pk = file_complaint(client_for("a.officer"), service)
    with app.app_context(), tenant_scope(tenant_a.id):
        db.session.get(ServiceRequest, pk).due_on = date.today() - timedelta(days=10)
        db.session.commit()
        delay_notices()
    assert _notices(app, pk) == 0

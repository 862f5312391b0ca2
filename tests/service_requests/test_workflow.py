"""The standard workflow: each transition's rule (state, role, กอง), refusals with reasons, notes, the
timeline, concurrent actions, and the wall between tenants."""
import io
import re

import pytest
from sqlalchemy import select

from app.catalog.models import ServiceRequest, ServiceType
from app.extensions import db
from app.service_requests import engine
from app.service_requests.models import ServiceRequestEvent
from app.tenancy.context import platform_scope, tenant_scope
from app.tenancy.errors import UserError

GOOD = {"applicant": "สมชาย", "area": "100", "kind_of_use": "home", "intent": "save",
        "doc_id_card": None}


def _file(client, app, tenant_id):
    with app.app_context(), tenant_scope(tenant_id):
        st = db.session.scalar(select(ServiceType.id).where(ServiceType.code == "test_permit"))
    data = {**GOOD, "doc_id_card": (io.BytesIO(b"%PDF"), "id.pdf")}
    response = client.post(f"/service-requests/new/{st}", data=data)
    return int(re.search(r"/service-requests/show/(\d+)", response.headers["Location"]).group(1))


def _act(client, pk, action, note="", version=None):
    html = client.get(f"/service-requests/show/{pk}").get_data(as_text=True)
    seen = version if version is not None else re.search(r'name="version" value="(\d+)"', html).group(1)
    return client.post(f"/service-requests/act/{pk}", data={"action": action, "note": note, "version": seen},
                       follow_redirects=True).get_data(as_text=True)


def _state(app, pk):
    with app.app_context(), platform_scope():
        return db.session.get(ServiceRequest, pk).status


def test_a_permit_walks_from_submission_to_completion(app, client_for, tenant_a, director_in_engineering):
    officer, mayor = client_for("a.officer"), client_for("a.mayor")
    pk = _file(officer, app, tenant_a.id)
    assert _state(app, pk) == "submitted"
    html = _act(officer, pk, "accept")
    assert "กำลังตรวจสอบ" in html
    # returning for documents needs the reason
    html = _act(officer, pk, "return_for_documents")
    assert "กรุณาระบุเหตุผล" in html and _state(app, pk) == "in_review"
    _act(officer, pk, "return_for_documents", note="ขาดสำเนาโฉนดที่ดิน")
    assert _state(app, pk) == "returned"
    _act(officer, pk, "resubmit")
    # a second return for documents is not offered, and refused: the first had to list everything (s.8)
    assert 'value="return_for_documents"' not in officer.get(f"/service-requests/show/{pk}").get_data(as_text=True)
    html = _act(officer, pk, "return_for_documents", note="ขาดเอกสารอื่นอีก")
    assert "มาตรา 8" in html and _state(app, pk) == "in_review"
    _act(officer, pk, "propose")
    assert _state(app, pk) == "awaiting_approval"
    # the officer is offered nothing now and cannot approve; the mayor (an executive of the whole
    # organisation) can
    assert 'id="request-actions"' not in officer.get(f"/service-requests/show/{pk}").get_data(as_text=True)
    html = officer.post(f"/service-requests/act/{pk}", data={"action": "approve"},
                        follow_redirects=True).get_data(as_text=True)
    assert "เฉพาะ" in html and _state(app, pk) == "awaiting_approval"
    html = mayor.get(f"/service-requests/show/{pk}").get_data(as_text=True)
    assert 'value="approve"' in html and 'value="reject"' in html
    _act(mayor, pk, "approve")
    assert _state(app, pk) == "approved"
    _act(officer, pk, "complete")
    assert _state(app, pk) == "completed"
    html = officer.get(f"/service-requests/show/{pk}").get_data(as_text=True)
    assert 'id="request-actions"' not in html  # closed: no more actions
    with app.app_context(), platform_scope():
        events = db.session.scalars(select(ServiceRequestEvent).where(ServiceRequestEvent.request_id == pk)
                                    .order_by(ServiceRequestEvent.id)).all()
        assert [e.action for e in events] == ["accept", "return_for_documents", "resubmit", "propose", "approve",
                                              "complete"]
        assert events[1].note == "ขาดสำเนาโฉนดที่ดิน"
        assert events[4].actor_name.startswith("นายก")
        # the กอง that holds the matter after each step: the executives' office while awaiting approval
        assert events[3].division.code == "office" and events[4].division.code == "engineering"


def test_refusals_name_the_reason(app, client_for, tenant_a):
    officer = client_for("a.officer")
    pk = _file(officer, app, tenant_a.id)
    with app.test_request_context(), tenant_scope(tenant_a.id):
        from flask_appbuilder.security.sqla.models import User

        request = db.session.get(ServiceRequest, pk)
        officer_user = db.session.scalar(select(User).where(User.username == "a.officer"))
        manager = db.session.scalar(select(User).where(User.username == "a.manager"))
        with pytest.raises(UserError, match="ไม่มีการดำเนินการ"):
            engine.take(request, "teleport", officer_user)
        with pytest.raises(UserError) as error:
            engine.take(request, "approve", officer_user)
        assert error.value.status == 422  # not from "submitted"
        with pytest.raises(UserError) as error:
            engine.take(request, "accept", manager)  # a role manager is not staff of กองช่าง
        assert error.value.status == 403
        db.session.rollback()


def test_two_people_acting_at_once_one_wins(app, client_for, tenant_a):
    officer = client_for("a.officer")
    pk = _file(officer, app, tenant_a.id)
    html = officer.get(f"/service-requests/show/{pk}").get_data(as_text=True)
    seen = re.search(r'name="version" value="(\d+)"', html).group(1)
    _act(officer, pk, "accept", version=seen)
    html = _act(client_for("a.officer"), pk, "return_for_documents", note="x", version=seen)  # a stale page
    assert "มีผู้อื่นเพิ่งดำเนินการกับคำขอนี้" in html
    assert _state(app, pk) == "in_review"


def test_another_tenant_cannot_act(app, client_for, tenant_a, tenant_b):
    b_pk = _file(client_for("b.officer"), app, tenant_b.id)
    response = client_for("a.officer").post(f"/service-requests/act/{b_pk}", data={"action": "accept"})
    assert response.status_code == 404
    assert _state(app, b_pk) == "submitted"


def test_a_workflow_naming_an_unknown_state_is_refused(app):
    from marshmallow import ValidationError

    from app.service_requests.workflow_spec import DEFAULT_WORKFLOW, WorkflowSpec

    bad = {**DEFAULT_WORKFLOW, "transitions": DEFAULT_WORKFLOW["transitions"] + [
        {"action": "fly", "name_th": "บิน", "from": ["submitted"], "to": "moon", "roles": ["officer"]}]}
    with app.test_request_context(), pytest.raises(ValidationError) as error:
        WorkflowSpec().load(bad)
    assert "transitions" in error.value.messages


def test_each_step_gets_its_working_days(app, client_for, tenant_a, director_in_engineering):
    from app.service_requests.clock import WorkingCalendar
    from app.thai import today_bangkok

    officer = client_for("a.officer")
    pk = _file(officer, app, tenant_a.id)
    with app.app_context(), tenant_scope(tenant_a.id):
        request = db.session.get(ServiceRequest, pk)
        # the standard flow gives "accept" one working day (the tenant's closures skipped too)
        assert request.step_due_on == WorkingCalendar.for_current_tenant().add_working_days(today_bangkok(), 1)
    _act(officer, pk, "accept")
    with app.app_context(), platform_scope():
        assert db.session.get(ServiceRequest, pk).step_due_on is None  # no deadline set for the next steps


def test_the_clock_restarts_when_the_missing_documents_arrive(app, client_for, tenant_a, director_in_engineering):
    """s.8: the period runs from a complete file; while the applicant is away the matter is not overdue."""
    from datetime import timedelta

    from app import thai
    from app.service_requests.clock import WorkingCalendar
    from app.service_requests.notices import delay_notices
    from app.service_requests.models import Notification

    officer = client_for("a.officer")
    pk = _file(officer, app, tenant_a.id)
    _act(officer, pk, "accept")
    _act(officer, pk, "return_for_documents", note="ขาดสำเนาโฉนดที่ดิน")
    with app.app_context(), tenant_scope(tenant_a.id):
        request = db.session.get(ServiceRequest, pk)
        request.due_on = thai.today_bangkok() - timedelta(days=20)  # long past, while waiting for the applicant
        db.session.commit()
        assert delay_notices() == 0 or not db.session.scalars(select(Notification).where(
            Notification.request_id == pk)).all()
        expected = WorkingCalendar.for_current_tenant().add_working_days(thai.today_bangkok(),
                                                                         request.service_type.sla_days)
    assert f'/service-requests/show/{pk}"' not in officer.get("/inbox/").get_data(as_text=True).split(
        'id="inbox-overdue"')[1].split('id="inbox-mine"')[0]
    _act(officer, pk, "resubmit")
    with app.app_context(), platform_scope():
        assert db.session.get(ServiceRequest, pk).due_on == expected

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
from tests.service_requests.conftest import save_form

GOOD = {"applicant": "สมชาย", "area": "100", "kind_of_use": "home", "intent": "save",
        "doc_id_card": None}


def _file(client, app, tenant_id):
    with app.app_context(), tenant_scope(tenant_id):
        st = db.session.scalar(select(ServiceType.id).where(ServiceType.code == "test_permit"))
    data = {**GOOD, "doc_id_card": (io.BytesIO(b"%PDF"), "id.pdf")}
    response = save_form(client, f"/service-requests/new/{st}", data)
    return int(re.search(r"/service-requests/show/(\d+)", response.headers["Location"]).group(1))


def _act(client, pk, action, note="", version=None, **form):
    html = client.get(f"/service-requests/show/{pk}").get_data(as_text=True)
    seen = version if version is not None else re.search(r'name="version" value="(\d+)"', html).group(1)
    return client.post(f"/service-requests/act/{pk}", data={"action": action, "note": note, "version": seen, **form},
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
    # returning for documents needs the list of what is missing (s.8), from the service's documents
    html = _act(officer, pk, "return_for_documents", note="ขาดบางอย่าง")
    assert "กรุณาเลือกเอกสารที่ยังขาด" in html and _state(app, pk) == "in_review"
    _act(officer, pk, "return_for_documents", missing_other="สำเนาโฉนดที่ดิน")
    assert _state(app, pk) == "returned"
    _act(officer, pk, "resubmit")
    # a second return for documents is not offered, and refused: the first had to list everything (s.8)
    assert 'value="return_for_documents"' not in officer.get(f"/service-requests/show/{pk}").get_data(as_text=True)
    html = _act(officer, pk, "return_for_documents", missing_other="ขาดเอกสารอื่นอีก")
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
        assert events[1].note.splitlines()[1:] == ["1. สำเนาโฉนดที่ดิน"]
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


def _events(app, pk):
    with app.app_context(), platform_scope():
        return db.session.scalars(select(ServiceRequestEvent).where(ServiceRequestEvent.request_id == pk)
                                  .order_by(ServiceRequestEvent.id)).all()


def test_two_people_acting_at_once_one_wins(app, client_for, tenant_a, director_in_engineering):
    """Two sessions load the same matter and both act: the first wins, the second is told clearly, keeps the
    note it typed and the file it attached (offered again, then attached by its next try), and exactly one
    step is written for the race."""
    from app.catalog.attachments import Attachment

    first, second = client_for("a.officer"), client_for("a.officer")
    pk = _file(first, app, tenant_a.id)
    pages = [c.get(f"/service-requests/show/{pk}").get_data(as_text=True) for c in (first, second)]
    seen = [re.search(r'name="version" value="(\d+)"', html).group(1) for html in pages]
    assert seen[0] == seen[1]
    won = first.post(f"/service-requests/act/{pk}", data={"action": "accept", "note": "รับไว้", "version": seen[0]})
    assert won.status_code == 302
    lost = second.post(f"/service-requests/act/{pk}", data={
        "action": "accept", "note": "ตรวจแล้วเอกสารครบ", "version": seen[1],
        "files": (io.BytesIO(b"%PDF-1.4 site"), "site.pdf")}, content_type="multipart/form-data")
    html = lost.get_data(as_text=True)
    assert lost.status_code == 409
    assert "มีผู้อื่นเพิ่งดำเนินการกับคำขอนี้" in html
    assert ">ตรวจแล้วเอกสารครบ</textarea>" in html  # the note is kept
    kept = re.search(r'name="kept_files" value="(\d+)" checked> site.pdf', html)
    assert kept, "the file is kept and offered again"
    assert [e.action for e in _events(app, pk)] == ["accept"] and _state(app, pk) == "in_review"
    # the page shown is the matter as it now stands: its new version and the actions open from there
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    assert int(version) == int(seen[0]) + 1 and 'value="propose"' in html
    # nobody else can claim the kept file for a step of theirs
    with app.test_request_context(), tenant_scope(tenant_a.id):
        from flask_appbuilder.security.sqla.models import User

        other = db.session.scalar(select(User).where(User.username == "a.mayor"))
        assert engine.kept_attachments(other, [kept.group(1)]) == []
    # the next try attaches the kept file to its step without choosing it again
    done = second.post(f"/service-requests/act/{pk}", data={
        "action": "propose", "note": "ตรวจแล้วเอกสารครบ", "version": version, "kept_files": kept.group(1)})
    assert done.status_code == 302
    events = _events(app, pk)
    assert [e.action for e in events] == ["accept", "propose"]
    with app.app_context(), platform_scope():
        attachment = db.session.get(Attachment, int(kept.group(1)))
        assert attachment.event_id == events[1].id and attachment.request_id == pk


def test_a_true_race_between_two_sessions_writes_one_step(app, tenant_a, director_in_engineering):
    """Both sessions pass every check on what they read; the database's version check lets one write."""
    from flask_appbuilder.security.sqla.models import User

    with app.test_request_context(), tenant_scope(tenant_a.id):
        st = db.session.scalar(select(ServiceType).where(ServiceType.code == "test_permit"))
        from app.catalog import services

        pk = services.file_request(st, {"applicant": "สมชาย", "area": "10", "kind_of_use": "home"}, None).id
        db.session.commit()
    with app.test_request_context(), tenant_scope(tenant_a.id):  # session one
        mine = db.session.get(ServiceRequest, pk)
        me = db.session.scalar(select(User).where(User.username == "a.officer"))
        version = mine.lock_version
        assert [a.code for a in engine.available(mine, me)] == ["accept"]
        with app.app_context(), tenant_scope(tenant_a.id):  # session two (its own app context), at the same moment
            theirs = db.session.get(ServiceRequest, pk)
            assert theirs is not mine
            them = db.session.scalar(select(User).where(User.username == "a.officer"))
            engine.take(theirs, "accept", them, note="คนที่สอง", seen_version=version)
            db.session.commit()
        assert mine.status == "submitted"  # session one still reads the old state
        with pytest.raises(UserError) as error:
            engine.take(mine, "accept", me, note="คนแรก", seen_version=version)
        assert error.value.status == 409 and "มีผู้อื่นเพิ่งดำเนินการ" in str(error.value)
        db.session.rollback()
    events = _events(app, pk)
    assert [(e.action, e.note) for e in events] == [("accept", "คนที่สอง")]
    assert _state(app, pk) == "in_review"


def test_the_deficiency_record_lists_everything_at_once(app, client_for, tenant_a, director_in_engineering):
    """s.8: returning for documents is a checklist of the service's documents plus other items, recorded
    together on one step the applicant sees; nothing listed, or a document the service lacks, is refused;
    a second return is refused."""
    officer = client_for("a.officer")
    pk = _file(officer, app, tenant_a.id)
    _act(officer, pk, "accept")
    page = officer.get(f"/service-requests/show/{pk}").get_data(as_text=True)
    assert 'name="missing" value="id_card"' in page and "สำเนาบัตรประจำตัวประชาชน" in page
    html = _act(officer, pk, "return_for_documents")
    assert "กรุณาเลือกเอกสารที่ยังขาด" in html and _state(app, pk) == "in_review"
    html = _act(officer, pk, "return_for_documents", missing="house_deed", missing_other="", note="ทดลอง")
    assert "ไม่ใช่เอกสารของงานบริการนี้" in html and _state(app, pk) == "in_review"
    assert ">ทดลอง</textarea>" in html  # refused, with the note kept
    html = _act(officer, pk, "return_for_documents", note="โปรดยื่นภายใน 7 วัน", staff_only="y",
                missing="id_card", missing_other="หนังสือมอบอำนาจ\n\nแผนผังที่ตั้งอาคาร")
    assert _state(app, pk) == "returned"
    event = _events(app, pk)[-1]
    assert event.action == "return_for_documents" and not event.staff_only  # the applicant must see it
    assert event.note.splitlines() == [
        "รายการเอกสารหรือหลักฐานที่ยังขาด (บันทึกความบกพร่อง ตามมาตรา 8):",
        "1. สำเนาบัตรประจำตัวประชาชน", "2. หนังสือมอบอำนาจ", "3. แผนผังที่ตั้งอาคาร", "โปรดยื่นภายใน 7 วัน"]
    _act(officer, pk, "resubmit")
    html = _act(officer, pk, "return_for_documents", missing="id_card")
    assert "มาตรา 8" in html and _state(app, pk) == "in_review"
    assert len([e for e in _events(app, pk) if e.action == "return_for_documents"]) == 1


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
    _act(officer, pk, "return_for_documents", missing="id_card")
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

"""Forwarding a matter: the partner organisation sees that matter and only that one, both sides share one
thread, a third organisation sees nothing, and nobody but the owner can change the matter itself."""
import io
import os
import re

import pytest
from sqlalchemy import select

from app.catalog.attachments import Attachment
from app.catalog.models import ServiceRequest
from app.extensions import db
from app.service_requests.models import Forwarding, ForwardingMessage, Notification
from app.tenancy.context import CrossTenantWrite, platform_scope, tenant_scope
from app.tenancy.shared import as_owner
from tests.service_requests.conftest import PNG, file_complaint as _file, act as _act, status_of as _status

def _forwarding_of(app, pk):
    with app.app_context(), platform_scope():
        found = db.session.scalar(select(Forwarding).where(Forwarding.request_id == pk))
        return None if found is None else found.id


def test_the_partner_sees_that_matter_and_only_that_one(app, client_for, tenant_a, tenant_b, tenant_c, service):
    officer = client_for("a.officer")
    shared_pk = _file(officer, service)
    other_pk = _file(officer, service, what="ถนนชำรุดซอย 9", secret="อย่าให้ใครเห็น")
    _act(officer, shared_pk, "accept")
    html = _act(officer, shared_pk, "forward", note="ขอให้ อบต.บี ตรวจสอบไฟทางสายหลัก",
                forward_tenant=str(tenant_b.id))
    assert _status(app, shared_pk) == "forwarded", html[:3000]
    fid = _forwarding_of(app, shared_pk)

    partner = client_for("b.mayor")
    listing = partner.get("/forwardings/").get_data(as_text=True)
    assert "ไฟทางดับหน้าบ้านเลขที่ 5" in listing and "ถนนชำรุดซอย 9" not in listing
    page = partner.get(f"/forwardings/{fid}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # the public fields, the public timeline, the file; never the staff-only note
    assert "ไฟทางดับหน้าบ้านเลขที่ 5" in html and "ขอให้ อบต.บี ตรวจสอบไฟทางสายหลัก" in html
    assert "ผู้ร้องเคยร้องเรื่องนี้แล้ว" not in html and "รับเรื่อง" in html or "พิจารณา" in html
    file_ids = [int(i) for i in re.findall(rf"/forwardings/{fid}/file/(\d+)", html)]
    assert len(file_ids) == 1
    download = partner.get(f"/forwardings/{fid}/file/{file_ids[0]}")
    assert download.status_code == 200 and download.data == PNG
    # nothing else of A's: not the request screens, not the other matter's file
    assert partner.get(f"/service-requests/show/{shared_pk}").status_code == 404
    assert partner.get(f"/service-requests/show/{other_pk}").status_code == 404
    with app.app_context(), platform_scope():
        other_file = db.session.scalar(select(Attachment.id).where(Attachment.request_id == other_pk))
    assert partner.get(f"/forwardings/{fid}/file/{other_file}").status_code == 404
    # a third organisation sees nothing of it
    third = client_for("c.mayor")
    assert "ไฟทางดับ" not in third.get("/forwardings/").get_data(as_text=True)
    assert third.get(f"/forwardings/{fid}").status_code == 404
    assert third.get(f"/forwardings/{fid}/file/{file_ids[0]}").status_code == 404
    third.post(f"/forwardings/{fid}/post", data={"kind": "message", "body": "แทรก"})
    with app.app_context(), platform_scope():
        assert not db.session.scalars(select(ForwardingMessage).where(ForwardingMessage.body == "แทรก")).all()

    # the partner was told in its own organisation; the notice points at the forwarding, not at A's request
    with app.app_context(), tenant_scope(tenant_b.id):
        told = db.session.scalars(select(Notification).where(Notification.kind == "forward_received",
                                                             Notification.link == f"/forwardings/{fid}")).all()
        assert told and all(n.request_id is None for n in told)

    # one thread: the partner writes and answers, the owner reads it and is told
    partner.post(f"/forwardings/{fid}/post", data={"kind": "message", "body": "รับเรื่องแล้ว กำลังตรวจสอบ"})
    html = partner.post(f"/forwardings/{fid}/post", data={"kind": "withdrawn", "body": "ถอน"},
                        follow_redirects=True).get_data(as_text=True)
    assert "เฉพาะองค์กรที่ส่งต่อ" in html
    partner.post(f"/forwardings/{fid}/post", data={"kind": "answer", "body": "ซ่อมไฟทางแล้ว 3 จุด"})
    owner_view = officer.get(f"/forwardings/{fid}").get_data(as_text=True)
    assert "รับเรื่องแล้ว กำลังตรวจสอบ" in owner_view and "ซ่อมไฟทางแล้ว 3 จุด" in owner_view
    with app.app_context(), tenant_scope(tenant_a.id):
        assert db.session.get(Forwarding, fid).status == "answered"
        assert db.session.scalars(select(Notification).where(Notification.kind == "forward_answered")).all()
    # the request's own page lists the forwarding; the owner closes the matter by its workflow
    assert f"/forwardings/{fid}" in officer.get(f"/service-requests/show/{shared_pk}").get_data(as_text=True)
    _act(officer, shared_pk, "close", note="อบต.บี ซ่อมแล้ว")
    assert _status(app, shared_pk) == "completed"
    # the partner sees the closing on the shared timeline
    assert "อบต.บี ซ่อมแล้ว" in partner.get(f"/forwardings/{fid}").get_data(as_text=True)


def test_the_wall_refuses_partner_and_third_party_writes(app, client_for, tenant_a, tenant_b, tenant_c, service):
    officer = client_for("a.officer")
    pk = _file(officer, service)
    _act(officer, pk, "accept")
    _act(officer, pk, "forward", note="ส่งต่อ", forward_tenant=str(tenant_b.id))
    fid = _forwarding_of(app, pk)
    with app.app_context(), tenant_scope(tenant_b.id):
        found = db.session.get(Forwarding, fid)
        # the owner's rows are readable in the shared scope and not writable
        with pytest.raises(CrossTenantWrite):
            with as_owner(found.tenant_id):
                request = db.session.get(ServiceRequest, pk)
                request.title = "แก้โดยองค์กรอื่น"
                db.session.flush()
        db.session.rollback()
        # and they are gone from the session afterwards: no identity-map shortcut to A's row
        assert db.session.get(ServiceRequest, pk) is None
        found = db.session.get(Forwarding, fid)
        found.partner_tenant_id = tenant_c
        with pytest.raises(CrossTenantWrite):
            db.session.flush()
        db.session.rollback()
    with app.app_context(), tenant_scope(tenant_c):
        assert db.session.get(Forwarding, fid) is None
        db.session.add(ForwardingMessage(tenant_id=tenant_a.id, partner_tenant_id=tenant_b.id, forwarding_id=fid,
                                         author_name="x", author_org="x", body="x"))
        with pytest.raises(CrossTenantWrite):
            db.session.flush()
        db.session.rollback()
    with app.app_context(), tenant_scope(tenant_b.id):
        # the partner may not point a message at another partner either
        db.session.add(ForwardingMessage(tenant_id=tenant_a.id, partner_tenant_id=tenant_c, forwarding_id=fid,
                                         author_name="x", author_org="x", body="x"))
        with pytest.raises(CrossTenantWrite):
            db.session.flush()
        db.session.rollback()


def test_forwarding_to_an_outside_body_is_mailed_and_its_answer_recorded(app, client_for, tenant_a, tenant_b,
                                                                          service):
    officer = client_for("a.officer")
    pk = _file(officer, service, what="สายไฟแรงสูงหย่อน")
    _act(officer, pk, "accept")
    _act(officer, pk, "forward", note="อยู่ในความรับผิดชอบของ กฟภ.", outside_body="การไฟฟ้าส่วนภูมิภาคสาขาแม่เหียะ",
         outside_email="pea-maehia@example.com")
    fid = _forwarding_of(app, pk)
    with app.app_context(), tenant_scope(tenant_a.id):
        mailed = db.session.scalar(select(Notification).where(Notification.kind == "forwarded",
                                                              Notification.request_id == pk))
        assert mailed.recipient == "pea-maehia@example.com"
        assert "สายไฟแรงสูงหย่อน" in mailed.body and "ผู้ร้องเคยร้อง" not in mailed.body
    html = officer.get(f"/forwardings/{fid}").get_data(as_text=True)
    assert "การไฟฟ้าส่วนภูมิภาคสาขาแม่เหียะ" in html and 'value="answer"' in html
    officer.post(f"/forwardings/{fid}/post", data={"kind": "answer", "body": "กฟภ. แก้ไขแล้ว"})
    with app.app_context(), tenant_scope(tenant_a.id):
        message = db.session.scalar(select(ForwardingMessage).where(ForwardingMessage.forwarding_id == fid))
        assert message.author_org == "การไฟฟ้าส่วนภูมิภาคสาขาแม่เหียะ" and message.author_tenant_id is None
        assert db.session.get(Forwarding, fid).status == "answered"
    assert client_for("b.mayor").get(f"/forwardings/{fid}").status_code == 404


def test_a_forward_needs_a_real_other_organisation(app, client_for, tenant_a, service):
    officer = client_for("a.officer")
    pk = _file(officer, service)
    _act(officer, pk, "accept")
    html = _act(officer, pk, "forward", note="ส่งต่อ")
    assert "เลือกองค์กรหรือหน่วยงาน" in html and _status(app, pk) == "triage"
    html = _act(officer, pk, "forward", note="ส่งต่อ", forward_tenant=str(tenant_a.id))
    assert "ไม่สามารถรับเรื่องส่งต่อ" in html and _status(app, pk) == "triage"
    html = _act(officer, pk, "forward", note="ส่งต่อ", forward_dla_code="9999999")
    assert "9999999" in html and _status(app, pk) == "triage"
    html = _act(officer, pk, "forward", note="ส่งต่อ", outside_body="กรมทางหลวง", outside_email="not-an-address")
    assert "not-an-address" in html and _status(app, pk) == "triage"
    with app.app_context(), platform_scope():
        assert db.session.scalar(select(Forwarding.id).where(Forwarding.request_id == pk)) is None


def test_files_attached_to_a_step_are_checked_by_content(app, client_for, tenant_a, tenant_b, service):
    officer = client_for("a.officer")
    pk = _file(officer, service)
    html = _act(officer, pk, "accept", files=(io.BytesIO(b"just text, not a picture"), "photo.png"))
    assert "photo.png" in html and _status(app, pk) == "submitted"
    _act(officer, pk, "accept", note="ลงพื้นที่ถ่ายภาพแล้ว", files=(io.BytesIO(PNG), "site.png"))
    assert _status(app, pk) == "triage"
    with app.app_context(), tenant_scope(tenant_a.id):
        attached = db.session.scalar(select(Attachment).where(Attachment.request_id == pk,
                                                              Attachment.event_id.is_not(None)))
        assert attached.filename == "site.png"
        assert os.path.exists(os.path.join(app.config["UPLOAD_FOLDER"], attached.storage_key))
    html = officer.get(f"/service-requests/show/{pk}").get_data(as_text=True)
    assert f"/service-requests/attachment/{attached.id}" in html
    assert officer.get(f"/service-requests/attachment/{attached.id}").data == PNG
    assert client_for("b.officer").get(f"/service-requests/attachment/{attached.id}").status_code == 404


def test_shared_rows_fail_closed_without_a_tenant(app):
    from app.tenancy.context import TenantNotSet, no_scope

    with app.app_context(), no_scope():
        with pytest.raises(TenantNotSet):
            db.session.scalars(select(Forwarding)).all()
        with pytest.raises(TenantNotSet):
            db.session.scalars(select(ForwardingMessage)).all()
        db.session.rollback()


def test_forwarded_matters_are_for_staff_roles_only(app, client_for, tenant_a, tenant_b, service):
    """A role manager (who grants roles, and works on no matters) has no forwarding screens."""
    officer = client_for("a.officer")
    pk = _file(officer, service)
    _act(officer, pk, "accept")
    _act(officer, pk, "forward", note="ส่งต่อ", forward_tenant=str(tenant_b.id))
    fid = _forwarding_of(app, pk)
    for username in ("a.manager", "b.manager"):
        manager = client_for(username)
        for url in ("/forwardings/", f"/forwardings/{fid}"):
            response = manager.get(url)
            assert response.status_code in (302, 403) and "ไฟทางดับ" not in response.get_data(as_text=True)
        manager.post(f"/forwardings/{fid}/post", data={"kind": "answer", "body": "ตอบแทน"})
    with app.app_context(), platform_scope():
        assert db.session.get(Forwarding, fid).status == "open"


def test_the_forwarding_task_tells_each_person_once(app, client_for, tenant_a, tenant_b, service):
    from app.tasks import celery_for

    officer = client_for("a.officer")
    pk = _file(officer, service)
    _act(officer, pk, "accept")
    _act(officer, pk, "forward", note="ส่งต่อ", forward_tenant=str(tenant_b.id))
    fid = _forwarding_of(app, pk)
    with app.app_context(), tenant_scope(tenant_b.id):
        told = db.session.scalars(select(Notification).where(Notification.link == f"/forwardings/{fid}")).all()
        assert told
    task = celery_for(app).tasks["forwarding.notify"]
    assert task.delay(tenant_id=tenant_b.id, forwarding_id=fid, event="sent").get() == 0  # ran again: nothing new
    with app.app_context(), tenant_scope(tenant_b.id):
        again = db.session.scalars(select(Notification).where(Notification.link == f"/forwardings/{fid}")).all()
        assert len(again) == len(told)

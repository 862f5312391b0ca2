"""กอง scope (DESIGN.md, Roles and กอง): an officer sees the matters at, or passed through, their กอง; the
executives and the organisation's administrator see all. Everything that serves a matter applies it: the
list, the page, taking a step, its files (form and step files), its certificate and the API."""
import io
import re

import pytest
from sqlalchemy import select

from app.catalog.attachments import Attachment
from app.extensions import db
from app.security.models import Membership, RoleTemplate
from app.tenancy.context import platform_scope
from tests.conftest import PASSWORD, login
from tests.service_requests.conftest import file_complaint
from tests.service_requests.test_workflow import _act, _file

HEALTH_OFFICER = "a.scope.health"


@pytest.fixture
def health_officer(app, tenant_a):
    """An officer of กองสาธารณสุขฯ only (added by A's admin through the screens), removed afterwards."""
    from flask_appbuilder.security.sqla.models import User

    admin = login(app.test_client(), "a.admin")
    with app.app_context(), platform_scope():
        known = db.session.scalar(select(User.id).where(User.username == HEALTH_OFFICER))
        officer_role = db.session.scalar(select(RoleTemplate.id).where(RoleTemplate.code == "officer"))
    profile = {"first_name": "อนามัย", "last_name": "ทดสอบ", "email": "health@a.test", "active": "y"}
    if known is None:
        response = admin.post("/org-users/add", data={**profile, "username": HEALTH_OFFICER, "password": PASSWORD,
                                                      "conf_password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        with app.app_context(), platform_scope():
            known = db.session.scalar(select(User.id).where(User.username == HEALTH_OFFICER))
    else:
        assert admin.post(f"/org-users/edit/{known}", data=profile).status_code == 302
    response = admin.post("/memberships/add", data={
        "user": known, "division": tenant_a.division_ids["health"], "role": officer_role})
    assert response.status_code == 302
    yield login(app.test_client(), HEALTH_OFFICER)
    with app.app_context(), platform_scope():
        held = list(db.session.scalars(select(Membership.id).where(Membership.user_id == known)))
    for pk in held:
        assert admin.post(f"/memberships/delete/{pk}").status_code == 302
    admin.post(f"/org-users/edit/{known}", data={k: v for k, v in profile.items() if k != "active"})


def _files_of(app, pk):
    with app.app_context(), platform_scope():
        return list(db.session.scalars(select(Attachment.id).where(Attachment.request_id == pk)))


def _listed(client, pk) -> bool:
    html = client.get("/service-requests/list/?psize_ServiceRequestView=100&_oc_ServiceRequestView=id"
                      "&_od_ServiceRequestView=desc").get_data(as_text=True)
    return pk in {int(m) for m in re.findall(r"/service-requests/show/(\d+)", html)}


def test_an_officer_of_another_division_sees_nothing_of_the_matter(app, client_for, tenant_a, tenant_b, service,
                                                                   health_officer):
    officer = client_for("a.officer")  # กองคลัง, where the complaint is handled
    pk = file_complaint(officer, service)
    _act(officer, pk, "accept", note="", files=(io.BytesIO(b"%PDF-1.4 memo"), "memo.pdf"))
    files = _files_of(app, pk)
    assert len(files) == 2  # the form's photo and the step's memo
    outsiders = {"health officer": health_officer, "B's officer": client_for("b.officer")}
    for name, client in outsiders.items():
        assert not _listed(client, pk), name
        assert client.get(f"/service-requests/show/{pk}").status_code == 404, name
        assert client.get(f"/service-requests/edit/{pk}").status_code == 404, name
        assert client.post(f"/service-requests/act/{pk}", data={"action": "close", "note": "x"}).status_code == 404
        for attachment_id in files:
            assert client.get(f"/service-requests/attachment/{attachment_id}").status_code == 404, name
        assert client.get(f"/api/v1/service-request/{pk}").status_code == 404, name
        assert client.put(f"/api/v1/service-request/{pk}", json={"data": {"what": "x"}}).status_code == 404
        listed = client.get("/api/v1/service-request/?page_size=100").get_json()
        assert pk not in {r["id"] for r in listed["result"]}, name
    # the กอง holding it, and those who see the whole organisation, see it all
    for client in (officer, client_for("a.mayor"), client_for("a.admin")):
        assert _listed(client, pk)
        assert client.get(f"/service-requests/show/{pk}").status_code == 200
        for attachment_id in files:
            assert client.get(f"/service-requests/attachment/{attachment_id}").status_code == 200
    assert client_for("a.officer").get(f"/api/v1/service-request/{pk}").status_code == 200
    # the same matter forwarded to B: the health officer sees neither the forwarding nor its files
    from app.service_requests.models import Forwarding
    from app.tenancy.context import tenant_scope

    with app.app_context(), tenant_scope(tenant_a.id):
        forwarding = Forwarding(tenant_id=tenant_a.id, partner_tenant_id=tenant_b.id, request_id=pk,
                                subject="ส่งต่อทดสอบขอบเขตกอง", request_note="-", sent_by_name="ก")
        db.session.add(forwarding)
        db.session.commit()
        fid = forwarding.id
    try:
        assert "ส่งต่อทดสอบขอบเขตกอง" not in health_officer.get("/forwardings/").get_data(as_text=True)
        assert health_officer.get(f"/forwardings/{fid}").status_code == 404
        assert health_officer.get(f"/forwardings/{fid}/file/{files[0]}").status_code == 404
        assert "ส่งต่อทดสอบขอบเขตกอง" in officer.get("/forwardings/").get_data(as_text=True)
        assert officer.get(f"/forwardings/{fid}").status_code == 200
    finally:
        with app.app_context(), platform_scope():
            db.session.delete(db.session.get(Forwarding, fid))
            db.session.commit()


def test_a_matter_that_passed_through_a_division_stays_visible_there(app, client_for, tenant_a,
                                                                      director_in_engineering):
    """A permit of กองช่าง goes to the executives' office (สำนักปลัด) for approval and back: the role manager of
    สำนักปลัด sees it from then on, not before."""
    officer, mayor, manager = client_for("a.officer"), client_for("a.mayor"), client_for("a.manager")
    pk = _file(client_for("a.admin"), app, tenant_a.id)
    files = _files_of(app, pk)
    assert not _listed(manager, pk) and manager.get(f"/service-requests/show/{pk}").status_code == 404
    assert manager.get(f"/service-requests/attachment/{files[0]}").status_code == 404
    for action in ("accept", "propose"):
        _act(officer, pk, action)
    assert _listed(manager, pk) and manager.get(f"/service-requests/show/{pk}").status_code == 200
    _act(mayor, pk, "approve")  # back to กองช่าง
    assert _listed(manager, pk) and manager.get(f"/service-requests/attachment/{files[0]}").status_code == 200


def test_a_delegate_reaches_what_the_delegator_reaches(app, client_for, tenant_a, director_in_engineering,
                                                        health_officer):
    """While a delegation runs, the delegate may open and decide the matters the delegator could."""
    from app import thai
    from app.service_requests.models import Delegation
    from app.tenancy.context import tenant_scope
    from tests.service_requests.test_inbox import _to_approval
    from tests.service_requests.test_workflow import _state

    pk = _to_approval(app, client_for, tenant_a)
    assert health_officer.get(f"/service-requests/show/{pk}").status_code == 404
    today = thai.today_bangkok()
    with app.app_context(), platform_scope():
        from flask_appbuilder.security.sqla.models import User

        delegate = db.session.scalar(select(User.id).where(User.username == HEALTH_OFFICER))
    with app.app_context(), tenant_scope(tenant_a.id):
        delegation = Delegation(tenant_id=tenant_a.id, delegator_id=tenant_a.user_ids["a.mayor"],
                                delegate_id=delegate, role_code="mayor", kind="on_behalf", start_on=today,
                                end_on=today)
        db.session.add(delegation)
        db.session.commit()
        delegation_id = delegation.id
    try:
        assert health_officer.get(f"/service-requests/show/{pk}").status_code == 200
        _act(health_officer, pk, "approve", note="แทน")
        assert _state(app, pk) == "approved"
    finally:
        with app.app_context(), tenant_scope(tenant_a.id):
            db.session.delete(db.session.get(Delegation, delegation_id))
            db.session.commit()

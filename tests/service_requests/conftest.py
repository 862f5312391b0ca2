"""Shared fixtures and helpers for the workflow tests."""
import io
import re
import socket

import pytest
from sqlalchemy import select

from app.extensions import db
from app.security.models import Membership
from app.catalog.models import ServiceRequest
from app.tenancy.context import platform_scope, tenant_scope


@pytest.fixture
def director_in_engineering(app, tenant_a):
    """a.officer also directs กองช่าง (engineering), the test permit's กอง, for these tests."""
    from app.security import services as grants
    from app.security.models import RoleTemplate
    from app.tenancy.models import Division

    with app.app_context(), tenant_scope(tenant_a.id):
        from flask_appbuilder.security.sqla.models import User

        user = db.session.scalar(select(User).where(User.username == "a.officer"))
        division = db.session.scalar(select(Division).where(Division.code == "engineering"))
        template = db.session.scalar(select(RoleTemplate).where(RoleTemplate.code == "division_director"))
        held = db.session.scalar(select(Membership.id).where(Membership.user_id == user.id,
                                                             Membership.division_id == division.id))
        granted_id = None
        if held is None:
            membership = grants.grant(None, user, division, template)
            db.session.commit()
            granted_id = membership.id
        db.session.remove()
    yield
    if granted_id is None:
        return  # held before this fixture: not ours to take back
    with app.app_context(), tenant_scope(tenant_a.id):
        membership = db.session.get(Membership, granted_id)
        if membership is not None:
            grants.revoke(None, membership)
            db.session.commit()
        db.session.remove()




# A complaint-like service of tenant A whose workflow forwards (its กอง is finance, where a.officer works),
# with a public e-mail field, a staff-only note and a photo.
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
CODE = "fwd_complaint"
DEFINITION = {
    "code": CODE, "name_th": "แจ้งเรื่องร้องเรียนทดสอบส่งต่อ", "name_en": "Forwarding test complaint",
    "category": "complaint", "responsible_division": "finance", "sla_days": 15,
    "fields": [
        {"code": "what", "kind": "text", "label_th": "เรื่อง", "label_en": "What", "required": True},
        {"code": "email", "kind": "email", "label_th": "อีเมล", "label_en": "E-mail"},
        {"code": "secret_note", "kind": "long_text", "label_th": "บันทึกภายใน", "visibility": "staff"},
        {"code": "photo", "kind": "file", "label_th": "ภาพถ่าย", "label_en": "Photo", "accept": ["png", "jpg"]},
        {"code": "where", "kind": "location", "label_th": "จุดที่เกิดเหตุ", "label_en": "Where"},
    ],
    "guide": {"no_fee": True},
    "workflow": {
        "states": [
            {"code": "submitted", "name_th": "รับแจ้ง"},
            {"code": "triage", "name_th": "พิจารณา"},
            {"code": "forwarded", "name_th": "ส่งต่อแล้ว"},
            {"code": "completed", "name_th": "ปิดเรื่อง", "final": True},
        ],
        "transitions": [
            {"action": "accept", "name_th": "รับเรื่อง", "from": ["submitted"], "to": "triage", "roles": ["officer"]},
            {"action": "forward", "name_th": "ส่งต่อ", "from": ["triage"], "to": "forwarded", "roles": ["officer"],
             "effect": "forward", "note_required": True},
            {"action": "close", "name_th": "ปิดเรื่อง", "from": ["forwarded", "triage"], "to": "completed",
             "roles": ["officer"], "note_required": True},
        ],
    },
}
TENANT_C = """
kind: tenant
tenant: {dla_code: "1000003", type: sao, name_th: องค์การบริหารส่วนตำบลซี, name_en: SAO C, province: เชียงใหม่}
users:
  - {username: c.mayor, first_name: นายก, last_name: ซี, email: mayor@c.test, password: testpass2569,
     memberships: [{division: office, role: mayor}]}
"""


@pytest.fixture(scope="session")
def service(app, tenant_a):
    from app.catalog import services
    from app.catalog.spec import ServiceSpec
    from app.tenancy.models import Division

    with app.app_context(), tenant_scope(tenant_a.id):
        definition = ServiceSpec().load(DEFINITION)
        division = db.session.scalar(select(Division).where(Division.code == "finance"))
        service_type, _changed = services.save_definition(tenant_a.id, definition, division)
        db.session.commit()
        return service_type.id


@pytest.fixture(scope="session")
def tenant_c(app, tmp_path_factory):
    from app.seeds.apply import apply_paths
    from app.tenancy.context import platform_scope
    from app.tenancy.models import Tenant

    path = tmp_path_factory.mktemp("seed") / "tenant_c.yaml"
    path.write_text(TENANT_C, encoding="utf-8")
    with app.app_context():
        plan = apply_paths([str(path)])
        assert not plan.errors, plan.errors
        with platform_scope():
            return db.session.scalar(select(Tenant.id).where(Tenant.dla_code == "1000003"))




@pytest.fixture
def smtp_server(app):
    """A local SMTP server; app.config points at it for the test. Yields the list of (recipients, message)."""
    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        yield received
    finally:
        app.config.update(MAIL_SERVER="")
        controller.stop()


def _fresh(data: dict) -> dict:
    """The same form again, its files re-readable."""
    return {k: (io.BytesIO(v[0].getvalue()), v[1]) if isinstance(v, tuple) and hasattr(v[0], "getvalue") else v
            for k, v in data.items()}


def save_form(client, url: str, data: dict):
    """Save a staff request form as a clerk does: when the form first shows the fee to check, save again
    with the fee seen."""
    response = client.post(url, data=_fresh(data), content_type="multipart/form-data")
    if response.status_code == 200:
        quoted = re.search(r'name="quoted" value="([^"]+)"', response.get_data(as_text=True))
        if quoted:
            response = client.post(url, data={**_fresh(data), "quoted": quoted.group(1)},
                                   content_type="multipart/form-data")
    return response


def file_complaint(client, service_id, what="ไฟทางดับหน้าบ้านเลขที่ 5", secret="ผู้ร้องเคยร้องเรื่องนี้แล้ว"):
    data = {"what": what, "email": "somsri@example.com", "secret_note": secret,
            "photo": (io.BytesIO(PNG), "lamp.png"), "intent": "save"}
    response = client.post(f"/service-requests/new/{service_id}", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, re.findall(r"(?:text-danger|help-block|alert)[^>]*>([^<]*)", response.get_data(as_text=True))
    return int(re.search(r"/service-requests/show/(\d+)", response.headers["Location"]).group(1))


def act(client, pk, action, **form):
    html = client.get(f"/service-requests/show/{pk}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    return client.post(f"/service-requests/act/{pk}", data={"action": action, "version": version, **form},
                       content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)


def status_of(app, pk):
    with app.app_context(), platform_scope():
        return db.session.get(ServiceRequest, pk).status

"""Helpers for the open API's request tests: filing through the API, a service whose workflow asks for and
records payment and forwards, and a.officer made director of กองช่าง (the test permit's กอง)."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from app.extensions import db
from app.tenancy.context import tenant_scope
from tests.api.open.conftest import API

PERMIT = {"applicant": "สมชาย ใจดี", "area": "120.5", "start_on": "2026-12-01", "kind_of_use": "home"}
WATER = {"requester": "สมหญิง", "litres": 2000}
PDF = b"%PDF-1.4\n%test\n"

FLOW = "api_flow"
FLOW_DEFINITION = {
    "code": FLOW, "name_th": "คำขอทดสอบ API", "name_en": "API flow test", "category": "certificate",
    "responsible_division": "finance", "sla_days": 5,
    "fields": [{"code": "applicant", "kind": "text", "label_th": "ผู้ขอ", "label_en": "Applicant", "required": True}],
    "guide": {"no_fee": False},
    "workflow": {
        "states": [
            {"code": "submitted", "name_th": "ยื่นแล้ว", "name_en": "Submitted"},
            {"code": "triage", "name_th": "พิจารณา", "name_en": "Triage"},
            {"code": "awaiting_payment", "name_th": "รอชำระค่าธรรมเนียม", "name_en": "Awaiting payment"},
            {"code": "paid", "name_th": "ชำระแล้ว", "name_en": "Paid"},
            {"code": "forwarded", "name_th": "ส่งต่อแล้ว", "name_en": "Forwarded"},
            {"code": "completed", "name_th": "เสร็จสิ้น", "name_en": "Completed", "final": True},
        ],
        "transitions": [
            {"action": "accept", "name_th": "รับเรื่อง", "name_en": "Accept", "from": ["submitted"], "to": "triage",
             "roles": ["officer"]},
            {"action": "ask_payment", "name_th": "แจ้งชำระ", "name_en": "Ask for payment", "from": ["triage"],
             "to": "awaiting_payment", "roles": ["officer"], "effect": "request_payment"},
            {"action": "record_payment", "name_th": "รับชำระแล้ว", "name_en": "Payment received",
             "from": ["awaiting_payment"], "to": "paid", "roles": ["officer"], "effect": "record_payment"},
            {"action": "forward", "name_th": "ส่งต่อ", "name_en": "Forward", "from": ["triage"], "to": "forwarded",
             "roles": ["officer"], "effect": "forward", "note_required": True},
            {"action": "complete", "name_th": "เสร็จสิ้น", "name_en": "Complete", "from": ["paid", "forwarded"],
             "to": "completed", "roles": ["officer"], "note_required": True},
        ],
    },
}
FLOW_FEES = {"legal_source_th": "ข้อบัญญัติทดสอบ API",
             "rules": [{"kind": "flat", "code": "service_fee", "label_th": "ค่าธรรมเนียม", "amount": "150.00"}]}


def upload(client, service_type="test_permit", field="doc_id_card", content=PDF, name="id.pdf"):
    return client.post(f"{API}/requests/attachments", data={
        "service_type": service_type, "field": field, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data")


def file_permit(client) -> dict:
    attachment = upload(client)
    assert attachment.status_code == 201, attachment.get_json()
    response = client.post(f"{API}/requests", json={
        "service_type": "test_permit", "data": {**PERMIT, "doc_id_card": [attachment.get_json()["id"]]}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def file_water(client, **data) -> dict:
    response = client.post(f"{API}/requests", json={"service_type": "water_truck", "data": {**WATER, **data}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def step(client, pk: int, action: str, **body):
    return client.post(f"{API}/requests/{pk}/transitions", json={"action": action, **body})


def request_count(app) -> int:
    from sqlalchemy import func

    from app.catalog.models import ServiceRequest
    from app.tenancy.context import platform_scope

    with app.app_context(), platform_scope():
        return db.session.scalar(select(func.count()).select_from(ServiceRequest))


@pytest.fixture(scope="session")
def flow_service(app, tenant_a):
    from datetime import date

    from app.catalog import services
    from app.catalog.spec import ServiceSpec
    from app.tenancy.models import Division

    with app.app_context(), tenant_scope(tenant_a.id):
        definition = ServiceSpec().load(FLOW_DEFINITION)
        division = db.session.scalar(select(Division).where(Division.code == "finance"))
        service_type, _changed = services.save_definition(tenant_a.id, definition, division)
        services.save_fee_schedule(service_type, {**FLOW_FEES, "effective_from": date(2024, 10, 1)})
        db.session.commit()
        return service_type.id


@pytest.fixture
def engineering_director(app, tenant_a):
    """a.officer also directs กองช่าง (engineering), where the test permit's workflow runs (as in
    tests/service_requests: the grant is idempotent)."""
    from flask_appbuilder.security.sqla.models import User

    from app.security import services as grants
    from app.security.models import Membership, RoleTemplate
    from app.tenancy.models import Division

    with app.app_context(), tenant_scope(tenant_a.id):
        user = db.session.scalar(select(User).where(User.username == "a.officer"))
        division = db.session.scalar(select(Division).where(Division.code == "engineering"))
        user_id, division_id = user.id, division.id
        template = db.session.scalar(select(RoleTemplate).where(RoleTemplate.code == "division_director"))
        held = db.session.scalar(select(Membership.id).where(Membership.user_id == user.id,
                                                             Membership.division_id == division.id))
        made = held is None
        if made:
            grants.grant(None, user, division, template)
            db.session.commit()
        db.session.remove()
    yield
    if made:  # later tests (billing's officer checks) expect a.officer without this role
        with app.app_context(), tenant_scope(tenant_a.id):
            membership = db.session.scalar(select(Membership).where(Membership.user_id == user_id,
                                                                    Membership.division_id == division_id))
            grants.revoke(None, membership)  # also takes the role off the user's FAB roles
            db.session.commit()
            db.session.remove()

"""A fee-charging service in both tenants (same code, same division code): asked for payment, then paid at
กองคลัง, where a.officer and b.officer work."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.tenancy.context import tenant_scope

CODE = "pay_test"
DEFINITION = {
    "code": CODE, "name_th": "คำขอทดสอบการชำระเงิน", "name_en": "Payment test", "category": "certificate",
    "responsible_division": "finance", "sla_days": 5,
    "fields": [{"code": "applicant", "kind": "text", "label_th": "ผู้ขอ", "required": True}],
    "guide": {"no_fee": False},
    "workflow": {
        "states": [
            {"code": "submitted", "name_th": "ยื่นแล้ว"},
            {"code": "awaiting_payment", "name_th": "รอชำระค่าธรรมเนียม"},
            {"code": "paid", "name_th": "ชำระแล้ว"},
            {"code": "completed", "name_th": "เสร็จสิ้น", "final": True},
        ],
        "transitions": [
            {"action": "request_payment", "name_th": "แจ้งชำระ", "from": ["submitted"], "to": "awaiting_payment",
             "roles": ["officer"], "effect": "request_payment"},
            {"action": "record_payment", "name_th": "รับชำระแล้ว", "from": ["awaiting_payment"], "to": "paid",
             "roles": ["officer"], "effect": "record_payment"},
            {"action": "complete", "name_th": "เสร็จสิ้น", "from": ["paid"], "to": "completed", "roles": ["officer"]},
        ],
    },
}
FEES = {"effective_from": "2024-10-01", "legal_source_th": "ข้อบัญญัติทดสอบ",
        "rules": [{"kind": "flat", "code": "service_fee", "label_th": "ค่าธรรมเนียม", "amount": "150.00"}]}


@pytest.fixture(scope="session")
def pay_service(app, tenant_a, tenant_b):
    """{tenant id: service type id} for A and B."""
    from datetime import date

    from app.catalog import services
    from app.catalog.spec import ServiceSpec
    from app.tenancy.models import Division

    made = {}
    for tenant in (tenant_a, tenant_b):
        with app.app_context(), tenant_scope(tenant.id):
            definition = ServiceSpec().load(DEFINITION)
            division = db.session.scalar(select(Division).where(Division.code == "finance"))
            service_type, _changed = services.save_definition(tenant.id, definition, division)
            services.save_fee_schedule(service_type, {**FEES, "effective_from": date(2024, 10, 1)})
            db.session.commit()
            made[tenant.id] = service_type.id
    return made

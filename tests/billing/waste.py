"""The waste service in tenants A and B from the real template (same codes, same account numbers, one
route each named alike), and helpers to open accounts: what every waste-fee test builds on."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date

import pytest
import yaml
from sqlalchemy import select

from app.extensions import db
from app.tenancy.context import platform_scope, tenant_scope
from tests.conftest import ROOT

TEMPLATE = os.path.join(ROOT, "seeds", "services", "waste_collection_registration.yaml")
BILLER = {"1000001": "099400000000101", "1000002": "099400000000202"}
# a subdistrict and postcode of Mae Hia, Chiang Mai, as geothai knows them
SUBDISTRICT, POSTCODE = "500109", "50100"


@dataclass
class WasteTenant:
    tenant_id: int
    service_type_id: int
    route_id: int
    route2_id: int


def account_input(**overrides) -> dict:
    raw = {
        "premises_kind": "household", "litres_per_day": "20", "holder_name": "นางสมศรี ใจดี",
        "phone": "0812345678", "address_line": "99/1 หมู่ 3", "subdistrict_code": SUBDISTRICT,
        "postcode": POSTCODE, "start_date": "2026-10-01",
    }
    raw.update(overrides)
    return raw


def open_account(tenant_id: int, **overrides):
    """Open one account in a tenant (committed); returns its id."""
    from app.billing import accounts

    with tenant_scope(tenant_id):
        account = accounts.open_account(account_input(**overrides), "ผู้ทดสอบ")
        db.session.commit()
        account_id = account.id
        db.session.remove()
    return account_id


def install_waste_service(tenant_id: int, dla_code: str, biller_id: str | None = None) -> WasteTenant:
    from app.billing.models import WasteRoute
    from app.catalog import services
    from app.catalog.spec import ServiceSpec
    from app.tenancy.models import Division, Tenant

    with open(TEMPLATE, encoding="utf-8") as fh:
        template = yaml.safe_load(fh)
    fees = template.pop("fees")
    for key in ("kind", "caps"):
        template.pop(key, None)
    with platform_scope():
        tenant = db.session.get(Tenant, tenant_id)
        tenant.promptpay_biller_id = biller_id or BILLER[dla_code]
        db.session.commit()
    with tenant_scope(tenant_id):
        definition = ServiceSpec().load(template)
        division = db.session.scalar(select(Division).where(Division.code == "health"))
        service_type, _changed = services.save_definition(tenant_id, definition, division)
        services.save_fee_schedule(service_type, {**fees, "effective_from": date(2025, 10, 1)})
        routes = []
        for code, name in (("R1", "สายที่ 1 ตลาด"), ("R2", "สายที่ 2 หมู่บ้าน")):
            route = db.session.scalar(select(WasteRoute).where(WasteRoute.code == code))
            if route is None:
                route = WasteRoute(code=code, name_th=name, collection_days="mon,thu")
                db.session.add(route)
            routes.append(route)
        db.session.commit()
        made = WasteTenant(tenant_id, service_type.id, routes[0].id, routes[1].id)
        db.session.remove()
    return made


@pytest.fixture(scope="session")
def waste(app, tenant_a, tenant_b) -> dict[str, WasteTenant]:
    """{"a": ..., "b": ...}: the waste service, a biller ID and two routes in each tenant."""
    with app.app_context():
        return {"a": install_waste_service(tenant_a.id, tenant_a.dla_code),
                "b": install_waste_service(tenant_b.id, tenant_b.dla_code)}

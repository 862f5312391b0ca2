"""The people of the correspondence tests in tenants A and B (look-alikes): a clerk of the central registry
(office officer), a ปลัด, a director and an officer of กองช่าง; the organisations' book codes and central
registers. Import the fixture with `from tests.saraban.people import saraban  # noqa: F401`."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.tenancy.context import platform_scope, tenant_scope
from tests.conftest import PASSWORD

# username suffix -> (first name, last name, [(division code, role code)])
PEOPLE = {
    "sb.clerk": ("สุดา", "สารบรรณ", [("office", "officer")]),
    "sb.palad": ("ประสิทธิ์", "ปลัดทดสอบ", [("office", "permanent_secretary")]),
    "sb.engdir": ("วิศวะ", "ผอ.ช่าง", [("engineering", "division_director")]),
    "sb.engofficer": ("ช่าง", "ประจำกอง", [("engineering", "officer")]),
}
BOOK_CODES = {"1000001": "ชม 99901", "1000002": "ชม 99902"}


@dataclass
class SarabanTenant:
    tenant_id: int
    users: dict[str, int] = field(default_factory=dict)  # "clerk" -> id (also "mayor", "admin", "officer")
    divisions: dict[str, int] = field(default_factory=dict)
    incoming_register_id: int = 0
    outgoing_register_id: int = 0


def _install(tenant, prefix: str) -> SarabanTenant:
    from flask_appbuilder.security.sqla.models import User

    from app.saraban import registry
    from app.saraban.models import INCOMING, OUTGOING, Register
    from app.security import services as grants
    from app.security.models import RoleTemplate
    from app.tenancy.models import Division, Tenant

    with platform_scope():
        row = db.session.get(Tenant, tenant.id)
        row.book_prefix = BOOK_CODES[tenant.dla_code]
        db.session.commit()
    with tenant_scope(tenant.id):
        password = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        divisions = {d.code: d for d in db.session.scalars(select(Division))}
        templates = {t.code: t for t in db.session.scalars(select(RoleTemplate))}
        for suffix, (first, last, memberships) in PEOPLE.items():
            username = f"{prefix}.{suffix}"
            user = db.session.scalar(select(User).where(User.username == username))
            if user is None:
                user = User(username=username, first_name=first, last_name=last, email=f"{suffix}@{prefix}.test",
                            active=True, password=password, tenant_id=tenant.id)
                db.session.add(user)
                db.session.flush()
                for division_code, role_code in memberships:
                    grants.grant(None, user, divisions[division_code], templates[role_code])
        registry.ensure_central(tenant.id)
        db.session.commit()
        users = {u.username.split(".", 1)[1]: u.id for u in db.session.scalars(
            select(User).where(User.username.like(f"{prefix}.%")))}
        registers = {r.direction: r.id for r in db.session.scalars(select(Register).where(
            Register.division_id == divisions["office"].id))}
        data = SarabanTenant(tenant.id, users={k.removeprefix("sb."): v for k, v in users.items()},
                             divisions={code: d.id for code, d in divisions.items()},
                             incoming_register_id=registers[INCOMING], outgoing_register_id=registers[OUTGOING])
        db.session.remove()
    return data


@pytest.fixture(scope="session")
def saraban(app, tenant_a, tenant_b) -> dict[str, SarabanTenant]:
    """{"a": SarabanTenant, "b": ...}; users keyed clerk, palad, engdir, engofficer, admin, mayor, officer."""
    with app.app_context():
        return {"a": _install(tenant_a, "a"), "b": _install(tenant_b, "b")}

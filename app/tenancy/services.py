"""Tenant onboarding and the operator's explicit switch into a tenant."""
from __future__ import annotations

from typing import Optional

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select

from app.extensions import db
from app.tenancy.context import platform_scope
from app.tenancy.models import Division, Tenant, TenantSwitchLog

ACTING_TENANT_KEY = "acting_tenant_id"


def create_default_divisions(tenant: Tenant) -> list[Division]:
    """Give a new tenant the standard กอง of its type (idempotent)."""
    created = []
    with platform_scope():
        existing = set(db.session.scalars(select(Division.code).where(Division.tenant_id == tenant.id)))
        for spec in tenant.type.default_divisions or []:
            if spec["code"] in existing:
                continue
            division = Division(
                tenant_id=tenant.id, code=spec["code"], name_th=spec["name_th"],
                name_en=spec.get("name_en", ""),
            )
            db.session.add(division)
            created.append(division)
        db.session.flush()
    return created


def record_switch(operator: User, tenant: Tenant, action: str, remote_addr: Optional[str]) -> None:
    db.session.add(
        TenantSwitchLog(
            operator_id=operator.id, operator_username=operator.username, organisation_id=tenant.id,
            action=action, remote_addr=(remote_addr or "")[:64],
        )
    )

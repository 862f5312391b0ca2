"""Organisations on the platform (read, platform operators only): each อปท.'s code, type, names, province and
whether it is active, with how many กอง, users and services it has. Aggregates only: no personal data. The
reads run in an explicit platform scope: an operator belongs to no organisation."""
from __future__ import annotations

import re

from flask_appbuilder.security.sqla.models import User
from marshmallow import Schema
from marshmallow import fields as mf
from sqlalchemy import func, select

from app.api import validate
from app.api.errors import ApiError
from app.api.models import READ
from app.api.openapi import PREFIX, ApiBlueprint, guard_blueprint, operation
from app.api.paging import PageArgs, page
from app.api.schemas import UtcDateTime, page_of
from app.catalog.models import ServiceType
from app.extensions import db
from app.schema_base import fields
from app.tenancy.context import platform_scope
from app.tenancy.models import Division, Tenant

blp = ApiBlueprint("open_tenants", __name__, url_prefix=f"{PREFIX}/tenants",
                   description="Organisations on the platform, with aggregate counts (platform operators only).")
guard_blueprint(blp)

DLA_CODE = r"^[0-9]{1,16}$"


class TenantSchema(Schema):
    dla_code = mf.String(required=True, metadata={"description": "the DLA code of the อปท."})
    type = mf.String(required=True, metadata={"description": "tenant type code, e.g. sao, municipality"})
    name_th = mf.String(required=True)
    name_en = mf.String(required=True)
    province = mf.String(required=True)
    active = mf.Boolean(required=True)
    created_at = UtcDateTime(required=True)
    divisions = mf.Integer(required=True, metadata={"description": "how many กอง"})
    users = mf.Integer(required=True, metadata={"description": "how many user accounts"})
    service_types = mf.Integer(required=True, metadata={"description": "how many services it offers"})


class TenantListArgs(PageArgs):
    type = fields.String(load_default=None, validate=validate.Length(min=1, max=32),
                         metadata={"description": "tenant type code"})
    province = fields.String(load_default=None, validate=validate.Length(min=1, max=100),
                             metadata={"description": "province name, exactly as recorded"})
    active = fields.Boolean(load_default=None, metadata={"description": "only active (true) or inactive (false)"})


def _counts(model, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    return dict(db.session.execute(select(model.tenant_id, func.count()).where(model.tenant_id.in_(ids))
                                   .group_by(model.tenant_id)).all())


def _rows(tenants: list[Tenant]) -> list[dict]:
    ids = [t.id for t in tenants]
    divisions, users, services = _counts(Division, ids), _counts(User, ids), _counts(ServiceType, ids)
    return [{"dla_code": t.dla_code, "type": t.type_code, "name_th": t.name_th, "name_en": t.name_en or "",
             "province": t.province, "active": t.active, "created_at": t.created_at,
             "divisions": divisions.get(t.id, 0), "users": users.get(t.id, 0),
             "service_types": services.get(t.id, 0)} for t in tenants]


@blp.route("")
@operation(blp, READ, operator=True)
@blp.arguments(TenantListArgs, location="query")
@blp.response(200, page_of(TenantSchema))
def list_tenants(args):
    """The organisations, newest first."""
    with platform_scope():
        stmt = select(Tenant)
        if args.get("type"):
            stmt = stmt.where(Tenant.type_code == args["type"])
        if args.get("province"):
            stmt = stmt.where(Tenant.province == args["province"])
        if args.get("active") is not None:
            stmt = stmt.where(Tenant.active.is_(args["active"]))
        result = page(stmt, Tenant.id, args)
        return {"items": _rows(result["items"]), "next_cursor": result["next_cursor"]}


@blp.route("/<string:dla_code>")
@operation(blp, READ, operator=True)
@blp.response(200, TenantSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_tenant(dla_code):
    """One organisation by its DLA code."""
    if not re.fullmatch(DLA_CODE, dla_code):
        raise ApiError(404)
    with platform_scope():
        found = db.session.scalar(select(Tenant).where(Tenant.dla_code == dla_code))
        if found is None:
            raise ApiError(404)
        return _rows([found])[0]

"""Service types (read): what an organisation offers, the fields a request carries (as the form and the
request schema check them), the documents it needs, and its fee schedules."""
from __future__ import annotations

from marshmallow import Schema, validate
from marshmallow import fields as mf
from sqlalchemy import select

from app.api.errors import ApiError
from app.api.models import READ
from app.api.openapi import PREFIX, ApiBlueprint, guard_blueprint, operation
from app.api.paging import PageArgs, page
from app.api.schemas import page_of
from app.catalog import services
from app.catalog.models import FeeSchedule, ServiceType
from app.extensions import db
from app.schema_base import fields

blp = ApiBlueprint("open_service_types", __name__, url_prefix=f"{PREFIX}/service-types",
                description="Services the organisation offers, with their fields, documents and fees (read).")
guard_blueprint(blp)

CODE = r"^[a-z0-9][a-z0-9_-]{0,47}$"


class ChoiceSchema(Schema):
    value = mf.String(required=True)
    label_th = mf.String(required=True)
    label_en = mf.String(required=True)


class FieldSchema(Schema):
    code = mf.String(required=True)
    kind = mf.String(required=True, metadata={"description": "text, long_text, integer, decimal, date, choice, "
                                              "multi_choice, yes_no, national_id, phone, email, address, "
                                              "location, file"})
    label_th = mf.String(required=True)
    label_en = mf.String(required=True)
    help_th = mf.String(required=True)
    help_en = mf.String(required=True)
    required = mf.Boolean(required=True)
    visibility = mf.String(required=True, metadata={"description": "public (citizens fill it) or staff"})
    min = mf.String(required=True, allow_none=True)
    max = mf.String(required=True, allow_none=True)
    min_length = mf.Integer(required=True, allow_none=True)
    max_length = mf.Integer(required=True, allow_none=True)
    pattern = mf.String(required=True)
    choices = mf.List(mf.Nested(ChoiceSchema), required=True)
    accept = mf.List(mf.String(), required=True, metadata={"description": "file kinds a file field takes"})
    max_size_mb = mf.Integer(required=True)


class RequiredDocumentSchema(Schema):
    code = mf.String(required=True, metadata={"description": "send the file as the value of data.<code>"})
    name_th = mf.String(required=True)
    name_en = mf.String(required=True)
    required = mf.Boolean(required=True)
    accept = mf.List(mf.String(), required=True)
    max_size_mb = mf.Integer(required=True)


class ServiceTypeSchema(Schema):
    id = mf.Integer(required=True)
    code = mf.String(required=True)
    name_th = mf.String(required=True)
    name_en = mf.String(required=True)
    category = mf.String(required=True)
    division = mf.String(required=True, metadata={"description": "code of the responsible กอง"})
    sla_days = mf.Integer(required=True)
    sla_unit = mf.String(required=True, metadata={"description": "working or calendar days"})
    active = mf.Boolean(required=True)
    version = mf.Integer(required=True, metadata={"description": "the field version new requests are filed under"})


class ServiceTypeDetailSchema(ServiceTypeSchema):
    fields = mf.List(mf.Nested(FieldSchema), required=True)
    documents = mf.List(mf.Nested(RequiredDocumentSchema), required=True)
    has_workflow = mf.Boolean(required=True)


class FeeScheduleSchema(Schema):
    id = mf.Integer(required=True)
    effective_from = mf.Date(required=True)
    effective_to = mf.Date(required=True, allow_none=True)
    legal_source_th = mf.String(required=True)
    legal_source_en = mf.String(required=True)
    rules = mf.List(mf.Dict(), required=True, metadata={
        "description": "the declarative fee rules as configured (flat, per_unit, tiered, late_surcharge); "
                       "amounts are decimal strings"})


class ServiceTypeListArgs(PageArgs):
    active = fields.Boolean(load_default=None, metadata={"description": "only active (true) or inactive (false)"})
    category = fields.String(load_default=None, validate=validate.Length(max=32))


class FeeScheduleListArgs(PageArgs):
    pass


def summary(item: ServiceType) -> dict:
    return {"id": item.id, "code": item.code, "name_th": item.name_th, "name_en": item.name_en or "",
            "category": item.category, "division": item.responsible_division.code if item.responsible_division else "",
            "sla_days": item.sla_days, "sla_unit": item.sla_unit, "active": item.active,
            "version": item.current_version}


def _field(spec: dict) -> dict:
    return {
        "code": spec["code"], "kind": spec["kind"], "label_th": spec.get("label_th") or "",
        "label_en": spec.get("label_en") or "", "help_th": spec.get("help_th") or "",
        "help_en": spec.get("help_en") or "", "required": bool(spec.get("required")),
        "visibility": spec.get("visibility") or "public",
        "min": None if spec.get("min") is None else str(spec["min"]),
        "max": None if spec.get("max") is None else str(spec["max"]),
        "min_length": spec.get("min_length"), "max_length": spec.get("max_length"),
        "pattern": spec.get("pattern") or "",
        "choices": [{"value": c["value"], "label_th": c.get("label_th") or "", "label_en": c.get("label_en") or ""}
                    for c in spec.get("choices") or []],
        "accept": list(spec.get("accept") or []), "max_size_mb": int(spec.get("max_size_mb") or 10),
    }


def _document(spec: dict) -> dict:
    return {"code": spec["code"], "name_th": spec.get("name_th") or "", "name_en": spec.get("name_en") or "",
            "required": bool(spec.get("required", True)), "accept": list(spec.get("accept") or []),
            "max_size_mb": int(spec.get("max_size_mb") or 10)}


def by_code(code: str) -> ServiceType:
    item = db.session.scalar(select(ServiceType).where(ServiceType.code == code))
    if item is None:
        raise ApiError(404)
    return item


def detail(item: ServiceType) -> dict:
    version = services.current_version(item)
    return {**summary(item), "fields": [_field(f) for f in version.fields],
            "documents": [_document(d) for d in version.documents or []], "has_workflow": bool(version.workflow)}


@blp.route("")
@operation(blp, READ)
@blp.arguments(ServiceTypeListArgs, location="query")
@blp.response(200, page_of(ServiceTypeSchema))
def list_service_types(args):
    """The organisation's services, newest first."""
    stmt = select(ServiceType)
    if args.get("active") is not None:
        stmt = stmt.where(ServiceType.active.is_(args["active"]))
    if args.get("category"):
        stmt = stmt.where(ServiceType.category == args["category"])
    result = page(stmt, ServiceType.id, args)
    return {"items": [summary(s) for s in result["items"]], "next_cursor": result["next_cursor"]}


@blp.route("/<string:code>")
@operation(blp, READ)
@blp.response(200, ServiceTypeDetailSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_service_type(code):
    """One service with the fields of its current version and the documents it needs."""
    return detail(by_code(code))


@blp.route("/<string:code>/fee-schedules")
@operation(blp, READ)
@blp.arguments(FeeScheduleListArgs, location="query")
@blp.response(200, page_of(FeeScheduleSchema))
@blp.alt_response(404, response="NOT_FOUND")
def list_fee_schedules(args, code):
    """The service's fee schedules, each from its effective date, citing its legal source."""
    item = by_code(code)
    result = page(select(FeeSchedule).where(FeeSchedule.service_type_id == item.id), FeeSchedule.id, args)
    return {"items": [{
        "id": s.id, "effective_from": s.effective_from, "effective_to": s.effective_to,
        "legal_source_th": s.legal_source_th, "legal_source_en": s.legal_source_en or "",
        "rules": [_jsonable(r) for r in s.rules or []],
    } for s in result["items"]], "next_cursor": result["next_cursor"]}


def _jsonable(value):
    from decimal import Decimal

    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (Decimal, float)):
        return f"{Decimal(str(value)):.2f}"
    return value

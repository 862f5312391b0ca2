"""The service catalogue's logic: offering a service (from a template or the tenant's own definition),
versioning its definition, fee schedules and quotes, and filing or editing requests. No Flask request
objects here: views, API, CLI and seeds all call these."""
from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any, Optional

from flask_babel import gettext as _
from sqlalchemy import select

from app import thai
from app.catalog import fees as fee_calc
from app.catalog.builder import build_schema
from app.catalog.models import FeeSchedule, ServiceRequest, ServiceTemplate, ServiceType, ServiceTypeVersion
from app.extensions import db
from app.tenancy.errors import UserError
from app.tenancy.models import Division

VERSIONED = ("fields", "documents", "guide", "legal_basis", "workflow")
EMPTY = {"fields": [], "documents": [], "guide": {}, "legal_basis": [], "workflow": None}


def service_type_or_404(pk: int) -> ServiceType:
    """The current tenant's service type (the tenant wall answers None for anyone else's): 404 otherwise."""
    from flask import abort

    service_type = db.session.get(ServiceType, pk)
    if service_type is None:
        abort(404)
    return service_type


def template_by_code(code: str) -> Optional[ServiceTemplate]:
    return db.session.scalar(select(ServiceTemplate).where(ServiceTemplate.code == code))


# what a tenant entry may set in place of the template's own; `guide` is merged key by key (wording),
# `extra_fields` are appended, fees are schedules of their own
REPLACED = ("code", "name_th", "name_en", "category", "responsible_division", "sla_days", "sla_unit", "workflow",
            "legal_basis", "documents")


def resolve_definition(entry: dict, template: Optional[ServiceTemplate]) -> dict:
    """A tenant's service as it will be offered: the template's definition with the tenant's overrides,
    checked as a whole. Raises marshmallow.ValidationError keyed by the entry's own paths
    (`extra_fields[0].code`, `guide.steps[1].days`)."""
    from marshmallow import ValidationError

    from app.catalog.spec import ServiceSpec

    if template is None:
        return copy.deepcopy(entry)
    spec = copy.deepcopy(template.spec)
    spec.pop("template_code", None)
    for key in REPLACED:
        if entry.get(key) is not None:
            spec[key] = copy.deepcopy(entry[key])
    guide = entry.get("guide")
    if guide is not None:
        if not isinstance(guide, dict):
            raise ValidationError({"guide": [_("Must be a mapping (key: value).")]})
        # only the keys given are reworded; the rest of the template's guide stays
        spec["guide"] = {**(spec.get("guide") or {}), **copy.deepcopy(guide)}
    template_codes = {f["code"] for f in spec["fields"]}
    clashes = {j: {"code": [_("The template already has a field with the code %(code)s; give the extra field "
                              "a code of its own.", code=extra["code"])]}
               for j, extra in enumerate(entry.get("extra_fields") or []) if extra["code"] in template_codes}
    if clashes:
        raise ValidationError({"extra_fields": clashes})
    spec["fields"] = list(spec["fields"]) + copy.deepcopy(list(entry.get("extra_fields") or []))
    definition = ServiceSpec().load(spec)
    definition["template_code"] = template.code
    return definition


def legal_due_date(service_type: ServiceType, start: date) -> date:
    """The legal deadline from `start`: sla_days working days (weekends, holidays and the organisation's
    closures skipped), or calendar days when the law counts every day (sla_unit "calendar")."""
    from datetime import timedelta

    if (service_type.sla_unit or "working") == "calendar":
        return start + timedelta(days=service_type.sla_days)
    from app.service_requests.clock import WorkingCalendar

    return WorkingCalendar.for_current_tenant().add_working_days(start, service_type.sla_days)


def filed_on(request: ServiceRequest) -> date:
    """The day (in Bangkok) a request was filed: its fee is priced by the schedule in force that day."""
    if request.created_at is None:
        return thai.today_bangkok()
    from datetime import timezone

    created = request.created_at
    if created.tzinfo is None:  # stored as UTC without a zone
        created = created.replace(tzinfo=timezone.utc)
    return thai.to_bangkok(created).date()


def current_version(service_type: ServiceType) -> ServiceTypeVersion:
    return db.session.scalar(
        select(ServiceTypeVersion).where(
            ServiceTypeVersion.service_type_id == service_type.id,
            ServiceTypeVersion.version == service_type.current_version,
        )
    )


def save_definition(tenant_id: int, definition: dict, division: Division) -> tuple[ServiceType, list[str]]:
    """Create or update the tenant's service type; a changed definition becomes a new version."""
    service_type = db.session.scalar(
        select(ServiceType).where(ServiceType.tenant_id == tenant_id, ServiceType.code == definition["code"])
    )
    changed: list[str] = []
    if service_type is None:
        service_type = ServiceType(tenant_id=tenant_id, code=definition["code"], current_version=0)
        db.session.add(service_type)
        changed.append("created")
    values = {
        "template_code": definition.get("template_code"),
        "name_th": definition["name_th"],
        "name_en": definition.get("name_en") or None,
        "category": definition.get("category") or "other",
        "responsible_division_id": division.id,
        "sla_days": definition["sla_days"],
        "sla_unit": definition.get("sla_unit") or "working",
    }
    for key, value in values.items():
        if getattr(service_type, key) != value:
            setattr(service_type, key, value)
            changed.append(key)
    db.session.flush()
    body = {key: _jsonable(definition.get(key) or EMPTY[key]) for key in VERSIONED}
    latest = current_version(service_type) if service_type.current_version else None
    if latest is None or any(getattr(latest, key) != body[key] for key in VERSIONED):
        service_type.current_version += 1
        db.session.add(ServiceTypeVersion(
            tenant_id=tenant_id, service_type_id=service_type.id, version=service_type.current_version, **body
        ))
        changed.append("version")
        # drafts made from the older version would undo this one if published later
        from app.catalog.drafts import discard

        discard(service_type)
    return service_type, changed


def save_fee_schedule(service_type: ServiceType, schedule: dict) -> list[str]:
    """Create or update the schedule that starts on `effective_from` (schedules are never deleted here)."""
    row = db.session.scalar(
        select(FeeSchedule).where(
            FeeSchedule.service_type_id == service_type.id,
            FeeSchedule.effective_from == schedule["effective_from"],
        )
    )
    created = row is None
    if created:
        row = FeeSchedule(tenant_id=service_type.tenant_id, service_type_id=service_type.id,
                          effective_from=schedule["effective_from"])
        db.session.add(row)
    changed = []
    values = {
        "effective_to": schedule.get("effective_to"),
        "legal_source_th": schedule["legal_source_th"],
        "legal_source_en": schedule.get("legal_source_en") or None,
        "rules": _jsonable(schedule["rules"]),
    }
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed.append(key)
    return ["created"] if created else changed


def _jsonable(value: Any) -> Any:
    """Decimals as strings and dates as ISO, as JSON columns store them."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


# --- fees ---------------------------------------------------------------------------------------------------

def schedules(service_type: ServiceType) -> list[FeeSchedule]:
    return list(db.session.scalars(
        select(FeeSchedule).where(FeeSchedule.service_type_id == service_type.id)
        .order_by(FeeSchedule.effective_from)
    ))


def quote(service_type: ServiceType, values: dict, on: Optional[date] = None, late: bool = False):
    """The fee for these values under the schedule in force on `on` (today in Bangkok by default: a new
    request; a filed one passes its filing day), None when the service has no fee schedule. A late
    surcharge applies when `late` is given, or when its `due_field` holds a day before `on`."""
    on = on or thai.today_bangkok()
    rows = [
        {"effective_from": s.effective_from, "effective_to": s.effective_to, "rules": s.rules, "row": s}
        for s in schedules(service_type)
    ]
    chosen = fee_calc.select_schedule(rows, on)
    if chosen is None:
        return None
    from app.catalog.fee_rules import load_rules

    return fee_calc.calculate(load_rules(chosen["rules"]), values, late=late, on=on), chosen["row"]


# --- requests ---------------------------------------------------------------------------------------------

def validate_values(version: ServiceTypeVersion, data: dict, staff: bool = True,
                    documents: list | None = None) -> dict:
    """The values as stored, or UserError with one message per field (the API's and seeds' path)."""
    import marshmallow

    try:
        return build_schema(version.fields, staff=staff, documents=documents)().load(data)
    except marshmallow.ValidationError as error:
        raise UserError(_("Please correct the highlighted fields."), status=422) from error


def request_title(version: ServiceTypeVersion, values: dict, service_type: ServiceType) -> str:
    """A list-friendly title: the service name and the first text field's value."""
    for spec in version.fields:
        if spec["kind"] in ("text", "choice") and values.get(spec["code"]):
            from app.catalog.values import display

            return f"{service_type.name_th}: {display(spec, values[spec['code']])}"[:300]
    return service_type.name_th


def store_uploads(tenant_id: int, specs: list[dict], values: dict, actor_id: Optional[int]) -> dict:
    """Uploaded files (from a form) become attachments; the values then hold their ids."""
    from app.catalog.attachments import store

    stored = dict(values)
    for spec in specs:
        items = values.get(spec["code"])
        if spec["kind"] == "file" and items and any(hasattr(i, "stream") for i in items):
            attachments = [store(tenant_id, spec["code"], upload, actor_id) for upload in items]
            db.session.flush()
            stored[spec["code"]] = [a.id for a in attachments]
    return stored


def check_attachments(specs: list[dict], values: dict) -> None:
    """Attachment ids (from the API) must be this tenant's, and not another request's."""
    from app.catalog.attachments import Attachment

    for spec in specs:
        ids = values.get(spec["code"]) if spec["kind"] == "file" else None
        if ids:
            found = set(db.session.scalars(select(Attachment.id).where(Attachment.id.in_(ids))))
            if found != set(ids):
                raise UserError(_("The related record was not found."), status=422)


def link_attachments(request: ServiceRequest, specs: list[dict]) -> None:
    from app.catalog.attachments import Attachment

    ids = [i for spec in specs if spec["kind"] == "file" for i in (request.data.get(spec["code"]) or [])]
    if ids:
        for attachment in db.session.scalars(select(Attachment).where(Attachment.id.in_(ids))):
            if attachment.request_id not in (None, request.id):
                raise UserError(_("The related record was not found."), status=422)
            attachment.request_id = request.id


def file_request(service_type: ServiceType, values: dict, actor_id: Optional[int]) -> ServiceRequest:
    """A new request with already-validated values, at the service's responsible division."""
    if not service_type.active:
        raise UserError(_("This service is not open for requests."), status=422)
    version = current_version(service_type)
    request = ServiceRequest(
        tenant_id=service_type.tenant_id, service_type_id=service_type.id, version_id=version.id,
        division_id=service_type.responsible_division_id, data=values, created_by_id=actor_id,
        title=request_title(version, values, service_type), status="submitted",
        due_on=legal_due_date(service_type, thai.today_bangkok()),
    )
    priced = quote(service_type, values)
    request.fee_total = priced[0].total if priced else None
    from app.service_requests.engine import _step_due

    request.version = version
    request.service_type = service_type
    request.step_due_on = _step_due(request, "submitted")
    db.session.add(request)
    db.session.flush()
    link_attachments(request, _all_specs(version))
    return request


def _all_specs(version: ServiceTypeVersion) -> list[dict]:
    from app.catalog.builder import document_fields

    return list(version.fields) + document_fields(version.documents)


def update_request(request: ServiceRequest, values: dict) -> ServiceRequest:
    """New values under the version the request was filed with (never silently re-versioned), priced by
    the schedule in force on the day it was filed, not today's."""
    request.data = values
    request.title = request_title(request.version, values, request.service_type)
    priced = quote(request.service_type, values, on=filed_on(request))
    request.fee_total = priced[0].total if priced else None
    link_attachments(request, _all_specs(request.version))
    return request

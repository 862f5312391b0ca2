"""Fields edited row by row in the screens (drafts), turned into a field list and published as a version."""
from __future__ import annotations

from sqlalchemy import select

from app.catalog import services
from app.catalog.models import ServiceFieldDraft, ServiceType
from app.extensions import db


def spec_of(draft: ServiceFieldDraft) -> dict:
    spec = {
        "code": draft.code, "kind": draft.kind, "label_th": draft.label_th, "label_en": draft.label_en or "",
        "help_th": draft.help_th or "", "required": draft.required,
        "visibility": "staff" if draft.staff_only else "public",
    }
    optional = {"unit_th": draft.unit_th, "min": draft.min_value, "max": draft.max_value,
                "max_error_th": draft.max_error_th}
    spec.update({k: v for k, v in optional.items() if v not in (None, "")})
    if draft.choices_text:
        choices = []
        for line in draft.choices_text.splitlines():
            parts = [p.strip() for p in line.split("|")]
            if parts and parts[0]:
                choices.append({"value": parts[0], "label_th": parts[1] if len(parts) > 1 and parts[1] else parts[0],
                                "label_en": parts[2] if len(parts) > 2 else ""})
        spec["choices"] = choices
    return spec


def draft_of(spec: dict, service_type: ServiceType, position: int) -> ServiceFieldDraft:
    choices = "\n".join(f"{c['value']} | {c.get('label_th', '')} | {c.get('label_en', '')}".rstrip(" |")
                        for c in spec.get("choices") or [])
    return ServiceFieldDraft(
        tenant_id=service_type.tenant_id, service_type_id=service_type.id, position=position,
        code=spec["code"], kind=spec["kind"], label_th=spec["label_th"], label_en=spec.get("label_en") or None,
        help_th=spec.get("help_th") or None, required=bool(spec.get("required")),
        staff_only=spec.get("visibility") == "staff", unit_th=spec.get("unit_th") or None,
        min_value=None if spec.get("min") is None else str(spec["min"]),
        max_value=None if spec.get("max") is None else str(spec["max"]),
        max_error_th=spec.get("max_error_th") or None, choices_text=choices or None,
    )


def drafts(service_type: ServiceType) -> list[ServiceFieldDraft]:
    return list(db.session.scalars(
        select(ServiceFieldDraft).where(ServiceFieldDraft.service_type_id == service_type.id)
        .order_by(ServiceFieldDraft.position, ServiceFieldDraft.id)
    ))


def start_editing(service_type: ServiceType) -> None:
    """The first time, the drafts are the current version's fields."""
    if drafts(service_type):
        return
    for i, spec in enumerate(services.current_version(service_type).fields, start=1):
        db.session.add(draft_of(spec, service_type, i * 10))
    db.session.flush()


def draft_definition(service_type: ServiceType) -> dict:
    """The service's definition with its fields taken from the drafts (for validation and publishing)."""
    version = services.current_version(service_type)
    return {
        "code": service_type.code, "name_th": service_type.name_th, "name_en": service_type.name_en or "",
        "category": service_type.category, "responsible_division": service_type.responsible_division.code,
        "sla_days": service_type.sla_days, "legal_basis": version.legal_basis,
        "fields": [spec_of(d) for d in drafts(service_type)], "documents": version.documents,
        "guide": version.guide,
    }

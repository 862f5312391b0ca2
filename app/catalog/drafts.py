"""Fields edited row by row in the screens (drafts), turned into a field list and published as a version."""
from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select

from app.catalog import services
from app.catalog.models import ServiceFieldDraft, ServiceType
from app.extensions import db


def _choices(text: str | None) -> list[dict]:
    choices = []
    for line in (text or "").splitlines():
        parts = [p.strip() for p in line.split("|")]
        if parts and parts[0]:
            choices.append({"value": parts[0], "label_th": parts[1] if len(parts) > 1 and parts[1] else parts[0],
                            "label_en": parts[2] if len(parts) > 2 else ""})
    return choices


def _date_limit(day: date | None, typed: str | None) -> str | None:
    # the Thai date box gives a date; a value typed in the number box is kept so FieldSpec can refuse it
    return day.isoformat() if day is not None else (typed or None)


def spec_of(draft: ServiceFieldDraft) -> dict:
    """The field spec a draft stands for: every FieldSpec setting, so publishing loses nothing."""
    is_date = draft.kind == "date"
    spec = {
        "code": draft.code, "kind": draft.kind, "label_th": draft.label_th, "label_en": draft.label_en or "",
        "help_th": draft.help_th or "", "help_en": draft.help_en or "", "required": bool(draft.required),
        "visibility": "staff" if draft.staff_only else "public",
    }
    optional = {
        "unit_th": draft.unit_th,
        "min": _date_limit(draft.min_date, draft.min_value) if is_date else draft.min_value,
        "max": _date_limit(draft.max_date, draft.max_value) if is_date else draft.max_value,
        "max_error_th": draft.max_error_th, "min_length": draft.min_length, "max_length": draft.max_length,
        "pattern": draft.pattern, "pattern_error_th": draft.pattern_error_th, "max_size_mb": draft.max_size_mb,
    }
    spec.update({k: v for k, v in optional.items() if v not in (None, "")})
    accept = [part.strip().lower().lstrip(".") for part in (draft.accept_text or "").split(",") if part.strip()]
    if accept:
        spec["accept"] = accept
    if draft.choices_text:
        spec["choices"] = _choices(draft.choices_text)
    return spec


def _as_date(value) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def draft_of(spec: dict, service_type: ServiceType, position: int) -> ServiceFieldDraft:
    choices = "\n".join(f"{c['value']} | {c.get('label_th', '')} | {c.get('label_en', '')}".rstrip(" |")
                        for c in spec.get("choices") or [])
    is_date = spec["kind"] == "date"
    low, high = spec.get("min"), spec.get("max")
    return ServiceFieldDraft(
        tenant_id=service_type.tenant_id, service_type_id=service_type.id, position=position,
        code=spec["code"], kind=spec["kind"], label_th=spec["label_th"], label_en=spec.get("label_en") or None,
        help_th=spec.get("help_th") or None, help_en=spec.get("help_en") or None,
        required=bool(spec.get("required")), staff_only=spec.get("visibility") == "staff",
        unit_th=spec.get("unit_th") or None,
        min_value=None if low is None or is_date else str(low),
        max_value=None if high is None or is_date else str(high),
        min_date=_as_date(low) if is_date else None, max_date=_as_date(high) if is_date else None,
        max_error_th=spec.get("max_error_th") or None,
        min_length=spec.get("min_length"), max_length=spec.get("max_length"),
        pattern=spec.get("pattern") or None, pattern_error_th=spec.get("pattern_error_th") or None,
        accept_text=", ".join(spec.get("accept") or []) or None, max_size_mb=spec.get("max_size_mb"),
        choices_text=choices or None,
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


def discard(service_type: ServiceType) -> None:
    """Drop the drafts: a newer version was published (here, in the YAML editor or by a seed), and drafts
    made from an older one must not undo it."""
    db.session.execute(delete(ServiceFieldDraft).where(ServiceFieldDraft.tenant_id == service_type.tenant_id,
                                                       ServiceFieldDraft.service_type_id == service_type.id))


def draft_definition(service_type: ServiceType) -> dict:
    """The service's definition with its fields taken from the drafts (for validation and publishing);
    everything else, the workflow included, as the current version has it."""
    version = services.current_version(service_type)
    return {
        "code": service_type.code, "name_th": service_type.name_th, "name_en": service_type.name_en or "",
        "category": service_type.category, "responsible_division": service_type.responsible_division.code,
        "sla_days": service_type.sla_days, "sla_unit": service_type.sla_unit or "working",
        "legal_basis": version.legal_basis, "fields": [spec_of(d) for d in drafts(service_type)],
        "documents": version.documents, "guide": version.guide, "workflow": version.workflow,
    }

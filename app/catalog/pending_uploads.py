"""Files chosen on a form that must be shown again (a mistake, or a fee to confirm first): stored once and
remembered in the session, so nobody has to choose them again. Used by the staff form and the portal."""
from __future__ import annotations

from flask import session

from app.catalog import services
from app.extensions import db


def pending(key: str, scope: dict) -> dict:
    """The files kept under `key` for this form (`scope`: tenant, service and, for staff, the request)."""
    saved = session.get(key) or {}
    if any(saved.get(name) != value for name, value in scope.items()):
        return {}
    return {code: ids for code, ids in (saved.get("files") or {}).items() if ids}


def keep(key: str, scope: dict, service_type, form, form_class, user_id) -> dict:
    """Store the files just sent with `form` (those without errors), point the form's fields at them, and
    remember them with the ones kept before; returns every kept file id by field code."""
    kept = pending(key, scope)
    fresh = {}
    for spec in form_class.specs:
        field = getattr(form, spec["code"])
        if spec["kind"] == "file" and not field.errors and field.data and hasattr(field.data[0], "stream"):
            fresh[spec["code"]] = field.data
    if fresh:
        stored = services.store_uploads(service_type.tenant_id, [s for s in form_class.specs if s["code"] in fresh],
                                        fresh, user_id)
        db.session.commit()
        for code in fresh:
            kept[code] = stored[code]
            getattr(form, code).data = getattr(form, code).object_data = stored[code]
    session[key] = {**scope, "files": kept}
    return kept


def forget(key: str) -> None:
    session.pop(key, None)

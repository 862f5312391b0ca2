"""Tenant admins define services in the UI: a new service (from a template or their own), its definition
(fields, documents, guide, laws) with a preview of the generated form, and fee schedules. Definitions use
the same YAML as the seed files, checked by the same schemas; every saved change is a new version."""
from __future__ import annotations

from datetime import date

import yaml
from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from marshmallow import ValidationError
from sqlalchemy import select
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, NumberRange, Optional

from app.catalog import services
from app.catalog.builder import build_form
from app.catalog.fee_rules import check_caps, load_caps, template_fee_codes
from app.catalog.fee_text import describe
from app.catalog.models import ServiceTemplate, ServiceType
from app.catalog.spec import FeeScheduleSpec, ServiceSpec, _fee_fields_exist
from app.extensions import db
from app.seeds.loader import flatten_errors
from app.tenancy.context import require_tenant_id
from app.tenancy.models import Division
from app.thai_forms import DateRequired, ThaiDateField

# what the YAML editor shows and takes; the workflow too, so saving a definition never drops it
DEFINITION_KEYS = ("legal_basis", "fields", "documents", "guide", "workflow")


def _yaml(data) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def _load_yaml(text: str, what: str) -> tuple[object, list[str]]:
    try:
        return yaml.safe_load(text or "") or {}, []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = _("line %(line)d, column %(column)d", line=mark.line + 1, column=mark.column + 1) if mark else ""
        return None, [f"{what}: {where}: {_('Not valid YAML: %(problem)s', problem=getattr(exc, 'problem', exc))}"]


def _division_code(division_id) -> str:
    division = db.session.get(Division, int(division_id)) if str(division_id or "").isdigit() else None
    return division.code if division is not None else ""


def _divisions():
    return [(str(d.id), str(d)) for d in db.session.scalars(
        select(Division).where(Division.active.is_(True)).order_by(Division.code))]


def _preview(fields: list[dict]):
    """The generated form, unbound, to show an admin what clerks and citizens will fill in."""
    return build_form(fields, staff=True)(meta={"csrf": False}, formdata=None)


def _fees_still_fit(service_type: ServiceType, fields: list[dict]) -> list[str]:
    """A new field list must keep every field the service's fee rules read."""
    errors = []
    for schedule in services.schedules(service_type):
        try:
            _fee_fields_exist(schedule.rules, fields, "fees")
        except ValidationError as error:
            errors += [f"{where}: {message}" for where, message in flatten_errors(error.messages)]
    return errors


def _workflow_fits(definition: dict) -> list[str]:
    """The organisation must have every กอง the workflow sends matters to."""
    from app.service_requests.workflow_spec import missing_divisions

    existing = set(db.session.scalars(select(Division.code).where(Division.active.is_(True))))
    lacking = missing_divisions(definition.get("workflow"), existing)
    if not lacking:
        return []
    return [_("workflow: the organisation has no division %(codes)s.", codes=", ".join(lacking))]


def _publish(service_type: ServiceType, definition: dict):
    definition["template_code"] = service_type.template_code
    _service_type, changed = services.save_definition(require_tenant_id(), definition,
                                                      service_type.responsible_division)
    db.session.commit()
    if "version" in changed:
        flash(_("Saved as version %(n)d. Requests filed earlier keep their version.",
                n=service_type.current_version), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for("ServiceTypeView.show", pk=service_type.id))


SLA_UNIT_CHOICES = [("working", _l("working days")), ("calendar", _l("calendar days"))]


class NewServiceForm(FlaskForm):
    template = SelectField(_l("Template"), validators=[Optional()])
    code = StringField(_l("Code"), validators=[DataRequired()])
    name_th = StringField(_l("Name (Thai)"), validators=[DataRequired()])
    name_en = StringField(_l("Name (English)"), validators=[Optional()])
    responsible_division = SelectField(_l("Responsible division"), validators=[DataRequired()])
    sla_days = IntegerField(_l("Days allowed"), validators=[DataRequired(), NumberRange(1, 365)])
    sla_unit = SelectField(_l("Counted in"), choices=SLA_UNIT_CHOICES, default="working")
    definition = TextAreaField(_l("Definition (YAML: legal_basis, fields, documents, guide, workflow)"))


class DefinitionForm(FlaskForm):
    definition = TextAreaField(_l("Definition (YAML: legal_basis, fields, documents, guide, workflow)"))


class FeeScheduleForm(FlaskForm):
    effective_from = ThaiDateField(_l("In force from"), validators=[DateRequired()])
    effective_to = ThaiDateField(_l("In force until"), validators=[Optional()])
    legal_source_th = StringField(_l("Legal source"), validators=[DataRequired()])
    rules = TextAreaField(_l("Fee rules (YAML)"), validators=[DataRequired()])


class ServiceAdminView(BaseView):
    route_base = "/service-admin"
    default_view = "new"

    # --- a new service ------------------------------------------------------------------------------
    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        templates = list(db.session.scalars(select(ServiceTemplate).order_by(ServiceTemplate.name_th)))
        form = NewServiceForm()
        form.template.choices = [("", _("— my organisation's own service —"))] + [(t.code, str(t)) for t in templates]
        form.responsible_division.choices = _divisions()
        chosen = next((t for t in templates if t.code == (request.args.get("template") or form.template.data)), None)
        if request.method == "GET":
            self._prefill(form, chosen)
        errors, preview = [], None
        if request.method == "POST" and form.validate():
            definition, errors = self._definition(form.definition.data, {
                "code": form.code.data.strip(), "name_th": form.name_th.data.strip(),
                "name_en": (form.name_en.data or "").strip(), "sla_days": form.sla_days.data,
                "sla_unit": form.sla_unit.data or "working",
                "responsible_division": _division_code(form.responsible_division.data),
                "category": chosen.spec.get("category", "other") if chosen else "other",
            })
            if not errors and db.session.scalar(select(ServiceType.id).where(ServiceType.code == definition["code"])):
                errors = [_("A service with the code %(code)s already exists.", code=definition["code"])]
            if not errors:
                preview = _preview(definition["fields"])
                if request.form.get("intent") == "save":
                    return self._create(definition, chosen, int(form.responsible_division.data))
        return self.render_template("catalog/admin_service.html", form=form, errors=errors, preview=preview,
                                    title=_("New service"), appbuilder=self.appbuilder)

    def _prefill(self, form, template):
        if template is None:
            form.definition.data = _yaml({
                "fields": [{"code": "applicant", "kind": "text", "label_th": "ชื่อผู้ยื่นคำขอ", "required": True}],
                "documents": [], "guide": {"steps": [], "channels_th": ["ยื่นที่สำนักงาน"]}, "legal_basis": [],
            })
            return
        spec = template.spec
        form.template.data = template.code
        form.code.data = form.code.data or template.code
        form.name_th.data = form.name_th.data or spec["name_th"]
        form.name_en.data = form.name_en.data or spec.get("name_en", "")
        form.sla_days.data = form.sla_days.data or spec["sla_days"]
        form.sla_unit.data = spec.get("sla_unit") or "working"
        form.definition.data = _yaml({k: spec.get(k) for k in DEFINITION_KEYS if spec.get(k) is not None})
        wanted = db.session.scalar(select(Division.id).where(Division.code == spec["responsible_division"]))
        if wanted:
            form.responsible_division.data = str(wanted)

    def _definition(self, text: str, head: dict) -> tuple[dict | None, list[str]]:
        body, errors = _load_yaml(text, _("Definition"))
        if errors:
            return None, errors
        if not isinstance(body, dict):
            return None, [_("Must be a mapping (key: value).")]
        unknown = set(body) - set(DEFINITION_KEYS)
        if unknown:
            return None, [f"{key}: {_('Unknown field: a typo, or not used here.')}" for key in sorted(unknown)]
        try:
            definition = ServiceSpec().load({**head, **body})
        except ValidationError as error:
            return None, [f"{where}: {message}" for where, message in flatten_errors(error.messages)]
        return definition, _workflow_fits(definition)

    def _create(self, definition, template, division_id):
        division = db.session.get(Division, division_id)
        if division is None:
            abort(404)
        if template is not None:
            definition["template_code"] = template.code
        service_type, _changed = services.save_definition(require_tenant_id(), definition, division)
        if template is not None and template.spec.get("fees"):
            schedule = dict(template.spec["fees"])
            schedule["effective_from"] = date.fromisoformat(schedule["effective_from"])
            if schedule.get("effective_to"):
                schedule["effective_to"] = date.fromisoformat(schedule["effective_to"])
            services.save_fee_schedule(service_type, schedule)
        db.session.commit()
        flash(_("The service %(name)s is open for requests.", name=service_type), "success")
        return redirect(url_for("ServiceTypeView.show", pk=service_type.id))

    # --- the definition of an existing service --------------------------------------------------------
    @expose("/definition/<int:pk>", methods=["GET", "POST"])
    @has_access
    def definition(self, pk: int):
        service_type = services.service_type_or_404(pk)
        version = services.current_version(service_type)
        form = DefinitionForm()
        if request.method == "GET":
            form.definition.data = _yaml({k: getattr(version, k) for k in DEFINITION_KEYS})
        errors, preview = [], None
        if request.method == "POST" and form.validate():
            definition, errors = self._definition(form.definition.data, {
                "code": service_type.code, "name_th": service_type.name_th, "name_en": service_type.name_en or "",
                "sla_days": service_type.sla_days, "sla_unit": service_type.sla_unit or "working",
                "responsible_division": service_type.responsible_division.code,
                "category": service_type.category,
            })
            if not errors:
                errors = _fees_still_fit(service_type, definition["fields"])
            if not errors:
                preview = _preview(definition["fields"])
                if request.form.get("intent") == "save":
                    return _publish(service_type, definition)
        return self.render_template("catalog/admin_service.html", form=form, errors=errors, preview=preview,
                                    title=str(service_type), appbuilder=self.appbuilder)

    # --- fields edited row by row ----------------------------------------------------------------------
    @expose("/fields/<int:pk>", methods=["GET", "POST"])
    @has_access
    def fields(self, pk: int):
        """Start editing (drafts from the current version), check, preview and publish as a new version."""
        from app.catalog import drafts

        service_type = services.service_type_or_404(pk)
        drafts.start_editing(service_type)
        db.session.commit()
        errors, preview = [], None
        try:
            definition = ServiceSpec().load(drafts.draft_definition(service_type))
        except ValidationError as error:
            definition, errors = None, [f"{w}: {m}" for w, m in flatten_errors(error.messages)]
        if definition is not None:
            errors = _fees_still_fit(service_type, definition["fields"])
        if not errors:
            preview = _preview(definition["fields"])
            if request.method == "POST" and request.form.get("intent") == "publish":
                return _publish(service_type, definition)
        return self.render_template("catalog/admin_fields.html", service_type=service_type, errors=errors,
                                    preview=preview, title=str(service_type), appbuilder=self.appbuilder)

    # --- fee schedules ---------------------------------------------------------------------------------
    @expose("/fees/<int:pk>", methods=["GET", "POST"])
    @has_access
    def fees(self, pk: int):
        service_type = services.service_type_or_404(pk)
        version = services.current_version(service_type)
        form = FeeScheduleForm()
        if request.method == "GET":
            current = services.schedules(service_type)
            form.rules.data = _yaml(current[-1].rules) if current else _yaml(
                [{"kind": "flat", "code": "fee", "label_th": "ค่าธรรมเนียม", "amount": "0.00"}])
        errors, described = [], None
        if request.method == "POST" and form.validate():
            rules, errors = _load_yaml(form.rules.data, _("Fee rules"))
            schedule = None
            if not errors:
                try:
                    schedule = FeeScheduleSpec().load({
                        "effective_from": form.effective_from.data, "effective_to": form.effective_to.data,
                        "legal_source_th": form.legal_source_th.data, "rules": rules,
                    })
                    _fee_fields_exist(schedule["rules"], version.fields, "fees")
                except ValidationError as error:
                    errors = [f"{w}: {m}" for w, m in flatten_errors(error.messages)]
            if not errors:
                template = services.template_by_code(service_type.template_code) if service_type.template_code else None
                caps = load_caps((template.spec.get("caps") if template else None) or [])
                codes = template_fee_codes(template.spec if template else None)
                errors = [f"{w}: {m}" for w, m in check_caps(schedule["rules"], caps, codes)]
            if not errors:
                described = [describe(rule, version.fields) for rule in services._jsonable(schedule["rules"])]
                if request.form.get("intent") == "save":
                    services.save_fee_schedule(service_type, schedule)
                    db.session.commit()
                    flash(_("Fee schedule saved."), "success")
                    return redirect(url_for("ServiceTypeView.show", pk=service_type.id))
        return self.render_template("catalog/admin_fees.html", form=form, errors=errors, described=described,
                                    service_type=service_type, title=str(service_type), appbuilder=self.appbuilder)

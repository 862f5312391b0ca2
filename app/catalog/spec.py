"""Schemas of a service's definition (fields, documents, guide, fees) as written in seed files and edited
by admins. Everything a tenant can configure is validated here before it is stored."""
from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, validate, validates_schema

from app.catalog.values import KINDS
from app.schema_base import Strict, fields
from app.service_requests.workflow_spec import WorkflowSpec

CODE = validate.Regexp(
    r"^[a-z][a-z0-9_]{0,47}$",
    error=_l("Must start with a lower-case English letter, then letters, digits or _ (at most 48)."),
)
DIVISION_CODE = validate.Regexp(r"^[a-z][a-z0-9_-]{0,31}$", error=_l("Must be a division code such as engineering."))
CATEGORIES = ("complaint", "permit", "certificate", "registration", "welfare", "other")
SLA_UNITS = ("working", "calendar")
# a date limit is C.E. (ISO); a year outside this range is a typo or a พ.ศ. year typed as C.E.
DATE_LIMIT_YEARS = (1900, 2200)
FILE_TYPES = ("pdf", "jpg", "jpeg", "png", "doc", "docx", "xls", "xlsx", "dwg")


def _one_of(choices):
    return validate.OneOf(choices, error=_l("Must be one of: {choices}."))


class ChoiceSpec(Strict):
    value = fields.String(required=True, validate=validate.Length(min=1, max=64))
    label_th = fields.String(required=True)
    label_en = fields.String(load_default="")


class FieldSpec(Strict):
    code = fields.String(required=True, validate=CODE)
    kind = fields.String(required=True, validate=_one_of(KINDS))
    label_th = fields.String(required=True, validate=validate.Length(min=1, max=200))
    label_en = fields.String(load_default="")
    help_th = fields.String(load_default="")
    help_en = fields.String(load_default="")
    required = fields.Boolean(load_default=False)
    visibility = fields.String(load_default="public", validate=_one_of(("public", "staff")))
    unit_th = fields.String(load_default="")
    min = fields.String(load_default=None)
    max = fields.String(load_default=None)
    max_error_th = fields.String(load_default="")
    min_length = fields.Integer(load_default=None, validate=validate.Range(min=0))
    max_length = fields.Integer(load_default=None, validate=validate.Range(min=1, max=5000))
    pattern = fields.String(load_default="")
    pattern_error_th = fields.String(load_default="")
    choices = fields.List(fields.Nested(ChoiceSpec), load_default=list)
    accept = fields.List(fields.String(validate=_one_of(FILE_TYPES)), load_default=list)
    max_size_mb = fields.Integer(load_default=10, validate=validate.Range(min=1, max=50))

    @validates_schema
    def _consistent(self, data, **kwargs):
        kind = data["kind"]
        if kind in ("choice", "multi_choice"):
            if not data["choices"]:
                raise ValidationError(_l("A choice field needs choices."), "choices")
            values = [c["value"] for c in data["choices"]]
            if len(values) != len(set(values)):
                raise ValidationError(_l("Choice values must be unique."), "choices")
        elif data["choices"]:
            raise ValidationError(_l("Only choice fields have choices."), "choices")
        for bound in ("min", "max"):
            if data[bound] is None:
                continue
            if kind in ("integer", "decimal"):
                if not re.fullmatch(r"-?\d+(\.\d+)?", str(data[bound])):
                    raise ValidationError(_l("Must be a number."), bound)
            elif kind == "date":
                _check_date_limit(str(data[bound]), bound)
            else:
                raise ValidationError(_l("Only number and date fields have a minimum or maximum."), bound)
        if kind == "date" and data["min"] and data["max"] and data["min"] > data["max"]:
            raise ValidationError(_l("The maximum must not be before the minimum."), "max")
        if data["min_length"] is not None and data["max_length"] is not None \
                and data["min_length"] > data["max_length"]:
            raise ValidationError(_l("The maximum length must not be below the minimum length."), "max_length")
        if data["accept"] and kind != "file":
            raise ValidationError(_l("Only file fields have accepted file types."), "accept")
        if data["pattern"]:
            if kind != "text":
                raise ValidationError(_l("Only text fields have a pattern."), "pattern")
            try:
                re.compile(data["pattern"])
            except re.error:
                raise ValidationError(_l("Not a valid pattern."), "pattern") from None


def _check_date_limit(text: str, where: str) -> None:
    """A real calendar day in C.E.: 2025-02-30 and 2568-10-01 (a พ.ศ. year) are refused here, not later."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValidationError(_l("Must be an ISO date such as 2025-10-01."), where)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValidationError(_l("%(value)s is not a real date.", value=text), where) from None
    low, high = DATE_LIMIT_YEARS
    if not low <= day.year <= high:
        raise ValidationError(_l("The year %(year)d is outside %(low)d-%(high)d C.E.; a Buddhist-era year "
                                 "(พ.ศ.) is 543 more than the C.E. year.", year=day.year, low=low, high=high),
                              where)


def _unique_codes(items, what="fields"):
    codes = [item["code"] for item in items]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise ValidationError(_l("Duplicate codes: %(codes)s.", codes=", ".join(duplicates)), what)


class DocumentSpec(Strict):
    code = fields.String(required=True, validate=CODE)
    name_th = fields.String(required=True, validate=validate.Length(min=1, max=300))
    name_en = fields.String(load_default="")
    required = fields.Boolean(load_default=True)
    accept = fields.List(fields.String(validate=_one_of(FILE_TYPES)), load_default=lambda: ["pdf", "jpg", "png"])
    max_size_mb = fields.Integer(load_default=10, validate=validate.Range(min=1, max=50))


class StepSpec(Strict):
    name_th = fields.String(required=True)
    name_en = fields.String(load_default="")
    days = fields.Integer(required=True, validate=validate.Range(min=0, max=365))
    division = fields.String(load_default=None, validate=DIVISION_CODE)


class GuideSpec(Strict):
    """คู่มือสำหรับประชาชน (Licensing Facilitation Act B.E. 2558, section 7)."""

    conditions_th = fields.String(load_default="")
    conditions_en = fields.String(load_default="")
    steps = fields.List(fields.Nested(StepSpec), load_default=list)
    total_days = fields.Integer(load_default=None, validate=validate.Range(min=0, max=365))
    channels_th = fields.List(fields.String(), load_default=list)
    channels_en = fields.List(fields.String(), load_default=list)
    complaint_channel_th = fields.String(load_default="")
    complaint_channel_en = fields.String(load_default="")
    no_fee = fields.Boolean(load_default=False)


class LawSpec(Strict):
    title_th = fields.String(required=True)
    title_en = fields.String(load_default="")


class FeeScheduleSpec(Strict):
    effective_from = fields.Date(required=True)
    effective_to = fields.Date(load_default=None)
    legal_source_th = fields.String(required=True, validate=validate.Length(min=1))
    legal_source_en = fields.String(load_default="")
    rules = fields.Raw(required=True)

    @validates_schema
    def _rules(self, data, **kwargs):
        from app.catalog.fee_rules import load_rules

        try:
            data["rules"] = load_rules(data["rules"])
        except ValidationError as error:
            raise ValidationError({"rules": error.messages}) from None
        if data.get("effective_to") and data["effective_to"] < data["effective_from"]:
            raise ValidationError(_l("Must not be before effective_from."), "effective_to")


class ServiceSpec(Strict):
    """A whole service: a template file, or a tenant's own service."""

    code = fields.String(required=True, validate=CODE)
    name_th = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(load_default="")
    category = fields.String(load_default="other", validate=_one_of(CATEGORIES))
    responsible_division = fields.String(required=True, validate=DIVISION_CODE)
    sla_days = fields.Integer(required=True, validate=validate.Range(min=1, max=365))
    sla_unit = fields.String(load_default="working", validate=_one_of(SLA_UNITS))
    legal_basis = fields.List(fields.Nested(LawSpec), load_default=list)
    fields_ = fields.List(fields.Nested(FieldSpec), data_key="fields", attribute="fields", required=True,
                          validate=validate.Length(min=1, error=_l("Give at least one field.")))
    documents = fields.List(fields.Nested(DocumentSpec), load_default=list)
    guide = fields.Nested(GuideSpec, load_default=dict)
    fees = fields.Nested(FeeScheduleSpec, load_default=None)
    caps = fields.Raw(load_default=list)
    workflow = fields.Nested(WorkflowSpec, load_default=None)

    @validates_schema
    def _whole(self, data, **kwargs):
        _unique_codes(data["fields"])
        _unique_codes(data["documents"], "documents")
        from app.catalog.fee_rules import check_caps, load_caps

        try:
            data["caps"] = load_caps(data["caps"] or [])
        except ValidationError as error:
            raise ValidationError({"caps": error.messages}) from None
        if data.get("fees"):
            _fee_fields_exist(data["fees"]["rules"], data["fields"], "fees")
            problems = check_caps(data["fees"]["rules"], data["caps"])
            if problems:
                raise ValidationError({"fees": {f"rules{path}" if path.startswith("[") else path: [msg]
                                                for path, msg in problems}})


def _fee_fields_exist(rules, field_specs, where):
    numeric = {f["code"] for f in field_specs if f["kind"] in ("integer", "decimal")}
    known = {f["code"] for f in field_specs}
    for i, rule in enumerate(rules):
        if rule.get("field") and rule["field"] not in numeric:
            raise ValidationError({where: {"rules": {i: {"field": [str(_l(
                "No number field with code %(code)s in this service.", code=rule["field"]))]}}}})
        if rule.get("due_field") and rule["due_field"] not in {f["code"] for f in field_specs if f["kind"] == "date"}:
            raise ValidationError({where: {"rules": {i: {"due_field": [str(_l(
                "No date field with code %(code)s in this service.", code=rule["due_field"]))]}}}})
        when = rule.get("when") or {}
        if when.get("field") and when["field"] not in known:
            raise ValidationError({where: {"rules": {i: {"when": [str(_l(
                "No field with code %(code)s in this service.", code=when["field"]))]}}}})


class TemplateFile(ServiceSpec):
    kind = fields.String(required=True, validate=validate.Equal("service_template", error=_l("Must be {other}.")))


class TenantServiceSpec(Strict):
    """One entry of a tenant file's `services:`: a template with overrides, or a whole service."""

    template = fields.String(load_default=None, validate=CODE)
    code = fields.String(load_default=None, validate=CODE)
    name_th = fields.String(load_default=None)
    name_en = fields.String(load_default=None)
    category = fields.String(load_default=None, validate=_one_of(CATEGORIES))
    responsible_division = fields.String(load_default=None, validate=DIVISION_CODE)
    sla_days = fields.Integer(load_default=None, validate=validate.Range(min=1, max=365))
    sla_unit = fields.String(load_default=None, validate=_one_of(SLA_UNITS))
    legal_basis = fields.Raw(load_default=None)
    fields_ = fields.Raw(data_key="fields", attribute="fields", load_default=None)
    extra_fields = fields.List(fields.Nested(FieldSpec), load_default=list)
    documents = fields.Raw(load_default=None)
    guide = fields.Raw(load_default=None)
    workflow = fields.Raw(load_default=None)
    fees = fields.List(fields.Nested(FeeScheduleSpec), load_default=list)
    active = fields.Boolean(load_default=True)

    @validates_schema
    def _template_or_whole(self, data, **kwargs):
        if data["template"] is None:
            whole = {k: v for k, v in data.items() if k not in ("template", "extra_fields", "fees", "active")
                     and v is not None}
            whole.setdefault("fields", [])
            errors = ServiceSpec().validate({("fields" if k == "fields" else k): v for k, v in whole.items()})
            if errors:
                raise ValidationError(errors)
        elif data["fields"] is not None:
            raise ValidationError(_l("A service from a template adds fields with extra_fields."), "fields")

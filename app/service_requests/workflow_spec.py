"""The workflow a service's requests follow: states, who holds the matter in each, and the transitions
(which role in which กอง may take them, and the working days each step may take)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, validate, validates_schema

from app.schema_base import Strict, fields

CODE = validate.Regexp(r"^[a-z][a-z0-9_]{0,31}$", error=_l("Must be lower-case English letters, digits or _."))
# who holds the matter: the service's responsible กอง, or a กอง code
HOLDER = validate.Regexp(r"^(@responsible|[a-z][a-z0-9_-]{0,31})$",
                         error=_l("Must be @responsible or a division code."))


FORWARD = "forward"
REQUEST_PAYMENT = "request_payment"
# the step that takes the fee writes a payment (amount, receipt number) in app/billing
RECORD_PAYMENT = "record_payment"
ISSUE_CERTIFICATE = "issue_certificate"
# the registration of a waste-collection service opens its fee account (app/billing/accounts.py), once
OPEN_WASTE_ACCOUNT = "open_waste_account"
EFFECTS = (FORWARD, REQUEST_PAYMENT, RECORD_PAYMENT, ISSUE_CERTIFICATE, OPEN_WASTE_ACCOUNT)


class CertificateSpec(Strict):
    """What a transition with effect issue_certificate issues: a numbered series, its name, whose it is."""
    series = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9ก-๙.]{1,12}$"))
    title_th = fields.String(required=True, validate=validate.Length(min=1, max=200))
    title_en = fields.String(load_default="")
    holder_field = fields.String(required=True, validate=CODE)
    valid_years = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=50))


class StateSpec(Strict):
    code = fields.String(required=True, validate=CODE)
    name_th = fields.String(required=True)
    name_en = fields.String(load_default="")
    holder = fields.String(load_default="@responsible", validate=HOLDER)
    final = fields.Boolean(load_default=False)
    # a citizen may reopen a matter closed in this state (a complaint not really fixed), within the days
    # the organisation allows
    reopenable = fields.Boolean(load_default=False)


class TransitionSpec(Strict):
    action = fields.String(required=True, validate=CODE)
    name_th = fields.String(required=True)
    name_en = fields.String(load_default="")
    from_ = fields.List(fields.String(validate=CODE), data_key="from", attribute="from", required=True,
                        validate=validate.Length(min=1))
    to = fields.String(required=True, validate=CODE)
    roles = fields.List(fields.String(validate=CODE), required=True, validate=validate.Length(min=1))
    # where the actor must hold the role (executive roles that see the whole tenant may act anywhere)
    division = fields.String(load_default="@responsible", validate=HOLDER)
    days = fields.Integer(load_default=None, validate=validate.Range(min=0, max=365))
    note_required = fields.Boolean(load_default=False)
    # what taking it does besides moving the matter: forward it to another organisation or body, or
    # price it and ask the applicant to pay
    effect = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(EFFECTS))
    certificate = fields.Nested(CertificateSpec, load_default=None, allow_none=True)


class WorkflowSpec(Strict):
    states = fields.List(fields.Nested(StateSpec), required=True, validate=validate.Length(min=2))
    transitions = fields.List(fields.Nested(TransitionSpec), required=True, validate=validate.Length(min=1))
    reopen_to = fields.String(load_default="submitted", validate=CODE)

    @validates_schema
    def _consistent(self, data, **kwargs):
        codes = [s["code"] for s in data["states"]]
        if len(codes) != len(set(codes)):
            raise ValidationError(_l("State codes must be unique."), "states")
        if codes[0] != "submitted":
            raise ValidationError(_l("The first state must be submitted."), "states")
        if data.get("reopen_to", "submitted") not in codes:
            raise ValidationError(_l("Unknown state: %(codes)s.", codes=data["reopen_to"]), "reopen_to")
        errors = {}
        for i, t in enumerate(data["transitions"]):
            unknown = [s for s in t["from"] + [t["to"]] if s not in codes]
            if unknown:
                errors[i] = {"to": [str(_l("Unknown state: %(codes)s.", codes=", ".join(unknown)))]}
            finals = {s["code"] for s in data["states"] if s["final"]}
            if set(t["from"]) & finals:
                errors[i] = {"from": [str(_l("A final state has no way out."))]}
            if (t.get("effect") == ISSUE_CERTIFICATE) != bool(t.get("certificate")):
                errors[i] = {"certificate": [str(_l("A transition issues a certificate exactly when its effect is "
                                                    "issue_certificate, and then says which."))]}
        if errors:
            raise ValidationError({"transitions": errors})


def division_codes(workflow: dict | None) -> set[str]:
    """The กอง codes a workflow names (holders and where actors must hold their roles)."""
    if not workflow:
        workflow = DEFAULT_WORKFLOW
    named = {s.get("holder", "@responsible") for s in workflow["states"]}
    named |= {t.get("division", "@responsible") for t in workflow["transitions"]}
    return {code for code in named if code != "@responsible"}


def missing_divisions(workflow: dict | None, existing: set[str]) -> list[str]:
    """Division codes the workflow needs that the organisation does not have (a matter would get stuck)."""
    return sorted(division_codes(workflow) - set(existing))


def _t(action, name_th, name_en, frm, to, roles, division="@responsible", days=None, note=False):
    return {"action": action, "name_th": name_th, "name_en": name_en, "from": frm, "to": to, "roles": roles,
            "division": division, "days": days, "note_required": note}


STAFF = ["officer", "division_director"]
EXECUTIVES = ["mayor", "permanent_secretary"]

# The standard flow when a service defines none: check, return once for documents, propose, an executive
# approves or rejects, then the matter is completed. Holders: the responsible กอง, the executives' office.
DEFAULT_WORKFLOW = {
    "states": [
        {"code": "submitted", "name_th": "ยื่นคำขอแล้ว", "name_en": "Submitted", "holder": "@responsible", "final": False},
        {"code": "in_review", "name_th": "กำลังตรวจสอบ", "name_en": "Under review", "holder": "@responsible", "final": False},
        {"code": "returned", "name_th": "ส่งคืนเพื่อแก้ไขเอกสาร", "name_en": "Returned for documents", "holder": "@responsible", "final": False},
        {"code": "awaiting_approval", "name_th": "รอผู้บริหารอนุมัติ", "name_en": "Awaiting approval", "holder": "office", "final": False},
        {"code": "approved", "name_th": "อนุมัติแล้ว", "name_en": "Approved", "holder": "@responsible", "final": False},
        {"code": "rejected", "name_th": "ไม่อนุมัติ", "name_en": "Rejected", "holder": "@responsible", "final": True},
        {"code": "completed", "name_th": "เสร็จสิ้น", "name_en": "Completed", "holder": "@responsible", "final": True},
    ],
    "transitions": [
        _t("accept", "รับเรื่อง", "Accept", ["submitted"], "in_review", STAFF, days=1),
        _t("return_for_documents", "ส่งคืนเพื่อแก้ไขเอกสาร", "Return for documents", ["in_review"], "returned",
           STAFF, note=True),
        _t("resubmit", "รับเอกสารเพิ่มเติมแล้ว", "Documents received", ["returned"], "in_review", STAFF),
        _t("propose", "เสนอผู้บริหาร", "Send for approval", ["in_review"], "awaiting_approval",
           ["division_director"]),
        _t("approve", "อนุมัติ", "Approve", ["awaiting_approval"], "approved", EXECUTIVES, division="office"),
        _t("reject", "ไม่อนุมัติ", "Reject", ["awaiting_approval"], "rejected", EXECUTIVES, division="office",
           note=True),
        _t("complete", "ดำเนินการเสร็จสิ้น", "Complete", ["approved", "in_review"], "completed", STAFF),
    ],
}

"""Service requests (matters) through the open API: list and read the matters the acting user may see, file
new ones with exactly the staff form's checks and fee, upload their files, read the timeline and the steps
the user may take now, and take a step. Every rule is the staff screens' own: the reach of app.service_requests
.scope, the catalogue's validation and pricing, the workflow engine's permissions; nothing is decided here."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from flask import g
from flask_babel import lazy_gettext as _l
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, validates_schema
from marshmallow import fields as mf
from sqlalchemy import select
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict, FileStorage

from app import thai
from app.api import validate
from app.api.auth import require_permission
from app.api.errors import ApiError, field
from app.api.models import MANAGE, READ, SUBMIT
from app.api.openapi import PREFIX, ApiBlueprint, _Parser, guard_blueprint, operation
from app.api.paging import MAX_ID, PageArgs, page
from app.api.schemas import MONEY_PATTERN, UtcDateTime, money, page_of
from app.catalog.models import ServiceRequest, ServiceType
from app.extensions import db
from app.schema_base import Strict, fields
from app.tenancy.errors import UserError
from app.tenancy.models import Division

VIEW = "ServiceRequestView"  # the staff screen whose permissions the acting user must hold
CODE = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$"
CHANNEL = "api"  # how the matter came in: staff (a screen), portal (a citizen), api (an integration)


class _MultipartParser(_Parser):
    """Form values and files of one multipart body, read (and documented) as one set of arguments."""

    __location_map__ = {**_Parser.__location_map__, "multipart": "load_multipart"}
    DEFAULT_UNKNOWN_BY_LOCATION = {**_Parser.DEFAULT_UNKNOWN_BY_LOCATION, "multipart": None}

    def load_multipart(self, req, schema):
        return MultiDictProxy(CombinedMultiDict([req.form, req.files]), schema)


class _Blueprint(ApiBlueprint):
    ARGUMENTS_PARSER = _MultipartParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**ApiBlueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "multipart": "multipart/form-data"}


blp = _Blueprint("open_requests", __name__, url_prefix=f"{PREFIX}/requests",
                 description="Service requests (matters): list, read, file, upload files, timeline, workflow steps.")
guard_blueprint(blp)


# --- response shapes ----------------------------------------------------------------------------------------

class ServiceRequestSchema(Schema):
    id = mf.Integer(required=True)
    service_type = mf.String(required=True, metadata={"description": "code of the service"})
    form_version = mf.Integer(required=True, metadata={
        "description": "the service's field version the matter was filed under (not lock_version)"})
    status = mf.String(required=True, metadata={"description": "code of the workflow state"})
    status_name_th = mf.String(required=True)
    status_name_en = mf.String(required=True)
    division = mf.String(required=True, metadata={"description": "code of the กอง that holds the matter now"})
    division_name_th = mf.String(required=True)
    division_name_en = mf.String(required=True)
    title = mf.String(required=True)
    data = mf.Dict(required=True, metadata={
        "description": "the values as stored: decimals as strings, dates ISO, files as lists of attachment ids"})
    fee_total = money(required=True, allow_none=True, metadata={"description": "the fee, null when none"})
    due_on = mf.Date(required=True, allow_none=True, metadata={"description": "the legal deadline"})
    step_due_on = mf.Date(required=True, allow_none=True, metadata={"description": "the current step's deadline"})
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    closed_at = UtcDateTime(required=True, allow_none=True)
    channel = mf.String(required=True, metadata={"description": "staff, portal or api"})
    lock_version = mf.Integer(required=True, metadata={
        "description": "the matter's edit counter: send the lock_version you last read as seen_version with a "
                       "step (409 if someone acted in between)"})


class ServiceRequestEventSchema(Schema):
    id = mf.Integer(required=True, allow_none=True, metadata={
        "description": "null for the filing (action filed), which is the matter itself, not a stored step"})
    at = UtcDateTime(required=True)
    action = mf.String(required=True, metadata={
        "description": "code of the workflow action; filed for the filing, the first entry"})
    from_state = mf.String(required=True, allow_none=True)
    from_state_name_th = mf.String(required=True, allow_none=True)
    from_state_name_en = mf.String(required=True, allow_none=True)
    to_state = mf.String(required=True)
    to_state_name_th = mf.String(required=True)
    to_state_name_en = mf.String(required=True)
    division = mf.String(required=True, metadata={"description": "code of the กอง that held it after the step"})
    division_name_th = mf.String(required=True)
    division_name_en = mf.String(required=True)
    actor_name = mf.String(required=True)
    on_behalf_of_name = mf.String(required=True, allow_none=True)
    delegation_kind = mf.String(required=True, allow_none=True, metadata={"description": "on_behalf or acting"})
    note = mf.String(required=True, allow_none=True)
    staff_only = mf.Boolean(required=True)


class ServiceRequestEventListSchema(Schema):
    items = mf.List(mf.Nested(ServiceRequestEventSchema), required=True, metadata={
        "description": "oldest first, all of them: the filing first (as the staff page shows it), then each step"})


class WorkflowActionSchema(Schema):
    code = mf.String(required=True, metadata={"description": "send as action to /transitions"})
    name_th = mf.String(required=True)
    name_en = mf.String(required=True)
    to = mf.String(required=True, metadata={"description": "the state it leads to"})
    to_name_th = mf.String(required=True)
    to_name_en = mf.String(required=True)
    note_required = mf.Boolean(required=True)
    effect = mf.String(required=True, allow_none=True, metadata={
        "description": "forward, request_payment, record_payment, issue_certificate, open_waste_account or null"})


class WorkflowActionListSchema(Schema):
    items = mf.List(mf.Nested(WorkflowActionSchema), required=True)


class TransitionResultSchema(Schema):
    request = mf.Nested(ServiceRequestSchema, required=True)
    event = mf.Nested(ServiceRequestEventSchema, required=True)


class RequestAttachmentSchema(Schema):
    id = mf.Integer(required=True, metadata={"description": "name it in data.<field> as [id]"})
    filename = mf.String(required=True)
    size = mf.Integer(required=True)
    content_type = mf.String(required=True)


# --- arguments ----------------------------------------------------------------------------------------------

class _DateTime(mf.DateTime):
    default_error_messages = {"required": _l("Missing: this value is required."), "null": _l("Must not be empty."),
                              "invalid": _l("Must be an ISO date and time such as 2026-12-01T09:30:00Z.")}


class _File(Upload):
    default_error_messages = {"required": _l("Missing: this value is required."), "null": _l("Must not be empty."),
                              "invalid": _l("Send a file.")}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage) or not value.filename:
            raise self.make_error("invalid")
        return value


class RequestListArgs(PageArgs):
    service_type = fields.String(load_default=None, validate=validate.Length(max=48),
                                 metadata={"description": "code of a service"})
    status = fields.String(load_default=None, validate=validate.Length(max=32),
                           metadata={"description": "code of a workflow state"})
    division = fields.String(load_default=None, validate=validate.Length(max=32),
                             metadata={"description": "code of the กอง that holds the matter now"})
    created_from = fields.Date(load_default=None, metadata={"description": "filed on or after this day (Bangkok)"})
    created_to = fields.Date(load_default=None, metadata={"description": "filed on or before this day (Bangkok)"})
    updated_since = _DateTime(load_default=None, metadata={
        "description": "changed at or after this time (UTC when no zone is given)"})

    @validates_schema
    def _range(self, data, **kwargs):
        if data.get("created_from") and data.get("created_to") and data["created_from"] > data["created_to"]:
            raise ValidationError({"created_to": [_l("Must be on or after created_from.")]})


class NewRequestArgs(Strict):
    service_type = fields.String(required=True, validate=validate.Length(min=1, max=48),
                                 metadata={"description": "code of the service (GET /service-types)"})
    data = fields.Dict(required=True, metadata={
        "description": "the values, checked as the staff form checks them (GET /service-types/{code} lists the "
                       "fields); a file field or document takes [attachment id] from POST /requests/attachments"})


class RequestUploadArgs(Strict):
    service_type = fields.String(required=True, validate=validate.Length(min=1, max=48))
    field = fields.String(required=True, validate=validate.Length(min=1, max=64), metadata={
        "description": "code of a file field, or doc_<code> for a required document"})
    file = _File(required=True)


class StepPaymentArgs(Strict):
    receipt_no = fields.String(required=True, validate=validate.Length(max=100))
    amount = fields.String(required=True, validate=validate.Regexp(
        MONEY_PATTERN, _l("Baht with two decimals, e.g. 150.00.")),
        metadata={"description": "baht, the fee due, with two decimals", "example": "150.00"})
    method = fields.String(required=True, metadata={"description": "cash, promptpay, transfer or cheque"})
    paid_on = fields.Date(load_default=None, metadata={"description": "default today (Bangkok)"})


class StepForwardArgs(Strict):
    dla_code = fields.String(load_default="", validate=validate.Length(max=20),
                             metadata={"description": "another organisation on the platform, by its DLA code"})
    outside_body = fields.String(load_default="", validate=validate.Length(max=200),
                                 metadata={"description": "or a body outside the platform, by name"})
    outside_email = fields.String(load_default="", validate=validate.Length(max=200),
                                  metadata={"description": "the outside body's e-mail, to send it the matter"})


class TransitionArgs(Strict):
    action = fields.String(required=True, validate=validate.Length(min=1, max=32),
                           metadata={"description": "code of an action from GET /requests/{id}/actions"})
    note = fields.String(load_default="", validate=validate.Length(max=5000))
    staff_only = fields.Boolean(load_default=False, metadata={"description": "a note the applicant does not see"})
    seen_version = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID), metadata={
        "description": "the lock_version you last read (not form_version): the step is refused (409) if "
                       "someone acted since"})
    payment = fields.Nested(StepPaymentArgs, load_default=None, metadata={
        "description": "the payment, for a step whose effect is record_payment"})
    missing = fields.List(fields.String(validate=validate.Length(max=64)), load_default=list,
                          validate=validate.Length(max=50), metadata={
                              "description": "return_for_documents: codes of the service's missing documents"})
    missing_other = fields.String(load_default="", validate=validate.Length(max=2000), metadata={
        "description": "return_for_documents: anything else missing, one item a line"})
    forward_to = fields.Nested(StepForwardArgs, load_default=None, metadata={
        "description": "for a step whose effect is forward: an organisation (dla_code) or an outside body"})


# --- reading ------------------------------------------------------------------------------------------------

def _names(spec_th: str | None, spec_en: str | None) -> tuple[str, str]:
    th = spec_th or ""
    return th, spec_en or th


def dump(item: ServiceRequest) -> dict:
    from app.service_requests import engine

    state = engine.state(item)
    status_th, status_en = _names(state.get("name_th"), state.get("name_en"))
    division_th, division_en = _names(item.division.name_th, item.division.name_en)
    return {
        "id": item.id, "service_type": item.service_type.code, "form_version": item.version.version,
        "status": item.status, "status_name_th": status_th, "status_name_en": status_en,
        "division": item.division.code, "division_name_th": division_th, "division_name_en": division_en,
        "title": item.title or "", "data": dict(item.data or {}), "fee_total": item.fee_total,
        "due_on": item.due_on, "step_due_on": item.step_due_on, "created_at": item.created_at,
        "updated_at": item.updated_at or item.created_at, "closed_at": item.closed_at,
        "channel": item.channel or "staff", "lock_version": item.lock_version,
    }


def dump_event(item: ServiceRequest, event) -> dict:
    from app.service_requests import engine

    before = engine.state(item, event.from_state) if event.from_state else None
    after = engine.state(item, event.to_state)
    from_th, from_en = _names(before.get("name_th"), before.get("name_en")) if before else (None, None)
    to_th, to_en = _names(after.get("name_th"), after.get("name_en"))
    division_th, division_en = _names(event.division.name_th, event.division.name_en)
    return {
        "id": event.id, "at": event.at, "action": event.action, "from_state": event.from_state,
        "from_state_name_th": from_th, "from_state_name_en": from_en, "to_state": event.to_state,
        "to_state_name_th": to_th, "to_state_name_en": to_en, "division": event.division.code,
        "division_name_th": division_th, "division_name_en": division_en, "actor_name": event.actor_name,
        "on_behalf_of_name": event.on_behalf_of_name, "delegation_kind": event.delegation_kind,
        "note": event.note, "staff_only": bool(event.staff_only),
    }


FILED = "filed"


def filing_event(item: ServiceRequest) -> dict:
    """The filing as the staff page's timeline shows it (its first row, from the matter itself: filing writes
    no step), so the API's history is the page's: filed into "submitted" at the service's responsible กอง."""
    from flask_appbuilder.security.sqla.models import User

    from app.service_requests import engine

    after = engine.state(item, "submitted")
    to_th, to_en = _names(after.get("name_th"), after.get("name_en"))
    division = item.service_type.responsible_division or item.division
    division_th, division_en = _names(division.name_th, division.name_en)
    filer = db.session.get(User, item.created_by_id) if item.created_by_id else None
    name = " ".join(filter(None, [filer.first_name, filer.last_name])) or filer.username if filer else ""
    return {
        "id": None, "at": item.created_at, "action": FILED, "from_state": None, "from_state_name_th": None,
        "from_state_name_en": None, "to_state": "submitted", "to_state_name_th": to_th, "to_state_name_en": to_en,
        "division": division.code, "division_name_th": division_th, "division_name_en": division_en,
        "actor_name": name, "on_behalf_of_name": None, "delegation_kind": None, "note": None, "staff_only": False,
    }


def visible(pk: int) -> ServiceRequest:
    """The matter if it is this organisation's and within the acting user's reach; 404 otherwise (never 403:
    another organisation's ids and matters out of reach are indistinguishable from ids that do not exist)."""
    from app.service_requests import scope

    if not 0 < pk <= MAX_ID or not scope.may_see(g.user, pk):
        raise ApiError(404)
    item = db.session.get(ServiceRequest, pk)
    if item is None:
        raise ApiError(404)
    return item


def _bangkok_midnight_utc(day: date) -> datetime:
    """The start of a Bangkok day as the naive UTC the table stores."""
    try:
        return datetime.combine(day, time.min, tzinfo=thai.BANGKOK).astimezone(timezone.utc).replace(tzinfo=None)
    except OverflowError:
        return datetime.min


def _naive_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    except OverflowError:
        return datetime.min if value.year < 2 else datetime.max


@blp.route("")
@operation(blp, READ)
@blp.arguments(RequestListArgs, location="query")
@blp.response(200, page_of(ServiceRequestSchema))
def list_requests(args):
    """The matters the acting user may see (an officer: those at, or passed through, their กอง; executives and
    the organisation's admin: all), newest first."""
    from app.service_requests import scope

    require_permission("can_list", VIEW)
    stmt = select(ServiceRequest)
    reach = scope.clause(g.user)
    if reach is not None:
        stmt = stmt.where(reach)
    if args.get("service_type"):
        stmt = stmt.where(ServiceRequest.service_type_id.in_(
            select(ServiceType.id).where(ServiceType.code == args["service_type"])))
    if args.get("status"):
        stmt = stmt.where(ServiceRequest.status == args["status"])
    if args.get("division"):
        stmt = stmt.where(ServiceRequest.division_id.in_(
            select(Division.id).where(Division.code == args["division"])))
    if args.get("created_from"):
        stmt = stmt.where(ServiceRequest.created_at >= _bangkok_midnight_utc(args["created_from"]))
    if args.get("created_to") and args["created_to"] < date.max:
        stmt = stmt.where(ServiceRequest.created_at < _bangkok_midnight_utc(args["created_to"] + timedelta(days=1)))
    if args.get("updated_since"):
        stmt = stmt.where(ServiceRequest.updated_at >= _naive_utc(args["updated_since"]))
    # the version's number and workflow (form_version, the state's names), not its form JSON; each distinct
    # version's workflow once per page, in a statement of its own (not once per row)
    result = page(stmt.options(*ServiceRequest.list_loads(workflow=True, versions_apart=True)), ServiceRequest.id,
                  args, unique=True)
    return {"items": [dump(r) for r in result["items"]], "next_cursor": result["next_cursor"]}


@blp.route("/<int:pk>")
@operation(blp, READ)
@blp.response(200, ServiceRequestSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_request(pk):
    """One matter, with its values as stored and lock_version (send it back as seen_version)."""
    require_permission("can_show", VIEW)
    return dump(visible(pk))


@blp.route("/<int:pk>/events")
@operation(blp, READ)
@blp.response(200, ServiceRequestEventListSchema)
@blp.alt_response(404, response="NOT_FOUND")
def list_events(pk):
    """The matter's timeline, oldest first, staff-only notes included, as the request page shows it: the
    filing first (action filed, id null), then every step. Not paged: a matter has few steps."""
    from app.service_requests import engine

    require_permission("can_show", VIEW)
    item = visible(pk)
    return {"items": [filing_event(item)] + [dump_event(item, e) for e in engine.timeline(item, staff=True)]}


@blp.route("/<int:pk>/actions")
@operation(blp, READ)
@blp.response(200, WorkflowActionListSchema)
@blp.alt_response(404, response="NOT_FOUND")
def list_actions(pk):
    """The workflow steps the acting user may take on the matter now (none when it is closed)."""
    from app.service_requests import engine

    require_permission("can_show", VIEW)
    item = visible(pk)
    specs = {t["action"]: t for t in engine.workflow_of(item)["transitions"] if item.status in t["from"]}
    out = []
    for action in engine.available(item, g.user):
        spec = specs.get(action.code, {})
        name_th, name_en = _names(spec.get("name_th") or action.label, spec.get("name_en"))
        target = engine.state(item, action.to)
        to_th, to_en = _names(target.get("name_th"), target.get("name_en"))
        out.append({"code": action.code, "name_th": name_th, "name_en": name_en, "to": action.to,
                    "to_name_th": to_th, "to_name_en": to_en, "note_required": bool(action.note_required),
                    "effect": action.effect})
    return {"items": out}


# --- writing ------------------------------------------------------------------------------------------------

def _service(code: str, name: str = "service_type") -> ServiceType:
    found = db.session.scalar(select(ServiceType).where(ServiceType.code == code))
    if found is None:
        message = _l("This organisation offers no service with this code.")
        raise ApiError(422, "invalid_input", message, [field(name, message)])
    return found


def _checked_values(version, data: dict) -> dict:
    """The staff form's own checks (the generated schema, then that named files are this organisation's and
    not another matter's); a file that fails is named as data.<field>."""
    from app.catalog import services
    from app.catalog.builder import document_fields

    values = services.validate_values(version, data, staff=True, documents=version.documents)
    for spec in list(version.fields) + document_fields(version.documents):
        try:
            services.check_attachments([spec], values)
        except UserError as exc:
            db.session.rollback()
            raise ApiError(422, "invalid_input", _l("Some values are not valid: see fields."),
                           [field(f"data.{spec['code']}", exc.message)]) from None
    return values


@blp.route("", methods=["POST"])
@operation(blp, SUBMIT)
@blp.arguments(NewRequestArgs)
@blp.response(201, ServiceRequestSchema)
def create_request(args):
    """File a matter: the values are checked exactly as the staff form checks them, and the fee is priced
    as the form prices it. Files are uploaded first (POST /requests/attachments) and named by id."""
    from app.catalog import services

    require_permission("can_add", VIEW)
    service_type = _service(args["service_type"])
    if not service_type.active:
        raise UserError(_l("This service is not open for requests."), status=422)
    version = services.current_version(service_type)
    values = _checked_values(version, args["data"])
    item = services.file_request(service_type, values, g.user.id)
    item.channel = CHANNEL
    db.session.commit()
    return dump(db.session.get(ServiceRequest, item.id))


@blp.route("/attachments", methods=["POST"])
@operation(blp, SUBMIT)
@blp.arguments(RequestUploadArgs, location="multipart")
@blp.response(201, RequestAttachmentSchema)
def upload_attachment(args):
    """Upload one file for a service's file field or required document (multipart: service_type, field,
    file), checked as the form checks it (type by name and content, size). Name the id in data.<field>."""
    from app.catalog import services
    from app.catalog.attachments import store
    from app.catalog.builder import check_uploads, document_fields

    require_permission("can_add", VIEW)
    service_type = _service(args["service_type"])
    version = services.current_version(service_type)
    specs = {s["code"]: s for s in list(version.fields) + document_fields(version.documents)}
    spec = specs.get(args["field"])
    if spec is None or spec["kind"] != "file":
        message = _l("This service has no file field or document with this code.")
        raise ApiError(422, "invalid_input", message, [field("field", message)])
    try:
        check_uploads(spec, [args["file"]])
    except ValueError as exc:
        raise ApiError(422, "invalid_input", exc.args[0], [field("file", exc.args[0])]) from None
    attachment = store(service_type.tenant_id, spec["code"], args["file"], g.user.id)
    db.session.commit()
    return {"id": attachment.id, "filename": attachment.filename, "size": attachment.size,
            "content_type": attachment.content_type}


def _payment(raw: dict | None) -> dict:
    """The payment as billing.services.check reads the staff form's fields (a date as day/month/B.E. year)."""
    if not raw:
        return {}
    paid_on = raw.get("paid_on")
    return {"receipt_no": raw["receipt_no"], "amount": raw["amount"], "method": raw["method"],
            "paid_on": f"{paid_on.day}/{paid_on.month}/{thai.be_year(paid_on)}" if paid_on else ""}


def _target(item: ServiceRequest, action: str, raw: dict | None):
    """The forward target, read as the staff form reads it, only for a step that forwards (as the form does)."""
    from app.service_requests import engine, forwarding

    chosen = [a for a in engine.available(item, g.user) if a.code == action]
    if not chosen or chosen[0].effect != "forward" or not raw:
        return None
    return forwarding.target_from_form({"forward_dla_code": raw.get("dla_code") or "",
                                        "outside_body": raw.get("outside_body") or "",
                                        "outside_email": raw.get("outside_email") or ""})


def _in_both_languages(check, *args) -> None:
    """Run a check that joins its messages into one text (billing's payment check says every mistake at
    once) in Thai and in English, so that its refusal is given in both like every other."""
    from flask_babel import force_locale

    from app.api.language import Phrase

    try:
        with force_locale("th"):
            check(*args)
    except UserError as refused:
        th = str(refused.message)
        try:
            with force_locale("en"):
                check(*args)
            en = th
        except UserError as again:
            en = str(again.message)
        raise UserError(Phrase(th, lambda locale: en if locale == "en" else th), refused.status) from None


@blp.route("/<int:pk>/transitions", methods=["POST"])
@operation(blp, MANAGE)
@blp.arguments(TransitionArgs)
@blp.response(200, TransitionResultSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def take_step(args, pk):
    """Take a workflow step as the acting user, exactly as on the request page: the workflow decides who may
    take which step when (403 for the wrong role or กอง, 422 for a step not possible now or a missing note,
    409 when seen_version is stale). Steps take no files through the API: attach those on the request page."""
    from app.service_requests import engine

    require_permission("can_show", VIEW)
    item = visible(pk)
    chosen = [a for a in engine.available(item, g.user) if a.code == args["action"]]
    if chosen and chosen[0].effect == "record_payment" and args["seen_version"] in (None, item.lock_version):
        from app.billing import services as billing

        _in_both_languages(billing.check, item, _payment(args["payment"]))
    event = engine.take(item, args["action"], g.user, note=args["note"], staff_only=args["staff_only"],
                        seen_version=args["seen_version"], forward_to=_target(item, args["action"],
                                                                               args["forward_to"]),
                        payment=_payment(args["payment"]), missing=args["missing"],
                        missing_other=args["missing_other"])
    event_id = event.id
    db.session.commit()
    item = db.session.get(ServiceRequest, pk)
    from app.service_requests.models import ServiceRequestEvent

    return {"request": dump(item), "event": dump_event(item, db.session.get(ServiceRequestEvent, event_id))}

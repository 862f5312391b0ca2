"""Staff screens of the service catalogue: the tenant's services and their guides, fee schedules, and the
requests filed through each service's generated Thai form (with the fee quoted before saving)."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from markupsafe import Markup
from flask_appbuilder import BaseView, expose
from flask_appbuilder.actions import action
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectField
from wtforms.validators import DataRequired

from app import thai
from app.catalog import pending_uploads, services
from app.catalog.builder import build_form, form_values, label
from app.catalog.fees import FeeInputError
from app.catalog.models import FeeSchedule, ServiceFieldDraft, ServiceRequest, ServiceType
from app.catalog.values import KINDS
from app.catalog.values import display
from app.extensions import db
from app.tenancy.errors import UserError
from app.tenancy.fab import TenantModelView
from app.tenancy.interface import TenantInterface
from app.service_requests.overdue import TEMPLATE_ARGS as OVERDUE_TEMPLATE_ARGS, DueAwareInterface
from app.service_requests.scope import FilterInReach

SLA_UNIT_LABELS = {"working": _l("working days"), "calendar": _l("calendar days")}
CATEGORY_LABELS = {
    "complaint": _l("Complaint"), "permit": _l("Permit"), "certificate": _l("Certificate"),
    "registration": _l("Registration"), "welfare": _l("Welfare"), "other": _l("Other"),
}


def _due_text(request) -> Markup | str:
    """The due date in พ.ศ., flagged by the one overdue rule (open, clock running, past the matter's or the
    step's due date); the list's interface hands the whole request to this cell."""
    from app.service_requests.overdue import due_cell

    return due_cell(request)


class FeeScheduleView(TenantModelView):
    route_base = "/fee-schedules"
    datamodel = TenantInterface(FeeSchedule)
    list_title = _l("Fee schedules")
    show_title = _l("Fee schedule")
    list_columns = ["service_type", "effective_from", "effective_to", "legal_source_th"]
    show_columns = ["service_type", "effective_from", "effective_to", "legal_source_th", "legal_source_en", "rules"]
    search_columns = ["service_type", "effective_from"]
    base_order = ("effective_from", "desc")
    base_permissions = ["can_list", "can_show"]
    label_columns = {
        "service_type": _l("Service"),
        "effective_from": _l("In force from"),
        "effective_to": _l("In force until"),
        "legal_source_th": _l("Legal source"),
        "legal_source_en": _l("Legal source (English)"),
        "rules": _l("Fee rules"),
    }
    formatters_columns = {"rules": lambda rules: ", ".join(r.get("label_th", r.get("code", "")) for r in rules)}


class ServiceFieldView(TenantModelView):
    """Fields of a service, row by row; published together as a new version of the service."""

    route_base = "/service-fields"
    datamodel = TenantInterface(ServiceFieldDraft)
    list_title = _l("Fields being edited")
    show_title = _l("Field")
    add_title = _l("Add field")
    edit_title = _l("Edit field")
    list_columns = ["service_type", "position", "code", "label_th", "kind", "required", "staff_only"]
    # every setting of a field spec (app/catalog/spec.py FieldSpec), so publishing loses none of them
    show_columns = ["service_type", "position", "code", "kind", "label_th", "label_en", "help_th", "help_en",
                    "required", "staff_only", "unit_th", "min_value", "max_value", "min_date", "max_date",
                    "max_error_th", "min_length", "max_length", "pattern", "pattern_error_th", "choices_text",
                    "accept_text", "max_size_mb"]
    add_columns = show_columns
    edit_columns = show_columns
    search_columns = ["service_type", "code", "label_th", "kind"]
    order_columns = ["position", "code"]
    base_order = ("position", "asc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]
    label_columns = {
        "service_type": _l("Service"), "position": _l("Order"), "code": _l("Code"), "kind": _l("Kind"),
        "label_th": _l("Label (Thai)"), "label_en": _l("Label (English)"), "help_th": _l("Help text"),
        "help_en": _l("Help text (English)"),
        "required": _l("Required"), "staff_only": _l("Staff only"), "unit_th": _l("Unit"),
        "min_value": _l("Minimum"), "max_value": _l("Maximum"), "max_error_th": _l("Message above the maximum"),
        "min_date": _l("Earliest date"), "max_date": _l("Latest date"),
        "min_length": _l("Shortest length (characters)"), "max_length": _l("Longest length (characters)"),
        "pattern": _l("Pattern (regular expression)"), "pattern_error_th": _l("Message when the pattern fails"),
        "choices_text": _l("Choices (one per line: value | Thai | English)"),
        "accept_text": _l("Accepted file types"), "max_size_mb": _l("Largest file (MB)"),
    }
    description_columns = {
        "code": _l("English lower-case letters, digits and _; unique in the service."),
        "min_value": _l("Number fields only. For a date field use the earliest and latest date."),
        "accept_text": _l("File fields: types separated by commas, such as pdf, jpg, png."),
    }
    add_form_extra_fields = {
        "kind": SelectField(_l("Kind"), choices=[(k, k) for k in KINDS], validators=[DataRequired()]),
    }
    edit_form_extra_fields = add_form_extra_fields

    def pre_add(self, item):
        _check_draft(item)

    def pre_update(self, item):
        _check_draft(item)


def _check_draft(item: ServiceFieldDraft) -> None:
    """One field checked as it will be published, so a wrong limit is refused here with its reason."""
    from marshmallow import ValidationError

    from app.catalog.drafts import spec_of
    from app.catalog.spec import FieldSpec
    from app.seeds.loader import flatten_errors

    try:
        FieldSpec().load(spec_of(item))
    except ValidationError as error:
        names = {"min": "min_date" if item.kind == "date" else "min_value",
                 "max": "max_date" if item.kind == "date" else "max_value", "accept": "accept_text",
                 "choices": "choices_text"}
        labels = ServiceFieldView.label_columns
        raise UserError("; ".join(
            f"{labels.get(names.get(where.split('.')[0].split('[')[0], where), where)}: {message}"
            for where, message in flatten_errors(error.messages)), status=422) from None


class ServiceTypeView(TenantModelView):
    route_base = "/service-types"
    datamodel = TenantInterface(ServiceType)
    list_title = _l("Services")
    show_title = _l("Service")
    edit_title = _l("Edit service")
    list_columns = ["name_th", "category", "responsible_division", "sla_days", "sla_unit", "active"]
    show_columns = ["code", "name_th", "name_en", "category", "responsible_division", "sla_days", "sla_unit",
                    "active", "current_version", "template_code"]
    edit_columns = ["name_th", "name_en", "responsible_division", "sla_days", "sla_unit", "active"]
    edit_form_extra_fields = {
        "sla_unit": SelectField(_l("Counted in"), choices=[("working", _l("working days")),
                                                          ("calendar", _l("calendar days"))],
                                validators=[DataRequired()]),
    }
    search_columns = ["name_th", "code", "category", "responsible_division", "active"]
    order_columns = ["name_th", "sla_days"]
    base_order = ("name_th", "asc")
    base_permissions = ["can_list", "can_show", "can_edit", "edit_definition", "add_fee_schedule", "edit_fields"]
    related_views = [ServiceFieldView, FeeScheduleView]
    show_template = "appbuilder/general/model/show_cascade.html"
    formatters_columns = {"category": lambda value: str(CATEGORY_LABELS.get(value, value)),
                          "sla_unit": lambda value: str(SLA_UNIT_LABELS.get(value, value))}
    navigation_actions = ("edit_definition", "add_fee_schedule", "edit_fields")

    @action("edit_fields", _l("Edit fields one by one"), icon="fa-pencil", multiple=False)
    def edit_fields(self, item):
        return redirect(url_for("ServiceAdminView.fields", pk=item.id))

    @action("edit_definition", _l("Edit fields and guide"), icon="fa-list", multiple=False)
    def edit_definition(self, item):
        return redirect(url_for("ServiceAdminView.definition", pk=item.id))

    @action("add_fee_schedule", _l("Fee schedule"), icon="fa-money", multiple=False)
    def add_fee_schedule(self, item):
        return redirect(url_for("ServiceAdminView.fees", pk=item.id))
    label_columns = {
        "code": _l("Code"),
        "name_th": _l("Name (Thai)"),
        "name_en": _l("Name (English)"),
        "category": _l("Category"),
        "responsible_division": _l("Responsible division"),
        "sla_days": _l("Days allowed"),
        "sla_unit": _l("Counted in"),
        "active": _l("Open for requests"),
        "current_version": _l("Definition version"),
        "template_code": _l("Template"),
    }


class ServiceRequestView(TenantModelView):
    """The list and detail of requests; adding and editing go through the service's generated form."""

    route_base = "/service-requests"
    datamodel = DueAwareInterface(ServiceRequest)
    base_filters = [["id", FilterInReach, None]]  # an officer sees matters at, or passed through, their กอง
    extra_args = dict(OVERDUE_TEMPLATE_ARGS)
    list_title = _l("Requests")
    show_title = _l("Request")
    list_columns = ["id", "title", "service_type", "division", "state_text", "due_on", "fee_total", "created_at"]
    search_columns = ["service_type", "division", "status", "due_on", "created_at", "title"]
    order_columns = ["id", "created_at", "due_on", "fee_total"]
    base_order = ("created_at", "desc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    method_permission_name = {
        "new": "add", "add": "add", "edit": "edit", "show": "show", "list": "list", "attachment": "show",
        "act": "show",
    }
    show_template = "catalog/request_show.html"
    label_columns = {
        "id": _l("No."),
        "title": _l("Subject"),
        "service_type": _l("Service"),
        "division": _l("Division"),
        "status": _l("Status"),
        "state_text": _l("Status"),
        "fee_total": _l("Fee"),
        "due_on": _l("Due"),
        "created_at": _l("Filed at"),
    }
    formatters_columns = {
        "due_on": lambda value: _due_text(value),
        "fee_total": lambda value: "-" if value is None else thai.format_baht(value),
    }

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        return self._show_page(item)

    def _show_page(self, item, draft=None, status: int = 200):
        """The request page; `draft`: what someone filled in for a step that failed, shown again."""
        from app.catalog.attachments import Attachment

        rows = [(label(spec), display(spec, item.data.get(spec["code"]))) for spec in item.version.fields
                if spec["kind"] != "file"]
        attachments = db.session.scalars(
            select(Attachment).where(Attachment.request_id == item.id).order_by(Attachment.id)).all()
        try:  # the schedule in force on the day it was filed, not today's
            priced = services.quote(item.service_type, item.data, on=services.filed_on(item))
        except FeeInputError:
            priced = None
        from app.service_requests import engine

        from app.certificates import pdf as certificate_docs
        from app.service_requests import forwarding
        from app.service_requests.forwarding_views import org_names
        from app.service_requests.models import Forwarding

        from app.saraban import links as letter_links

        actions = engine.available(item, g.user)
        forwardings = db.session.scalars(select(Forwarding).where(
            Forwarding.request_id == item.id, Forwarding.tenant_id == item.tenant_id).order_by(Forwarding.id)).all()
        return self.render_template(
            self.show_template, item=item, rows=rows, attachments=[a for a in attachments if a.event_id is None],
            step_files=_by_event(attachments), quote=priced[0] if priced else None,
            actions=actions, timeline=engine.timeline(item), state_name=engine.state_name,
            schedule=priced[1] if priced else None, title=self.show_title, appbuilder=self.appbuilder,
            forwardings=forwardings, forward_names=org_names({f.partner_tenant_id for f in forwardings}),
            certificates=certificate_docs.of_request(item.id),
            partners=forwarding.partner_choices() if any(a.effect == "forward" for a in actions) else [],
            draft=draft, documents=engine.document_choices(item),
            letters=letter_links.documents_of_request(item.id, g.user), letter_links=letter_links,
        ), status

    @expose("/act/<int:pk>", methods=["POST"])
    @has_access
    def act(self, pk: int):
        """Take a workflow action (accept, return, approve, ...) with an optional note."""
        from app.service_requests import acting, engine

        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        try:
            acting.take_from_form(item, g.user, request.form, request.files.getlist("files"))
            db.session.commit()
        except UserError as exc:
            # shown again as it now stands, with what they typed, ticked and attached kept
            db.session.rollback()
            flash(str(exc), "danger")
            item = self.datamodel.get(pk, self._base_filters)
            if item is None:
                abort(404)
            return self._show_page(item, acting.keep(item, g.user, request.form, request.files.getlist("files")),
                                   status=exc.status if 400 <= exc.status < 500 else 422)
        else:
            flash(_("Done: the request is now %(state)s.", state=engine.state_name(item)), "success")
        back = request.form.get("next", "")
        if back.startswith("/inbox"):  # only back to our own inbox, never an outside address
            return redirect(back)
        return redirect(url_for("ServiceRequestView.show", pk=pk))

    @expose("/certificate/<int:pk>.pdf")
    @has_access
    @permission_name("show")  # whoever may open the request may print its certificate
    def certificate(self, pk: int):
        from app.certificates.models import Certificate
        from app.certificates.pdf import pdf_response
        from app.service_requests.scope import may_see

        found = db.session.get(Certificate, pk)
        if found is None or not may_see(g.user, found.request_id):
            abort(404)
        return pdf_response(pk)

    @expose("/attachment/<int:pk>")
    @has_access
    def attachment(self, pk: int):
        from flask import send_file

        from app.catalog.attachments import Attachment, path_of

        found = db.session.get(Attachment, pk)
        from app.service_requests.scope import may_see

        if found is None or not may_see(g.user, found.request_id):
            abort(404)
        return send_file(path_of(found), mimetype=found.content_type, as_attachment=True,
                         download_name=found.filename)

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        return redirect(url_for("ServiceCatalogView.index"))

    @expose("/new/<int:service_type_id>", methods=["GET", "POST"])
    @has_access
    def new(self, service_type_id: int):
        service_type = services.service_type_or_404(service_type_id)
        if not service_type.active:
            abort(404)
        version = services.current_version(service_type)
        source = None
        if request.values.get("from_document"):
            # a matter opened from an incoming letter: the letter must be one this user may see, not yet linked
            from app.saraban import links as letter_links

            source = letter_links.source_document(request.values.get("from_document"), g.user)
            if source.request_id is not None:
                flash(_("This letter is already linked to matter #%(id)s.", id=source.request_id), "warning")
                page = letter_links.page_endpoint(source)
                return redirect(url_for(page, pk=source.id) if page else url_for("ServiceCatalogView.index"))
        return self._form_page(service_type, version, None, source=source)

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        return self._form_page(item.service_type, item.version, item)

    def _form_page(self, service_type, version, item, source=None):
        """`source`: the incoming letter a new matter is opened from (linked when the matter is filed)."""
        form_class = build_form(version.fields, staff=True, documents=version.documents)
        pending = (pending_uploads.pending(PENDING_FILES, _pending_scope(service_type, item))
                   if request.method == "POST" else {})
        data = {**(item.data if item is not None else {}), **pending}
        if source is not None and request.method == "GET":
            from app.saraban import links as letter_links

            data.update(letter_links.prefill(version, source))
        form = form_class(data=data or None)
        quote = None
        if request.method == "POST":
            valid = form.validate()
            intent = request.form.get("intent")
            if intent == "quote":
                # a fee is quoted from what is filled in so far; files are asked for when saving
                for code in form.spec_codes:
                    field = getattr(form, code)
                    if field.spec["kind"] == "file":
                        field.errors = []
            parsed = {code: getattr(form, code).data for code in form.spec_codes if not getattr(form, code).errors}
            on = services.filed_on(item) if item is not None else None  # an edit keeps its filing day's fees
            try:
                priced = services.quote(service_type, parsed, on=on)
            except FeeInputError:
                priced = None
            quote = priced[0] if priced else None
            if valid and intent == "save" and quote is not None and request.form.get("quoted") != str(quote.total):
                # the clerk saves only a fee they have seen: first time round (or after a change that moved
                # the fee) the quote is shown and Save asked again
                flash(_("Check the fee below, then press Save again."), "warning")
                _keep_files(service_type, item, form, form_class)
            elif valid and intent == "save":
                try:
                    values = services.store_uploads(service_type.tenant_id, form_class.specs, form_values(form),
                                                    g.user.id)
                    if item is None:
                        item = services.file_request(service_type, values, g.user.id)
                        if source is not None:  # in the same transaction: both or neither
                            from app.saraban import links as letter_links

                            letter_links.link(source, item)
                    else:
                        services.update_request(item, values)
                    db.session.commit()
                except UserError as exc:
                    db.session.rollback()
                    flash(str(exc), "danger")
                else:
                    pending_uploads.forget(PENDING_FILES)
                    flash(_("Saved."), "success")
                    return redirect(url_for("ServiceRequestView.show", pk=item.id))
            elif any(getattr(form, code).errors for code in form.spec_codes):
                flash(_("Please correct the highlighted fields."), "danger")
        return self.render_template(
            "catalog/request_form.html", form=form, service_type=service_type, version=version, item=item,
            quote=quote, has_fees=bool(services.schedules(service_type)), title=str(service_type),
            appbuilder=self.appbuilder, source=source, letter_number=_letter_number,
        )


class ServiceCatalogView(BaseView):
    """The tenant's services: start a request, see the requests, read the guide (คู่มือสำหรับประชาชน)."""

    route_base = "/services"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        rows = db.session.scalars(
            select(ServiceType).where(ServiceType.active.is_(True)).order_by(ServiceType.name_th)
        ).all()
        return self.render_template("catalog/services.html", service_types=rows, appbuilder=self.appbuilder)

    @expose("/subdistricts/<postcode>")
    def subdistricts(self, postcode: str):
        """Public address data (geothai): the subdistricts that use a postcode, for the address field."""
        import geothai
        from flask import jsonify

        from app.validators import is_thai_postcode

        if not is_thai_postcode(postcode):
            return jsonify(result=[]), 404
        result = []
        for sub in geothai.by_postal_code(postcode):
            found = geothai.address(sub.code)
            if found is not None:
                result.append({"code": sub.code, "text": f"{sub.name_th} / {found.district.name_th} / "
                                                          f"{found.province.name_th}"})
        return jsonify(result=result)

    @expose("/guide/<int:service_type_id>")
    @has_access
    def guide(self, service_type_id: int):
        service_type = services.service_type_or_404(service_type_id)
        version = services.current_version(service_type)
        from app.catalog.fee_text import describe

        return self.render_template(
            "catalog/guide.html", service_type=service_type, version=version,
            schedules=services.schedules(service_type), describe_fee=describe, appbuilder=self.appbuilder,
        )


PENDING_FILES = "catalog_pending_files"


def _pending_scope(service_type, item) -> dict:
    return {"tenant": service_type.tenant_id, "service": service_type.id, "item": item.id if item is not None else None}


def _keep_files(service_type, item, form, form_class) -> None:
    """Keep the files sent with a Save that first had to show the fee, so they need not be chosen again."""
    kept = pending_uploads.keep(PENDING_FILES, _pending_scope(service_type, item), service_type, form, form_class,
                                g.user.id)
    if kept:
        from app.catalog.attachments import Attachment

        names = db.session.scalars(select(Attachment.filename).where(
            Attachment.id.in_([i for ids in kept.values() for i in ids]))).all()
        flash(_("The files you chose are kept: %(names)s.", names=", ".join(names)), "info")


def _letter_number(document) -> str:
    from app.saraban.links import number_label

    return number_label(document)


def _by_event(attachments) -> dict:
    """Files attached to timeline steps, by step."""
    found: dict = {}
    for attachment in attachments:
        if attachment.event_id is not None:
            found.setdefault(attachment.event_id, []).append(attachment)
    return found

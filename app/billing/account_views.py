"""The clerk's screens for waste-fee accounts (ผู้ใช้บริการ), collection routes (สายเก็บขน) and the
organisation's waste-fee settings. Accounts are opened, edited, re-tiered and closed only through
app/billing/accounts.py, so every check runs there; these views draw the forms and show its messages by field."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy import func, or_, select
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import Regexp, ValidationError

from app import thai
from app.billing import accounts, invoices, tariff as tariffs
from app.billing.models import (BUSINESS, HOUSEHOLD, PREMISES_KINDS, WasteAccount, WasteInvoice, WasteRoute,
                                WasteSettings)
from app.catalog.builder import SpecField
from app.extensions import db
from app.tenancy.errors import UserError
from app.tenancy.fab import TenantModelView
from app.tenancy.interface import TenantInterface
from app.thai_forms import ThaiDateField
from app.security.services import person_name

DAYS = (("mon", _l("Monday")), ("tue", _l("Tuesday")), ("wed", _l("Wednesday")), ("thu", _l("Thursday")),
        ("fri", _l("Friday")), ("sat", _l("Saturday")), ("sun", _l("Sunday")))
KIND_NAMES = {HOUSEHOLD: _l("Household"), BUSINESS: _l("Shop / business")}
# the price example on the settings page: litres a day a clerk is asked about most
EXAMPLE_LITRES = ("20", "40", "60", "100", "200", "500", "1000")


def days_text(value) -> str:
    codes = set((value or "").split(","))
    return ", ".join(str(name) for code, name in DAYS if code in codes) or "-"


def litres_text(value) -> str:
    number = Decimal(str(value))
    text = f"{number.normalize():f}" if number == number.to_integral_value() else f"{number:f}".rstrip("0")
    return text.rstrip(".")


def kind_text(kind) -> str:
    return str(KIND_NAMES.get(kind, kind or "-"))


def tier_text(kind, litres) -> str:
    return _("%(kind)s, %(litres)s litres a day", kind=kind_text(kind), litres=litres_text(litres))


def is_open(account: WasteAccount, on: date | None = None) -> bool:
    return account.end_date is None or account.end_date >= (on or thai.today_bangkok())


def status_text(account: WasteAccount) -> Markup:
    if is_open(account):
        return Markup('<span class="label label-success">{}</span>').format(_("In service"))
    return Markup('<span class="label label-default">{}</span>').format(_("Closed"))


class ComputedInterface(TenantInterface):
    """A tenant interface whose lists and show pages also carry computed columns, worked out for the whole
    page at once (`prepare` gets the page's rows and returns what the columns read), never one query a row."""

    def __init__(self, obj, session=None, computed=None, prepare=None):
        super().__init__(obj, session)
        self.computed = computed or {}
        self.prepare = prepare

    def _context(self, rows):
        return self.prepare(rows) if self.prepare and rows else None

    def get_values(self, lst, list_columns):
        rows = list(lst)
        context = self._context(rows)
        for item in rows:
            yield {col: (self.computed[col](item, context) if col in self.computed else self._get_attr_value(item, col))
                   for col in list_columns}

    def get_values_item(self, item, show_columns):
        context = self._context([item])
        return [self.computed[col](item, context) if col in self.computed else self._get_attr_value(item, col)
                for col in show_columns]


# --- routes -----------------------------------------------------------------------------------------------

class DaysWidget:
    def __call__(self, field, **kwargs):
        chosen = set(field.data or [])
        boxes = [
            f'<label class="checkbox-inline"><input type="checkbox" name="{escape(field.name)}" value="{code}"'
            f'{" checked" if code in chosen else ""}> {escape(str(name))}</label>'
            for code, name in DAYS
        ]
        return Markup(f'<div id="{escape(field.id)}">' + " ".join(boxes) + "</div>")


class DaysField(SelectMultipleField):
    """Collection days ticked by Thai day name, stored as "mon,thu" (the seed files' codes)."""

    widget = DaysWidget()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, choices=[(code, name) for code, name in DAYS], **kwargs)

    def process_data(self, value):
        if isinstance(value, str):
            value = [v for v in value.split(",") if v]
        self.data = list(value or [])

    def populate_obj(self, obj, name):
        chosen = set(self.data or [])
        setattr(obj, name, ",".join(code for code, _name in DAYS if code in chosen) or None)


class UniqueRouteCode:
    """A route code is used once in the organisation (the guard limits the look-up to it, so another
    organisation's codes are neither refused nor revealed)."""

    def __call__(self, form, field):
        code = (field.data or "").strip()
        stmt = select(WasteRoute.id).where(WasteRoute.code == code)
        own = getattr(form, "_id", None)
        if own not in (None, ""):
            stmt = stmt.where(WasteRoute.id != int(own))
        if code and db.session.scalar(stmt) is not None:
            raise ValidationError(_("The route code %(code)s is already used by another route.", code=code))


def _served_counts(routes) -> dict[int, int]:
    """Accounts in service today on each of the page's routes: one grouped query for the page."""
    today = thai.today_bangkok()
    ids = [r.id for r in routes]
    rows = db.session.execute(
        select(WasteAccount.route_id, func.count()).where(
            WasteAccount.route_id.in_(ids), or_(WasteAccount.end_date.is_(None), WasteAccount.end_date >= today))
        .group_by(WasteAccount.route_id))
    return {route_id: count for route_id, count in rows}


ROUTE_CODE = r"^[A-Za-z0-9ก-๙_.-]{1,32}$"


class WasteRouteView(TenantModelView):
    route_base = "/waste/routes"
    datamodel = ComputedInterface(WasteRoute, computed={"account_count": lambda r, counts: counts.get(r.id, 0)},
                                  prepare=_served_counts)
    list_title = _l("Collection routes")
    show_title = _l("Collection route")
    add_title = _l("Add a collection route")
    edit_title = _l("Edit the collection route")
    list_columns = ["code", "name_th", "name_en", "collection_days", "active", "account_count"]
    show_columns = ["code", "name_th", "name_en", "collection_days", "active", "account_count"]
    add_columns = edit_columns = ["code", "name_th", "name_en", "collection_days", "active"]
    search_columns = ["code", "name_th", "name_en", "active"]
    order_columns = ["code", "name_th"]
    base_order = ("code", "asc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    label_columns = {
        "code": _l("Route code"), "name_th": _l("Name (Thai)"), "name_en": _l("Name (English)"),
        "collection_days": _l("Collection days"), "active": _l("In use"), "account_count": _l("Accounts in service"),
    }
    description_columns = {
        "code": _l("Letters, digits, - or _; the same code as the collection zone written on the registration "
                   "request links new accounts to this route."),
    }
    validators_columns = {
        "code": [Regexp(ROUTE_CODE, message=_l("Use letters, digits, - or _ only (no spaces).")), UniqueRouteCode()],
    }
    add_form_extra_fields = {"collection_days": DaysField(_l("Collection days"))}
    edit_form_extra_fields = {"collection_days": DaysField(_l("Collection days"))}
    formatters_columns = {"collection_days": days_text}

    def pre_add(self, item):
        item.code = item.code.strip()

    pre_update = pre_add


# --- accounts ---------------------------------------------------------------------------------------------

# the service forms' address box (house no. and road, postcode, then the subdistricts that use it: geothai);
# the labels are lazy, so each form shows them in the language of the moment
ADDRESS_SPEC = {"code": "address", "kind": "address", "required": True,
                "label_th": _l("Service address"), "label_en": _l("Service address"),
                "help_th": _l("Type the postcode, then choose the subdistrict."),
                "help_en": _l("Type the postcode, then choose the subdistrict.")}


def _kind_choices():
    return [("", "—")] + [(kind, str(KIND_NAMES[kind])) for kind in PREMISES_KINDS]


def _route_choices(current_id: int | None = None):
    """The organisation's routes in use (and the account's own, even when no longer in use)."""
    routes = db.session.scalars(select(WasteRoute).where(
        or_(WasteRoute.active.is_(True), WasteRoute.id == (current_id or 0))).order_by(WasteRoute.code))
    return [("", "—")] + [(str(r.id), str(r)) for r in routes]


class ContactForm(FlaskForm):
    holder_name = StringField(_l("Account holder"))
    business_name = StringField(_l("Shop or business name"), description=_l("Businesses only."))
    national_id = StringField(_l("National ID number"))
    phone = StringField(_l("Phone"))
    email = StringField(_l("E-mail"))
    route_id = SelectField(_l("Collection route"), validate_choice=False)
    route_seq = StringField(_l("Order on the route sheet"), default="0")
    address = SpecField(ADDRESS_SPEC)


class AccountForm(ContactForm):
    premises_kind = SelectField(_l("Kind of premises"), validate_choice=False)
    litres_per_day = StringField(_l("Waste per day (litres)"),
                                 description=_l("Priced by the fee schedule in force on the start date."))
    start_date = ThaiDateField(_l("First day of service"))
    end_date = ThaiDateField(_l("Last day of service"), description=_l("Leave empty for an open-ended service."))


class TierForm(FlaskForm):
    premises_kind = SelectField(_l("Kind of premises"), validate_choice=False)
    litres_per_day = StringField(_l("Waste per day (litres)"))
    effective_from = ThaiDateField(_l("From"))


class CloseForm(FlaskForm):
    end_date = ThaiDateField(_l("Last day of service"))


ACCOUNT_FIELD_ORDER = ("premises_kind", "holder_name", "business_name", "national_id", "phone", "email",
                       "address", "litres_per_day", "start_date", "end_date", "route_id", "route_seq")
# the service's error keys that belong to one form field
FIELD_OF = {"address_line": "address", "subdistrict_code": "address", "postcode": "address"}


def _account_form(form_class, item: WasteAccount | None = None):
    data = None
    if item is not None:
        data = {name: getattr(item, name) for name in ("holder_name", "business_name", "national_id", "phone",
                                                      "email", "route_seq")}
        data.update(route_id=str(item.route_id or ""),
                    address={"line": item.address_line, "subdistrict": item.subdistrict_code,
                             "postcode": item.postcode})
    form = form_class(data=data)
    form.route_id.choices = _route_choices(item.route_id if item is not None else None)
    if hasattr(form, "premises_kind"):
        form.premises_kind.choices = _kind_choices()
    return form


def _raw(form) -> dict:
    """What the person typed, as accounts.py reads it (dates as typed in พ.ศ.; it parses and checks them)."""
    raw = {}
    for name, field in form._fields.items():
        if name in ("csrf_token", "address"):
            continue
        raw[name] = field.raw_text if isinstance(field, ThaiDateField) else field.data
    address = request.form
    raw.update(address_line=address.get("address-line", ""), subdistrict_code=address.get("address-subdistrict", ""),
               postcode=address.get("address-postcode", ""))
    return raw


def _show_errors(form, errors: dict[str, str]) -> None:
    """The service's messages under the fields they belong to, once each (a box's own parse error may say
    the same)."""
    for key, message in errors.items():
        field = form._fields.get(FIELD_OF.get(key, key))
        if field is None:
            flash(message, "danger")
            continue
        field.errors = list(field.errors or [])
        if message not in field.errors:
            field.errors.append(message)


def _submit(form, action):
    """Run the account step with what was typed; commit only when the form and the step are both without a
    mistake. Returns the step's result, or None (nothing written) with the messages on the form."""
    form.validate()  # the CSRF token, and each box's own reading (a date, the address)
    try:
        result = action(_raw(form))
    except accounts.AccountError as exc:
        db.session.rollback()
        _show_errors(form, exc.errors)
        return None
    except UserError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return None
    if any(field.errors for field in form):
        db.session.rollback()
        return None
    db.session.commit()
    return result


def _receipt_pdf_endpoint() -> tuple[str, str] | None:
    """The receipts' PDF (/waste/receipts/<id>/pdf), when the receipt screens are installed: (endpoint, arg)."""
    cache = current_app.extensions.setdefault("waste_receipt_pdf", {})
    if "found" not in cache:
        cache["found"] = None
        for rule in current_app.url_map.iter_rules():
            match = re.fullmatch(r"/waste/receipts/<(?:[a-z]+:)?([a-z_]+)>/pdf", rule.rule)
            if match and "GET" in (rule.methods or ()):
                cache["found"] = (rule.endpoint, match.group(1))
                break
    return cache["found"]


def _may_open(endpoint: str) -> bool:
    """Whether the person may open a FAB view's endpoint (no link that ends in 403)."""
    appbuilder = current_app.appbuilder
    view_name, _dot, method = endpoint.partition(".")
    for view in appbuilder.baseviews:
        if type(view).__name__ == view_name:
            name = (view.method_permission_name or {}).get(method, method)
            return appbuilder.sm.has_access(f"can_{name}", view.class_permission_name)
    return True  # not a FAB view: its own check decides


def _receipt_pdf_links(receipt_ids) -> dict[int, str]:
    found = _receipt_pdf_endpoint()
    if not found or not _may_open(found[0]):
        return {}
    return {pk: url_for(found[0], **{found[1]: pk}) for pk in receipt_ids}


class WasteAccountView(TenantModelView):
    """The list and search of accounts; adding, editing, re-tiering and closing go through accounts.py."""

    route_base = "/waste/accounts"
    datamodel = ComputedInterface(WasteAccount, computed={
        "tier": lambda a, _ctx: tier_text(a.premises_kind, a.litres_per_day),
        "status": lambda a, _ctx: status_text(a),
    })
    list_title = _l("Service accounts")
    show_title = _l("Service account")
    list_columns = ["account_no", "holder_name", "business_name", "route", "tier", "start_date", "end_date",
                    "status"]
    search_columns = ["account_no", "holder_name", "business_name", "route", "premises_kind", "start_date",
                      "end_date"]
    order_columns = ["account_no", "holder_name", "start_date", "end_date"]
    base_order = ("account_no", "desc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_change_tier", "can_close"]
    method_permission_name = {"list": "list", "show": "show", "add": "add", "edit": "edit", "tier": "change_tier",
                              "close": "close"}
    label_columns = {
        "account_no": _l("Account no."), "holder_name": _l("Account holder"),
        "business_name": _l("Shop or business name"), "route": _l("Collection route"), "tier": _l("Tier"),
        "premises_kind": _l("Kind of premises"), "start_date": _l("First day of service"),
        "end_date": _l("Last day of service"), "status": _l("Status"),
    }
    search_form_extra_fields = {
        "premises_kind": SelectField(_l("Kind of premises"),
                                     choices=[(kind, name) for kind, name in KIND_NAMES.items()]),
    }

    # --- add and edit ----------------------------------------------------------------------------------------

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        form = _account_form(AccountForm)
        if request.method == "POST":
            account = _submit(form, lambda raw: accounts.open_account(raw, person_name(g.user)))
            if account is not None:
                flash(_("Account %(no)s opened. Its check code is %(code)s: give it to the holder with the "
                        "account number.", no=account.account_no, code=account.check_code), "success")
                return redirect(url_for(".show", pk=account.id))
            return self._form_page(form, None, status=422)
        if not form.start_date.data:
            form.start_date.data = thai.today_bangkok()
        return self._form_page(form, None)

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        item = self.datamodel.get(pk)
        if item is None:
            abort(404)
        form = _account_form(ContactForm, item)
        if request.method == "POST":
            if _submit(form, lambda raw: accounts.update_contact(item, raw)) is not None:
                flash(_("Saved."), "success")
                return redirect(url_for(".show", pk=item.id))
            return self._form_page(form, self.datamodel.get(pk), status=422)
        return self._form_page(form, item)

    def _form_page(self, form, item, status: int = 200):
        title = _("Edit service account %(no)s", no=item.account_no) if item else _("Open a service account")
        fields = [form._fields[name] for name in ACCOUNT_FIELD_ORDER if name in form._fields]
        return self.render_template("billing/waste_account_form.html", form=form, fields=fields, item=item,
                                    title=title, appbuilder=self.appbuilder), status

    # --- the account page: details, tiers, bills, receipts, arrears; the tier and close steps --------------

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        item = self.datamodel.get(pk)
        if item is None:
            abort(404)
        return self._show_page(item)

    def _show_page(self, item, tier_form=None, close_form=None, status: int = 200):
        if tier_form is None:
            tier_form = TierForm(formdata=None, data={"premises_kind": item.premises_kind})
        tier_form.premises_kind.choices = _kind_choices()
        close_form = close_form or CloseForm(formdata=None)
        calc = invoices.DueCalculator()
        bills = db.session.scalars(select(WasteInvoice).where(WasteInvoice.account_id == item.id)
                                   .order_by(WasteInvoice.period_start.desc())).all()
        rows = []
        arrears = Decimal("0.00")
        for bill in bills:
            due = None if bill.receipt_id is not None else calc.due(bill)
            if due is not None and due.late:
                arrears += due.total
            rows.append({"bill": bill, "due": due, "period": tariffs.period_label(bill.period_start)})
        found = invoices.receipts_of(item.id)
        links = _receipt_pdf_links([r.id for r in found])
        receipts = [(r, links.get(r.id)) for r in found]
        return self.render_template(
            "billing/waste_account_show.html", item=item, tiers=accounts.tiers(item), bills=rows, receipts=receipts,
            arrears=arrears, tier_form=tier_form, close_form=close_form, is_open=is_open(item),
            status_text=status_text(item), tier_text=tier_text, kind_text=kind_text, address=_address_text(item),
            may_edit=self._allowed("edit"), may_tier=self._allowed("tier"), may_close=self._allowed("close"),
            title=self.show_title, appbuilder=self.appbuilder,
        ), status

    def _allowed(self, method: str) -> bool:
        name = self.method_permission_name.get(method, method)
        return self.appbuilder.sm.has_access(f"can_{name}", self.class_permission_name)

    @expose("/tier/<pk>", methods=["POST"])
    @has_access
    def tier(self, pk):
        item = self.datamodel.get(pk)
        if item is None:
            abort(404)
        form = TierForm()
        form.premises_kind.choices = _kind_choices()
        tier = _submit(form, lambda raw: accounts.change_tier(item, raw, person_name(g.user)))
        if tier is None:
            return self._show_page(self.datamodel.get(pk), tier_form=form, status=422)
        flash(_("From %(day)s the account is billed as %(tier)s.", day=thai.format_date(tier.effective_from),
                tier=tier_text(tier.premises_kind, tier.litres_per_day)), "success")
        return redirect(url_for(".show", pk=item.id))

    @expose("/close/<pk>", methods=["POST"])
    @has_access
    def close(self, pk):
        item = self.datamodel.get(pk)
        if item is None:
            abort(404)
        form = CloseForm()
        closed = _submit(form, lambda raw: accounts.close_account(item, raw))
        if closed is None:
            return self._show_page(self.datamodel.get(pk), close_form=form, status=422)
        flash(_("The service ends on %(day)s; later periods are not billed.",
                day=thai.format_date(closed.end_date)), "success")
        return redirect(url_for(".show", pk=item.id))


def _address_text(account: WasteAccount) -> str:
    import geothai

    found = geothai.address(account.subdistrict_code)
    parts = [account.address_line]
    if found is not None:
        parts += [found.subdistrict.name_th, found.district.name_th, found.province.name_th]
    parts.append(account.postcode)
    return " ".join(p for p in parts if p)


# --- settings ---------------------------------------------------------------------------------------------

class SettingsForm(FlaskForm):
    period_months = SelectField(_l("Months in a billing period"), validate_choice=False)
    due_days = StringField(_l("Days after the period until the bill is due"))
    service_code = SelectField(_l("Service whose fee schedule prices the bills"), validate_choice=False)


def _service_choices():
    from app.catalog.models import ServiceType

    return [(s.code, str(s)) for s in db.session.scalars(select(ServiceType).order_by(ServiceType.code))]


def save_settings(raw) -> WasteSettings:
    """Check and save the organisation's settings (one row, made the first time). The caller commits."""
    errors = {}
    months = str(raw.get("period_months") or "").strip()
    if not months.isdigit() or int(months) not in tariffs.PERIOD_MONTHS:
        errors["period_months"] = _("A billing period is 1, 2, 3, 4, 6 or 12 months.")
    days = str(raw.get("due_days") or "").strip()
    if not days.isdigit() or int(days) > 90:
        errors["due_days"] = _("Give a whole number of days from 0 to 90.")
    code = str(raw.get("service_code") or "")
    if code not in {c for c, _name in _service_choices()}:
        errors["service_code"] = _("Choose one of this organisation's services.")
    if errors:
        raise accounts.AccountError(errors)
    found = db.session.scalar(select(WasteSettings))
    if found is None:
        found = WasteSettings()
        db.session.add(found)
    found.period_months, found.due_days, found.service_code = int(months), int(days), code
    db.session.flush()
    return found


class WasteSettingsView(BaseView):
    """The organisation's waste-fee settings (the tenant administrator's), with the schedule in force and
    what a few tiers pay under it."""

    route_base = "/waste/settings"
    default_view = "index"
    base_permissions = ["can_show", "can_edit"]
    method_permission_name = {"index": "show", "save": "edit"}

    @expose("/", methods=["GET"])
    @has_access
    def index(self):
        conf = tariffs.settings()
        form = SettingsForm(formdata=None, data={"period_months": str(conf.period_months),
                                                 "due_days": str(conf.due_days), "service_code": conf.service_code})
        return self._page(form)

    @expose("/", methods=["POST"])
    @has_access
    def save(self):
        form = SettingsForm()
        if _submit(form, lambda raw: save_settings(raw)) is not None:
            flash(_("Saved."), "success")
            return redirect(url_for(".index"))
        return self._page(form, status=422)

    def _page(self, form, status: int = 200):
        form.period_months.choices = [(str(m), _("%(n)d month(s)", n=m)) for m in tariffs.PERIOD_MONTHS]
        form.service_code.choices = [("", "—")] + _service_choices()
        conf = tariffs.settings()
        saved = db.session.scalar(select(WasteSettings.id)) is not None
        today = thai.today_bangkok()
        schedule, examples, problem = None, [], None
        try:
            found = tariffs.tariff(today, conf)
        except UserError as exc:
            problem = exc.message
        else:
            from app.catalog.models import FeeSchedule

            schedule = db.session.get(FeeSchedule, found.schedule_id)
            for litres in EXAMPLE_LITRES:
                row = {"litres": litres}
                for kind in PREMISES_KINDS:
                    try:
                        amount, _code = found.price(kind, Decimal(litres))
                        row[kind] = (amount / found.months).quantize(Decimal("0.01")), amount
                    except Exception:  # a tier this schedule cannot price
                        row[kind] = None
                examples.append(row)
        may_edit = self.appbuilder.sm.has_access("can_edit", self.class_permission_name)
        return self.render_template(
            "billing/waste_settings.html", form=form, conf=conf, saved=saved, schedule=schedule, examples=examples,
            problem=problem, today=today, kinds=[(k, kind_text(k)) for k in PREMISES_KINDS], may_edit=may_edit,
            title=_("Waste-fee settings"), appbuilder=self.appbuilder,
        ), status

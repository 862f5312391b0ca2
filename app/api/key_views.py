"""The tenant admin's screens for integration keys (/integrations/keys): the list, one key's page, making a key,
rotating and revoking one. The token is shown once, on the page that answers the make or rotate step; only
its prefix and a hash are kept, so no screen can show it again. The work is app/api/keys.py."""
from __future__ import annotations

import secrets
from datetime import datetime, time, timezone, timedelta

from flask import abort, flash, g, make_response, redirect, request, session, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.security.sqla.models import User
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from wtforms import HiddenField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app import thai
from app.api import keys
from app.api.models import SCOPE_NAMES, SCOPES, IntegrationKey
from app.extensions import db
from app.security.services import person_name
from app.tenancy.context import require_tenant_id
from app.tenancy.errors import UserError
from app.tenancy.fab import TenantModelView
from app.tenancy.interface import TenantInterface
from app.thai_forms import ThaiDateField, thai_ordered

STATUS_CSS = {keys.ACTIVE: "success", keys.EXPIRED: "default", keys.REVOKED: "danger"}
FORMS_KEPT = 10  # make-a-key forms remembered per session, so a resubmitted form does not make a second key


def prefix_text(prefix: str) -> str:
    return f"{keys.TOKEN_PREFIX}{prefix}…"


def scopes_text(scopes) -> str:
    return ", ".join(s for s in SCOPES if s in (scopes or []))


def status_label(key: IntegrationKey) -> Markup:
    state = keys.status(key)
    label = Markup('<span class="label label-{}">{}</span>').format(STATUS_CSS[state], keys.STATUS_NAMES[state])
    if state == keys.ACTIVE and key.expires_at is not None:  # e.g. a rotated key in its grace period
        label += Markup(" <small>{}</small>").format(_("until %(when)s", when=thai.format_datetime(key.expires_at)))
    return label


def last_used_text(key: IntegrationKey) -> str:
    if key.last_used_at is None:
        return _("Never used")
    when = thai.format_datetime(key.last_used_at)
    return _("%(when)s from %(address)s", when=when, address=key.last_used_ip) if key.last_used_ip else when


def expiry_text(key: IntegrationKey) -> str:
    if not key.expires_at:
        return _("Does not expire")
    local = thai.to_bangkok(key.expires_at)
    if (local.hour, local.minute, local.second) == (0, 0, 0):  # a chosen last day: say that day, not the midnight after
        return _("until the end of %(day)s", day=thai.format_date(local.date() - timedelta(days=1)))
    return thai.format_datetime(key.expires_at)


class KeyInterface(TenantInterface):
    """Keys with their computed columns (status, last use) for the list and show pages."""

    COMPUTED = {"status": status_label, "last_used": last_used_text}

    def get_values(self, lst, list_columns):
        for item in lst:
            yield {col: (self.COMPUTED[col](item) if col in self.COMPUTED else self._get_attr_value(item, col))
                   for col in list_columns}

    def get_values_item(self, item, show_columns):
        return [self.COMPUTED[col](item) if col in self.COMPUTED else self._get_attr_value(item, col)
                for col in show_columns]


def expiry_of(day) -> datetime | None:
    """The chosen day is the key's last day: it stops at midnight at the end of it, Bangkok time (stored naive UTC)."""
    if day is None:
        return None
    start = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=thai.BANGKOK)
    return start.astimezone(timezone.utc).replace(tzinfo=None)


class ScopesField(SelectMultipleField):
    """The scopes as checkboxes, each with its explanation."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        if not self.data:
            raise ValidationError(_("Choose at least one scope."))
        super().pre_validate(form)


class AtLeastTomorrow:
    def __call__(self, form, field):
        if field.data is not None and field.data <= thai.today_bangkok():
            raise ValidationError(_("Choose a day after today, or leave the box empty."))


class KeyForm(FlaskForm):
    form_id = HiddenField()
    name = StringField(_l("Name"), description=_l("Which system uses the key, e.g. the province's complaint centre."),
                       validators=[InputRequired(message=_l("Give the key a name (which system uses it).")),
                                   Length(max=100)])
    scopes = ScopesField(_l("Scopes"), choices=[(s, SCOPE_NAMES[s]) for s in SCOPES])
    acting_user_id = SelectField(_l("Acts as"), validators=[
        DataRequired(message=_l("Choose an active user of this organisation."))], description=_l(
        "The key can do only what this user may do (their roles and division), within its scopes."))
    expires_on = ThaiDateField(_l("Last day"), validators=[AtLeastTomorrow()], description=_l(
        "The key works until the end of this day (midnight, Bangkok time). Leave empty for a key that does not "
        "expire."))
    rate_limit_per_minute = IntegerField(
        _l("Calls per minute"), default=120,
        validators=[InputRequired(message=_l("Give a whole number from 1 to 10,000.")),
                    NumberRange(min=1, max=10000, message=_l("Give a whole number from 1 to 10,000."))])


class ConfirmForm(FlaskForm):
    """Rotate and revoke: a POST with the CSRF token and nothing else."""


def _active_users():
    tenant_id = require_tenant_id()
    users = db.session.scalars(select(User).where(User.tenant_id == tenant_id, User.active.is_(True)))
    return thai_ordered(users)


def _user_label(user) -> str:
    name = person_name(user)
    return name if name == user.username else f"{name} ({user.username})"


class IntegrationKeyView(TenantModelView):
    route_base = "/integrations/keys"
    datamodel = KeyInterface(IntegrationKey)
    list_title = _l("API keys")
    show_title = _l("API key")
    list_columns = ["name", "prefix", "scopes", "acting_user", "status", "expires_at", "last_used",
                    "rate_limit_per_minute", "created_by_name"]
    search_columns = ["name", "prefix", "created_by_name"]
    order_columns = ["name", "expires_at", "rate_limit_per_minute", "created_by_name"]
    base_order = ("id", "desc")
    page_size = 25
    base_permissions = ["can_list", "can_show", "can_add", "can_rotate", "can_revoke"]
    method_permission_name = {"list": "list", "show": "show", "add": "add", "rotate": "rotate",
                              "revoke": "revoke"}
    label_columns = {
        "name": _l("Name"), "prefix": _l("Key"), "scopes": _l("Scopes"), "acting_user": _l("Acts as"),
        "status": _l("Status"), "expires_at": _l("Expires"), "last_used": _l("Last used"),
        "rate_limit_per_minute": _l("Calls per minute"), "created_by_name": _l("Made by"),
    }
    formatters_columns = {
        "prefix": prefix_text,
        "scopes": scopes_text,
        "acting_user": lambda user: _user_label(user) if user is not None else "-",
        "expires_at": lambda value: thai.format_datetime(value) if value else _("Does not expire"),
    }

    def _allowed(self, method: str) -> bool:
        return bool(self.appbuilder.sm.has_access(f"can_{self.method_permission_name[method]}",
                                                  self.class_permission_name))

    def _key(self, pk) -> IntegrationKey:
        key = self.datamodel.get(pk)
        if key is None:
            abort(404)  # another organisation's key, or none
        return key

    # --- one key -----------------------------------------------------------------------------------------

    @expose("/show/<pk>")
    @has_access
    def show(self, pk):
        key = self._key(pk)
        successor = db.session.scalar(select(IntegrationKey).where(IntegrationKey.rotated_from_id == key.id))
        predecessor = db.session.get(IntegrationKey, key.rotated_from_id) if key.rotated_from_id else None
        return self.render_template(
            "api/keys/show.html", key=key, state=keys.status(key), status_label=status_label(key),
            prefix=prefix_text(key.prefix), scope_names=[(s, SCOPE_NAMES[s]) for s in SCOPES if s in key.scopes],
            acting_user=_user_label(key.acting_user) if key.acting_user else "-", expiry=expiry_text(key),
            last_used=last_used_text(key), successor=successor, predecessor=predecessor,
            may_rotate=self._allowed("rotate") and keys.status(key) == keys.ACTIVE and successor is None,
            may_revoke=self._allowed("revoke") and key.revoked_at is None,
            title=_("API key %(name)s", name=key.name), appbuilder=self.appbuilder,
        )

    # --- making a key ------------------------------------------------------------------------------------

    def _form(self, formdata=None) -> KeyForm:
        form = KeyForm(formdata=formdata) if formdata is not None else KeyForm()
        form.acting_user_id.choices = [("", "—")] + [(str(u.id), _user_label(u)) for u in _active_users()]
        return form

    def _form_page(self, form, status: int = 200):
        return self.render_template(
            "api/keys/form.html", form=form, title=_("Make an API key"), appbuilder=self.appbuilder,
            scope_help={s: SCOPE_NAMES[s] for s in SCOPES}), status

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        if request.method == "GET":
            form = self._form(formdata=None)
            form.form_id.data = secrets.token_urlsafe(16)
            form.scopes.data = ["read"]
            return self._form_page(form)
        form = self._form()
        done = session.get("api_key_forms", {})
        if form.form_id.data and form.form_id.data in done:
            # the same form sent again (reload, double click): the key exists, its token was shown once
            found = db.session.get(IntegrationKey, done[form.form_id.data])
            if found is not None:
                flash(_("This key was already made; its token was shown once and cannot be shown again."), "warning")
                return redirect(url_for(".show", pk=found.id))
        if not form.validate():
            return self._form_page(form, 422)
        users = {u.id: u for u in _active_users()}
        user = users.get(int(form.acting_user_id.data)) if (form.acting_user_id.data or "").isdigit() else None
        if user is None:
            form.acting_user_id.errors = [_("Choose an active user of this organisation.")]
            return self._form_page(form, 422)
        try:
            key, token = keys.issue(
                require_tenant_id(), name=form.name.data, scopes=form.scopes.data, acting_user=user,
                expires_at=expiry_of(form.expires_on.data), rate_limit_per_minute=form.rate_limit_per_minute.data,
                created_by_name=person_name(g.user))
            db.session.commit()
        except UserError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
            return self._form_page(form, 422)
        if form.form_id.data:
            kept = dict(list(done.items())[-(FORMS_KEPT - 1):])
            kept[form.form_id.data[:40]] = key.id
            session["api_key_forms"] = kept
        return self._token_page(key, token, rotated=False)

    def _token_page(self, key: IntegrationKey, token: str, rotated: bool, old: IntegrationKey | None = None):
        hours = int(keys.ROTATION_GRACE.total_seconds() // 3600)
        response = make_response(self.render_template(
            "api/keys/token.html", key=key, token=token, rotated=rotated, old=old, grace_hours=hours,
            old_expiry=expiry_text(old) if old is not None else "", title=_("The new API key"),
            appbuilder=self.appbuilder))
        response.headers["Cache-Control"] = "no-store"  # the token must not stay in a cache
        return response

    # --- rotate and revoke -------------------------------------------------------------------------------

    @expose("/rotate/<pk>", methods=["GET", "POST"])
    @has_access
    def rotate(self, pk):
        key = self._key(pk)
        successor = db.session.scalar(select(IntegrationKey).where(IntegrationKey.rotated_from_id == key.id))
        if successor is not None:
            flash(_("This key has already been rotated: its new key is %(key)s.", key=prefix_text(successor.prefix)),
                  "warning")
            return redirect(url_for(".show", pk=successor.id))
        form = ConfirmForm()
        hours = int(keys.ROTATION_GRACE.total_seconds() // 3600)
        if request.method == "POST" and form.validate():
            try:
                new_key, token = keys.rotate(key, by_name=person_name(g.user))
                db.session.commit()
            except UserError as exc:
                db.session.rollback()
                flash(exc.message, "danger")
                return redirect(url_for(".show", pk=key.id))
            return self._token_page(new_key, token, rotated=True, old=key)
        return self.render_template(
            "api/keys/confirm.html", key=key, form=form, action="rotate", prefix=prefix_text(key.prefix),
            grace_hours=hours, title=_("Rotate the key %(name)s", name=key.name), appbuilder=self.appbuilder)

    @expose("/revoke/<pk>", methods=["GET", "POST"])
    @has_access
    def revoke(self, pk):
        key = self._key(pk)
        form = ConfirmForm()
        if key.revoked_at is not None:
            flash(_("This key has already been revoked."), "info")
            return redirect(url_for(".show", pk=key.id))
        if request.method == "POST" and form.validate():
            keys.revoke(key, by_name=person_name(g.user))
            db.session.commit()
            flash(_("The key %(key)s has been revoked: it no longer works.", key=prefix_text(key.prefix)), "success")
            return redirect(url_for(".show", pk=key.id))
        return self.render_template(
            "api/keys/confirm.html", key=key, form=form, action="revoke", prefix=prefix_text(key.prefix),
            grace_hours=0, title=_("Revoke the key %(name)s", name=key.name), appbuilder=self.appbuilder)

"""The tenant admin's webhook screens (การเชื่อมต่อระบบ): subscriptions (/integrations/webhooks: list, add,
edit, delete, rotate the secret; the secret is shown once, on the GET page the add or the rotation redirects
to, so a reload neither repeats the POST nor shows the secret again)
and the deliveries log (/integrations/webhook-deliveries: filter, read the body and the outcome, send again).
The work is app/api/webhooks.py."""
from __future__ import annotations

import json

from flask import abort, flash, g, make_response, redirect, request, session, url_for
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.security.decorators import has_access
from flask_wtf import FlaskForm
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app import thai
from app.api import webhooks
from app.api.models import (
    DELIVERY_STATE_NAMES, DELIVERY_STATES, EVENT_NAMES, EVENTS, FAILED, PENDING, SUCCEEDED, WebhookDelivery,
    WebhookSubscription,
)
from app.extensions import db
from app.security.services import person_name
from app.tenancy.errors import UserError
from app.tenancy.fab import TenantModelView
from app.tenancy.interface import TenantInterface

STATUS_CSS = {PENDING: "warning", SUCCEEDED: "success", FAILED: "danger"}


def events_text(events) -> str:
    return ", ".join(str(EVENT_NAMES[e]) for e in EVENTS if e in (events or []))


def status_label(value) -> Markup:
    return Markup('<span class="label label-{}">{}</span>').format(
        STATUS_CSS.get(value, "default"), DELIVERY_STATE_NAMES.get(value, value))


def payload_text(value) -> Markup:
    return Markup('<pre class="webhook-payload">{}</pre>').format(
        json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2))


class EventsField(SelectMultipleField):
    """The events as checkboxes, each with its meaning."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        if not self.data:
            raise ValidationError(_("Choose at least one event."))
        super().pre_validate(form)


def event_choices():
    """Called each time a form is made, so the labels are in the language of that request."""
    return [(e, f"{EVENT_NAMES[e]} ({e})") for e in EVENTS]


def _user_error_check(check):
    """A services.py check as a WTForms validator: its UserError shows under the field."""
    def validator(form, field):
        try:
            field.data = check(field.data)
        except UserError as exc:
            raise ValidationError(exc.message) from None
    return validator


def _events_field():
    return EventsField(_l("Events"), choices=event_choices, description=_l("What the receiver is told about."))


def _name_field():
    return StringField(_l("Name"), validators=[_user_error_check(webhooks._name)],
                       description=_l("Which system receives the events, e.g. the province's complaint centre."))


def _url_field():
    return StringField(_l("Receiving URL"), validators=[_user_error_check(webhooks.check_url)], description=_l(
        "An https:// address on the public Internet; each event is POSTed to it as JSON, signed."))


def error_lines(value) -> Markup:
    reason, detail = webhooks.error_text(value)
    if not reason:
        return Markup("—")
    if not detail:
        return Markup("{}").format(reason)
    return Markup('{}<br><small class="text-muted webhook-error-detail">{}</small>').format(reason, detail)


class ConfirmForm(FlaskForm):
    """Rotating the secret: a POST with the CSRF token and nothing else."""


SESSION_KEY = "webhook_secret_once"


class WebhookView(TenantModelView):
    route_base = "/integrations/webhooks"
    datamodel = TenantInterface(WebhookSubscription)
    list_title = _l("Webhooks")
    show_title = _l("Webhook")
    add_title = _l("Add a webhook")
    edit_title = _l("Edit the webhook")
    list_columns = ["name", "url", "events", "active", "created_at"]
    show_columns = ["name", "url", "events", "active", "created_at", "created_by_name"]
    add_columns = edit_columns = ["name", "url", "events", "active"]
    search_columns = ["name", "url", "active"]
    order_columns = ["name", "created_at"]
    base_order = ("id", "desc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete", "rotate_secret"]
    label_columns = {"name": _l("Name"), "url": _l("Receiving URL"), "events": _l("Events"), "active": _l("On"),
                     "created_at": _l("Made on"), "created_by_name": _l("Made by")}
    description_columns = {
        "name": _l("Which system receives the events, e.g. the province's complaint centre."),
        "url": _l("An https:// address on the public Internet; each event is POSTed to it as JSON, signed."),
        "active": _l("Switched off, the webhook is told nothing."),
    }
    show_template = "api/webhooks/show.html"
    add_form_extra_fields = {"name": _name_field(), "url": _url_field(), "events": _events_field()}
    edit_form_extra_fields = {"name": _name_field(), "url": _url_field(), "events": _events_field()}
    formatters_columns = {"events": events_text}

    def pre_add(self, item: WebhookSubscription) -> None:
        item.name = webhooks._name(item.name)
        item.url = webhooks.check_url(item.url)
        item.events = webhooks.check_events(item.events)
        secret = webhooks.new_secret()
        item.secret_sealed = webhooks.seal(secret)
        item.created_by_name = person_name(g.user)[:200]
        g.webhook_secret = secret

    def pre_update(self, item: WebhookSubscription) -> None:
        item.name = webhooks._name(item.name)
        item.url = webhooks.check_url(item.url)
        item.events = webhooks.check_events(item.events)

    def _keep_secret(self, item: WebhookSubscription, secret: str, rotated: bool) -> None:
        # kept sealed in the session for one showing only; the browser then GETs the secret page
        session[SESSION_KEY] = {"id": item.id, "sealed": webhooks.seal(secret), "rotated": rotated}

    @expose("/secret/<int:pk>")
    def secret(self, pk):
        # shown to whoever just added or rotated: the permissions of those two steps, no new one
        if not (self.appbuilder.sm.has_access("can_add", self.class_permission_name)
                or self.appbuilder.sm.has_access("rotate_secret", self.class_permission_name)):
            abort(403)
        item = webhooks.get_subscription(pk)
        if item is None:
            abort(404)
        kept = session.get(SESSION_KEY) or {}
        secret = webhooks.unseal(kept.get("sealed", "")) if kept.get("id") == item.id else None
        if secret is None:
            flash(_("The signing secret was shown once and cannot be shown again; rotate it to get a new one."),
                  "warning")
            return redirect(url_for(".show", pk=item.id))
        session.pop(SESSION_KEY, None)
        response = make_response(self.render_template(
            "api/webhooks/secret.html", item=item, secret=secret, rotated=bool(kept.get("rotated")),
            recipe=_('X-Thongthin-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>'),
            title=_("The signing secret of %(name)s", name=item.name), appbuilder=self.appbuilder))
        response.headers["Cache-Control"] = "no-store"  # the secret must not stay in a cache
        return response

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        g.webhook_secret = None
        widgets = self._add()
        if widgets is None:
            secret = g.pop("webhook_secret", None)
            item = webhooks.get_subscription(g.pop("webhook_added_id", None))
            if secret and item is not None:
                self._keep_secret(item, secret, rotated=False)
                return redirect(url_for(".secret", pk=item.id))
            return self.post_add_redirect()
        return self.render_template(self.add_template, title=self.add_title, widgets=widgets)

    def post_add(self, item: WebhookSubscription) -> None:
        g.webhook_added_id = item.id

    @expose("/rotate/<int:pk>", methods=["GET", "POST"])
    def rotate(self, pk):
        # the permission stays "rotate_secret" (seeded roles, the REST API)
        if not self.appbuilder.sm.has_access("rotate_secret", self.class_permission_name):
            abort(403)
        item = webhooks.get_subscription(pk)
        if item is None:
            abort(404)
        form = ConfirmForm()
        if request.method == "POST" and form.validate():
            secret = webhooks.rotate_secret(item)
            db.session.commit()
            self._keep_secret(item, secret, rotated=True)
            return redirect(url_for(".secret", pk=item.id))
        return self.render_template(
            "api/webhooks/rotate.html", item=item, form=form,
            title=_("Rotate the secret of %(name)s", name=item.name), appbuilder=self.appbuilder)


class WebhookDeliveryView(TenantModelView):
    route_base = "/integrations/webhook-deliveries"
    datamodel = TenantInterface(WebhookDelivery)
    list_title = _l("Webhook deliveries")
    show_title = _l("Webhook delivery")
    list_columns = ["created_at", "subscription", "event_type", "status", "attempts", "last_status_code",
                    "last_attempt_at", "next_attempt_at"]
    show_columns = ["subscription", "event_type", "event_id", "status", "attempts", "last_status_code",
                    "last_error", "created_at", "last_attempt_at", "next_attempt_at", "delivered_at", "payload"]
    search_columns = ["event_type", "status", "subscription", "created_at"]
    order_columns = ["created_at", "attempts"]
    base_order = ("id", "desc")
    base_permissions = ["can_list", "can_show", "replay"]
    label_columns = {
        "created_at": _l("Event time"), "subscription": _l("Webhook"), "event_type": _l("Event"),
        "event_id": _l("Event id"), "status": _l("Status"), "attempts": _l("Attempts"),
        "last_status_code": _l("Last HTTP status"), "last_error": _l("Last error"),
        "last_attempt_at": _l("Last attempt"), "next_attempt_at": _l("Next attempt"),
        "delivered_at": _l("Delivered at"), "payload": _l("Body sent"),
    }
    search_form_extra_fields = {
        "event_type": SelectField(_l("Event"), choices=event_choices),
        "status": SelectField(_l("Status"), choices=[(s, DELIVERY_STATE_NAMES[s]) for s in DELIVERY_STATES]),
    }
    formatters_columns = {
        "event_type": lambda value: f"{EVENT_NAMES.get(value, value)} ({value})",
        "status": status_label,
        "payload": payload_text,
        "last_status_code": lambda value: "—" if value is None else value,
        "last_error": error_lines,
        "last_attempt_at": lambda value: thai.format_datetime(value) if value else "—",
        "next_attempt_at": lambda value: thai.format_datetime(value) if value else "—",
        "delivered_at": lambda value: thai.format_datetime(value) if value else "—",
    }

    @action("replay", _l("Send again"), _l("Send the same event again to its webhook?"), "fa-repeat",
            multiple=True, single=True)
    def replay(self, items):
        items = items if isinstance(items, list) else [items]
        sent, refused = 0, []
        for item in items:
            try:
                webhooks.replay(item)
                sent += 1
            except UserError as exc:
                refused.append(f"{item.subscription.name}: {exc.message}")
        db.session.commit()
        if sent:
            flash(_("%(count)s deliveries sent again; the outcome shows in the log.", count=sent), "success")
        for message in refused:
            flash(message, "danger")
        if len(items) == 1:
            return redirect(url_for(".show", pk=items[0].id))
        return redirect(url_for(".list"))

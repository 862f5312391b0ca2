"""The tenant admin's webhook screens (การเชื่อมต่อระบบ): subscriptions (/integrations/webhooks: list, add,
edit, delete, rotate the secret; the secret is shown once, on the page that answers the add or the rotation)
and the deliveries log (/integrations/webhook-deliveries: filter, read the body and the outcome, send again).
The work is app/api/webhooks.py."""
from __future__ import annotations

import json

from flask import flash, g, make_response, redirect, url_for
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import SelectField, SelectMultipleField
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


def _events_field():
    return EventsField(_l("Events"), choices=[(e, f"{EVENT_NAMES[e]} ({e})") for e in EVENTS],
                       description=_l("What the receiver is told about."))


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
    add_form_extra_fields = {"events": _events_field()}
    edit_form_extra_fields = {"events": _events_field()}
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

    def _secret_page(self, item: WebhookSubscription, secret: str, rotated: bool):
        response = make_response(self.render_template(
            "api/webhooks/secret.html", item=item, secret=secret, rotated=rotated,
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
                return self._secret_page(item, secret, rotated=False)
            return self.post_add_redirect()
        return self.render_template(self.add_template, title=self.add_title, widgets=widgets)

    def post_add(self, item: WebhookSubscription) -> None:
        g.webhook_added_id = item.id

    @action("rotate_secret", _l("Rotate the secret"),
            _l("Make a new signing secret? The old one stops signing at once: the receiver must switch."),
            "fa-refresh", multiple=False)
    def rotate_secret(self, item):
        secret = webhooks.rotate_secret(item)
        db.session.commit()
        return self._secret_page(item, secret, rotated=True)


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
        "event_type": SelectField(_l("Event"), choices=[(e, f"{EVENT_NAMES[e]} ({e})") for e in EVENTS]),
        "status": SelectField(_l("Status"), choices=[(s, DELIVERY_STATE_NAMES[s]) for s in DELIVERY_STATES]),
    }
    formatters_columns = {
        "event_type": lambda value: f"{EVENT_NAMES.get(value, value)} ({value})",
        "status": status_label,
        "payload": payload_text,
        "last_status_code": lambda value: "—" if value is None else value,
        "last_error": lambda value: value or "—",
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

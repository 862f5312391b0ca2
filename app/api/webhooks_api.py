"""Webhook subscriptions and their deliveries (scope manage): subscribe a URL to events, change it, rotate its
secret, remove it; read what was sent and send an event again. The secret is in the answer only when a
subscription is made and when its secret is rotated."""
from __future__ import annotations

from datetime import timezone

from marshmallow import Schema, ValidationError
from marshmallow import fields as mf

from app.api import validate
from app.api import webhook_events  # noqa: F401  (installs the session listeners that emit the events)
from app.api import webhooks
from app.api.auth import require_permission
from app.api.errors import ApiError
from app.api.models import DELIVERY_STATES, EVENTS, MANAGE, WebhookDelivery
from app.api.openapi import PREFIX, ApiBlueprint, guard_blueprint, operation
from app.api.paging import PageArgs, page
from app.api.schemas import page_of
from app.extensions import db
from app.schema_base import Strict, fields
from app.security.services import person_name
from flask import g
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

blp = ApiBlueprint("open_webhooks", __name__, url_prefix=f"{PREFIX}/webhooks",
                   description="Signed webhooks: subscriptions and their deliveries (manage).")
guard_blueprint(blp)

VIEW, DELIVERY_VIEW = "WebhookView", "WebhookDeliveryView"
EVENTS_TEXT = ", ".join(EVENTS)


class WebhookSchema(Schema):
    id = mf.Integer(required=True)
    name = mf.String(required=True)
    url = mf.String(required=True)
    events = mf.List(mf.String(), required=True, metadata={"description": f"any of {EVENTS_TEXT}"})
    active = mf.Boolean(required=True)
    created_at = mf.DateTime(required=True)
    created_by_name = mf.String(required=True)


class WebhookWithSecretSchema(WebhookSchema):
    secret = mf.String(required=True, metadata={
        "description": "the signing secret: shown only now, keep it (X-Thongthin-Signature is an HMAC-SHA256 "
                       "of \"<t>.<body>\" with it)"})


class DeliverySchema(Schema):
    id = mf.Integer(required=True)
    subscription_id = mf.Integer(required=True)
    event_id = mf.String(required=True, metadata={"description": "the event's id (X-Thongthin-Delivery)"})
    event_type = mf.String(required=True)
    status = mf.String(required=True, metadata={"description": "pending, succeeded or failed"})
    attempts = mf.Integer(required=True)
    last_status_code = mf.Integer(required=True, allow_none=True)
    last_error = mf.String(required=True, allow_none=True)
    last_attempt_at = mf.DateTime(required=True, allow_none=True)
    next_attempt_at = mf.DateTime(required=True, allow_none=True)
    delivered_at = mf.DateTime(required=True, allow_none=True)
    created_at = mf.DateTime(required=True)
    payload = mf.Dict(required=True, metadata={"description": "the body sent: id, type, created_at, "
                                                              "jurisdiction_id, data"})


def _check_events(value):
    if not value:
        raise ValidationError([_l("Choose at least one event.")])


class WebhookCreateArgs(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    url = fields.String(required=True, validate=validate.Length(min=1, max=500),
                        metadata={"description": "http(s) URL on the public Internet"})
    events = fields.List(fields.String(validate=validate.OneOf(EVENTS)), required=True, validate=_check_events)
    active = fields.Boolean(load_default=True)


class WebhookUpdateArgs(Strict):
    name = fields.String(validate=validate.Length(min=1, max=100))
    url = fields.String(validate=validate.Length(min=1, max=500))
    events = fields.List(fields.String(validate=validate.OneOf(EVENTS)), validate=_check_events)
    active = fields.Boolean()


class WebhookListArgs(PageArgs):
    active = fields.Boolean(load_default=None)


class DeliveryListArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(DELIVERY_STATES))
    event_type = fields.String(load_default=None, validate=validate.OneOf(EVENTS))


def _utc(value):
    """Stored naive UTC; sent with its offset (RFC 3339 date-time)."""
    return None if value is None else value.replace(tzinfo=timezone.utc)


def out(subscription, secret: str | None = None) -> dict:
    data = {"id": subscription.id, "name": subscription.name, "url": subscription.url,
            "events": list(subscription.events or []), "active": subscription.active,
            "created_at": _utc(subscription.created_at), "created_by_name": subscription.created_by_name or ""}
    if secret is not None:
        data["secret"] = secret
    return data


def delivery_out(d: WebhookDelivery) -> dict:
    return {"id": d.id, "subscription_id": d.subscription_id, "event_id": d.event_id, "event_type": d.event_type,
            "status": d.status, "attempts": d.attempts, "last_status_code": d.last_status_code,
            "last_error": d.last_error, "last_attempt_at": _utc(d.last_attempt_at),
            "next_attempt_at": _utc(d.next_attempt_at), "delivered_at": _utc(d.delivered_at),
            "created_at": _utc(d.created_at), "payload": d.payload}


def _subscription(pk: int):
    if not 0 < pk < 2**31:
        raise ApiError(404)
    found = webhooks.get_subscription(pk)
    if found is None:
        raise ApiError(404)
    return found


@blp.route("")
@operation(blp, MANAGE)
@blp.arguments(WebhookListArgs, location="query")
@blp.response(200, page_of(WebhookSchema))
def list_webhooks(args):
    """The organisation's webhook subscriptions, newest first."""
    require_permission("can_list", VIEW)
    from app.api.models import WebhookSubscription

    stmt = select(WebhookSubscription)
    if args.get("active") is not None:
        stmt = stmt.where(WebhookSubscription.active.is_(args["active"]))
    result = page(stmt, WebhookSubscription.id, args)
    return {"items": [out(s) for s in result["items"]], "next_cursor": result["next_cursor"]}


@blp.route("", methods=["POST"])
@operation(blp, MANAGE)
@blp.arguments(WebhookCreateArgs)
@blp.response(201, WebhookWithSecretSchema)
def create_webhook(args):
    """Subscribe a URL to events. The answer carries the signing secret: the only time it is shown."""
    require_permission("can_add", VIEW)
    subscription, secret = webhooks.subscribe(created_by_name=person_name(g.user), **args)
    db.session.commit()
    return out(subscription, secret)


@blp.route("/<int:pk>")
@operation(blp, MANAGE)
@blp.response(200, WebhookSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_webhook(pk):
    """One subscription (without its secret)."""
    require_permission("can_show", VIEW)
    return out(_subscription(pk))


@blp.route("/<int:pk>", methods=["PATCH"])
@operation(blp, MANAGE)
@blp.arguments(WebhookUpdateArgs)
@blp.response(200, WebhookSchema)
@blp.alt_response(404, response="NOT_FOUND")
def update_webhook(args, pk):
    """Change the name, URL, events or whether it is on; what is not sent stays as it is."""
    require_permission("can_edit", VIEW)
    subscription = _subscription(pk)
    webhooks.change(subscription, **args)
    db.session.commit()
    return out(subscription)


@blp.route("/<int:pk>", methods=["DELETE"])
@operation(blp, MANAGE)
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def delete_webhook(pk):
    """Remove the subscription and its deliveries."""
    require_permission("can_delete", VIEW)
    subscription = _subscription(pk)
    db.session.delete(subscription)
    db.session.commit()
    return None


@blp.route("/<int:pk>/rotate-secret", methods=["POST"])
@operation(blp, MANAGE)
@blp.response(200, WebhookWithSecretSchema)
@blp.alt_response(404, response="NOT_FOUND")
def rotate_webhook_secret(pk):
    """A new signing secret, shown only in this answer; the old one stops signing at once."""
    require_permission("rotate_secret", VIEW)
    subscription = _subscription(pk)
    secret = webhooks.rotate_secret(subscription)
    db.session.commit()
    return out(subscription, secret)


@blp.route("/<int:pk>/deliveries")
@operation(blp, MANAGE)
@blp.arguments(DeliveryListArgs, location="query")
@blp.response(200, page_of(DeliverySchema))
@blp.alt_response(404, response="NOT_FOUND")
def list_deliveries(args, pk):
    """What was sent to this subscription, newest first, with each one's attempts and last outcome."""
    require_permission("can_list", DELIVERY_VIEW)
    subscription = _subscription(pk)
    stmt = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
    if args.get("status"):
        stmt = stmt.where(WebhookDelivery.status == args["status"])
    if args.get("event_type"):
        stmt = stmt.where(WebhookDelivery.event_type == args["event_type"])
    result = page(stmt, WebhookDelivery.id, args)
    return {"items": [delivery_out(d) for d in result["items"]], "next_cursor": result["next_cursor"]}


@blp.route("/<int:pk>/deliveries/<int:delivery_id>/replay", methods=["POST"])
@operation(blp, MANAGE)
@blp.response(202, DeliverySchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def replay_delivery(pk, delivery_id):
    """Send the same event again (same body, new signature time). It is sent in the background: read the
    delivery again for the outcome."""
    require_permission("replay", DELIVERY_VIEW)
    subscription = _subscription(pk)
    if not 0 < delivery_id < 2**31:
        raise ApiError(404)
    delivery = webhooks.get_delivery(delivery_id, subscription.id)
    if delivery is None:
        raise ApiError(404)
    webhooks.replay(delivery)
    db.session.commit()
    db.session.refresh(delivery)
    return delivery_out(delivery)

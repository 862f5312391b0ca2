"""Webhook events from what the domain code writes, without touching it: session listeners note the new rows
(after_flush), and just before the commit the deliveries for the tenant's active subscriptions to each event
are written in the same transaction; the sending is queued after the commit (app.tasks.after_commit), so
rolled-back work is never announced.

    request.created        a ServiceRequest filed by any channel (staff, portal, REST, Open311)
    request.state_changed  a ServiceRequestEvent whose to_state differs from its from_state
    payment.received       a Payment on a matter, or a WasteReceipt for waste-fee bills
    certificate.issued     a Certificate

Payloads carry ids, codes, states and amounts (decimal strings) and the REST path of the resource; no
personal data (names, national ids, addresses): a receiver with a key reads those through the API."""
from __future__ import annotations

import logging

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from app.api.models import (
    CERTIFICATE_ISSUED, PAYMENT_RECEIVED, REQUEST_CREATED, STATE_CHANGED, WebhookDelivery, WebhookSubscription,
)

log = logging.getLogger(__name__)
NOTED = "webhook_events_noted"
PREFIX = "/api/open/v1"

# where each resource lives in the open API (the payload's "url")
URLS = {
    "request": PREFIX + "/requests/{id}",
    "payment": PREFIX + "/payments/{id}",
    "waste_receipt": PREFIX + "/receipts/{id}",
    # no certificate resource of its own: the matter it was issued on
    "certificate": PREFIX + "/requests/{request_id}",
}


def _classes():
    from app.billing.models import Payment, WasteReceipt
    from app.catalog.models import ServiceRequest
    from app.certificates.models import Certificate
    from app.service_requests.models import ServiceRequestEvent

    return ServiceRequest, ServiceRequestEvent, Payment, WasteReceipt, Certificate


def _money(value) -> str | None:
    return None if value is None else f"{value:.2f}"


def _date(value) -> str | None:
    return None if value is None else value.isoformat()


def _service_code(session, request_id: int) -> str:
    from app.catalog.models import ServiceRequest, ServiceType

    return session.scalar(select(ServiceType.code).join(ServiceRequest, ServiceRequest.service_type_id == ServiceType.id)
                          .where(ServiceRequest.id == request_id)) or ""


def describe(session, obj) -> tuple[str, dict] | None:
    """(event type, data) for a row just written, or None when it announces nothing."""
    ServiceRequest, ServiceRequestEvent, Payment, WasteReceipt, Certificate = _classes()
    if isinstance(obj, ServiceRequest):
        return REQUEST_CREATED, {
            "request_id": obj.id, "service_type": _service_code(session, obj.id), "status": obj.status,
            "channel": obj.channel, "division": obj.division.code if obj.division is not None else "",
            "fee_total": _money(obj.fee_total), "due_on": _date(obj.due_on),
            "url": URLS["request"].format(id=obj.id)}
    if isinstance(obj, ServiceRequestEvent):
        if obj.from_state is None or obj.from_state == obj.to_state:
            return None  # filing, or a note on the timeline: no change of state
        return STATE_CHANGED, {
            "request_id": obj.request_id, "service_type": _service_code(session, obj.request_id),
            "timeline_event_id": obj.id, "action": obj.action, "from_state": obj.from_state,
            "to_state": obj.to_state, "division": obj.division.code if obj.division is not None else "",
            "url": URLS["request"].format(id=obj.request_id)}
    if isinstance(obj, Payment):
        return PAYMENT_RECEIVED, {
            "kind": "request_fee", "payment_id": obj.id, "request_id": obj.request_id,
            "amount": _money(obj.amount), "paid_on": _date(obj.paid_on), "receipt_no": obj.receipt_no,
            "method": obj.method, "url": URLS["payment"].format(id=obj.id)}
    if isinstance(obj, WasteReceipt):
        if obj.number is None:
            return None
        return PAYMENT_RECEIVED, {
            "kind": "waste_fee", "receipt_id": obj.id, "receipt_no": obj.label, "account_id": obj.account_id,
            "account_no": obj.account.account_no if obj.account is not None else "",
            "amount": _money(obj.amount), "paid_on": _date(obj.paid_on), "method": obj.method,
            "channel": obj.channel, "url": URLS["waste_receipt"].format(id=obj.id)}
    if isinstance(obj, Certificate):
        return CERTIFICATE_ISSUED, {
            "certificate_id": obj.id, "request_id": obj.request_id, "series": obj.series,
            "number": obj.number, "fiscal_year": obj.fiscal_year, "issued_on": _date(obj.issued_on),
            "expires_on": _date(obj.expires_on), "url": URLS["certificate"].format(request_id=obj.request_id)}
    return None


@event.listens_for(Session, "after_flush")
def _note(session, flush_context):
    watched = _classes()
    for obj in session.new:
        if isinstance(obj, watched):
            session.info.setdefault(NOTED, []).append(obj)


def _still_written(obj) -> bool:
    """A row of a savepoint rolled back since (a refused receipt) is no longer persistent."""
    state = inspect(obj)
    return state.persistent and not state.deleted


@event.listens_for(Session, "before_commit")
def _write_deliveries(session):
    if session.in_nested_transaction():
        return  # a savepoint released (SQLAlchemy fires before_commit for it too): wait for the real commit
    if session.new or session.dirty or session.deleted:
        session.flush()  # commit flushes only after this hook: note what that flush writes now
    noted = session.info.pop(NOTED, None)
    if not noted:
        return
    from app.tenancy.context import current_scope, tenant_scope

    scope = current_scope()
    by_tenant: dict[int, list] = {}
    for obj in noted:
        if _still_written(obj) and obj.tenant_id is not None:
            by_tenant.setdefault(obj.tenant_id, []).append(obj)
    for tenant_id, rows in by_tenant.items():
        if scope is None or (not scope.platform and scope.tenant_id != tenant_id) or scope.read_only:
            continue  # the guard refused such writes already; announce nothing outside the unit's tenant
        with tenant_scope(tenant_id):
            _for_tenant(session, tenant_id, rows)


def _for_tenant(session, tenant_id: int, rows: list) -> None:
    from app.api import webhooks
    from app.tenancy.models import Tenant

    with session.no_autoflush:
        subscriptions = list(session.scalars(select(WebhookSubscription).where(
            WebhookSubscription.tenant_id == tenant_id, WebhookSubscription.active.is_(True))))
    if not subscriptions:
        return
    dla_code = session.scalar(select(Tenant.dla_code).where(Tenant.id == tenant_id))
    deliveries = []
    for obj in rows:
        described = describe(session, obj)
        if described is None:
            continue
        event_type, data = described
        listeners = [s for s in subscriptions if event_type in (s.events or [])]
        if not listeners:
            continue
        payload = webhooks.event_payload(event_type, dla_code, data)
        for subscription in listeners:
            delivery = WebhookDelivery(tenant_id=tenant_id, subscription_id=subscription.id,
                                       event_id=payload["id"], event_type=event_type, payload=payload)
            session.add(delivery)
            deliveries.append(delivery)
    if deliveries:
        session.flush()
        for delivery in deliveries:
            webhooks.queue(delivery, session=session)


@event.listens_for(Session, "after_transaction_end")
def _forget(session, transaction):
    if transaction.parent is None:  # the unit of work ended (committed, rolled back or closed)
        session.info.pop(NOTED, None)

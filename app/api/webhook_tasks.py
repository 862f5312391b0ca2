"""Webhook sending in the background. `webhooks.deliver(tenant_id=, delivery_id=)` makes one attempt (queued
after the commit that wrote the delivery, or by a replay); retries are not self-queued with a countdown (a
broker may lose them and eager mode ignores it) but picked up by `webhooks.all_due`, which beat runs every
minute and which queues `webhooks.due(tenant_id=)` for each organisation with deliveries whose time has come.
Every attempt first claims its delivery (app.api.webhooks.deliver), so a task run twice sends once."""
from __future__ import annotations

from celery import Celery

from app.api.webhooks import DELIVER_TASK

DUE_TASK = "webhooks.due"
ALL_DUE_TASK = "webhooks.all_due"
SWEEP_SECONDS = 60


def register(celery: Celery, platform_base: type) -> None:
    """Called from app/tasks.py with the app's Celery (its Task base is the app's TenantTask)."""

    @celery.task(name=DELIVER_TASK, shared=False)
    def deliver(tenant_id: int, delivery_id: int) -> str:
        from app.api import webhooks

        return webhooks.deliver(int(delivery_id))

    @celery.task(name=DUE_TASK, shared=False)
    def due(tenant_id: int) -> int:
        from app.api import webhooks

        ids = webhooks.due()
        for delivery_id in ids:
            webhooks.deliver(delivery_id)
        return len(ids)

    @celery.task(name=ALL_DUE_TASK, base=platform_base, shared=False)
    def all_due() -> int:
        from sqlalchemy import or_, select

        from app.api.models import PENDING, WebhookDelivery
        from app.extensions import db
        from app.tenancy.models import utcnow

        now = utcnow()
        tenants = list(db.session.scalars(select(WebhookDelivery.tenant_id).distinct().where(
            WebhookDelivery.status == PENDING,
            or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now))))
        for tenant_id in tenants:
            celery.tasks[DUE_TASK].delay(tenant_id=tenant_id)
        return len(tenants)

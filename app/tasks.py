"""Celery wiring. Tasks take ids and a tenant_id (never ORM objects), run inside that tenant's scope,
and acknowledge late so a crashed worker's task runs again (tasks are written to be idempotent)."""
from __future__ import annotations

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask

from app.extensions import db
from app.tenancy.context import TenantNotSet, tenant_scope

_celery: Celery | None = None


class TenantTask(Task):
    """Base for tenant work: `task.delay(tenant_id=..., ...)`. No tenant_id, no run."""

    abstract = True
    acks_late = True

    def __call__(self, *args, **kwargs):
        tenant_id = kwargs.get("tenant_id")
        if tenant_id is None:
            raise TenantNotSet(f"task {self.name} needs a tenant_id keyword argument")
        with self.flask_app.app_context(), tenant_scope(int(tenant_id)):
            try:
                return self.run(*args, **kwargs)
            finally:
                db.session.remove()


class PlatformTask(Task):
    """A task over all tenants (the daily fan-out): it only lists tenants and queues tenant tasks."""

    abstract = True
    acks_late = True

    def __call__(self, *args, **kwargs):
        from app.tenancy.context import platform_scope

        with self.flask_app.app_context(), platform_scope():
            try:
                return self.run(*args, **kwargs)
            finally:
                db.session.remove()


def celery_app(app: Flask) -> Celery:
    global _celery
    celery = Celery(app.import_name)
    celery.conf.update(
        broker_url=app.config["CELERY_BROKER_URL"],
        result_backend=app.config["CELERY_RESULT_BACKEND"],
        task_always_eager=app.config.get("CELERY_TASK_ALWAYS_EAGER", False),
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        timezone="Asia/Bangkok",
        broker_connection_retry_on_startup=True,
        # a task cut off by a lost broker connection is given back (tasks are idempotent)
        worker_cancel_long_running_tasks_on_connection_loss=True,
        # our logging (app/ops/logs.py), not Celery's: no stdout redirection into the logs
        worker_redirect_stdouts=False,
        beat_schedule_filename=app.config.get("CELERY_BEAT_SCHEDULE_FILE", "celerybeat-schedule"),
    )
    # Redis: an unacknowledged task comes back after this (acks_late: longer than any task or countdown). Only
    # for Redis: the embedded SQLite broker hands its transport options to create_engine, which refuses them.
    visibility = {"visibility_timeout": int(app.config.get("CELERY_VISIBILITY_TIMEOUT", 6 * 3600))}
    if _is_redis(app.config["CELERY_BROKER_URL"]):
        celery.conf.broker_transport_options = visibility
    if _is_redis(app.config["CELERY_RESULT_BACKEND"]):
        celery.conf.result_backend_transport_options = visibility
    # task bases bound to this Flask app (tests and the live test server run several apps side by side)
    celery.Task = type("TenantTask", (TenantTask,), {"flask_app": app, "abstract": True})
    platform_base = type("PlatformTask", (PlatformTask,), {"flask_app": app, "abstract": True})
    celery.conf.beat_schedule = {
        "delay-notices-daily": {"task": "service_requests.all_delay_notices", "schedule": 24 * 3600},
        # ข้อ 66: the retention lists of the year that ended, made early in the 60 days after it
        "saraban-retention-yearly": {"task": "saraban.all_retention_surveys",
                                     "schedule": crontab(minute=0, hour=6, day_of_month=2, month_of_year=1)},
        # webhook retries whose time has come (app/api/webhook_tasks.py)
        "webhooks-due": {"task": "webhooks.all_due",
                         "schedule": float(app.config.get("WEBHOOK_SWEEP_SECONDS", 60))},
    }
    _register_tasks(celery, platform_base)
    _celery = celery
    return celery


def _is_redis(url) -> bool:
    return str(url or "").startswith(("redis://", "rediss://", "redis+socket://", "sentinel://"))


AFTER_COMMIT = "tasks_after_commit"


def after_commit(name: str, tenant_id: int, *, session=None, **kwargs) -> None:
    """Queue a tenant task once the current transaction commits (never for work that was rolled back)."""
    (session or db.session).info.setdefault(AFTER_COMMIT, []).append((name, tenant_id, kwargs))


def _install_after_commit() -> None:
    import logging

    from flask import current_app, has_app_context
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    @event.listens_for(Session, "after_commit")
    def _queue(session):
        if session.in_nested_transaction():
            return  # SQLAlchemy fires after_commit when a savepoint is released too: wait for the real commit
        queued = session.info.pop(AFTER_COMMIT, None)
        if not queued or not has_app_context():
            return
        celery = celery_for(current_app._get_current_object())
        for name, tenant_id, kwargs in queued:
            try:
                celery.tasks[name].delay(tenant_id=tenant_id, **kwargs)
            except Exception:  # the broker is down: what was committed stays; the screens still show it
                logging.getLogger(__name__).exception("could not queue %s for tenant %s", name, tenant_id)

    @event.listens_for(Session, "after_rollback")
    def _drop(session):
        session.info.pop(AFTER_COMMIT, None)


_install_after_commit()


def celery_for(app: Flask) -> Celery:
    """The app's Celery client, made once per app (the web process queues tasks through it)."""
    if "celery" not in app.extensions:
        app.extensions["celery"] = celery_app(app)
    return app.extensions["celery"]


def _register_tasks(celery: Celery, platform_base: type) -> None:
    from app.billing.tasks import register as register_billing

    register_billing(celery)
    from app.saraban.tasks import register as register_saraban

    register_saraban(celery, platform_base)
    from app.api.webhook_tasks import register as register_webhooks

    register_webhooks(celery, platform_base)

    @celery.task(name="forwarding.notify", shared=False)
    def notify_forwarding(tenant_id: int, forwarding_id: int, event: str, message_id: int = 0) -> int:
        from app.service_requests.forwarding import notify

        return notify(forwarding_id, event, message_id)

    @celery.task(name="portal.send_tracking", shared=False)
    def send_tracking(tenant_id: int, request_id: int, sealed: str, link: str) -> bool:
        from app.portal.mailing import send_tracking

        return send_tracking(request_id, sealed, link)  # sealed: encrypted, see portal.tracking.seal

    @celery.task(name="notifications.send", shared=False)
    def send_notifications(tenant_id: int, ids: list[int]) -> int:
        from app.service_requests.outbox import send

        return send(ids)

    @celery.task(name="service_requests.delay_notices", shared=False)
    def delay_notices_task(tenant_id: int) -> int:
        from app.service_requests.notices import delay_notices

        return delay_notices()

    @celery.task(name="service_requests.all_delay_notices", base=platform_base, shared=False)
    def all_delay_notices() -> int:
        from sqlalchemy import select

        from app.tenancy.models import Tenant

        ids = list(db.session.scalars(select(Tenant.id).where(Tenant.active.is_(True))))
        for tenant_id in ids:
            celery.tasks["service_requests.delay_notices"].delay(tenant_id=tenant_id)
        return len(ids)

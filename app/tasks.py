"""Celery wiring. Tasks take ids and a tenant_id (never ORM objects), run inside that tenant's scope,
and acknowledge late so a crashed worker's task runs again (tasks are written to be idempotent)."""
from __future__ import annotations

from celery import Celery, Task
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
    )
    TenantTask.flask_app = app
    celery.Task = TenantTask
    _celery = celery
    return celery

"""Celery tasks run inside the tenant named by their tenant_id and never without one."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.tasks import celery_for
from app.tenancy.context import TenantNotSet
from app.tenancy.models import Division


@pytest.fixture(scope="module")
def celery(app):
    celery = celery_for(app)

    @celery.task(name="tests.division_codes")
    def division_codes(tenant_id):
        return sorted(db.session.scalars(select(Division.id)))

    return celery


def test_task_sees_only_its_tenant(celery, tenant_a, tenant_b):
    ids = set(celery.tasks["tests.division_codes"].apply(kwargs={"tenant_id": tenant_a.id}).get())
    assert set(tenant_a.division_ids.values()) <= ids and not ids & set(tenant_b.division_ids.values())
    ids = set(celery.tasks["tests.division_codes"].apply(kwargs={"tenant_id": tenant_b.id}).get())
    assert set(tenant_b.division_ids.values()) <= ids and not ids & set(tenant_a.division_ids.values())


def test_task_without_tenant_refuses_to_run(celery):
    with pytest.raises(TenantNotSet):
        celery.tasks["tests.division_codes"].apply(kwargs={}, throw=True).get()


def test_every_task_acks_late_and_takes_ids_and_a_tenant(app):
    """Introspect the registered tasks: each acknowledges late (a crashed worker's task runs again) and takes
    plain values (a tenant_id first, then ids and small strings), never ORM objects; the platform fan-out
    takes nothing and only queues tenant tasks."""
    import inspect
    import typing

    from app.tasks import PlatformTask, TenantTask

    celery = celery_for(app)
    ours = {name: task for name, task in celery.tasks.items()
            if not name.startswith("celery.") and not name.startswith("tests.")}
    assert {"forwarding.notify", "notifications.send", "service_requests.delay_notices",
            "service_requests.all_delay_notices", "portal.send_tracking"} <= set(ours)
    plain = (int, str, bool, list[int], typing.List[int])
    for name, task in ours.items():
        assert task.acks_late is True, name
        params = inspect.signature(task.run).parameters
        hints = typing.get_type_hints(task.run)
        if isinstance(task, PlatformTask):
            assert not params, name
            continue
        assert isinstance(task, TenantTask), name
        assert list(params)[0] == "tenant_id" and hints["tenant_id"] is int, name
        for param in params:
            assert hints.get(param) in plain, f"{name}({param}) takes {hints.get(param)}, not ids or plain values"
            if param != "tenant_id" and hints[param] is int:
                assert param.endswith("_id") or param == "message_id", f"{name}({param})"
    assert celery.conf.task_acks_late is True and celery.conf.task_reject_on_worker_lost is True

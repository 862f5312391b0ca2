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

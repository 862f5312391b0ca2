"""The yearly retention survey as background work: `saraban.retention_survey(tenant_id=, year=)` makes (or
tops up) the organisation's destruction list and National Archives list of the year that ended (idempotent:
a second run adds only documents not yet listed); `saraban.all_retention_surveys` (beat, 2 January) queues
it for every active organisation."""
from __future__ import annotations

from celery import Celery

RETENTION_SURVEY = "saraban.retention_survey"
ALL_RETENTION_SURVEYS = "saraban.all_retention_surveys"


def run_survey(year: int | None = None) -> dict:
    """Survey the current tenant (the caller is inside its scope) and commit."""
    from app import thai
    from app.extensions import db
    from app.saraban import retention

    year = int(year) if year else retention.last_year(thai.today_bangkok())
    destruction, added = retention.survey(year)
    archive, handed = retention.archives(year)
    db.session.commit()
    return {"year": year, "destruction_list": destruction.id, "destruction_added": added,
            "archives_list": archive.id, "archives_added": handed}


def register(celery: Celery, platform_base: type) -> None:
    """Called from app/tasks.py with the app's Celery (its Task base is the app's TenantTask)."""

    @celery.task(name=RETENTION_SURVEY, shared=False)
    def retention_survey(tenant_id: int, year: str = "") -> dict:
        """`year`: the พ.ศ. year as text ("2569"); empty: the year that ended."""
        return run_survey(int(year) if str(year).strip().isdigit() else None)

    @celery.task(name=ALL_RETENTION_SURVEYS, base=platform_base, shared=False)
    def all_retention_surveys() -> int:
        from sqlalchemy import select

        from app.extensions import db
        from app.tenancy.models import Tenant

        ids = list(db.session.scalars(select(Tenant.id).where(Tenant.active.is_(True))))
        for tenant_id in ids:
            celery.tasks[RETENTION_SURVEY].delay(tenant_id=tenant_id)
        return len(ids)

"""The yearly retention survey as background work: `saraban.retention_survey(tenant_id=, year=)` makes (or
tops up) the organisation's destruction list and National Archives list of the year that ended (idempotent:
a second run adds only documents not yet listed); `saraban.all_retention_surveys` (beat, 2 January) queues
it for every active organisation."""
from __future__ import annotations

import logging

from celery import Celery

log = logging.getLogger(__name__)

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
        """`year`: the พ.ศ. year as text ("2569"); empty: the year that ended. A year not yet ended (or not a
        year) is refused: nothing is written and the result says why."""
        from app.extensions import db
        from app.tenancy.errors import UserError

        text = str(year or "").strip()
        try:
            return run_survey(int(text) if text.isdigit() else None)
        except UserError as exc:
            db.session.rollback()
            log.warning("retention survey of tenant %s, year %s refused: %s", tenant_id, text, exc.message)
            return {"year": int(text) if text.isdigit() else None, "refused": exc.message}

    @celery.task(name=ALL_RETENTION_SURVEYS, base=platform_base, shared=False)
    def all_retention_surveys() -> int:
        from sqlalchemy import select

        from app.extensions import db
        from app.tenancy.models import Tenant

        ids = list(db.session.scalars(select(Tenant.id).where(Tenant.active.is_(True))))
        for tenant_id in ids:
            celery.tasks[RETENTION_SURVEY].delay(tenant_id=tenant_id)
        return len(ids)

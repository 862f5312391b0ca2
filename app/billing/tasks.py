"""The billing run as a background task: `billing.bill_period(tenant_id=, run_id=)` runs inside that tenant
(app/tasks.py TenantTask: no tenant_id, no run; acknowledged late, so a worker that dies mid-run gets the task
again) and is idempotent: it goes on from the run's cursor, and a finished run is left as it is."""
from __future__ import annotations

from celery import Celery

from app.billing.models import BillingRun
from app.tasks import after_commit

BILL_PERIOD = "billing.bill_period"


def register(celery: Celery) -> None:
    """Called from app/tasks.py with the app's Celery (its Task base is the app's TenantTask)."""

    @celery.task(name=BILL_PERIOD, shared=False)
    def bill_period(tenant_id: int, run_id: int) -> int:
        from app.billing import runs

        return runs.execute(run_id).created_count

    @celery.task(name="billing.apply_bank_import", shared=False, acks_late=True)
    def apply_bank_import(tenant_id: int, import_id: int) -> dict | None:
        """Apply an uploaded bank file's pending lines (bank_import.apply: a finished import is left as it is)."""
        from app.billing import bank_import

        batch = bank_import.apply(int(import_id))
        if batch is None:  # not an import of this tenant: nothing done, nothing told about others
            return None
        return {"status": batch.status, "applied": batch.applied, "duplicates": batch.duplicates,
                "unmatched": batch.unmatched, "malformed": batch.malformed}


def queue(run: BillingRun) -> None:
    """Queue the run once the transaction that started (or resumed) it commits."""
    after_commit(BILL_PERIOD, run.tenant_id, run_id=run.id)

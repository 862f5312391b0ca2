"""Celery entry point: `celery -A app.celery_worker worker` and `celery -A app.celery_worker beat`.

Logging is ours (app/ops/logs.py): LOG_FORMAT/LOG_LEVEL as for the web, and every line written inside a
task carries its task name, task id and tenant_id, with one line per task when it ends."""
from celery.signals import worker_process_init

from app import create_app
from app.ops.logs import install_celery
from app.tasks import celery_for

flask_app = create_app()
install_celery(flask_app.config)
celery = celery_for(flask_app)


@worker_process_init.connect(weak=False)
def _fresh_connections(**_):
    """A prefork child must not reuse the database connections its parent opened while starting up."""
    from app.extensions import db

    with flask_app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)

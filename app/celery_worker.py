"""Celery entry point: `celery -A app.celery_worker worker`."""
from app import create_app
from app.tasks import celery_for

flask_app = create_app()
celery = celery_for(flask_app)

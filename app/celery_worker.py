"""Celery entry point: `celery -A app.celery_worker worker`."""
from app import create_app
from app.tasks import celery_app

flask_app = create_app()
celery = celery_app(flask_app)

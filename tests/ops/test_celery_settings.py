"""Celery from the settings: Redis gets the visibility timeout (tasks acknowledge late), the embedded SQLite
broker gets none (it would hand it to create_engine), beat's schedule file and the webhook sweep period come
from the settings, and Celery leaves the logging to us."""
from __future__ import annotations

import pytest

from app.tasks import celery_app
from tests.conftest import make_app


@pytest.fixture(scope="module")
def db_url(tmp_path_factory) -> str:
    return "sqlite:///" + str(tmp_path_factory.mktemp("celery") / "x.db")


def test_redis_gets_the_visibility_timeout(db_url, tmp_path):
    app = make_app(db_url, CELERY_BROKER_URL="redis://127.0.0.1:6379/0", CELERY_RESULT_BACKEND="redis://127.0.0.1:6379/1",
                   CELERY_VISIBILITY_TIMEOUT=7200, CELERY_BEAT_SCHEDULE_FILE=str(tmp_path / "beat"),
                   WEBHOOK_SWEEP_SECONDS=2)
    conf = celery_app(app).conf
    assert conf.broker_url == "redis://127.0.0.1:6379/0" and conf.result_backend == "redis://127.0.0.1:6379/1"
    assert conf.broker_transport_options == {"visibility_timeout": 7200}
    assert conf.result_backend_transport_options == {"visibility_timeout": 7200}
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1
    assert conf.beat_schedule_filename == str(tmp_path / "beat")
    assert conf.beat_schedule["webhooks-due"] == {"task": "webhooks.all_due", "schedule": 2.0}
    assert conf.worker_redirect_stdouts is False


def test_the_embedded_broker_gets_no_transport_options_and_the_sweep_is_a_minute(db_url, tmp_path):
    app = make_app(db_url, CELERY_BROKER_URL="sqla+sqlite:///" + str(tmp_path / "b.db"),
                   CELERY_RESULT_BACKEND="db+sqlite:///" + str(tmp_path / "r.db"))
    conf = celery_app(app).conf
    assert not conf.broker_transport_options and not conf.result_backend_transport_options
    assert conf.beat_schedule["webhooks-due"]["schedule"] == 60
    # a real connection with those options: create_engine would refuse a visibility_timeout
    with celery_app(app).connection_for_write() as conn:
        assert conn.default_channel._size("celery") == 0  # opens the broker's database

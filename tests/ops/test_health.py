"""GET /health: no login, no cookie, no tenant data; 200 when the database and the broker answer, 503 naming
what failed (the broker: a closed Redis port, an SQLite broker that cannot be opened; the database: a file that
cannot be opened), and quickly."""
from __future__ import annotations

import os
import socket
import time

import pytest

from tests.conftest import make_app


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nobody listens there once the socket is closed


@pytest.fixture(scope="module")
def fresh_db(tmp_path_factory) -> str:
    """An empty SQLite database of its own: SELECT 1 needs no tables."""
    return "sqlite:///" + str(tmp_path_factory.mktemp("health") / "health.db")


def _health_app(database_url: str, broker: str, **extra):
    return make_app(database_url, CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=broker, **extra)


def test_ok_on_the_sessions_database_and_an_sqlite_broker(database_url, app, tmp_path):
    # the session's database (on PostgreSQL: the runtime role, under row-level security)
    health_app = _health_app(database_url, "sqla+sqlite:///" + str(tmp_path / "broker.db"))
    response = health_app.test_client().get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers  # no session is made for a health check
    assert (tmp_path / "broker.db").exists()  # a real connection to the broker's database


def test_eager_mode_has_no_broker_to_check(app):
    response = app.test_client().get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "broker": "eager"}


def test_a_redis_broker_nobody_listens_on_is_a_503_naming_the_broker(fresh_db):
    health_app = _health_app(fresh_db, f"redis://127.0.0.1:{_closed_port()}/0", HEALTH_TIMEOUT_SECONDS=1)
    started = time.monotonic()
    response = health_app.test_client().get("/health")
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert response.get_json() == {"status": "fail", "database": "ok", "broker": "fail", "failed": ["broker"]}
    body = response.get_data(as_text=True)
    assert "127.0.0.1" not in body and "Error" not in body  # the reason is logged, not told


def test_an_sqlite_broker_that_cannot_be_opened_is_a_503(fresh_db, tmp_path):
    health_app = _health_app(fresh_db, "sqla+sqlite:///" + str(tmp_path / "no-such-folder" / "broker.db"))
    response = health_app.test_client().get("/health")
    assert response.status_code == 503
    assert response.get_json()["broker"] == "fail" and response.get_json()["database"] == "ok"


def test_a_database_that_cannot_be_opened_is_a_503_naming_the_database(tmp_path, caplog):
    from app.extensions import db

    path = tmp_path / "gone.db"
    health_app = _health_app("sqlite:///" + str(path), "sqla+sqlite:///" + str(tmp_path / "broker.db"))
    client = health_app.test_client()
    assert client.get("/health").status_code == 200
    with health_app.app_context():
        db.engine.dispose()  # the pool's open connections go; new ones must open the file again
    os.remove(path)
    os.mkdir(path)  # where the database file was, now a folder: SQLite cannot open it
    with caplog.at_level("WARNING", logger="app.ops.health"):
        response = client.get("/health")
    assert response.status_code == 503
    assert response.get_json() == {"status": "fail", "database": "fail", "broker": "ok", "failed": ["database"]}
    assert any("database does not answer" in r.getMessage() for r in caplog.records)


def test_health_is_exempt_from_rate_limits_and_csrf(fresh_db, tmp_path):
    health_app = _health_app(fresh_db, "sqla+sqlite:///" + str(tmp_path / "broker.db"), RATELIMIT_ENABLED=True,
                             RATELIMIT_DEFAULT="5 per minute", WTF_CSRF_ENABLED=True)
    client = health_app.test_client()
    assert [client.get("/health").status_code for _ in range(20)] == [200] * 20
    # the default limit holds elsewhere
    assert 429 in [client.get("/login/").status_code for _ in range(8)]
    assert client.post("/health").status_code == 405  # GET only: refused as a method, not for a CSRF token

"""The production processes, for real: redis-server, gunicorn with deploy/gunicorn.conf.py, a Celery worker and
Celery beat on that Redis, all against the session's test database (on PostgreSQL the processes connect as the
runtime role under row-level security, as in production). A complaint is filed over HTTP through the open API
with an integration key, walked through its workflow to done; a webhook subscription gets its deliveries from
the worker, and the one the receiver refuses is retried by beat's sweep. The JSON log lines carry the request
id and the tenant; /health says ok, then 503 once Redis is gone."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests
from sqlalchemy import select

from tests.api.open.conftest import API, make_key
from tests.api.open.webhook_receiver import Receiver
from tests.conftest import ROOT, TEST_CONFIG

SERVICE = "prod_complaint"
DEFINITION = {
    "code": SERVICE, "name_th": "เรื่องร้องเรียนทดสอบระบบจริง", "name_en": "Production test complaint",
    "category": "complaint", "responsible_division": "finance", "sla_days": 15,
    "fields": [{"code": "detail", "kind": "text", "label_th": "เรื่องที่แจ้ง", "label_en": "What happened",
                "required": True}],
    "guide": {"no_fee": True},
    "workflow": {
        "states": [
            {"code": "submitted", "name_th": "รับแจ้งแล้ว", "name_en": "Reported"},
            {"code": "in_progress", "name_th": "กำลังดำเนินการ", "name_en": "In progress"},
            {"code": "done", "name_th": "ดำเนินการแล้ว", "name_en": "Done", "final": True},
        ],
        "transitions": [
            {"action": "take", "name_th": "รับเรื่อง", "name_en": "Take", "from": ["submitted"], "to": "in_progress",
             "roles": ["officer"]},
            {"action": "finish", "name_th": "แก้ไขแล้ว", "name_en": "Finish", "from": ["in_progress"], "to": "done",
             "roles": ["officer"]},
        ],
    },
}
START_TIMEOUT = 60  # seconds for every process to come up (gunicorn answers /health)
WAIT = 30  # seconds for any one delivery


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_server() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):  # as `make redis-deps` does
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, timeout=300)
        subprocess.run(["apt-get", "install", "-y", "-qq", "redis-server"], env=env, check=False, timeout=600)
        found = shutil.which("redis-server")
    if not found:
        pytest.skip("redis-server is not installed and cannot be (not root, or no apt-get): make redis-deps")
    return found


class Processes:
    """Child processes, each in its own process group, stopped (TERM, then KILL) however the test ends."""

    def __init__(self, folder):
        self.folder = folder
        self.started: dict[str, subprocess.Popen] = {}
        self.stopped: set[str] = set()

    def start(self, name: str, argv: list[str], env: dict) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.started[name] = proc
        return proc

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def json_lines(self, name: str) -> list[dict]:
        lines = []
        for line in self.log(name).splitlines():
            if line.startswith("{"):
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    pass
        return lines

    def alive(self, name: str) -> bool:
        return self.started[name].poll() is None

    def stop(self, name: str, timeout: float = 20) -> None:
        self.stopped.add(name)
        proc = self.started.get(name)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        try:  # the group too: a worker's children outliving their parent
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(10)

    def stop_all(self) -> None:
        for name in reversed(list(self.started)):
            self.stop(name)


def _wait(what: str, check, timeout: float, procs: Processes | None = None):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # not up yet
            last = exc
        if procs is not None:
            dead = [name for name, proc in procs.started.items() if proc.poll() is not None and name not in procs.stopped]
            if dead:
                raise AssertionError(f"{dead} exited while waiting for {what}:\n"
                                     + "\n".join(procs.log(n)[-3000:] for n in dead))
        time.sleep(0.2)
    logs = "\n".join(f"--- {n}\n{procs.log(n)[-2500:]}" for n in procs.started) if procs else ""
    raise AssertionError(f"timed out waiting for {what} (last error: {last!r})\n{logs}")


@pytest.fixture
def complaint_service(app, tenant_a):
    from app.catalog import services
    from app.catalog.spec import ServiceSpec
    from app.extensions import db
    from app.tenancy.context import tenant_scope
    from app.tenancy.models import Division

    with app.app_context(), tenant_scope(tenant_a.id):
        division = db.session.scalar(select(Division).where(Division.code == "finance"))
        service_type, _ = services.save_definition(tenant_a.id, ServiceSpec().load(DEFINITION), division)
        db.session.commit()
        db.session.remove()
    return SERVICE


@pytest.fixture
def subscription(app, tenant_a, monkeypatch):
    """A webhook to a local receiver (127.0.0.1: allowed because the test says so, here and in the worker);
    the receiver refuses its second POST once (500), then takes everything."""
    from app.api import webhooks
    from app.api.models import WebhookSubscription
    from app.extensions import db
    from app.tenancy.context import tenant_scope

    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", True)
    receiver = Receiver()
    receiver.statuses = [200, 500]
    receiver.start()
    with app.test_request_context(), tenant_scope(tenant_a.id):
        item, secret = webhooks.subscribe(name="production test", url=receiver.url,
                                          events=["request.created", "request.state_changed"],
                                          created_by_name="pytest")
        db.session.commit()
        pk = item.id
        db.session.remove()
    yield receiver, secret, pk
    receiver.stop()
    with app.test_request_context(), tenant_scope(tenant_a.id):  # other tests' matters send nothing here
        item = db.session.get(WebhookSubscription, pk)
        if item is not None:
            db.session.delete(item)
            db.session.commit()
        db.session.remove()


def _delivery(app, tenant_id: int, event_id: str):
    from app.api.models import WebhookDelivery
    from app.extensions import db
    from app.tenancy.context import tenant_scope

    with app.app_context(), tenant_scope(tenant_id):
        row = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.event_id == event_id))
        result = None if row is None else (row.status, row.attempts)
        db.session.remove()
    return result


def test_the_production_processes_push_a_complaint_through(app, database_url, tenant_a, complaint_service,
                                                           subscription, tmp_path):
    from app.api import webhooks
    from app.api.models import SUCCEEDED

    receiver, secret, _sub_id = subscription
    token = make_key(app, "1000001", "a.officer", name="production test", rate_limit_per_minute=1000)
    redis_bin = _redis_server()
    redis_port, web_port = _free_port(), _free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env.update({
        "DATABASE_URL": database_url,  # on PostgreSQL: the runtime role (owns nothing, row-level security)
        "SECRET_KEY": TEST_CONFIG["SECRET_KEY"],  # webhook secrets are sealed with it
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "CELERY_BROKER_URL": f"{redis_url}/0",
        "CELERY_RESULT_BACKEND": f"{redis_url}/1",
        "RATELIMIT_STORAGE_URI": f"{redis_url}/2",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_BEAT_SCHEDULE_FILE": str(tmp_path / "celerybeat-schedule"),
        "WEBHOOK_SWEEP_SECONDS": "2",
        "WEBHOOK_RETRY_BASE_SECONDS": "1",
        "WEBHOOK_ALLOW_PRIVATE_URLS": "1",
        "FAB_UPDATE_PERMS": "0",  # the app fixture registered them; as deploy/env.example says
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "GUNICORN_BIND": f"127.0.0.1:{web_port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "2",
        "PYTHONUNBUFFERED": "1",
    })
    for name in ("DATABASE_OWNER_URL", "DATABASE_PLATFORM_ROLE"):  # set by tests/with_postgres.sh
        if os.environ.get(name):
            env[name] = os.environ[name]
    base = f"http://127.0.0.1:{web_port}"
    procs = Processes(tmp_path)
    http = requests.Session()
    try:
        procs.start("redis", [redis_bin, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", str(tmp_path)], env)
        import redis as redis_client

        _wait("redis", lambda: redis_client.Redis.from_url(redis_url, socket_timeout=1).ping(), 15, procs)
        procs.start("web", [sys.executable, "-m", "gunicorn", "-c", os.path.join(ROOT, "deploy", "gunicorn.conf.py")],
                    env)
        procs.start("worker", [sys.executable, "-m", "celery", "-A", "app.celery_worker", "worker",
                               "--concurrency=2", "--without-gossip", "--without-mingle", "--without-heartbeat",
                               "-n", f"prodtest{web_port}@%h"], env)
        procs.start("beat", [sys.executable, "-m", "celery", "-A", "app.celery_worker", "beat"], env)

        health = _wait("gunicorn", lambda: http.get(f"{base}/health", timeout=5), START_TIMEOUT, procs)
        assert health.status_code == 200, health.text
        assert health.json() == {"status": "ok", "database": "ok", "broker": "ok"}
        assert len(health.headers["X-Request-ID"]) == 32

        # file the complaint through the open API, with our own request id
        headers = {"X-API-Key": token, "X-Request-ID": "prodtest-file-1"}
        filed = http.post(f"{base}{API}/requests", headers=headers, timeout=15,
                          json={"service_type": SERVICE, "data": {"detail": "ไฟถนนดับหน้าวัด"}})
        assert filed.status_code == 201, filed.text
        assert filed.headers["X-Request-ID"] == "prodtest-file-1"
        matter = filed.json()
        assert matter["status"] == "submitted"

        # the worker sends request.created (the first POST: 200)
        _wait("the request.created delivery", lambda: len(receiver.received) >= 1, WAIT, procs)
        created = receiver.received[0]
        assert created["headers"]["X-Thongthin-Event"] == "request.created"
        assert webhooks.verify_signature(secret, created["body"], created["headers"]["X-Thongthin-Signature"])
        assert json.loads(created["body"])["data"]["request_id"] == matter["id"]

        # a step: the receiver refuses its delivery once (500); beat's sweep (every 2 s) has it sent again
        took = http.post(f"{base}{API}/requests/{matter['id']}/transitions", headers={"X-API-Key": token},
                         json={"action": "take", "seen_version": matter["lock_version"]}, timeout=15)
        assert took.status_code == 200, took.text
        assert took.json()["request"]["status"] == "in_progress"
        _wait("the refused delivery and its retry", lambda: len(receiver.received) >= 3, WAIT, procs)
        refused, retried = receiver.received[1], receiver.received[2]
        event_id = refused["headers"]["X-Thongthin-Delivery"]
        assert retried["headers"]["X-Thongthin-Delivery"] == event_id
        assert json.loads(retried["body"])["data"]["to_state"] == "in_progress"
        _wait("the retried delivery recorded", lambda: _delivery(app, tenant_a.id, event_id) == (SUCCEEDED, 2),
              WAIT, procs)

        # to done
        finished = http.post(f"{base}{API}/requests/{matter['id']}/transitions", headers={"X-API-Key": token},
                             json={"action": "finish"}, timeout=15)
        assert finished.status_code == 200, finished.text
        _wait("the delivery for done", lambda: len(receiver.received) >= 4, WAIT, procs)
        assert json.loads(receiver.received[3]["body"])["data"]["to_state"] == "done"
        shown = http.get(f"{base}{API}/requests/{matter['id']}", headers={"X-API-Key": token}, timeout=15).json()
        assert shown["status"] == "done" and shown["closed_at"] is not None

        # the logs: one JSON access line per request, with the request id, the tenant and the user
        def access_line():
            return next((line for line in procs.json_lines("web") if line.get("logger") == "app.access"
                         and line.get("request_id") == "prodtest-file-1"), None)

        line = _wait("the access line", access_line, 10, procs)
        assert line["method"] == "POST" and line["path"] == f"{API}/requests" and line["status"] == 201
        assert line["tenant_id"] == tenant_a.id and line["user_id"] == tenant_a.user_ids["a.officer"]
        assert isinstance(line["duration_ms"], (int, float)) and line["level"] == "INFO" and line["time"]
        health_lines = [x for x in procs.json_lines("web") if x.get("path") == "/health"]
        assert health_lines and health_lines[0]["tenant_id"] is None and len(health_lines[0]["request_id"]) == 32
        # the worker's task lines: name, id and tenant; beat's sweep ran the retry (webhooks.due)
        tasks = [x for x in procs.json_lines("worker") if x.get("logger") == "app.task"]
        delivered = [x for x in tasks if x.get("task_name") == "webhooks.deliver"]
        assert delivered and all(x["tenant_id"] == tenant_a.id and x["task_id"] for x in delivered), tasks
        assert any(x.get("task_name") == "webhooks.due" and x["tenant_id"] == tenant_a.id for x in tasks), tasks
        assert any(x.get("task_name") == "webhooks.all_due" and x["state"] == "SUCCESS" for x in tasks), tasks
        assert any("webhooks-due" in x.get("message", "") for x in procs.json_lines("beat")), procs.log("beat")

        # Redis gone: /health says which
        procs.stop("redis")
        down = http.get(f"{base}/health", timeout=10)
        assert down.status_code == 503
        assert down.json() == {"status": "fail", "database": "ok", "broker": "fail", "failed": ["broker"]}
    finally:
        http.close()
        procs.stop_all()
    for name, proc in procs.started.items():
        assert proc.poll() is not None, f"{name} still running"
        with pytest.raises(ProcessLookupError):
            os.killpg(proc.pid, 0)  # nothing left of its group


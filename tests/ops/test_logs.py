"""Structured logs: every request gets a request id (the caller's when sane, else a new uuid4 hex) echoed in
X-Request-ID; one access line per request with method, path, status, duration, tenant and user; every other
line written during the request carries the same request id; JSON lines with LOG_FORMAT=json, text otherwise;
task lines carry the task's name, id and tenant."""
from __future__ import annotations

import io
import json
import logging
import re

import pytest

from app.ops import logs
from tests.api.open.conftest import API, make_key

HEX32 = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def json_log():
    """Our handler on the root logger, writing JSON into a buffer; pytest's logging is put back afterwards."""
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = logs.configure_logging("json", "INFO", stream=stream)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    yield lines
    root.removeHandler(handler)
    root.setLevel(level)


def _access(lines, request_id):
    found = [x for x in lines() if x["logger"] == "app.access" and x["request_id"] == request_id]
    assert len(found) == 1, lines()
    return found[0]


def test_a_sane_request_id_is_kept_and_echoed(app, json_log):
    response = app.test_client().get("/health", headers={"X-Request-ID": "lb-7f3a.2:9_x"})
    assert response.headers["X-Request-ID"] == "lb-7f3a.2:9_x"
    line = _access(json_log, "lb-7f3a.2:9_x")
    assert line["method"] == "GET" and line["path"] == "/health" and line["status"] == 200
    assert line["tenant_id"] is None and line["user_id"] is None  # nobody signed in, no organisation
    assert line["level"] == "INFO" and line["time"].endswith("+00:00") and line["duration_ms"] >= 0
    assert line["message"].startswith("GET /health 200 ")


@pytest.mark.parametrize("bad", ["", "has space", "x" * 129, "tab\there", "<script>", "-leading-dash", "ไทย"])
def test_a_missing_or_odd_request_id_is_replaced_by_a_new_one(app, json_log, bad):
    response = app.test_client().get("/health", headers={"X-Request-ID": bad})
    new = response.headers["X-Request-ID"]
    assert HEX32.match(new) and new != bad
    _access(json_log, new)


def test_each_request_gets_its_own_id(app):
    client = app.test_client()
    ids = {client.get("/health").headers["X-Request-ID"] for _ in range(5)}
    assert len(ids) == 5 and all(HEX32.match(i) for i in ids)


def test_a_staff_request_logs_its_tenant_and_user(client_for, tenant_a, json_log):
    client = client_for("a.admin")
    response = client.get("/", headers={"X-Request-ID": "staff-home-1"})
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "staff-home-1"
    line = _access(json_log, "staff-home-1")
    assert line["tenant_id"] == tenant_a.id and line["user_id"] == tenant_a.user_ids["a.admin"]
    assert line["status"] == 200 and line["path"] == "/"


def test_an_api_key_request_logs_the_keys_tenant_and_acting_user(app, tenant_b, json_log):
    token = make_key(app, "1000002", "b.officer", scopes=("read",), name="log test")
    client = app.test_client(use_cookies=False)
    response = client.get(f"{API}/requests?limit=1", headers={"X-API-Key": token, "X-Request-ID": "api-b-1"})
    assert response.status_code == 200
    line = _access(json_log, "api-b-1")
    assert line["tenant_id"] == tenant_b.id and line["user_id"] == tenant_b.user_ids["b.officer"]
    # a refused key: 401, still one line, no tenant
    refused = client.get(f"{API}/requests", headers={"X-API-Key": "ttk_nope_nope", "X-Request-ID": "api-bad-1"})
    assert refused.status_code == 401 and refused.headers["X-Request-ID"] == "api-bad-1"
    bad = _access(json_log, "api-bad-1")
    assert bad["status"] == 401 and bad["tenant_id"] is None and bad["user_id"] is None


def test_every_line_of_a_request_carries_its_request_id(app, tenant_a, json_log):
    from flask import g

    from app.tenancy.context import tenant_scope

    with app.test_request_context("/anything"), tenant_scope(tenant_a.id):
        g.request_id = "inner-1"
        logging.getLogger("app.somewhere").warning("something to say: %s", "ไฟดับ")
    [line] = [x for x in json_log() if x["logger"] == "app.somewhere"]
    assert line == {"level": "WARNING", "logger": "app.somewhere", "message": "something to say: ไฟดับ",
                    "request_id": "inner-1", "tenant_id": tenant_a.id, "user_id": None, "time": line["time"]}


def test_a_500_has_its_access_line_and_the_error_carries_the_request_id(tenant_a, json_log, tmp_path):
    from tests.conftest import make_app

    broken = make_app("sqlite:///" + str(tmp_path / "x.db"), PROPAGATE_EXCEPTIONS=False)

    @broken.route("/boom")
    def boom():
        raise RuntimeError("boom")

    response = broken.test_client().get("/boom", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500 and response.headers["X-Request-ID"] == "boom-1"
    assert _access(json_log, "boom-1")["status"] == 500
    errors = [x for x in json_log() if x["level"] == "ERROR"]
    assert errors and errors[0]["request_id"] == "boom-1" and "RuntimeError: boom" in errors[0]["exc_info"]


def test_text_format_for_development():
    root = logging.getLogger()
    level, stream = root.level, io.StringIO()
    handler = logs.configure_logging("text", "DEBUG", stream=stream)
    try:
        assert root.level == logging.DEBUG
        again = logs.configure_logging("text", "warning", stream=stream)  # called again: one handler, not two
        assert handler not in root.handlers and again in root.handlers and root.level == logging.WARNING
        handler = again
        logging.getLogger("app.dev").warning("plain words")
        line = stream.getvalue().strip()
        assert line.endswith("WARNING app.dev [-] plain words") and not line.startswith("{")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_the_app_sets_up_logging_from_its_settings_outside_tests(tmp_path):
    from tests.conftest import make_app

    root = logging.getLogger()
    level = root.level
    before = list(root.handlers)
    try:
        make_app("sqlite:///" + str(tmp_path / "x.db"), TESTING=False, LOG_FORMAT="json", LOG_LEVEL="WARNING")
        ours = [h for h in root.handlers if h not in before]
        assert len(ours) == 1 and root.level == logging.WARNING
        assert type(ours[0].formatter).__name__ == "JsonFormatter"
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
        root.setLevel(level)


def test_task_lines_carry_the_task_name_id_and_tenant(app, tenant_a, json_log):
    from app.tasks import celery_for

    logs.install_celery(app.config)
    result = celery_for(app).tasks["webhooks.due"].apply(kwargs={"tenant_id": tenant_a.id}, task_id="task-id-1")
    assert result.successful()
    [line] = [x for x in json_log() if x["logger"] == "app.task" and x["task_id"] == "task-id-1"]
    assert line["task_name"] == "webhooks.due" and line["tenant_id"] == tenant_a.id
    assert line["state"] == "SUCCESS" and line["duration_ms"] >= 0
    # a line written inside the task has the same fields
    logs._task_started(task_id="task-id-2", task=celery_for(app).tasks["webhooks.due"],
                       kwargs={"tenant_id": tenant_a.id})
    logging.getLogger("app.inside").info("working")
    logs._task_finished(task_id="task-id-2", state="SUCCESS")
    [inside] = [x for x in json_log() if x["logger"] == "app.inside"]
    assert (inside["task_name"], inside["task_id"], inside["tenant_id"]) == ("webhooks.due", "task-id-2",
                                                                            tenant_a.id)
    logging.getLogger("app.after").info("no task now")
    [after] = [x for x in json_log() if x["logger"] == "app.after"]
    assert "task_id" not in after and "request_id" not in after

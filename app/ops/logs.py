"""Structured logs for the web and the Celery processes.

One setup (configure_logging) for every process: a handler on the root logger writing to stderr (journald or
the process manager keeps it), plain text by default (development) or one JSON object per line with
LOG_FORMAT=json (production), at LOG_LEVEL. A filter on that handler gives every line what is known about
its unit of work:

- in a web request: request_id (the caller's X-Request-ID if it looks sane, else a new uuid4 hex, echoed in
  the X-Request-ID response header), tenant_id and user_id;
- in a Celery task: task_name, task_id and tenant_id (the task's tenant_id argument).

Each request also writes one access line (logger "app.access") with method, path, status and duration_ms.
"""
from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Optional

from flask import Flask, g, has_request_context, request

from app.tenancy.context import current_tenant_id

REQUEST_ID_HEADER = "X-Request-ID"
# what an incoming request id may be: letters, digits and a few separators, at most 128 characters
_SANE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")
ACCESS_LOGGER = "app.access"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(context)s] %(message)s"
# the JSON line: time (UTC, ISO 8601), these record attributes, then whatever the filter and extra= added
JSON_FIELDS = "%(levelname)s %(name)s %(message)s"
JSON_RENAMES = {"levelname": "level", "name": "logger"}
CONTEXT_FIELDS = ("request_id", "tenant_id", "user_id", "task_name", "task_id")

_task: ContextVar[Optional[dict]] = ContextVar("log_task", default=None)
_HANDLER_MARK = "_thongthin_handler"


def new_request_id() -> str:
    return uuid.uuid4().hex


def sane_request_id(value: Optional[str]) -> Optional[str]:
    """The caller's request id when it is one we can log and echo safely, else None."""
    if value and _SANE_ID.match(value):
        return value
    return None


def _user_id() -> Optional[int]:
    user = g.get("_login_user") or g.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    # from the identity key, never a reload: after a commit the row is expired, and the log must not query
    from sqlalchemy import inspect

    state = inspect(user, raiseerr=False)
    if state is not None and state.identity:
        return state.identity[0]
    return getattr(user, "id", None)


class ContextFilter(logging.Filter):
    """Adds the unit of work's fields to every record (never overwriting what extra= gave)."""

    def filter(self, record: logging.LogRecord) -> bool:
        values: dict = {}
        task = _task.get()
        if has_request_context():
            values["request_id"] = g.get("request_id")
            values["tenant_id"] = current_tenant_id()
            values["user_id"] = _user_id()
        elif task is not None:
            values.update({k: v for k, v in task.items() if not k.startswith("_")})
            tenant = current_tenant_id()
            if tenant is not None:
                values["tenant_id"] = tenant
        for name, value in values.items():
            if not hasattr(record, name):
                setattr(record, name, value)
        if not hasattr(record, "context"):
            shown = [f"{name}={getattr(record, name)}" for name in CONTEXT_FIELDS
                     if getattr(record, name, None) is not None]
            record.context = " ".join(shown) or "-"
        return True


def json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    # "context" is the text format's summary: the JSON line has the fields themselves
    reserved = list(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) + ["message", "context"]
    return JsonFormatter(JSON_FIELDS, rename_fields=JSON_RENAMES, reserved_attrs=reserved, timestamp="time",
                         json_ensure_ascii=False)


def text_formatter() -> logging.Formatter:
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(log_format: str = "text", level: str = "INFO", stream=None) -> logging.Handler:
    """Install (or replace) our handler on the root logger. Safe to call again: one handler, never two."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(json_formatter() if (log_format or "").lower() == "json" else text_formatter())
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(_level(level))
    return handler


def _level(level) -> int:
    if isinstance(level, int):
        return level
    value = logging.getLevelName(str(level or "INFO").strip().upper())
    return value if isinstance(value, int) else logging.INFO


def configure_from(config) -> Optional[logging.Handler]:
    """configure_logging from a Flask config (LOG_FORMAT, LOG_LEVEL); tests keep pytest's own logging."""
    if config.get("TESTING") or not config.get("LOG_CONFIGURE", True):
        return None
    return configure_logging(config.get("LOG_FORMAT", "text"), config.get("LOG_LEVEL", "INFO"))


# --- the web: request ids and the access line -------------------------------------------------------------

def _start_request() -> None:
    g.request_id = sane_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_request_id()
    g.request_started = time.perf_counter()


def _finish_request(response):
    request_id = g.get("request_id")
    if request_id is None:  # a response made before our before_request ran (another hook answered first)
        _start_request()
        request_id = g.request_id
    response.headers[REQUEST_ID_HEADER] = request_id
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    # the tenant scope is still set here: teardown_request (app.tenancy.web) resets it afterwards
    logging.getLogger(ACCESS_LOGGER).info(
        "%s %s %s %sms", request.method, request.path, response.status_code, duration_ms,
        extra={"request_id": request_id, "method": request.method, "path": request.path,
               "status": response.status_code, "duration_ms": duration_ms,
               "tenant_id": current_tenant_id(), "user_id": _user_id(),
               "remote_addr": request.remote_addr})
    return response


def init_app(app: Flask) -> None:
    """Request ids and the access line for every request. Call early in create_app: the first after_request
    registered runs last, so the line has the final status."""
    configure_from(app.config)
    app.before_request(_start_request)
    app.after_request(_finish_request)


# --- Celery: task name, id and tenant on every line ---------------------------------------------------------

TASK_LOGGER = "app.task"


def _task_started(task_id=None, task=None, args=None, kwargs=None, **_):
    tenant_id = (kwargs or {}).get("tenant_id")
    _task.set({"task_name": getattr(task, "name", None), "task_id": task_id,
               "tenant_id": int(tenant_id) if str(tenant_id).isdigit() else None,
               "_started": time.perf_counter()})


def _task_finished(task_id=None, task=None, state=None, **_):
    """One line per task, like the access line of a request (Celery's own "succeeded" line comes after
    the task's context is gone)."""
    current = _task.get()
    if current is None:
        return
    fields = {k: v for k, v in current.items() if not k.startswith("_")}
    duration_ms = round((time.perf_counter() - current["_started"]) * 1000, 1)
    tenant_id = fields.pop("tenant_id", None)
    try:
        logging.getLogger(TASK_LOGGER).info(
            "task %s %s %sms", fields.get("task_name"), state, duration_ms,
            extra={**fields, "tenant_id": tenant_id, "state": state, "duration_ms": duration_ms})
    finally:
        _task.set(None)


_celery_installed = False


def install_celery(config) -> None:
    """For the worker and beat (app/celery_worker.py): our logging instead of Celery's, task fields on every
    line. Celery configures no logging of its own once a setup_logging receiver is connected."""
    global _celery_installed
    from celery import signals

    if not _celery_installed:
        signals.setup_logging.connect(_celery_setup_logging(config), weak=False)
        signals.task_prerun.connect(_task_started, weak=False)
        signals.task_postrun.connect(_task_finished, weak=False)
        _celery_installed = True


def _celery_setup_logging(config):
    def setup(loglevel=None, **_):
        # LOG_LEVEL wins over the command line's --loglevel (one place to set it in production)
        configure_logging(config.get("LOG_FORMAT", "text"), config.get("LOG_LEVEL") or loglevel or "INFO")

    return setup

"""Behind nginx: with TRUSTED_PROXIES=1 the client's address comes from X-Forwarded-For (the access line, the
limits per address); without it a client cannot claim another address."""
from __future__ import annotations

import io
import json
import logging

from app.ops import logs
from tests.conftest import make_app


def _remote_addr(app, **headers) -> str:
    root = logging.getLogger()
    level, stream = root.level, io.StringIO()
    handler = logs.configure_logging("json", "INFO", stream=stream)
    try:
        app.test_client().get("/health", headers={"X-Request-ID": "proxy-1", **headers},
                              environ_base={"REMOTE_ADDR": "127.0.0.1"})
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    [line] = [json.loads(x) for x in stream.getvalue().splitlines() if '"proxy-1"' in x]
    return line["remote_addr"]


def test_one_trusted_proxy_gives_the_clients_address(tmp_path):
    app = make_app("sqlite:///" + str(tmp_path / "x.db"), TRUSTED_PROXIES=1)
    assert _remote_addr(app, **{"X-Forwarded-For": "203.0.113.7"}) == "203.0.113.7"
    # a client's own X-Forwarded-For before nginx's: only the address nginx saw counts
    assert _remote_addr(app, **{"X-Forwarded-For": "10.0.0.1, 203.0.113.8"}) == "203.0.113.8"


def test_no_trusted_proxy_ignores_the_header(tmp_path):
    app = make_app("sqlite:///" + str(tmp_path / "x.db"))
    assert _remote_addr(app, **{"X-Forwarded-For": "203.0.113.7"}) == "127.0.0.1"

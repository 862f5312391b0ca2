"""schemathesis over the webhook operations only, with private URLs allowed so that generated subscriptions
are really made (and then read, changed, rotated, deleted): no server error, every answer as the spec says."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.api.open.conftest import make_key
from tests.api.open.test_fuzz import CHECKS
from tests.api.open.test_webhooks import no_subscriptions_left  # noqa: F401


@pytest.fixture
def open_api_schema(app, request, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", True)
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    return schemathesis.openapi.from_wsgi("/api/open/v1/openapi.json", app)


@pytest.fixture(scope="module")
def webhook_keys(app, tenant_a, tenant_b):
    return [{"X-API-Key": make_key(app, "1000001", "a.admin", name="fuzz hooks A", rate_limit_per_minute=10000)},
            {"X-API-Key": make_key(app, "1000002", "b.admin", name="fuzz hooks B", rate_limit_per_minute=10000)}]


schema = schemathesis.pytest.from_fixture("open_api_schema").include(path_regex="^/api/open/v1/webhooks")


@schema.parametrize()
@settings(max_examples=10, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_webhook_answers_match_the_spec(case, webhook_keys):
    for headers in webhook_keys:
        case.call_and_validate(headers=headers, checks=CHECKS)

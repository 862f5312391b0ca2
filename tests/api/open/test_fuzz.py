"""schemathesis over the whole open-API spec, as two tenants' keys and as a platform operator's token:
no answer may be a server error, and every answer (status, content type, headers, body) must be what the spec
says. Examples per operation: FUZZ_EXAMPLES (default 25, deterministic)."""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.open.conftest import make_key
from tests.conftest import PASSWORD

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))


@pytest.fixture
def open_api_schema(app, request):
    # schemathesis 4.32 names each operation's run through node._nodeid, which pytest 9 no longer has
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    return schemathesis.openapi.from_wsgi("/api/open/v1/openapi.json", app)


@pytest.fixture(scope="module")
def identities(app, tenant_a, tenant_b):
    """Headers of each caller: A's and B's keys (all scopes, acting as each tenant's admin, a high limit so the
    fuzz is not cut short by 429s) and the operator's user token."""
    client = app.test_client(use_cookies=False)
    login = client.post("/api/v1/security/login",
                        json={"username": "ops", "password": PASSWORD, "provider": "db"})
    assert login.status_code == 200, login.get_json()
    return {
        "tenant A": {"X-API-Key": make_key(app, "1000001", "a.admin", name="fuzz A", rate_limit_per_minute=10000)},
        "tenant B": {"X-API-Key": make_key(app, "1000002", "b.admin", name="fuzz B", rate_limit_per_minute=10000)},
        "operator": {"Authorization": f"Bearer {login.get_json()['access_token']}"},
    }


schema = schemathesis.pytest.from_fixture("open_api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_answer_matches_the_spec(case, identities):
    for headers in identities.values():
        case.call_and_validate(headers=headers, checks=CHECKS)

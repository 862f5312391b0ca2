"""The open API's spec tells the truth: it is public and valid OpenAPI 3; every operation says who may call it
(and the server refuses a caller without a key where the spec asks for one); money is a decimal string with
its pattern; the docs page loads Swagger UI from the app's own static files."""
from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from app.api.schemas import MONEY_PATTERN
from tests.api.open.conftest import API

METHODS = ("get", "post", "put", "patch", "delete")
# property names that carry baht amounts, in responses and in arguments
MONEY_NAMES = re.compile(r"^(amount|surcharge|total|fee|fee_total|price|balance)$|_(amount|total|fee)$")


@pytest.fixture(scope="module")
def spec(app) -> dict:
    response = app.test_client(use_cookies=False).get(f"{API}/openapi.json")  # no key, no login: public
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def _operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def test_the_spec_is_public_and_valid_openapi_3(spec):
    assert spec["openapi"].startswith("3.")
    validate(spec)  # openapi-spec-validator: the whole document against the OpenAPI 3.0 schema
    assert {"ApiKey", "Bearer"} <= set(spec["components"]["securitySchemes"])
    assert spec["components"]["securitySchemes"]["ApiKey"] == {"type": "apiKey", "in": "header",
                                                               "name": "X-API-Key"}


def test_every_operation_declares_who_may_call_it(spec):
    operations = list(_operations(spec))
    assert len(operations) >= 3
    for path, method, op in operations:
        assert "security" in op, f"{method.upper()} {path} does not declare its security"
        codes = set(op["responses"])
        assert "429" in codes and "default" in codes, (method, path)
        if op["security"]:  # not public: a key or a user token, and the refusals are documented
            assert op["security"] == [{"ApiKey": []}, {"Bearer": []}], (method, path)
            if path.startswith(API):
                assert {"401", "403"} <= codes, (method, path)


def test_what_the_spec_calls_protected_the_server_refuses_without_a_key(app, spec):
    """Every operation with security answers 401 (or Open311's 403) without a key; public reads do not."""
    client = app.test_client(use_cookies=False)
    checked = 0
    for path, method, op in _operations(spec):
        if method != "get" or "{" in path:
            continue
        required = [p for p in op.get("parameters", []) if p.get("required") and p.get("in") == "query"]
        if required:
            continue
        status = client.get(path).status_code
        checked += 1
        if op["security"]:
            assert status in (401, 403), f"GET {path} answered {status} without a key"
        else:
            assert status not in (401, 403, 500), f"public GET {path} answered {status}"
    assert checked >= 2


def _money_properties(node, where=""):
    """(where, name, property) of every property whose name is a money name, anywhere in the spec."""
    if isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            if isinstance(prop, dict) and MONEY_NAMES.search(name) and prop.get("type") != "integer":
                yield f"{where}.{name}", name, prop
        for key, value in node.items():
            yield from _money_properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _money_properties(value, f"{where}[{index}]")


def test_every_money_field_is_a_decimal_string_with_the_pattern(spec):
    found = list(_money_properties(spec))
    assert found, "no money fields in the spec"
    for where, _name, prop in found:
        assert prop.get("type") == "string", f"{where} is documented as {prop.get('type')}, not a string"
        assert prop.get("pattern") == MONEY_PATTERN, f"{where} lacks the decimal pattern"
    assert re.fullmatch(MONEY_PATTERN, "40.00") and not re.fullmatch(MONEY_PATTERN, "40.5")
    # no money field is a JSON number anywhere
    numbers = [w for w, _n, p in found if p.get("type") == "number" or p.get("format") == "decimal"]
    assert not numbers


def test_the_docs_page_uses_the_apps_own_swagger_ui(app):
    client = app.test_client(use_cookies=False)
    page = client.get(f"{API}/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert f"{API}/openapi.json" in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(s.endswith("swagger-ui-bundle.js") for s in sources)
    assert any(s.endswith("swagger-ui.css") for s in sources)
    for source in sources:
        assert source.startswith("/"), f"{source} is not one of the app's own files"
        assert not source.startswith("//")
        assert client.get(source).status_code == 200, source
    assert not re.search(r"https?://", html.replace(f"{API}/openapi.json", "")), "a URL outside the app"
    assert "unpkg" not in html and "cdn" not in html.lower()

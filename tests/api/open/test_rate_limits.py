"""Calls per minute: each key's own limit, per user token (API_USER_RATE_LIMIT) and per address without either
(API_ANONYMOUS_RATE_LIMIT). Over the limit: 429 in the common error shape, Retry-After in whole seconds and
the X-RateLimit-* headers; other callers are not affected. The address and user limits are tested on apps of
their own (the shared test app sets them very high, and each app counts in its own memory)."""
from __future__ import annotations

import pytest

from tests.api.open.conftest import API, KeyClient, make_key
from tests.conftest import PASSWORD, make_app

SERVICE_TYPES = f"{API}/service-types"


def _assert_limited(response, limit: int) -> None:
    assert response.status_code == 429
    body = response.get_json()
    assert set(body) >= {"status", "code", "message_th", "message_en", "fields"}
    assert body["status"] == 429 and body["code"] == "rate_limited" and body["fields"] == []
    assert body["message_th"] != body["message_en"]
    retry = response.headers["Retry-After"]
    assert retry.isdigit() and 1 <= int(retry) <= 60
    assert response.headers["X-RateLimit-Limit"] == str(limit)
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.headers["X-RateLimit-Reset"].isdigit()


def test_a_key_gets_429_past_its_own_limit_and_another_key_does_not(app):
    limited = KeyClient(app, make_key(app, "1000001", "a.admin", scopes=("read",), name="three a minute",
                                      rate_limit_per_minute=3))
    other = KeyClient(app, make_key(app, "1000001", "a.admin", scopes=("read",), name="other key",
                                    rate_limit_per_minute=3))
    remaining = []
    for _ in range(3):
        response = limited.get(SERVICE_TYPES)
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "3"
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
        assert "Retry-After" not in response.headers
    assert remaining == [2, 1, 0]
    _assert_limited(limited.get(SERVICE_TYPES), 3)
    _assert_limited(limited.get(f"{SERVICE_TYPES}/water_truck"), 3)  # every path of the API counts together
    fine = other.get(SERVICE_TYPES)
    assert fine.status_code == 200 and fine.headers["X-RateLimit-Remaining"] == "2"


def test_a_key_of_b_is_not_counted_with_a(app, key_b):
    limited = KeyClient(app, make_key(app, "1000001", "a.admin", scopes=("read",), name="one a minute",
                                      rate_limit_per_minute=1))
    assert limited.get(SERVICE_TYPES).status_code == 200
    _assert_limited(limited.get(SERVICE_TYPES), 1)
    assert KeyClient(app, key_b).get(SERVICE_TYPES).status_code == 200


def test_the_documented_429_names_retry_after(app):
    spec = app.test_client().get(f"{API}/openapi.json").get_json()
    response = spec["components"]["responses"]["RATE_LIMITED"]
    assert response["headers"]["Retry-After"]["schema"]["type"] == "integer"
    assert spec["paths"][f"{API}/service-types"]["get"]["responses"]["429"]["$ref"].endswith("RATE_LIMITED")


@pytest.fixture(scope="module")
def limited_app(app, database_url):
    """An app of its own with low address and user limits (and its own in-memory counters)."""
    return make_app(database_url, API_ANONYMOUS_RATE_LIMIT=2, API_USER_RATE_LIMIT=3)


def test_calls_without_a_key_are_limited_per_address(limited_app):
    here = limited_app.test_client(use_cookies=False)
    here.environ_base["REMOTE_ADDR"] = "192.0.2.10"
    elsewhere = limited_app.test_client(use_cookies=False)
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.11"
    for _ in range(2):
        refused = here.get(SERVICE_TYPES)
        assert refused.status_code == 401 and refused.headers["X-RateLimit-Limit"] == "2"
    _assert_limited(here.get(SERVICE_TYPES), 2)
    assert elsewhere.get(SERVICE_TYPES).status_code == 401  # another address has its own count
    # a key from the limited address is counted by the key, not the address
    token = make_key(limited_app, "1000001", "a.admin", scopes=("read",), name="from a busy address")
    assert here.get(SERVICE_TYPES, headers={"X-API-Key": token}).status_code == 200


def _user_token(client, username: str) -> str:
    logged = client.post("/api/v1/security/login", json={"username": username, "password": PASSWORD,
                                                          "provider": "db"})
    assert logged.status_code == 200, logged.get_json()
    return logged.get_json()["access_token"]


def test_user_tokens_are_limited_per_user(limited_app):
    client = limited_app.test_client(use_cookies=False)
    admin = {"Authorization": f"Bearer {_user_token(client, 'a.admin')}"}
    mayor = {"Authorization": f"Bearer {_user_token(client, 'a.mayor')}"}
    for _ in range(3):
        response = client.get(SERVICE_TYPES, headers=admin)
        assert response.status_code == 200 and response.headers["X-RateLimit-Limit"] == "3"
    _assert_limited(client.get(SERVICE_TYPES, headers=admin), 3)
    # a second login of the same user is the same user: still limited
    again = {"Authorization": f"Bearer {_user_token(client, 'a.admin')}"}
    _assert_limited(client.get(SERVICE_TYPES, headers=again), 3)
    assert client.get(SERVICE_TYPES, headers=mayor).status_code == 200


def test_refused_keys_count_against_the_address(limited_app):
    """Guessing keys is not free: each refused key is a call of its address, and past the limit it is 429."""
    client = limited_app.test_client(use_cookies=False)
    guesses = [client.get("/api/open/v1/service-types", headers={"X-API-Key": f"ttk_{i:012d}_guess"},
                          environ_base={"REMOTE_ADDR": "203.0.113.77"}) for i in range(3)]
    assert [r.status_code for r in guesses] == [401, 401, 429]
    assert guesses[-1].headers["Retry-After"].isdigit()

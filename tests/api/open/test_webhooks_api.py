"""REST /api/open/v1/webhooks (scope manage): subscriptions, the secret shown once, deliveries and replay;
validation in Thai and English, SSRF refusal, scope and permission refusal, and B's rows 404 for A."""
from __future__ import annotations

import json

import pytest

from app.api import webhooks
from tests.api.open.conftest import API, make_key
from tests.api.open.test_webhooks import ALL, deliveries, file_matter, no_subscriptions_left, subscribe  # noqa: F401
from tests.api.open.webhook_receiver import Receiver

HOOKS = f"{API}/webhooks"


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def private_ok(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", True)


@pytest.fixture(scope="module")
def key_read(app, tenant_a):
    return make_key(app, "1000001", "a.admin", scopes=("read", "submit"), name="A no manage")


@pytest.fixture(scope="module")
def key_officer(app, tenant_a):
    return make_key(app, "1000001", "a.officer", name="A officer manage")


def test_subscribe_read_change_rotate_and_remove(api_a, receiver, private_ok):
    made = api_a.post(HOOKS, json={"name": "ระบบร้องเรียนจังหวัด", "url": receiver.url,
                                   "events": ["request.created", "payment.received"]})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    pk, secret = body["id"], body["secret"]
    assert secret.startswith("whsec_") and body["events"] == ["payment.received", "request.created"]
    assert body["active"] is True and body["created_by_name"]
    shown = api_a.get(f"{HOOKS}/{pk}").get_json()
    assert "secret" not in shown and secret not in json.dumps(shown)
    listed = api_a.get(HOOKS).get_json()
    assert pk in [i["id"] for i in listed["items"]] and all("secret" not in i for i in listed["items"])
    assert listed["next_cursor"] is None
    changed = api_a.open("PATCH", f"{HOOKS}/{pk}", json={"active": False, "name": "ปิดไว้ก่อน"})
    assert changed.status_code == 200 and changed.get_json()["active"] is False
    assert changed.get_json()["url"] == receiver.url  # not sent, kept
    assert [i["id"] for i in api_a.get(f"{HOOKS}?active=false").get_json()["items"]] == [pk]
    rotated = api_a.post(f"{HOOKS}/{pk}/rotate-secret")
    assert rotated.status_code == 200 and rotated.get_json()["secret"] not in (secret, "")
    assert api_a.delete(f"{HOOKS}/{pk}").status_code == 204
    assert api_a.get(f"{HOOKS}/{pk}").status_code == 404


def test_deliveries_and_replay(app, api_a, tenant_a, receiver, private_ok):
    made = api_a.post(HOOKS, json={"name": "r", "url": receiver.url, "events": ["request.created"]}).get_json()
    pk = made["id"]
    file_matter(app, tenant_a.id)
    page = api_a.get(f"{HOOKS}/{pk}/deliveries").get_json()
    [item] = page["items"]
    assert item["status"] == "succeeded" and item["attempts"] == 1 and item["last_status_code"] == 200
    assert item["payload"]["type"] == "request.created" and item["event_type"] == "request.created"
    assert api_a.get(f"{HOOKS}/{pk}/deliveries?status=failed").get_json()["items"] == []
    assert api_a.get(f"{HOOKS}/{pk}/deliveries?event_type=payment.received").get_json()["items"] == []
    again = api_a.post(f"{HOOKS}/{pk}/deliveries/{item['id']}/replay")
    assert again.status_code == 202, again.get_json()
    assert again.get_json()["attempts"] == 2 and again.get_json()["status"] == "succeeded"
    assert len(receiver.received) == 2 and receiver.received[0]["body"] == receiver.received[1]["body"]
    assert webhooks.verify_signature(made["secret"], receiver.received[1]["body"],
                                     receiver.received[1]["headers"]["X-Thongthin-Signature"])
    # a switched-off webhook is not sent to: 409
    api_a.open("PATCH", f"{HOOKS}/{pk}", json={"active": False})
    refused = api_a.post(f"{HOOKS}/{pk}/deliveries/{item['id']}/replay")
    assert refused.status_code == 409 and refused.get_json()["message_en"]


def test_bad_input_is_refused_in_thai_and_english(api_a, private_ok):
    missing = api_a.post(HOOKS, json={"name": "x"})
    assert missing.status_code == 422
    fields = {f["field"] for f in missing.get_json()["fields"]}
    assert {"url", "events"} <= {f.split(".")[-1] for f in fields}
    wrong = api_a.post(HOOKS, json={"name": "x", "url": "http://127.0.0.1:1/", "events": ["request.deleted"]})
    assert wrong.status_code == 422
    error = wrong.get_json()
    assert error["fields"] and error["fields"][0]["message_th"] and error["fields"][0]["message_en"]
    empty = api_a.post(HOOKS, json={"name": "x", "url": "http://127.0.0.1:1/", "events": []})
    assert empty.status_code == 422
    assert api_a.post(HOOKS, json={"name": "x", "url": "http://127.0.0.1:1/", "events": ALL,
                                   "tenant_id": 2}).status_code == 422  # unknown keys refused
    assert api_a.get(f"{HOOKS}?actve=true").status_code in (400, 422)
    assert api_a.get(f"{HOOKS}/99999999999").status_code == 404
    assert api_a.post(f"{HOOKS}/1/deliveries/99999999999/replay").status_code == 404


def test_private_urls_are_refused(app, api_a, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", False)
    for url in ("http://127.0.0.1/hook", "http://169.254.169.254/", "ftp://example.com/"):
        refused = api_a.post(HOOKS, json={"name": "x", "url": url, "events": ALL})
        assert refused.status_code == 422, url
        assert refused.get_json()["message_th"] and refused.get_json()["message_en"]


def test_scope_and_acting_user_refusal(api_for, key_read, key_officer, private_ok):
    no_scope = api_for(key_read).get(HOOKS)
    assert no_scope.status_code == 403 and no_scope.get_json()["code"] == "insufficient_scope"
    officer = api_for(key_officer).post(HOOKS, json={"name": "x", "url": "http://127.0.0.1:1/", "events": ALL})
    assert officer.status_code == 403 and officer.get_json()["code"] == "forbidden"
    assert api_for(None).get(HOOKS).status_code == 401


def test_b_s_webhooks_and_deliveries_are_404_for_a(app, api_a, api_b, tenant_b, receiver, private_ok):
    b = api_b.post(HOOKS, json={"name": "B", "url": receiver.url, "events": ["request.created"]}).get_json()
    file_matter(app, tenant_b.id)
    [b_delivery] = deliveries(app, tenant_b.id, b["id"])
    a = api_a.post(HOOKS, json={"name": "A", "url": receiver.url, "events": ["request.created"]}).get_json()
    assert b["id"] not in [i["id"] for i in api_a.get(HOOKS).get_json()["items"]]
    for method, path in (("GET", f"{HOOKS}/{b['id']}"), ("PATCH", f"{HOOKS}/{b['id']}"),
                         ("DELETE", f"{HOOKS}/{b['id']}"), ("POST", f"{HOOKS}/{b['id']}/rotate-secret"),
                         ("GET", f"{HOOKS}/{b['id']}/deliveries"),
                         ("POST", f"{HOOKS}/{b['id']}/deliveries/{b_delivery.id}/replay"),
                         ("POST", f"{HOOKS}/{a['id']}/deliveries/{b_delivery.id}/replay")):
        kwargs = {"json": {"active": False}} if method == "PATCH" else {}
        assert api_a.open(method, path, **kwargs).status_code == 404, (method, path)
    assert api_b.get(f"{HOOKS}/{b['id']}").get_json()["active"] is True  # untouched
    assert len(receiver.received) == 1  # A's replay attempts sent nothing

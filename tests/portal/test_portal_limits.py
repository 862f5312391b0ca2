"""Abuse and secrets: tracking, rating and reopening are rate-limited per address like submitting; the
tracking code waits in the task queue sealed, never in clear."""
import base64
import json
import re
import sqlite3

from app.tenancy.context import tenant_scope
from tests.conftest import make_app
from tests.portal.test_portal import A, _submit


def test_tracking_rating_and_reopening_are_rate_limited_per_address(app, database_url, tenant_a, service):
    pk, secret = _submit(app, app.test_client())
    limited = make_app(database_url, RATELIMIT_ENABLED=True, PORTAL_TRACK_RATE_LIMIT="2 per minute")
    client = limited.test_client()
    wrong = {"number": str(pk), "secret": "AAAA-AAAA"}
    right = {"number": str(pk), "secret": secret}
    # guessing codes: the third try within the minute is refused, even with the right code
    assert [client.post(f"/t/{A}/track", data=d).status_code for d in (wrong, right, right)] == [200, 302, 429]
    # this browser may see the matter now (the second try); rating and reopening have their own counters
    assert [client.post(f"/t/{A}/track/{pk}/rate", data={"rating": "5"}).status_code for _ in range(3)] == \
        [302, 302, 429]
    assert [client.post(f"/t/{A}/track/{pk}/reopen", data={"note": "ยังไม่ได้แก้"}).status_code
            for _ in range(3)] == [302, 302, 429]
    # reading is not limited, and another address is counted on its own
    assert client.get(f"/t/{A}/track/{pk}").status_code == 200
    elsewhere = limited.test_client()
    assert elsewhere.post(f"/t/{A}/track", data=right, environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 302


def test_the_tracking_code_waits_in_the_queue_sealed(database_url, tenant_a, service, tmp_path):
    from app.portal.tracking import seal, unseal

    broker = tmp_path / "broker.db"
    queued = make_app(database_url, CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=f"sqla+sqlite:///{broker}",
                      CELERY_RESULT_BACKEND=f"db+sqlite:///{tmp_path / 'results.db'}")
    pk, secret = _submit(queued, queued.test_client(), contact_email="somchai@example.com")
    plain = {secret, secret.replace("-", "")}
    raw = broker.read_bytes()
    assert raw and not any(p.encode() in raw for p in plain)
    rows = sqlite3.connect(broker).execute("SELECT payload FROM kombu_message").fetchall()
    assert len(rows) == 1
    envelope = json.loads(rows[0][0])
    body = base64.b64decode(envelope["body"]).decode() if envelope.get("properties", {}).get(
        "body_encoding") == "base64" else envelope["body"]
    assert not any(p in body or p in rows[0][0] for p in plain)
    args, kwargs, _embed = json.loads(body)
    assert envelope["headers"]["task"] == "portal.send_tracking" and kwargs["request_id"] == pk
    assert set(kwargs) == {"tenant_id", "request_id", "sealed", "link"}
    with queued.app_context():
        assert unseal(kwargs["sealed"]) == secret  # the worker opens it
        assert unseal(kwargs["sealed"][:-4] + "AAAA") is None  # tampered
        assert seal(secret) != kwargs["sealed"]  # a fresh IV each time: equal codes do not look alike
    other_key = make_app(database_url, SECRET_KEY="another-secret-key-with-at-least-32-bytes")
    with other_key.app_context():
        assert unseal(kwargs["sealed"]) is None


def test_the_worker_mails_the_code_from_the_sealed_argument(app, tenant_a, service, smtp_server):
    from email import message_from_string

    from app.portal.mailing import send_tracking
    from app.portal.tracking import seal

    # filed without an e-mail address at first, so nothing is queued yet
    pk, secret = _submit(app, app.test_client())
    from app.catalog.models import ServiceRequest
    from app.extensions import db

    with app.test_request_context(), tenant_scope(tenant_a.id):
        db.session.get(ServiceRequest, pk).contact_email = "sealed@example.com"
        db.session.commit()
        assert send_tracking(pk, "not-a-sealed-code", "http://x/") is False
        assert send_tracking(pk, seal(secret), "http://localhost/t/1000001/track") is True
    mails = [message_from_string(m).get_payload(decode=True).decode("utf-8")
             for rcpt, m in smtp_server if rcpt == ["sealed@example.com"]]
    assert len(mails) == 1 and secret in mails[0] and re.search(rf"\b{pk}\b", mails[0])

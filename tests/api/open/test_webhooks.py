"""Signed webhooks: events emitted from the domain's own writes (after commit only), signed deliveries to a
real local receiver, retries with backoff, failure after the last attempt, replay, SSRF refusal, and the
tenant wall (B's subscriptions never hear A's events)."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.api import webhooks
from app.api.models import FAILED, PENDING, SUCCEEDED, WebhookDelivery, WebhookSubscription
from app.extensions import db
from app.tenancy.context import tenant_scope
from app.tenancy.models import utcnow
from tests.api.open.webhook_receiver import Receiver
from tests.billing.waste import waste  # noqa: F401

ALL = ["request.created", "request.state_changed", "payment.received", "certificate.issued"]


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def private_ok(app, monkeypatch):
    """The receiver listens on 127.0.0.1: allowed only because the test says so."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", True)


@pytest.fixture(autouse=True)
def no_subscriptions_left(app, tenant_a, tenant_b):
    """Other tests file matters too: leave no subscription behind to send their events anywhere."""
    yield
    with app.test_request_context():
        for tenant in (tenant_a, tenant_b):
            with tenant_scope(tenant.id):
                for item in db.session.scalars(select(WebhookSubscription)):
                    db.session.delete(item)
                db.session.commit()
        db.session.remove()


def subscribe(app, tenant_id: int, url: str, events=ALL, **kwargs) -> tuple[int, str]:
    with app.test_request_context(), tenant_scope(tenant_id):
        item, secret = webhooks.subscribe(name=kwargs.pop("name", "test receiver"), url=url, events=events,
                                          created_by_name="pytest", **kwargs)
        db.session.commit()
        pk = item.id
        db.session.remove()
    return pk, secret


def file_matter(app, tenant_id: int, commit: bool = True) -> int:
    from app.catalog import services
    from app.catalog.models import ServiceType

    with app.test_request_context(), tenant_scope(tenant_id):
        st = db.session.scalar(select(ServiceType).where(ServiceType.code == "test_permit"))
        pk = services.file_request(st, {"applicant": "สมชาย", "area": "10", "kind_of_use": "home"}, None).id
        if commit:
            db.session.commit()
        else:
            db.session.rollback()
        db.session.remove()
    return pk


def deliveries(app, tenant_id: int, subscription_id: int | None = None) -> list[WebhookDelivery]:
    with app.test_request_context(), tenant_scope(tenant_id):
        stmt = select(WebhookDelivery).order_by(WebhookDelivery.id)
        if subscription_id is not None:
            stmt = stmt.where(WebhookDelivery.subscription_id == subscription_id)
        rows = list(db.session.scalars(stmt))
        for row in rows:
            db.session.expunge(row)
        db.session.remove()
    return rows


def run(app, tenant_id: int, fn, *args, **kwargs):
    with app.test_request_context(), tenant_scope(tenant_id):
        try:
            return fn(*args, **kwargs)
        finally:
            db.session.remove()


# --- signatures -------------------------------------------------------------------------------------------

def test_a_signature_verifies_with_the_secret_only_for_that_body_and_time():
    body = '{"id":"abc","type":"request.created"}'
    header = webhooks.sign("whsec_right", body, timestamp=1_800_000_000)
    assert header.startswith("t=1800000000,v1=")
    assert webhooks.verify_signature("whsec_right", body, header, now=1_800_000_010)
    assert webhooks.verify_signature("whsec_right", body.encode(), header, now=1_800_000_010)  # raw bytes too
    assert not webhooks.verify_signature("whsec_wrong", body, header, now=1_800_000_010)
    assert not webhooks.verify_signature("whsec_right", body.replace("abc", "abd"), header, now=1_800_000_010)
    assert not webhooks.verify_signature("whsec_right", body, header, now=1_800_000_000 + 301)  # too old
    assert webhooks.verify_signature("whsec_right", body, header, tolerance=600, now=1_800_000_000 + 301)
    for bad in ("", "v1=abc", "t=x,v1=abc", "t=1800000000", "t=1,t=2,v1=a"):
        assert not webhooks.verify_signature("whsec_right", body, bad, now=1_800_000_000)


# --- events -----------------------------------------------------------------------------------------------

def test_a_filed_matter_is_sent_signed_to_the_receiver(app, tenant_a, receiver, private_ok):
    sub_id, secret = subscribe(app, tenant_a.id, receiver.url)
    pk = file_matter(app, tenant_a.id)
    assert len(receiver.received) == 1  # eager Celery: sent right after the commit
    got = receiver.received[0]
    headers = got["headers"]
    assert headers["Content-Type"].startswith("application/json")
    assert headers["User-Agent"] == webhooks.USER_AGENT
    assert headers["X-Thongthin-Event"] == "request.created"
    assert webhooks.verify_signature(secret, got["body"], headers["X-Thongthin-Signature"])
    assert not webhooks.verify_signature(secret + "x", got["body"], headers["X-Thongthin-Signature"])
    payload = json.loads(got["body"])
    assert headers["X-Thongthin-Delivery"] == payload["id"] and len(payload["id"]) == 32
    assert payload["type"] == "request.created" and payload["jurisdiction_id"] == "1000001"
    assert payload["created_at"].endswith("Z")
    data = payload["data"]
    assert data["request_id"] == pk and data["service_type"] == "test_permit" and data["status"] == "submitted"
    assert data["url"] == f"/api/open/v1/requests/{pk}"
    assert data["fee_total"] is None or Decimal(data["fee_total"]) >= 0
    assert "สมชาย" not in got["body"].decode()  # no personal data from the form
    [delivery] = deliveries(app, tenant_a.id, sub_id)
    assert delivery.status == SUCCEEDED and delivery.attempts == 1 and delivery.last_status_code == 200
    assert delivery.delivered_at is not None and delivery.event_id == payload["id"]


def test_state_changes_payments_and_certificates_are_events(app, tenant_a, receiver, private_ok):
    from app.billing.models import Payment
    from app.catalog.models import ServiceRequest
    from app.certificates.models import Certificate
    from app.service_requests.models import ServiceRequestEvent

    pk = file_matter(app, tenant_a.id)
    subscribe(app, tenant_a.id, receiver.url, events=["request.state_changed", "payment.received",
                                                        "certificate.issued"])
    with app.test_request_context(), tenant_scope(tenant_a.id):
        request = db.session.get(ServiceRequest, pk)
        # a timeline step as the workflow engine writes it, and a note that changes no state
        for from_state, to_state in (("submitted", "in_review"), ("in_review", "in_review")):
            db.session.add(ServiceRequestEvent(request_id=pk, actor_name="pytest", action="accept",
                                               from_state=from_state, to_state=to_state,
                                               division_id=request.division_id))
        request.status = "in_review"
        db.session.commit()
        db.session.add(Payment(request_id=pk, amount=Decimal("25.00"), paid_on=date(2026, 11, 30),
                               receipt_no=f"WH-{pk}", method="cash", recorded_by_name="pytest"))
        db.session.add(Certificate(request_id=pk, series="WH", fiscal_year=2570, number=pk, token=f"wh-token-{pk}",
                                   title_th="ใบอนุญาตทดสอบ", holder_name="สมชาย ทดสอบ", issued_on=date(2026, 11, 30)))
        db.session.commit()
        db.session.remove()
    bodies = [json.loads(r["body"]) for r in receiver.received]
    assert [b["type"] for b in bodies].count("request.state_changed") == 1  # the note changed nothing
    assert bodies[0]["type"] == "request.state_changed"
    changed = bodies[0]["data"]
    assert (changed["from_state"], changed["to_state"], changed["action"]) == ("submitted", "in_review", "accept")
    assert changed["url"] == f"/api/open/v1/requests/{pk}"
    by_type = {b["type"]: b["data"] for b in bodies[1:]}
    assert by_type["payment.received"]["amount"] == "25.00" and by_type["payment.received"]["kind"] == "request_fee"
    assert by_type["payment.received"]["url"].startswith("/api/open/v1/payments/")
    cert = by_type["certificate.issued"]
    assert cert["request_id"] == pk and cert["series"] == "WH" and cert["issued_on"] == "2026-11-30"
    assert "สมชาย" not in json.dumps(bodies, ensure_ascii=False)  # the holder's name stays out
    assert "request.created" not in [b["type"] for b in bodies]  # not subscribed


def test_rolled_back_work_emits_nothing(app, tenant_a, receiver, private_ok):
    sub_id, _secret = subscribe(app, tenant_a.id, receiver.url)
    file_matter(app, tenant_a.id, commit=False)
    assert receiver.received == [] and deliveries(app, tenant_a.id, sub_id) == []


def test_b_never_hears_a_and_switched_off_hears_nothing(app, tenant_a, tenant_b, receiver, private_ok):
    b_sub, _ = subscribe(app, tenant_b.id, receiver.url, name="B")
    off, _ = subscribe(app, tenant_a.id, receiver.url, name="A off", active=False)
    file_matter(app, tenant_a.id)
    assert receiver.received == []
    assert deliveries(app, tenant_b.id) == [] and deliveries(app, tenant_a.id, off) == []
    file_matter(app, tenant_b.id)
    assert len(receiver.received) == 1
    assert json.loads(receiver.received[0]["body"])["jurisdiction_id"] == "1000002"
    # A's scope cannot see B's delivery row
    assert deliveries(app, tenant_a.id) == [] and len(deliveries(app, tenant_b.id, b_sub)) == 1


# --- retries ----------------------------------------------------------------------------------------------

def test_a_receiver_failing_twice_then_succeeding_gets_three_attempts(app, tenant_a, receiver, private_ok,
                                                                       monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_BASE_SECONDS", 30)
    receiver.statuses = [500, 503]
    sub_id, secret = subscribe(app, tenant_a.id, receiver.url)
    file_matter(app, tenant_a.id)
    [first] = deliveries(app, tenant_a.id, sub_id)
    assert first.status == PENDING and first.attempts == 1 and first.last_status_code == 500
    assert "HTTP 500" in first.last_error
    # 30 s base, jitter between half and all of it
    wait = first.next_attempt_at - first.last_attempt_at
    assert timedelta(seconds=15) <= wait <= timedelta(seconds=30)
    # not due yet: nothing is sent
    assert run(app, tenant_a.id, webhooks.deliver, first.id, now=first.last_attempt_at + timedelta(seconds=1)) \
        == PENDING
    assert len(receiver.received) == 1
    clock = first.next_attempt_at
    assert run(app, tenant_a.id, webhooks.deliver, first.id, now=clock, rand=lambda: 1.0) == PENDING
    [second] = deliveries(app, tenant_a.id, sub_id)
    assert second.attempts == 2 and second.last_status_code == 503
    assert second.next_attempt_at - clock == timedelta(seconds=60)  # doubled
    assert run(app, tenant_a.id, webhooks.deliver, first.id, now=second.next_attempt_at) == SUCCEEDED
    [done] = deliveries(app, tenant_a.id, sub_id)
    assert done.attempts == 3 and done.status == SUCCEEDED and done.last_error is None
    assert len(receiver.received) == 3
    bodies = {r["body"] for r in receiver.received}
    assert len(bodies) == 1  # the same body every time
    assert all(webhooks.verify_signature(secret, r["body"], r["headers"]["X-Thongthin-Signature"],
                                         tolerance=10**9) for r in receiver.received)
    # idempotent: a delivered delivery is not sent again
    assert run(app, tenant_a.id, webhooks.deliver, first.id, now=done.last_attempt_at + timedelta(days=1)) \
        == SUCCEEDED
    assert len(receiver.received) == 3


def test_a_receiver_that_keeps_failing_ends_failed_after_max_attempts(app, tenant_a, private_ok, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_MAX_ATTEMPTS", 4)
    sub_id, _ = subscribe(app, tenant_a.id, "http://127.0.0.1:9/nothing-listens")  # port 9: refused
    file_matter(app, tenant_a.id)
    [delivery] = deliveries(app, tenant_a.id, sub_id)
    assert delivery.attempts == 1 and delivery.status == PENDING and delivery.last_status_code is None
    assert "ConnectionError" in delivery.last_error
    now = delivery.next_attempt_at
    for _ in range(3):
        status = run(app, tenant_a.id, webhooks.deliver, delivery.id, now=now)
        now += timedelta(hours=7)  # past any backoff (cap 6 h)
    [delivery] = deliveries(app, tenant_a.id, sub_id)
    assert status == FAILED and delivery.status == FAILED and delivery.attempts == 4
    assert delivery.next_attempt_at is None


def test_backoff_grows_and_is_capped_at_six_hours(app):
    with app.app_context():
        assert webhooks.retry_delay(1, rand=lambda: 1.0) == timedelta(seconds=30)
        assert webhooks.retry_delay(1, rand=lambda: 0.0) == timedelta(seconds=15)
        assert webhooks.retry_delay(5, rand=lambda: 1.0) == timedelta(seconds=480)
        assert webhooks.retry_delay(20, rand=lambda: 1.0) == timedelta(hours=6)


def test_the_sweep_task_sends_due_retries(app, tenant_a, receiver, private_ok):
    from app.tasks import celery_for

    receiver.statuses = [500]
    sub_id, _ = subscribe(app, tenant_a.id, receiver.url)
    file_matter(app, tenant_a.id)
    [delivery] = deliveries(app, tenant_a.id, sub_id)
    with app.test_request_context(), tenant_scope(tenant_a.id):
        row = db.session.get(WebhookDelivery, delivery.id)
        row.next_attempt_at = utcnow() - timedelta(seconds=1)  # its time has come
        db.session.commit()
        db.session.remove()
    assert celery_for(app).tasks["webhooks.all_due"].delay().get() >= 1
    [delivery] = deliveries(app, tenant_a.id, sub_id)
    assert delivery.status == SUCCEEDED and delivery.attempts == 2


def test_replay_sends_the_same_body_with_a_new_signature(app, tenant_a, receiver, private_ok):
    sub_id, secret = subscribe(app, tenant_a.id, receiver.url)
    file_matter(app, tenant_a.id)
    [delivery] = deliveries(app, tenant_a.id, sub_id)
    with app.test_request_context(), tenant_scope(tenant_a.id):
        webhooks.replay(db.session.get(WebhookDelivery, delivery.id))
        db.session.commit()
        db.session.remove()
    assert len(receiver.received) == 2
    first, again = receiver.received
    assert first["body"] == again["body"]
    assert first["headers"]["X-Thongthin-Delivery"] == again["headers"]["X-Thongthin-Delivery"]
    assert webhooks.verify_signature(secret, again["body"], again["headers"]["X-Thongthin-Signature"])
    [delivery] = deliveries(app, tenant_a.id, sub_id)
    assert delivery.status == SUCCEEDED and delivery.attempts == 2


# --- SSRF -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/hook", "http://localhost/hook", "http://10.1.2.3/hook", "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/",
    "ftp://example.com/hook", "file:///etc/passwd", "javascript:alert(1)", "http:///nohost", "http://user:pw@example.com/",
])
def test_private_and_odd_urls_are_refused(app, tenant_a, url):
    from app.tenancy.errors import UserError

    app.config["WEBHOOK_ALLOW_PRIVATE_URLS"] = False
    with app.test_request_context(), tenant_scope(tenant_a.id):
        with pytest.raises(UserError):
            webhooks.subscribe(name="x", url=url, events=ALL)
        db.session.rollback()
        db.session.remove()


def test_a_url_gone_private_is_refused_again_at_delivery(app, tenant_a, receiver, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", True)
    sub_id, _ = subscribe(app, tenant_a.id, receiver.url)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", False)
    file_matter(app, tenant_a.id)
    assert receiver.received == []
    [delivery] = deliveries(app, tenant_a.id, sub_id)
    assert delivery.status == FAILED and "refused URL" in delivery.last_error


def test_a_waste_receipt_is_a_payment_and_a_rolled_back_savepoint_is_not(app, tenant_a, waste, receiver,
                                                                         private_ok):
    from app.billing.models import Payment
    from tests.billing.test_waste_receipts import account_with_bills, issue_receipt

    with app.test_request_context():
        account_id, bills = account_with_bills(tenant_a.id, late=1, current=False)
    sub_id, secret = subscribe(app, tenant_a.id, receiver.url, events=["payment.received"])
    with app.test_request_context():
        receipt_id = issue_receipt(tenant_a.id, account_id, bills)
    [got] = receiver.received
    data = json.loads(got["body"])["data"]
    assert data["kind"] == "waste_fee" and data["receipt_id"] == receipt_id
    assert re.fullmatch(r"\d+/25\d\d", data["receipt_no"])  # numbered by the end of the transaction
    assert Decimal(data["amount"]) > 0 and data["url"] == f"/api/open/v1/receipts/{receipt_id}"
    assert "นางสมศรี" not in got["body"].decode()  # the holder's name stays out
    # a payment written in a savepoint that is rolled back, then a commit: nothing announced
    pk = file_matter(app, tenant_a.id)
    with app.test_request_context(), tenant_scope(tenant_a.id):
        with pytest.raises(RuntimeError):
            with db.session.begin_nested():
                db.session.add(Payment(request_id=pk, amount=Decimal("5.00"), paid_on=date(2026, 11, 30),
                                       receipt_no=f"SP-{pk}", method="cash", recorded_by_name="pytest"))
                db.session.flush()
                raise RuntimeError("refused")
        db.session.commit()
        db.session.remove()
    assert len(receiver.received) == 1 and len(deliveries(app, tenant_a.id, sub_id)) == 1

"""The tenant admin's webhook screens: add (the secret shown once), edit, rotate, delete; the deliveries log
with its filters, body and times in พ.ศ.; replay from a row and in bulk; another tenant's rows are 404."""
from __future__ import annotations

import re

import pytest

from app.api import webhooks
from tests.api.open.test_webhooks import deliveries, file_matter, no_subscriptions_left, subscribe  # noqa: F401
from tests.api.open.webhook_receiver import Receiver

HOOKS = "/integrations/webhooks"
LOG = "/integrations/webhook-deliveries"


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def private_ok(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", True)


def _secret(html: str) -> str:
    match = re.search(r'id="webhook-secret-value" readonly value="(whsec_[^"]+)"', html)
    assert match, html[:3000]
    return match.group(1)


def test_add_shows_the_secret_once_then_edit_rotate_delete(app, client_for, tenant_a, receiver, private_ok):
    admin = client_for("a.admin")
    form = admin.get(f"{HOOKS}/add").get_data(as_text=True)
    assert 'type="checkbox"' in form and 'value="request.created"' in form
    added = admin.post(f"{HOOKS}/add", data={"name": "ศูนย์ร้องเรียน", "url": receiver.url,
                                            "events": ["request.created", "certificate.issued"], "active": "y"})
    # POST-redirect-GET: the secret is shown on a GET page, once
    assert added.status_code == 302 and f"{HOOKS}/secret/" in added.headers["Location"]
    page = admin.get(added.headers["Location"])
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    secret = _secret(html)
    pk = int(re.search(rf"{HOOKS}/show/(\d+)", html).group(1))
    # the recipe is text in a code block, not swallowed as HTML
    assert ('<code>X-Thongthin-Signature: t=&lt;เวลาแบบ unix&gt;,v1=&lt;ค่า HMAC-SHA256 แบบเลขฐานสิบหก(secret, '
            '&#34;&lt;t&gt;.&lt;body&gt;&#34;)&gt;</code>') in html
    # a reload shows nothing secret and makes no second webhook
    again = admin.get(added.headers["Location"])
    assert again.status_code == 302 and again.headers["Location"].endswith(f"{HOOKS}/show/{pk}")
    assert secret not in admin.get(again.headers["Location"]).get_data(as_text=True)
    assert [s[0] for s in _subs(app, tenant_a.id)] == [pk]
    shown = admin.get(f"{HOOKS}/show/{pk}").get_data(as_text=True)
    assert "ศูนย์ร้องเรียน" in shown and secret not in shown and "whsec_" not in shown
    assert secret not in admin.get(f"{HOOKS}/list/").get_data(as_text=True)
    # the secret signs what is sent
    file_matter(app, tenant_a.id)
    [got] = receiver.received
    assert webhooks.verify_signature(secret, got["body"], got["headers"]["X-Thongthin-Signature"])
    # edit: a bad URL is refused with the form kept
    app.config["WEBHOOK_ALLOW_PRIVATE_URLS"] = False
    refused = admin.post(f"{HOOKS}/edit/{pk}", data={"name": "ศูนย์ร้องเรียน", "url": "http://10.0.0.5/x",
                                                    "events": ["request.created"], "active": "y"})
    assert "เครือข่ายภายใน" in refused.get_data(as_text=True) or "private" in refused.get_data(as_text=True)
    app.config["WEBHOOK_ALLOW_PRIVATE_URLS"] = True
    assert admin.post(f"{HOOKS}/edit/{pk}", data={"name": "ศูนย์ร้องเรียน 2", "url": receiver.url,
                                                 "events": ["request.created"]}).status_code == 302
    [row] = [s for s in _subs(app, tenant_a.id) if s[0] == pk]
    assert row[1:] == ("ศูนย์ร้องเรียน 2", ["request.created"], False)
    # rotate: a new secret, shown once; the old one no longer verifies what is sent
    # rotate: a GET only asks; the POST rotates and redirects to the one-time secret page
    assert 'id="rotate-secret"' in admin.get(f"{HOOKS}/show/{pk}").get_data(as_text=True)
    asked = admin.get(f"{HOOKS}/rotate/{pk}")
    assert asked.status_code == 200 and 'method="post"' in asked.get_data(as_text=True)
    assert admin.get(f"{HOOKS}/action/rotate_secret/{pk}").status_code in (302, 404)
    rotated = admin.post(f"{HOOKS}/rotate/{pk}")
    assert rotated.status_code == 302
    new_secret = _secret(admin.get(rotated.headers["Location"]).get_data(as_text=True))
    assert new_secret != secret
    assert admin.get(rotated.headers["Location"]).status_code == 302  # a reload rotates nothing, shows nothing
    assert _sealed_secret(app, tenant_a.id, pk) == new_secret  # rotated once only
    assert admin.post(f"{HOOKS}/delete/{pk}").status_code == 302
    assert admin.get(f"{HOOKS}/show/{pk}").status_code == 404


def _sealed_secret(app, tenant_id, pk):
    from app.api.models import WebhookSubscription
    from app.extensions import db
    from app.tenancy.context import tenant_scope

    with app.app_context(), tenant_scope(tenant_id):
        secret = webhooks.unseal(db.session.get(WebhookSubscription, pk).secret_sealed)
        db.session.remove()
    return secret


def _subs(app, tenant_id):
    from sqlalchemy import select

    from app.api.models import WebhookSubscription
    from app.extensions import db
    from app.tenancy.context import tenant_scope

    with app.app_context(), tenant_scope(tenant_id):
        rows = [(s.id, s.name, s.events, s.active) for s in db.session.scalars(select(WebhookSubscription))]
        db.session.remove()
    return rows


def test_the_log_shows_filters_and_replays(app, client_for, tenant_a, receiver, private_ok):
    sub_id, secret = subscribe(app, tenant_a.id, receiver.url, name="ผู้รับทดสอบ")
    receiver.statuses = [500]
    file_matter(app, tenant_a.id)
    file_matter(app, tenant_a.id)
    first, second = deliveries(app, tenant_a.id, sub_id)
    assert (first.status, second.status) == ("pending", "succeeded")
    admin = client_for("a.admin")
    page = admin.get(f"{LOG}/list/").get_data(as_text=True)
    assert "ผู้รับทดสอบ" in page and "request.created" in page and f"{LOG}/show/{first.id}" in page
    filtered = admin.get(f"{LOG}/list/?_flt_0_status=succeeded").get_data(as_text=True)
    assert f"{LOG}/show/{second.id}" in filtered and f"{LOG}/show/{first.id}" not in filtered
    by_sub = admin.get(f"{LOG}/list/?_flt_0_subscription={sub_id}").get_data(as_text=True)
    assert f"{LOG}/show/{first.id}" in by_sub
    shown = admin.get(f"{LOG}/show/{first.id}").get_data(as_text=True)
    assert "ตอบกลับด้วยรหัส 500" in shown and "HTTP 500" in shown and first.event_id in shown and "&#34;type&#34;: &#34;request.created&#34;" in shown \
        or '"type": "request.created"' in shown
    assert re.search(r"25[67]\d", shown)  # times in พ.ศ.
    # replay one row: the same body again, signed anew
    assert admin.post(f"{LOG}/action/replay/{first.id}").status_code == 302
    assert len(receiver.received) == 3 and receiver.received[2]["body"] == receiver.received[0]["body"]
    assert webhooks.verify_signature(secret, receiver.received[2]["body"],
                                     receiver.received[2]["headers"]["X-Thongthin-Signature"])
    # and in bulk
    bulk = admin.post(f"{LOG}/action_post", data={"action": "replay", "rowid": [str(first.id), str(second.id)]})
    assert bulk.status_code == 302 and len(receiver.received) == 5
    assert [d.attempts for d in deliveries(app, tenant_a.id, sub_id)] == [3, 2]


def test_b_s_webhooks_and_deliveries_are_404_on_a_s_screens(app, client_for, tenant_a, tenant_b, receiver,
                                                           private_ok):
    b_sub, _ = subscribe(app, tenant_b.id, receiver.url, name="ของบีเท่านั้น")
    file_matter(app, tenant_b.id)
    [b_delivery] = deliveries(app, tenant_b.id, b_sub)
    admin = client_for("a.admin")
    assert "ของบีเท่านั้น" not in admin.get(f"{HOOKS}/list/").get_data(as_text=True)
    assert "ของบีเท่านั้น" not in admin.get(f"{LOG}/list/").get_data(as_text=True)
    for path in (f"{HOOKS}/show/{b_sub}", f"{HOOKS}/edit/{b_sub}", f"{LOG}/show/{b_delivery.id}"):
        assert admin.get(path).status_code == 404, path
    assert admin.post(f"{HOOKS}/delete/{b_sub}").status_code == 404
    assert admin.post(f"{HOOKS}/rotate/{b_sub}").status_code == 404
    assert admin.get(f"{HOOKS}/rotate/{b_sub}").status_code == 404
    assert admin.get(f"{HOOKS}/secret/{b_sub}").status_code == 404
    assert admin.post(f"{LOG}/action/replay/{b_delivery.id}").status_code == 404
    assert admin.post(f"{LOG}/action_post", data={"action": "replay", "rowid": [str(b_delivery.id)]}
                      ).status_code == 404
    assert admin.post(f"{HOOKS}/edit/{b_sub}", data={"name": "x", "url": receiver.url,
                                                   "events": ["request.created"]}).status_code == 404
    assert len(receiver.received) == 1  # nothing re-sent for A
    assert [s[1] for s in _subs(app, tenant_b.id)] == ["ของบีเท่านั้น"]


def test_an_officer_has_no_webhook_screens(client_for):
    officer = client_for("a.officer")
    assert officer.get(f"{HOOKS}/list/").status_code in (302, 403)
    assert officer.get(f"{LOG}/list/").status_code in (302, 403)
    for path in (f"{HOOKS}/rotate/1", f"{HOOKS}/secret/1"):
        assert officer.get(path).status_code in (302, 403), path
        assert officer.post(path).status_code in (302, 403, 405), path


def test_rotation_needs_the_csrf_token(app, client_for, tenant_a, receiver, private_ok, monkeypatch):
    sub_id, secret = subscribe(app, tenant_a.id, receiver.url, name="ผู้รับ")
    admin = client_for("a.admin")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    refused = admin.post(f"{HOOKS}/rotate/{sub_id}")
    assert refused.status_code in (200, 400)  # refused by the CSRF check, nothing rotated
    assert _sealed_secret(app, tenant_a.id, sub_id) == secret
    assert admin.get(f"{HOOKS}/rotate/{sub_id}").status_code == 200  # a GET only asks
    assert _sealed_secret(app, tenant_a.id, sub_id) == secret


def test_english_form_events_and_recipe(app, client_for, tenant_a, receiver, private_ok):
    admin = client_for("a.admin")
    admin.get("/lang/en")
    try:  # the choice is kept on the user: give a.admin their Thai back whatever happens
        form = admin.get(f"{HOOKS}/add").get_data(as_text=True)
        assert "มีการยื่นเรื่อง" not in form and "(request.created)" in form
        added = admin.post(f"{HOOKS}/add", data={"name": "CRM", "url": receiver.url, "events": ["request.created"]})
        html = admin.get(added.headers["Location"]).get_data(as_text=True)
        assert ('<code>X-Thongthin-Signature: t=&lt;unix time&gt;,v1=&lt;hex HMAC-SHA256(secret, '
                '&#34;&lt;t&gt;.&lt;body&gt;&#34;)&gt;</code>') in html
    finally:
        admin.get("/lang/th")
    assert "มีการยื่นเรื่อง (request.created)" in admin.get(f"{HOOKS}/add").get_data(as_text=True)


def test_the_add_form_shows_every_error_under_its_field(app, client_for, tenant_a, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", False)
    admin = client_for("a.admin")
    page = admin.post(f"{HOOKS}/add", data={"name": "ระบบจังหวัด", "url": "http://10.0.0.5/hook"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "เครือข่ายภายใน" in html
    url_at, refusal_at, events_at = html.index('name="url"'), html.index("เครือข่ายภายใน"), html.index('name="events"')
    assert url_at < refusal_at < events_at  # under the URL field, not a flash at the top
    assert "กรุณาเลือกเหตุการณ์อย่างน้อยหนึ่งรายการ" in html[events_at:]
    assert 'value="http://10.0.0.5/hook"' in html and 'value="ระบบจังหวัด"' in html
    assert _subs(app, tenant_a.id) == []


def test_a_failed_delivery_reads_plainly(app, client_for, tenant_a, private_ok):
    sub_id, _ = subscribe(app, tenant_a.id, "http://127.0.0.1:9/none", name="ปิดอยู่")
    file_matter(app, tenant_a.id)
    [delivery] = deliveries(app, tenant_a.id, sub_id)
    reason, detail = delivery.last_error.split("\n")
    assert reason == "could not connect" and detail.startswith("ConnectionError") and len(detail) <= 200
    admin = client_for("a.admin")
    shown = admin.get(f"{LOG}/show/{delivery.id}").get_data(as_text=True)
    assert "เชื่อมต่อไม่ได้" in shown and "webhook-error-detail" in shown
    admin.get("/lang/en")
    try:
        assert "could not connect" in admin.get(f"{LOG}/show/{delivery.id}").get_data(as_text=True)
    finally:
        admin.get("/lang/th")  # the choice is kept on the user

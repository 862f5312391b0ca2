"""The citizen portal: submit with consent, keep files across mistakes, track by number and secret only in
the organisation that owns the matter, rate, reopen; bots and bad input get nothing saved."""
import io
import re

import pytest
from sqlalchemy import func, select

from app.catalog.attachments import Attachment
from app.catalog.models import ServiceRequest, ServiceType
from app.extensions import db
from app.service_requests.models import Notification, ServiceRequestEvent
from app.tenancy.context import platform_scope, tenant_scope
from tests.service_requests.conftest import PNG, act

A, B = "1000001", "1000002"


def _consent(app, dla):
    from app.tenancy.models import Tenant

    with app.app_context(), platform_scope():
        return str(db.session.scalar(select(Tenant.privacy_version).where(Tenant.dla_code == dla)))


def _form(app, dla=A, **extra):
    data = {"what": "ไฟทางดับหน้าตลาด", "email": "", "photo": (io.BytesIO(PNG), "lamp.png"),
            "consent": _consent(app, dla), "contact_email": ""}
    data.update(extra)
    return data


def _count(app, model=ServiceRequest):
    with app.app_context(), platform_scope():
        return db.session.scalar(select(func.count()).select_from(model))


def _submit(app, client, service_code="fwd_complaint", dla=A, **extra):
    response = client.post(f"/t/{dla}/services/{service_code}/new", data=_form(app, dla, **extra),
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    pk = int(re.search(r"/submitted/(\d+)", response.headers["Location"]).group(1))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    secret = re.search(r'id="tracking-secret">([A-Z0-9-]+)<', html).group(1)
    return pk, secret


def test_the_catalogue_and_guides_are_public_and_per_organisation(app, client_for, service):
    anon = app.test_client()
    html = anon.get(f"/t/{A}/").get_data(as_text=True)
    assert "แจ้งเรื่องร้องเรียนทดสอบส่งต่อ" in html and "ขออนุญาตทดสอบ" in html
    assert "แจ้งเรื่องร้องเรียนทดสอบส่งต่อ" not in anon.get(f"/t/{B}/").get_data(as_text=True)
    assert anon.get(f"/t/{A}/services/fwd_complaint/guide").status_code == 200
    assert anon.get(f"/t/{B}/services/fwd_complaint/guide").status_code == 404
    assert anon.get(f"/t/{B}/services/fwd_complaint/new").status_code == 404
    assert anon.get("/t/9999999/").status_code == 404
    assert "ผู้ควบคุมข้อมูลส่วนบุคคล" in anon.get(f"/t/{A}/privacy").get_data(as_text=True)


def test_a_citizen_submits_tracks_and_only_with_the_secret(app, client_for, tenant_a, service):
    citizen = app.test_client()
    pk, secret = _submit(app, citizen)
    with app.app_context(), tenant_scope(tenant_a.id):
        item = db.session.get(ServiceRequest, pk)
        assert item.channel == "portal" and item.created_by_id is None and item.consent_version >= 1
        assert item.secret_hash and secret.replace("-", "") not in item.secret_hash
        assert db.session.scalar(select(Attachment.filename).where(Attachment.request_id == pk)) == "lamp.png"
    # the browser that filed it sees it; the secret is not shown again
    page = citizen.get(f"/t/{A}/track/{pk}").get_data(as_text=True)
    assert "ไฟทางดับหน้าตลาด" in page and secret not in page
    # another browser needs number and secret; a wrong secret or the other organisation's portal says no
    stranger = app.test_client()
    assert stranger.get(f"/t/{A}/track/{pk}").status_code == 302
    html = stranger.post(f"/t/{A}/track", data={"number": str(pk), "secret": "AAAA-AAAA"},
                         follow_redirects=True).get_data(as_text=True)
    assert "ไม่พบคำขอ" in html
    response = stranger.post(f"/t/{B}/track", data={"number": str(pk), "secret": secret})
    assert response.status_code == 200 and "ไม่พบคำขอ" in response.get_data(as_text=True)
    assert stranger.get(f"/t/{B}/track/{pk}").status_code == 302
    response = stranger.post(f"/t/{A}/track", data={"number": str(pk), "secret": secret.lower().replace("-", " ")})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/t/{A}/track/{pk}")
    assert "ไฟทางดับหน้าตลาด" in stranger.get(f"/t/{A}/track/{pk}").get_data(as_text=True)
    # their own file downloads; someone else's attachment id does not
    with app.app_context(), platform_scope():
        own = db.session.scalar(select(Attachment.id).where(Attachment.request_id == pk))
        other = db.session.scalar(select(Attachment.id).where(Attachment.request_id != pk))
    assert stranger.get(f"/t/{A}/track/{pk}/file/{own}").data == PNG
    assert stranger.get(f"/t/{A}/track/{pk}/file/{other}").status_code == 404


def test_staff_only_steps_never_reach_the_citizen(app, client_for, tenant_a, service):
    citizen = app.test_client()
    pk, _secret = _submit(app, citizen)
    officer = client_for("a.officer")
    act(officer, pk, "accept", note="บันทึกภายใน ห้ามเผยแพร่", staff_only="y")
    page = citizen.get(f"/t/{A}/track/{pk}").get_data(as_text=True)
    assert "บันทึกภายใน ห้ามเผยแพร่" not in page
    act(officer, pk, "close", note="ซ่อมแล้ว ขอบคุณที่แจ้ง")
    page = citizen.get(f"/t/{A}/track/{pk}").get_data(as_text=True)
    assert "ซ่อมแล้ว ขอบคุณที่แจ้ง" in page and 'id="rate-form"' in page


def test_bad_input_saves_nothing_and_keeps_the_files(app, service):
    citizen = app.test_client()
    before = _count(app)
    # no consent, a bad e-mail, the required text missing: three Thai messages, nothing filed
    data = _form(app, consent="", contact_email="not-an-email", what="")
    html = citizen.post(f"/t/{A}/services/fwd_complaint/new", data=data,
                        content_type="multipart/form-data").get_data(as_text=True)
    assert "ยอมรับประกาศความเป็นส่วนตัว" in html and "not-an-email" in html and "กรุณาแก้ไข" in html
    assert _count(app) == before
    assert "lamp.png" in html  # the photo is kept: not chosen again
    # the second try without a file still files it with the photo sent the first time
    data = _form(app)
    data.pop("photo")
    response = citizen.post(f"/t/{A}/services/fwd_complaint/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302 and _count(app) == before + 1
    pk = int(re.search(r"/submitted/(\d+)", response.headers["Location"]).group(1))
    with app.app_context(), platform_scope():
        assert db.session.scalar(select(Attachment.filename).where(Attachment.request_id == pk)) == "lamp.png"
    # a renamed file is refused by its content
    html = citizen.post(f"/t/{A}/services/fwd_complaint/new",
                        data=_form(app, photo=(io.BytesIO(b"MZ\x90\0not an image"), "x.png")),
                        content_type="multipart/form-data").get_data(as_text=True)
    assert "x.png" in html and _count(app) == before + 1


def test_a_bot_filling_the_hidden_field_gets_nothing(app, service):
    before = _count(app)
    response = app.test_client().post(f"/t/{A}/services/fwd_complaint/new", data=_form(app, website="http://spam"),
                                      content_type="multipart/form-data")
    assert response.status_code == 400 and _count(app) == before


def test_rate_once_and_reopen_within_the_days(app, client_for, tenant_a, service):
    from datetime import timedelta

    citizen = app.test_client()
    pk, _secret = _submit(app, citizen)
    officer = client_for("a.officer")
    act(officer, pk, "accept")
    act(officer, pk, "close", note="ซ่อมแล้ว")
    html = citizen.post(f"/t/{A}/track/{pk}/rate", data={"rating": "9"}, follow_redirects=True).get_data(as_text=True)
    assert "1 ถึง 5" in html
    citizen.post(f"/t/{A}/track/{pk}/rate", data={"rating": "4", "comment": "รวดเร็วดี"})
    citizen.post(f"/t/{A}/track/{pk}/rate", data={"rating": "1"})
    with app.app_context(), platform_scope():
        item = db.session.get(ServiceRequest, pk)
        assert (item.rating, item.rating_comment) == (4, "รวดเร็วดี")
    # the test service's closed state is not reopenable: refused
    html = citizen.post(f"/t/{A}/track/{pk}/reopen", data={"note": "ยังดับอยู่"},
                        follow_redirects=True).get_data(as_text=True)
    assert "เปิดเรื่องใหม่ไม่ได้" in html or "ไม่สามารถ" in html
    # make it reopenable (as the complaint template is), then too late, then in time
    with app.app_context(), tenant_scope(tenant_a.id):
        item = db.session.get(ServiceRequest, pk)
        workflow = dict(item.version.workflow)
        workflow["states"] = [dict(s, reopenable=True) if s["code"] == "completed" else s for s in workflow["states"]]
        workflow["reopen_to"] = "triage"
        item.version.workflow = workflow
        item.closed_at = item.closed_at - timedelta(days=31)
        db.session.commit()
    html = citizen.post(f"/t/{A}/track/{pk}/reopen", data={"note": "ยังดับอยู่"},
                        follow_redirects=True).get_data(as_text=True)
    assert "30 วัน" in html
    with app.app_context(), tenant_scope(tenant_a.id):
        item = db.session.get(ServiceRequest, pk)
        item.closed_at = item.closed_at + timedelta(days=30)
        db.session.commit()
    citizen.post(f"/t/{A}/track/{pk}/reopen", data={"note": "ยังดับอยู่ คืนนี้ก็ดับ"})
    with app.app_context(), tenant_scope(tenant_a.id):
        item = db.session.get(ServiceRequest, pk)
        assert item.status == "triage" and item.closed_at is None and item.reopened_count == 1
        event = db.session.scalars(select(ServiceRequestEvent).where(ServiceRequestEvent.request_id == pk)
                                   .order_by(ServiceRequestEvent.id.desc())).first()
        assert event.action == "reopen" and event.actor_id is None and event.note == "ยังดับอยู่ คืนนี้ก็ดับ"
    # B's portal cannot rate or reopen A's matter
    assert app.test_client().post(f"/t/{B}/track/{pk}/rate", data={"rating": "1"}).status_code == 302


def test_the_tracking_code_is_emailed_but_never_stored(app, tenant_a, service, smtp_server):
    citizen = app.test_client()
    pk, secret = _submit(app, citizen, contact_email="somchai@example.com")
    from email import message_from_string

    mails = [message_from_string(m).get_payload(decode=True).decode("utf-8")
             for rcpt, m in smtp_server if rcpt == ["somchai@example.com"]]
    assert len(mails) == 1 and secret in mails[0] and f"{pk}" in mails[0]
    with app.app_context(), tenant_scope(tenant_a.id):
        kept = db.session.scalar(select(Notification).where(Notification.request_id == pk,
                                                            Notification.kind == "tracking"))
        assert kept.emailed is True and secret not in kept.body


def test_submissions_are_rate_limited_per_address(database_url, tenant_a, service):
    from tests.conftest import make_app

    limited = make_app(database_url, RATELIMIT_ENABLED=True, PORTAL_SUBMIT_RATE_LIMIT="2 per minute")
    client = limited.test_client()
    codes = [client.post(f"/t/{A}/services/fwd_complaint/new", data={"what": ""},
                         content_type="multipart/form-data").status_code for _ in range(3)]
    assert codes[:2] == [200, 200] and codes[2] == 429
    assert client.get(f"/t/{A}/").status_code == 200  # reading is not limited


def test_a_new_privacy_notice_is_a_new_version_to_consent_to(app, client_for, tenant_a, tenant_b, service):
    from app.tenancy.models import Tenant

    with app.app_context(), platform_scope():
        before = db.session.get(Tenant, tenant_a.id).privacy_version
    admin = client_for("a.admin")
    response = admin.post(f"/organisation/edit/{tenant_a.id}", data={
        "name_en": "SAO A", "reopen_days": "30", "privacy_notice_th": "อบต.เอ ใช้ข้อมูลของท่านเพื่อคำขอนี้เท่านั้น"})
    assert response.status_code == 302
    with app.app_context(), platform_scope():
        assert db.session.get(Tenant, tenant_a.id).privacy_version == before + 1
    form = app.test_client().get(f"/t/{A}/services/fwd_complaint/new").get_data(as_text=True)
    assert "อบต.เอ ใช้ข้อมูลของท่านเพื่อคำขอนี้เท่านั้น" in form and f'value="{before + 1}"' in form
    # consent to the old version is not consent to this one
    html = app.test_client().post(f"/t/{A}/services/fwd_complaint/new", data=_form(app, consent=str(before)),
                                  content_type="multipart/form-data").get_data(as_text=True)
    assert "ยอมรับประกาศความเป็นส่วนตัว" in html
    # bad days are refused in Thai; another organisation's settings are out of reach
    html = admin.post(f"/organisation/edit/{tenant_a.id}", data={"name_en": "SAO A", "reopen_days": "999"},
                      follow_redirects=True).get_data(as_text=True)
    assert "0 ถึง 365" in html
    assert admin.post(f"/organisation/edit/{tenant_b.id}", data={"reopen_days": "1"}).status_code == 404
    # the staff home shows the organisation's portal address
    assert f"/t/{A}/" in client_for("a.officer").get("/").get_data(as_text=True)


def test_without_leaflet_the_location_box_still_works(database_url, tenant_a, service, tmp_path):
    from tests.conftest import make_app

    bare = make_app(database_url, LEAFLET_DIR=str(tmp_path / "none"), MAP_TILE_URL="")
    client = bare.test_client()
    assert client.get("/vendor/leaflet/leaflet.js").status_code == 404
    html = client.get(f"/t/{A}/services/fwd_complaint/new").get_data(as_text=True)
    assert 'name="where"' in html and "leaflet.js" not in html


def test_the_language_switch_stays_on_the_portal_page(app, service):
    """The citizen's switch returns to the page being read (FAB's own goes to the staff login) and only to a
    page of this organisation's portal."""
    client = app.test_client()
    page = f"/t/{A}/track"
    assert "ภาษาไทย" not in client.get(page).get_data(as_text=True)
    response = client.get(f"/t/{A}/language/en?next={page}")
    assert response.status_code == 302 and response.headers["Location"].endswith(page)
    assert "ภาษาไทย" in client.get(page).get_data(as_text=True)  # now English, offering Thai back
    for elsewhere in ("https://evil.example/", "//evil.example/x", f"/t/{B}/track", "/login/"):
        response = client.get(f"/t/{A}/language/th", query_string={"next": elsewhere})
        assert response.headers["Location"].endswith(f"/t/{A}/"), elsewhere
    assert client.get(f"/t/{A}/language/xx").status_code == 404

"""A delay notice (s.10) printed as a Thai official letter (หนังสือภายนอก): the organisation's own letterhead,
the date in พ.ศ., the OPDC copy line; walled per tenant, only for delay notices, only with the permission."""
import re
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from markupsafe import escape
from sqlalchemy import select, update

from app import thai
from app.catalog import services
from app.catalog.models import ServiceType
from app.extensions import db
from app.service_requests import outbox
from app.service_requests.models import Notification
from app.service_requests.notices import delay_notices
from app.tenancy.context import platform_scope, tenant_scope
from app.tenancy.models import Tenant

THAI_MONTHS = ["", "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม", "สิงหาคม",
               "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม"]
OPDC_COPY = "สำเนาเรียน สำนักงานคณะกรรมการพัฒนาระบบราชการ (สำนักงาน ก.พ.ร.)"
LETTERHEAD = {"book_prefix": "ชม 52101", "address_th": "99 หมู่ 1 ตำบลเอ อำเภอเมือง จังหวัดเชียงใหม่ 50000",
              "phone": "053 123 456"}


def _be_long(value) -> str:
    local = thai.to_bangkok(value).date()
    return f"{local.day} {THAI_MONTHS[local.month]} {local.year + 543}"


@pytest.fixture
def notice_a(app, tenant_a):
    """A delay notice of tenant A for an overdue permit: (notice id, request id)."""
    with app.test_request_context(), tenant_scope(tenant_a.id):
        st = db.session.scalar(select(ServiceType).where(ServiceType.code == "test_permit"))
        request = services.file_request(st, {"applicant": "มานี มีนา", "area": "10", "kind_of_use": "home"}, None)
        db.session.flush()
        request.due_on = date.today() - timedelta(days=2)
        db.session.commit()
        request_id = request.id
        delay_notices()
    with app.app_context(), platform_scope():
        notice_id = db.session.scalar(select(Notification.id).where(
            Notification.request_id == request_id, Notification.kind == "delay_notice"))
    assert notice_id is not None
    return notice_id, request_id


@pytest.fixture
def restore_tenant_a(app, tenant_a):
    """Whatever a test does to tenant A's settings, later tests find them as before."""
    with app.app_context(), platform_scope():
        tenant = db.session.get(Tenant, tenant_a.id)
        before = {k: getattr(tenant, k) for k in ("name_en", "thai_digits", "book_prefix", "address_th", "phone")}
        db.session.remove()
    yield
    with app.app_context(), platform_scope():
        db.session.execute(update(Tenant).where(Tenant.id == tenant_a.id).values(**before))
        db.session.commit()
        db.session.remove()


def _set_letterhead(client, tenant_id, **extra):
    return client.post(f"/organisation/edit/{tenant_id}", data={"name_en": "SAO A", "reopen_days": "30", **LETTERHEAD, **extra})


def _notice(app, pk) -> Notification:
    with app.app_context(), platform_scope():
        notice = db.session.get(Notification, pk)
        db.session.expunge(notice)
        return notice


def test_letterhead_is_edited_through_organisation_settings(client_for, db_session, tenant_a, tenant_b,
                                                           restore_tenant_a):
    admin = client_for("a.admin")
    form = admin.get(f"/organisation/edit/{tenant_a.id}").get_data(as_text=True)
    for name in ("book_prefix", "address_th", "phone"):
        assert f'name="{name}"' in form, name
    response = _set_letterhead(admin, tenant_a.id)
    assert response.status_code == 302
    with platform_scope():
        db_session.expire_all()
        saved = db_session.get(Tenant, tenant_a.id)
        assert (saved.book_prefix, saved.address_th, saved.phone) == tuple(LETTERHEAD.values())
        other = db_session.get(Tenant, tenant_b.id)
        before_b = (other.book_prefix, other.address_th, other.phone)
    shown = admin.get(f"/organisation/show/{tenant_a.id}").get_data(as_text=True)
    assert "ชม 52101" in shown and "053 123 456" in shown
    # another tenant's organisation: neither shown nor edited
    assert admin.post(f"/organisation/edit/{tenant_b.id}",
                      data={"name_en": "x", "book_prefix": "ปลอม 1"}).status_code == 404
    assert client_for("b.admin").post(f"/organisation/edit/{tenant_a.id}",
                                      data={"name_en": "x", "book_prefix": "ปลอม 1"}).status_code == 404
    with platform_scope():
        db_session.expire_all()
        other = db_session.get(Tenant, tenant_b.id)
        assert (other.book_prefix, other.address_th, other.phone) == before_b
        assert db_session.get(Tenant, tenant_a.id).book_prefix == "ชม 52101"


def test_delay_notice_prints_as_an_official_letter(app, client_for, tenant_a, notice_a, restore_tenant_a):
    notice_id, request_id = notice_a
    assert _set_letterhead(client_for("a.admin"), tenant_a.id).status_code == 302
    notice = _notice(app, notice_id)
    with app.app_context(), platform_scope():
        filed = db.session.scalar(select(Notification.created_at).where(Notification.id == notice_id))
        from app.catalog.models import ServiceRequest

        request_filed = db.session.get(ServiceRequest, request_id).created_at
    response = client_for("a.officer").get(f"/outbox/letter/{notice_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "องค์การบริหารส่วนตำบลเอ" in html
    assert f"ที่ ชม 52101/{notice_id}" in html
    assert LETTERHEAD["address_th"] in html and "โทร. 053 123 456" in html
    assert _be_long(filed) in html and str(thai.to_bangkok(filed).year + 543) in html
    assert "เรื่อง</span><span>แจ้งความล่าช้าในการพิจารณาคำขอ" in html
    assert "เรียน</span><span>มานี มีนา" in html
    assert f"คำขอ เลขที่ {request_id} ลงวันที่ {_be_long(request_filed)}" in html
    assert str(escape(notice.body)) in html and "มาตรา 10" in html
    assert "จึงเรียนมาเพื่อโปรดทราบ" in html and "ขอแสดงความนับถือ" in html
    assert "นายกองค์การบริหารส่วนตำบลเอ" in html  # the executive title of an อบต. and its own name
    assert OPDC_COPY in html
    # a standalone A4 print page: not FAB's layout, nothing fetched from the network
    assert "size: A4" in html and "TH Sarabun New" in html and "window.print()" in html
    assert "navbar" not in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert "@import" not in html and "url(" not in html


def test_letter_is_dated_in_thai_even_on_an_english_screen(app, client_for, tenant_a, notice_a):
    notice_id, _request_id = notice_a
    filed = _notice(app, notice_id).created_at
    client = client_for("a.officer")
    client.get("/lang/en")
    try:
        html = client.get(f"/outbox/letter/{notice_id}").get_data(as_text=True)
    finally:
        client.get("/lang/th")
    assert _be_long(filed) in html and ">Print<" in html


def test_thai_digits_when_the_organisation_prints_them(app, client_for, tenant_a, notice_a, restore_tenant_a):
    notice_id, _request_id = notice_a
    assert _set_letterhead(client_for("a.admin"), tenant_a.id, thai_digits="y").status_code == 302
    html = client_for("a.officer").get(f"/outbox/letter/{notice_id}").get_data(as_text=True)
    assert f"ที่ ชม ๕๒๑๐๑/{thai.thai_digits(notice_id)}" in html
    assert "โทร. ๐๕๓ ๑๒๓ ๔๕๖" in html and "มาตรา ๑๐" in html


def test_letter_is_reachable_from_the_outbox(client_for, notice_a):
    notice_id, _request_id = notice_a
    client = client_for("a.officer")
    assert f"/outbox/letter/{notice_id}" in client.get("/outbox/list/").get_data(as_text=True)
    assert f"/outbox/letter/{notice_id}" in client.get(f"/outbox/show/{notice_id}").get_data(as_text=True)


def test_other_tenants_get_404(client_for, notice_a):
    notice_id, _request_id = notice_a
    for username in ("b.admin", "b.officer"):
        assert client_for(username).get(f"/outbox/letter/{notice_id}").status_code == 404, username
    assert client_for("a.officer").get("/outbox/letter/999999999").status_code == 404


def test_only_delay_notices_print_as_letters(app, client_for, tenant_a, notice_a):
    _notice_id, request_id = notice_a
    with app.test_request_context(), tenant_scope(tenant_a.id):
        other = outbox.write(tenant_id=tenant_a.id, request_id=request_id, kind="status", period=0,
                             recipient="มานี มีนา", subject="ความคืบหน้า", body="รับเรื่องแล้ว")
        db.session.commit()
        other_id = other.id
    client = client_for("a.officer")
    assert client.get(f"/outbox/letter/{other_id}").status_code == 404
    assert f"/outbox/letter/{other_id}" not in client.get(f"/outbox/show/{other_id}").get_data(as_text=True)


@contextmanager
def _without_letter_permission(app, username):
    """Take the letter permission from every role the user holds (other tests may have granted more)."""
    from flask_appbuilder.security.sqla.models import User

    with app.app_context(), platform_scope():
        sm = app.appbuilder.sm
        permission = sm.find_permission_view_menu("can_letter", "NotificationView")
        user = db.session.scalar(select(User).where(User.username == username))
        taken = [role.name for role in user.roles if permission in role.permissions]
        assert taken
        for name in taken:
            sm.del_permission_role(sm.find_role(name), permission)
        db.session.remove()
    try:
        yield
    finally:
        with app.app_context(), platform_scope():
            permission = sm.find_permission_view_menu("can_letter", "NotificationView")
            for name in taken:
                sm.add_permission_role(sm.find_role(name), permission)
            db.session.remove()


def test_a_role_without_the_permission_is_refused(app, client_for, notice_a):
    notice_id, _request_id = notice_a
    with _without_letter_permission(app, "a.officer"):
        client = client_for("a.officer")
        assert client.get(f"/outbox/letter/{notice_id}").status_code == 403
        # the outbox itself still opens, without the link
        listing = client.get("/outbox/list/")
        assert listing.status_code == 200 and f"/outbox/letter/{notice_id}" not in listing.get_data(as_text=True)
    assert client_for("a.officer").get(f"/outbox/letter/{notice_id}").status_code == 200

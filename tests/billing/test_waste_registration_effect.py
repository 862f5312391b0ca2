"""The waste registration's workflow opens the fee account from the citizen's request (effect
open_waste_account): at กองคลัง's registration step, once, with the verified volume and the route named by the
collection zone; a value the account cannot take fails the step in Thai with nothing written."""
from decimal import Decimal

from sqlalchemy import func, select

from app.billing import accounts
from app.billing.models import WasteAccount, WasteAccountTier
from app.catalog import services
from app.catalog.models import ServiceRequest, ServiceType
from app.extensions import db
from app.service_requests.models import ServiceRequestEvent
from app.tenancy.context import platform_scope, tenant_scope
from app.tenancy.models import Division, Tenant
from tests.billing.waste import POSTCODE, SUBDISTRICT, waste  # noqa: F401
from tests.conftest import demo_seed_paths, seeded_app
from tests.service_requests.conftest import act, status_of


def _data(**overrides) -> dict:
    data = {"account_holder": "นางสาวลงทะเบียน ขยะดี", "national_id": "1101700203450", "phone": "081-234-5678",
            "address": {"line": "45 หมู่ 2", "subdistrict": SUBDISTRICT, "postcode": POSTCODE},
            "location": {"lat": "18.7", "lng": "98.9"}, "premises_kind": "household", "litres_per_day": "20",
            "start_date": "2026-11-01"}
    data.update(overrides)
    return data


def _request_at_registration(app, tenant_id: int, service_type_id: int, **data) -> int:
    """A registration request whose premises the health กอง has checked: now at กองคลัง to register."""
    with app.app_context(), tenant_scope(tenant_id):
        service_type = db.session.get(ServiceType, service_type_id)
        request = services.file_request(service_type, _data(**data), None)
        request.status = "awaiting_registration"
        request.division = db.session.scalar(select(Division).where(Division.code == "finance"))
        db.session.commit()
        return request.id


def _accounts_of(app, request_id: int) -> list[WasteAccount]:
    with app.app_context(), platform_scope():
        rows = db.session.scalars(select(WasteAccount).where(WasteAccount.request_id == request_id)).all()
        db.session.expunge_all()
        return rows


def _events(app, request_id: int, action: str) -> int:
    with app.app_context(), platform_scope():
        return db.session.scalar(select(func.count()).select_from(ServiceRequestEvent).where(
            ServiceRequestEvent.request_id == request_id, ServiceRequestEvent.action == action))


def test_registering_opens_one_account_from_the_request(app, client_for, waste):
    a = waste["a"]
    pk = _request_at_registration(app, a.tenant_id, a.service_type_id, litres_per_day="25",
                                  verified_litres_per_day="40", collection_zone="R2", premises_kind="business",
                                  business_name="ร้านข้าวแกงป้าศรี")
    officer = client_for("a.officer")  # กองคลัง
    html = act(officer, pk, "register", note="แจ้งอัตราแล้ว")
    assert status_of(app, pk) == "registered", html[:2000]
    [account] = _accounts_of(app, pk)
    assert account.tenant_id == a.tenant_id and account.route_id == a.route2_id
    assert account.litres_per_day == Decimal("40")  # the volume staff verified, not the estimate
    assert (account.holder_name, account.business_name, account.premises_kind) == (
        "นางสาวลงทะเบียน ขยะดี", "ร้านข้าวแกงป้าศรี", "business")
    assert account.national_id == "1101700203450" and account.phone
    assert (account.address_line, account.subdistrict_code, account.postcode) == ("45 หมู่ 2", SUBDISTRICT, POSTCODE)
    assert account.start_date.isoformat() == "2026-11-01"
    with app.app_context(), tenant_scope(a.tenant_id):
        event = db.session.scalar(select(ServiceRequestEvent).where(ServiceRequestEvent.request_id == pk,
                                                                    ServiceRequestEvent.action == "register"))
        assert account.account_no in event.note and "แจ้งอัตราแล้ว" in event.note
        assert db.session.scalar(select(func.count()).select_from(WasteAccountTier)
                                 .where(WasteAccountTier.account_id == account.id)) == 1
        # running the effect again finds the same account
        request = db.session.get(ServiceRequest, pk)
        again, opened = accounts.open_from_request(request, "ผู้ทดสอบ")
        assert again.id == account.id and not opened
        db.session.rollback()
    # the step taken again (sent back and registered once more) opens no second account
    response = officer.post(f"/service-requests/act/{pk}", data={"action": "complete"})
    assert response.status_code in (403, 404) and status_of(app, pk) == "registered"  # the health กอง's step
    with app.app_context(), tenant_scope(a.tenant_id):
        request = db.session.get(ServiceRequest, pk)
        request.status = "awaiting_registration"
        request.division = db.session.scalar(select(Division).where(Division.code == "finance"))
        db.session.commit()
    act(officer, pk, "register")
    assert status_of(app, pk) == "registered" and len(_accounts_of(app, pk)) == 1
    # the account page links back to the request
    page = officer.get(f"/waste/accounts/show/{account.id}").get_data(as_text=True)
    assert f"/service-requests/show/{pk}" in page


def test_without_a_verified_volume_or_a_known_zone_the_estimate_and_no_route(app, client_for, waste):
    a = waste["a"]
    pk = _request_at_registration(app, a.tenant_id, a.service_type_id, litres_per_day="30", collection_zone="ZZ")
    act(client_for("a.officer"), pk, "register")
    [account] = _accounts_of(app, pk)
    assert account.litres_per_day == Decimal("30") and account.route_id is None


def test_an_account_mistake_fails_the_step_in_thai_and_writes_nothing(app, client_for, waste):
    a = waste["a"]
    # a business without its name; a start before any fee schedule
    pk = _request_at_registration(app, a.tenant_id, a.service_type_id, premises_kind="business",
                                  start_date="2020-01-01")
    with app.app_context(), platform_scope():
        before = db.session.scalar(select(func.count()).select_from(WasteAccount))
    html = act(client_for("a.officer"), pk, "register", note="ลองขึ้นทะเบียน")
    assert "ขึ้นทะเบียนผู้ใช้บริการไม่ได้" in html
    assert "ชื่อร้านค้า/สถานประกอบการ" in html  # the request's own field label
    assert "ลองขึ้นทะเบียน" in html  # the note typed is kept
    assert status_of(app, pk) == "awaiting_registration"
    assert _accounts_of(app, pk) == [] and _events(app, pk, "register") == 0
    with app.app_context(), platform_scope():
        assert db.session.scalar(select(func.count()).select_from(WasteAccount)) == before


def test_another_organisations_request_cannot_be_registered(app, client_for, waste):
    b = waste["b"]
    pk = _request_at_registration(app, b.tenant_id, b.service_type_id)
    officer = client_for("a.officer")
    assert officer.post(f"/service-requests/act/{pk}", data={"action": "register"}).status_code == 404
    assert status_of(app, pk) == "awaiting_registration" and _accounts_of(app, pk) == []
    act(client_for("b.officer"), pk, "register")
    [account] = _accounts_of(app, pk)
    assert account.tenant_id == b.tenant_id
    with app.app_context(), tenant_scope(waste["a"].tenant_id):
        assert db.session.get(WasteAccount, account.id) is None


def test_the_demo_walks_a_registration_to_an_account(tmp_path):
    """อบต.ดอนแก้ว (waste under สำนักปลัด): the officer of สำนักปลัด and กองคลัง takes it from filing to
    collection; the account is opened at registration."""
    from flask_appbuilder.security.sqla.models import User

    from app.service_requests import engine

    url = "sqlite:///" + str(tmp_path / "walk.db")
    app = seeded_app(url, demo_seed_paths("platform", "services", "tenants"), UPLOAD_FOLDER=str(tmp_path / "up"))
    with app.test_request_context():
        with platform_scope():
            tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.dla_code == "6500201"))
        with tenant_scope(tenant_id):
            officer = db.session.scalar(select(User).where(User.username == "donkaeo.officer"))
            st = db.session.scalar(select(ServiceType).where(ServiceType.code == "waste_collection_registration"))
            request = services.file_request(st, _data(), None)
            db.session.flush()
            for action in ("accept", "site_checked", "register", "complete"):
                engine.take(request, action, officer)
            assert request.status == "completed"
            [account] = db.session.scalars(select(WasteAccount).where(WasteAccount.request_id == request.id)).all()
            assert account.holder_name == "นางสาวลงทะเบียน ขยะดี" and account.litres_per_day == Decimal("20")
            steps = [(e.action, e.division.code) for e in engine.timeline(request)]
            assert steps == [("accept", "office"), ("site_checked", "finance"), ("register", "office"),
                             ("complete", "office")]
            db.session.commit()
        db.engine.dispose()

"""The legal clock: working days skip weekends, Thai public and government holidays, and each tenant's own
closures (walled per tenant)."""
from datetime import date

from sqlalchemy import select

from app.catalog.models import ServiceRequest
from app.extensions import db
from app.service_requests.clock import WorkingCalendar, national_holidays
from app.service_requests.models import TenantClosure
from app.tenancy.context import tenant_scope
from tests.conftest import ids_in_links


def test_weekends_and_holidays_are_skipped():
    calendar = WorkingCalendar()
    assert calendar.add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Friday -> Monday
    # Songkran 13-15 April 2026 (Mon-Wed): filed on Friday 10 April, 1 working day -> Thursday 16 April
    assert calendar.add_working_days(date(2026, 4, 10), 1) == date(2026, 4, 16)
    # 5 Dec 2026 is a Saturday; its day in lieu, Monday 7 Dec, is skipped too
    assert not calendar.is_working_day(date(2026, 12, 7))
    assert calendar.add_working_days(date(2026, 12, 4), 1) == date(2026, 12, 8)
    # across New Year: 31 Dec, 1 and 2 Jan 2026-27 are holidays
    assert calendar.working_days_between(date(2026, 12, 30), date(2027, 1, 5)) == 2
    assert calendar.working_days_between(date(2027, 1, 5), date(2026, 12, 30)) == -2


def test_government_holidays_count_and_labour_day_does_not():
    days = national_holidays(2026)
    assert date(2026, 5, 13) in days  # วันพืชมงคล, a government holiday
    assert date(2026, 5, 1) not in days  # Labour Day: government offices are open
    assert "สงกรานต์" in days[date(2026, 4, 13)]


def test_fifteen_working_days_for_a_complaint():
    # filed Monday 23 Nov 2026: 15 working days; 7 Dec (in lieu of Sat 5 Dec) and 10 Dec are off
    assert WorkingCalendar().add_working_days(date(2026, 11, 23), 15) == date(2026, 12, 16)


def test_tenant_closures_extend_the_clock_and_are_walled(app, client_for, tenant_a, tenant_b):
    admin = client_for("a.admin")
    response = admin.post("/closures/add", data={"day": "24/11/2569", "name_th": "งานประเพณีลอยกระทง"})
    assert response.status_code == 302
    with app.app_context():
        with tenant_scope(tenant_a.id):
            a_calendar = WorkingCalendar.for_current_tenant()
            closure_id = db.session.scalar(select(TenantClosure.id))
        with tenant_scope(tenant_b.id):
            b_calendar = WorkingCalendar.for_current_tenant()
    assert not a_calendar.is_working_day(date(2026, 11, 24))
    assert b_calendar.is_working_day(date(2026, 11, 24))
    b_admin = client_for("b.admin")
    html = b_admin.get("/closures/list/").get_data(as_text=True)
    assert closure_id not in ids_in_links(html, "/closures") and "ลอยกระทง" not in html
    assert b_admin.get(f"/closures/edit/{closure_id}").status_code == 404
    assert b_admin.post(f"/closures/delete/{closure_id}").status_code == 404
    # a C.E. year typed by mistake is refused, nothing written
    html = admin.post("/closures/add", data={"day": "25/11/2026", "name_th": "x"}).get_data(as_text=True)
    assert "พุทธศักราช" in html
    assert client_for("a.officer").get("/closures/add").status_code in (302, 403)


def test_a_filed_request_is_due_after_its_working_days_and_flagged_when_late(app, tenant_a):
    from app.catalog import services
    from app.catalog.models import ServiceType
    from app.thai import today_bangkok

    with app.test_request_context(), tenant_scope(tenant_a.id):
        st = db.session.scalar(select(ServiceType).where(ServiceType.code == "water_truck"))
        request = services.file_request(st, {"requester": "ก", "litres": 2000}, None)
        db.session.flush()
        assert request.due_on == WorkingCalendar.for_current_tenant().add_working_days(today_bangkok(), st.sla_days)
        request.due_on = date(2020, 1, 1)
        db.session.commit()
        pk = request.id
    from app.catalog.views import _due_text

    with app.test_request_context(), tenant_scope(tenant_a.id):
        request = db.session.get(ServiceRequest, pk)
        assert "เกินกำหนด" in str(_due_text(request))
        request.due_on = date(2999, 1, 1)
        assert "เกินกำหนด" not in str(_due_text(request))
        db.session.rollback()

"""Staff record a payment with the step that takes the fee: checked against the fee asked, one receipt number
per organisation, shown on the request and to the citizen; the payments list and its CSV see only the
organisation's own payments."""
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app import thai
from app.billing.models import Payment
from app.catalog.models import ServiceRequest
from app.extensions import db
from app.service_requests.models import ServiceRequestEvent
from app.tenancy.context import CrossTenantWrite, platform_scope, tenant_scope
from tests.conftest import ids_in_links
from tests.service_requests.conftest import act, status_of


def _file(client, service_type_id, applicant="สมศรี ใจดี"):
    data = {"applicant": applicant, "intent": "save", "quoted": "150.00"}  # quoted: the fee the clerk has seen
    response = client.post(f"/service-requests/new/{service_type_id}", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(re.search(r"/service-requests/show/(\d+)", response.headers["Location"]).group(1))


def _awaiting(client, service_type_id):
    pk = _file(client, service_type_id)
    act(client, pk, "request_payment")
    return pk


def _pay(client, pk, receipt, amount="150.00", method="cash", paid_on=""):
    return act(client, pk, "record_payment", payment_receipt_no=receipt, payment_amount=amount,
               payment_method=method, payment_paid_on=paid_on, note="")


def _payments(app, **where):
    with app.app_context(), platform_scope():
        stmt = select(Payment)
        for key, value in where.items():
            stmt = stmt.where(getattr(Payment, key) == value)
        rows = db.session.scalars(stmt).all()
        db.session.expunge_all()
        return rows


def test_the_payment_step_writes_a_payment_shown_to_staff_and_citizen(app, client_for, tenant_a, pay_service):
    officer = client_for("a.officer")
    pk = _awaiting(officer, pay_service[tenant_a.id])
    page = officer.get(f"/service-requests/show/{pk}").get_data(as_text=True)
    assert 'id="payment-fields"' in page and 'value="150.00"' in page
    day = thai.today_bangkok()
    html = _pay(officer, pk, "RC 2570/0001", paid_on=thai.format_date_input(day))
    assert "กรุณา" not in html.split('id="request-timeline"')[0] or status_of(app, pk) == "paid"
    assert status_of(app, pk) == "paid"
    [payment] = _payments(app, request_id=pk)
    assert payment.tenant_id == tenant_a.id and payment.amount == Decimal("150.00")
    assert isinstance(payment.amount, Decimal) and payment.paid_on == day and payment.method == "cash"
    assert payment.receipt_no == "RC 2570/0001" and payment.recorded_by_id == tenant_a.user_ids["a.officer"]
    with app.app_context(), tenant_scope(tenant_a.id):
        event = db.session.get(ServiceRequestEvent, payment.event_id)
        assert event.action == "record_payment" and "RC 2570/0001" in event.note and "150.00" in event.note
    page = officer.get(f"/service-requests/show/{pk}").get_data(as_text=True)
    assert "payment-recorded" in page and "RC 2570/0001" in page
    # a step with no payment effect leaves the payments alone
    act(officer, pk, "complete")
    assert len(_payments(app, request_id=pk)) == 1


@pytest.mark.parametrize("fields, says", [
    ({"amount": "100.00"}, "ไม่ตรงกับค่าธรรมเนียม"),
    ({"amount": "150.001"}, "ทศนิยม"),
    ({"amount": "หนึ่งร้อย"}, "จำนวนเงิน"),
    ({"amount": ""}, "จำนวนเงิน"),
    ({"receipt": ""}, "เลขที่ใบเสร็จ"),
    ({"receipt": "<script>"}, "เลขที่ใบเสร็จ"),
    ({"method": "bitcoin"}, "วิธีชำระ"),
    ({"paid_on": "31/02/2569"}, "ไม่มีอยู่จริง"),
    ({"paid_on": "01/12/2026"}, "พุทธศักราช"),
    ({"paid_on": "future"}, "ล่วงหน้า"),
])
def test_a_wrong_payment_is_refused_in_thai_and_nothing_is_written(app, client_for, tenant_a, pay_service, fields,
                                                                    says):
    officer = client_for("a.officer")
    pk = _awaiting(officer, pay_service[tenant_a.id])
    values = {"receipt": f"R-{pk}", "amount": "150.00", "method": "cash", "paid_on": "", **fields}
    if values["paid_on"] == "future":
        values["paid_on"] = thai.format_date_input(thai.today_bangkok() + timedelta(days=2))
    html = _pay(officer, pk, values["receipt"], values["amount"], values["method"], values["paid_on"])
    assert says in html, re.findall(r'alert-danger[^>]*>(.*?)</div>', html, re.S)
    assert status_of(app, pk) == "awaiting_payment" and _payments(app, request_id=pk) == []
    with app.app_context(), platform_scope():
        assert db.session.scalar(select(func.count()).select_from(ServiceRequestEvent).where(
            ServiceRequestEvent.request_id == pk, ServiceRequestEvent.action == "record_payment")) == 0


def test_a_receipt_number_is_used_once_per_organisation(app, client_for, tenant_a, tenant_b, pay_service):
    officer = client_for("a.officer")
    first, second = _awaiting(officer, pay_service[tenant_a.id]), _awaiting(officer, pay_service[tenant_a.id])
    _pay(officer, first, "DUP-1")
    html = _pay(officer, second, "DUP-1")
    assert "DUP-1" in html and "ถูกใช้แล้ว" in html and status_of(app, second) == "awaiting_payment"
    # B's own receipt book may have the same number; A's does not leak into B's check
    b_officer = client_for("b.officer")
    other = _awaiting(b_officer, pay_service[tenant_b.id])
    _pay(b_officer, other, "DUP-1")
    assert status_of(app, other) == "paid"
    assert {p.tenant_id for p in _payments(app, receipt_no="DUP-1")} == {tenant_a.id, tenant_b.id}


def test_the_database_refuses_a_second_receipt_number_and_a_cross_tenant_link(app, tenant_a, tenant_b, pay_service,
                                                                             client_for):
    from sqlalchemy.exc import IntegrityError

    b_pk = _awaiting(client_for("b.officer"), pay_service[tenant_b.id])
    a_pk = _awaiting(client_for("a.officer"), pay_service[tenant_a.id])
    with app.app_context(), tenant_scope(tenant_a.id):
        # A cannot write a payment against B's matter: the guard or the composite key says no
        db.session.add(Payment(request_id=b_pk, amount=Decimal("150.00"), paid_on=thai.today_bangkok(),
                               receipt_no="X-CROSS", method="cash", recorded_by_name="x"))
        with pytest.raises((IntegrityError, CrossTenantWrite)):
            db.session.commit()
        db.session.rollback()
        for receipt in ("X-SAME", "X-SAME"):
            db.session.add(Payment(request_id=a_pk, amount=Decimal("150.00"), paid_on=thai.today_bangkok(),
                                   receipt_no=receipt, method="cash", recorded_by_name="x"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        # B's payments are not there for A, even by id
        _pay(client_for("b.officer"), b_pk, "B-ONLY")
    [b_payment] = _payments(app, receipt_no="B-ONLY")
    with app.app_context(), tenant_scope(tenant_a.id):
        assert db.session.get(Payment, b_payment.id) is None
        assert "B-ONLY" not in {p.receipt_no for p in db.session.scalars(select(Payment))}


def test_the_payments_list_and_csv_see_only_the_organisation(app, client_for, tenant_a, tenant_b, pay_service):
    a_officer, b_officer = client_for("a.officer"), client_for("b.officer")
    a_pk = _awaiting(a_officer, pay_service[tenant_a.id])
    b_pk = _awaiting(b_officer, pay_service[tenant_b.id])
    yesterday = thai.today_bangkok() - timedelta(days=1)
    with app.app_context(), platform_scope():  # filed two days ago, so a payment yesterday is possible
        for pk in (a_pk, b_pk):
            db.session.get(ServiceRequest, pk).created_at -= timedelta(days=2)
        db.session.commit()
    _pay(a_officer, a_pk, "LIST-A", paid_on=thai.format_date_input(yesterday))
    _pay(b_officer, b_pk, "LIST-B", method="promptpay")
    html = a_officer.get("/payments/list/").get_data(as_text=True)
    assert "LIST-A" in html and "LIST-B" not in html and "150.00" in html
    [b_payment] = _payments(app, receipt_no="LIST-B")
    assert a_officer.get(f"/payments/show/{b_payment.id}").status_code == 404
    assert "LIST-B" in b_officer.get(f"/payments/show/{b_payment.id}").get_data(as_text=True)
    found = a_officer.get("/payments/list/?_flt_0_receipt_no=LIST-B").get_data(as_text=True)
    assert b_payment.id not in ids_in_links(found, "/payments") and not ids_in_links(found, "/payments")
    # the day's CSV: A's payment of yesterday, nothing of B's, nothing of today for yesterday's file
    day = thai.format_date_input(yesterday)
    csv_text = a_officer.get(f"/payments/export.csv?from={day}&to={day}").get_data(as_text=True)
    assert "LIST-A" in csv_text and "LIST-B" not in csv_text and "150.00" in csv_text
    today = thai.format_date_input(thai.today_bangkok())
    assert "LIST-A" not in a_officer.get(f"/payments/export.csv?from={today}").get_data(as_text=True)
    assert "LIST-B" in b_officer.get(f"/payments/export.csv?from={today}").get_data(as_text=True)
    bad = a_officer.get("/payments/export.csv?from=2026-13-01")
    assert bad.status_code == 400 and "วัน" in bad.get_data(as_text=True)
    # the list filters by the day paid
    [a_payment] = _payments(app, receipt_no="LIST-A")
    listed = a_officer.get(f"/payments/list/?_flt_0_paid_on={day}").get_data(as_text=True)
    assert a_payment.id in ids_in_links(listed, "/payments")
    listed = a_officer.get(f"/payments/list/?_flt_0_paid_on={today}").get_data(as_text=True)
    assert a_payment.id not in ids_in_links(listed, "/payments")
    # payments are never edited or deleted from the screen, least of all another organisation's
    for url in (f"/payments/edit/{b_payment.id}", f"/payments/delete/{b_payment.id}", f"/payments/add"):
        assert a_officer.post(url, data={"amount": "1"}).status_code in (403, 404, 405)
    assert b_officer.post(f"/payments/delete/{b_payment.id}").status_code in (403, 404, 405)
    assert [p.amount for p in _payments(app, receipt_no="LIST-B")] == [Decimal("150.00")]
    # no payments screen for someone without the permission, no way in without logging in
    assert client_for("a.manager").get("/payments/list/").status_code == 403
    assert client_for("a.manager").get(f"/payments/export.csv?from={day}").status_code == 403
    assert app.test_client().get("/payments/list/").status_code in (302, 401)


def test_the_citizen_sees_the_matter_as_paid(app, client_for, tenant_a, pay_service):
    from tests.portal.test_portal import A, _consent

    citizen = app.test_client()
    response = citizen.post(f"/t/{A}/services/{'pay_test'}/new", data={"applicant": "สมชาย",
                                                                       "consent": _consent(app, A)},
                            content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    pk = int(re.search(r"/submitted/(\d+)", response.headers["Location"]).group(1))
    officer = client_for("a.officer")
    act(officer, pk, "request_payment")
    assert 'id="portal-payment"' in citizen.get(f"/t/{A}/track/{pk}").get_data(as_text=True)
    _pay(officer, pk, "PORTAL-1", method="promptpay")
    page = citizen.get(f"/t/{A}/track/{pk}").get_data(as_text=True)
    assert "portal-paid" in page and "PORTAL-1" in page and "150.00" in page and 'id="portal-payment"' not in page

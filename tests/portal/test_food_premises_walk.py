"""A food-premises notification from the portal to the verified certificate: the citizen files it, staff take
each step, the citizen pays by Thai QR (Ref1 the request, Ref2 the fee code), finance records the payment,
the local official signs, the citizen downloads the PDF and its QR opens the verification page: valid."""
import io
import re

import pypdfium2
import zxingcpp
from PIL import Image
from sqlalchemy import select

from app.billing.models import Payment
from app.catalog.models import ServiceRequest
from app.certificates.models import Certificate
from app.extensions import db
from app.portal import thaiqr
from app.tenancy.context import tenant_scope
from tests.conftest import login
from tests.portal.food import BILLER, CHIEF, food, submit  # noqa: F401  (fixture)
from tests.portal.test_portal import A, _consent
from tests.service_requests.conftest import act, status_of

DONE = "ดำเนินการแล้ว"


def test_a_food_premises_certificate_from_the_portal_to_verified(app, client_for, tenant_a, food):
    citizen = app.test_client()
    pk, secret = submit(app, citizen, _consent(app, A))
    chief, cashier, mayor = login(app.test_client(), CHIEF), client_for("a.officer"), client_for("a.mayor")
    assert DONE in act(chief, pk, "accept")
    assert status_of(app, pk) == "checking"
    # the portal's form and the staff screen priced it alike: 40 m² is the 26-50 m² bracket
    assert DONE in act(chief, pk, "request_payment")
    page = citizen.get(f"/t/{A}/track/{pk}").get_data(as_text=True)
    assert 'id="portal-payment"' in page and "100.00" in page and "ANNUALFEE" in page
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(citizen.get(f"/t/{A}/track/{pk}/qr.png").data)))
    tags = thaiqr.parse(decoded[0].text)
    assert tags["54"] == "100.00" and tags["30"] == {"00": thaiqr.BILL_PAYMENT_AID, "01": BILLER,
                                                    "02": str(pk), "03": "ANNUALFEE"}
    # the health director is not the cashier: only กองคลัง records the payment
    assert 'value="record_payment"' not in chief.get(f"/service-requests/show/{pk}").get_data(as_text=True)
    assert 'id="payment-fields"' in cashier.get(f"/service-requests/show/{pk}").get_data(as_text=True)
    assert DONE in act(cashier, pk, "record_payment", payment_receipt_no="บร.01/2570-0007",
                       payment_amount="100.00", payment_method="promptpay", payment_paid_on="")
    assert status_of(app, pk) == "awaiting_signature"
    with app.app_context(), tenant_scope(tenant_a.id):
        payment = db.session.scalar(select(Payment).where(Payment.request_id == pk))
        assert payment.receipt_no == "บร.01/2570-0007" and str(payment.amount) == "100.00"
    assert DONE in act(mayor, pk, "approve")
    assert status_of(app, pk) == "certificate_signed"
    assert DONE in act(chief, pk, "complete")
    # the citizen, on another phone, with the number and the code
    other = app.test_client()
    other.post(f"/t/{A}/track", data={"number": str(pk), "secret": secret})
    page = other.get(f"/t/{A}/track/{pk}").get_data(as_text=True)
    assert "บร.01/2570-0007" in page and "portal-paid" in page and 'id="portal-payment"' not in page
    with app.app_context(), tenant_scope(tenant_a.id):
        certificate = db.session.scalar(select(Certificate).where(Certificate.request_id == pk))
        cid, token, label = certificate.id, certificate.token, certificate.label
        assert db.session.get(ServiceRequest, pk).status == "completed"
    link = re.search(rf'href="(/t/{A}/track/{pk}/certificate/{cid}\.pdf)"', page).group(1)
    response = other.get(link)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = pypdfium2.PdfDocument(response.data)
    text = pdf[0].get_textpage().get_text_range()
    assert "ร้านป้าแดงข้าวซอย" in text and label in text
    found = zxingcpp.read_barcodes(pdf[0].render(scale=3).to_pil())
    assert len(found) == 1 and found[0].text.endswith(f"/verify/{token}")
    verify = app.test_client().get(found[0].text.split("localhost", 1)[1]).get_data(as_text=True)
    assert "ถูกต้องและยังมีผลใช้บังคับ" in verify and "ร้านป้าแดงข้าวซอย" in verify
    assert "1101700203450" not in verify and "นางแดง" not in verify and "081" not in verify
    # B's portal does not know the matter, nor its certificate
    assert other.get(f"/t/1000002/track/{pk}/certificate/{cid}.pdf").status_code == 302

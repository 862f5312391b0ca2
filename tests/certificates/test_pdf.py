"""The certificate as a PDF: Thai text that renders, a QR that leads to the verification page, and only for
those who may see the matter."""
import os

import pypdfium2
import zxingcpp
from sqlalchemy import select

from app.certificates.models import Certificate
from app.extensions import db
from app.tenancy.context import tenant_scope
from tests.certificates.test_numbering import _certificate
from tests.service_requests.conftest import file_complaint

OUTPUT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      "test-output", "browser")


def test_the_pdf_renders_thai_and_its_qr_verifies(app, client_for, tenant_a, service):
    officer = client_for("a.officer")
    pk = file_complaint(officer, service)
    token = "p" * 32
    _certificate(app, tenant_a.id, pk, token=token)
    with app.app_context(), tenant_scope(tenant_a.id):
        cid = db.session.scalar(select(Certificate.id).where(Certificate.token == token))
    response = officer.get(f"/service-requests/certificate/{cid}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = pypdfium2.PdfDocument(response.data)
    assert len(pdf) == 1
    text = pdf[0].get_textpage().get_text_range()
    # (the text layer loses ำ, which the shaper splits into two glyphs; the page itself shows it: see the PNG)
    assert "หนังสือรับรองทดสอบ" in text and "ร้านป้าแดง" in text and "องค์การบริหารส่วน" in text
    os.makedirs(OUTPUT, exist_ok=True)
    pdf[0].render(scale=1.5).to_pil().save(os.path.join(OUTPUT, "certificate.png"))
    image = pdf[0].render(scale=3).to_pil()
    found = [r.text for r in zxingcpp.read_barcodes(image)]
    assert len(found) == 1 and found[0].endswith(f"/verify/{token}")
    page = app.test_client().get(found[0].split("localhost", 1)[1]).get_data(as_text=True)
    assert "ร้านป้าแดง" in page and "ถูกต้องและยังมีผลใช้บังคับ" in page
    # another organisation cannot print it
    assert client_for("b.officer").get(f"/service-requests/certificate/{cid}.pdf").status_code == 404


def test_the_citizen_downloads_their_own_certificate_only(app, tenant_a, service):
    from tests.portal.test_portal import A, _submit

    citizen = app.test_client()
    pk, _secret = _submit(app, citizen)
    token = "c" * 32
    _certificate(app, tenant_a.id, pk, token=token)
    with app.app_context(), tenant_scope(tenant_a.id):
        cid = db.session.scalar(select(Certificate.id).where(Certificate.token == token))
    assert f"/certificate/{cid}.pdf" in citizen.get(f"/t/{A}/track/{pk}").get_data(as_text=True)
    response = citizen.get(f"/t/{A}/track/{pk}/certificate/{cid}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert app.test_client().get(f"/t/{A}/track/{pk}/certificate/{cid}.pdf").status_code == 302
    assert citizen.get(f"/t/1000002/track/{pk}/certificate/{cid}.pdf").status_code == 302

"""The portal's payment panel: the fee and a Thai QR while the matter waits for payment, gone once staff
record it. (Here, not in tests/portal: it makes a.officer a director of กองช่าง, as the workflow tests do.)"""
import io
import re

import zxingcpp
from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.portal import thaiqr
from app.tenancy.context import platform_scope, tenant_scope
from tests.portal.test_portal import A
from tests.portal.test_thaiqr import BILLER
from tests.service_requests.conftest import act


def test_the_portal_shows_the_fee_and_qr_while_it_waits_for_payment(app, client_for, tenant_a, tenant_b,
                                                                     director_in_engineering):
    from app.tenancy.models import Tenant

    with app.app_context(), platform_scope():
        tenant = db.session.get(Tenant, tenant_a.id)
        tenant.promptpay_biller_id = BILLER
        db.session.commit()
    # the test permit asks for payment in its own workflow, as the building permit does
    with app.app_context(), tenant_scope(tenant_a.id):
        from app.catalog.models import ServiceType, ServiceTypeVersion

        st = db.session.scalar(select(ServiceType).where(ServiceType.code == "test_permit"))
        version = db.session.scalar(select(ServiceTypeVersion).where(
            ServiceTypeVersion.service_type_id == st.id, ServiceTypeVersion.version == st.current_version))
        from app.service_requests.workflow_spec import DEFAULT_WORKFLOW

        workflow = {**DEFAULT_WORKFLOW, "states": DEFAULT_WORKFLOW["states"] + [
            {"code": "awaiting_payment", "name_th": "รอชำระค่าธรรมเนียม", "name_en": "", "holder": "@responsible",
             "final": False}],
            "transitions": DEFAULT_WORKFLOW["transitions"] + [
                {"action": "request_payment", "name_th": "แจ้งชำระ", "name_en": "", "from": ["in_review"],
                 "to": "awaiting_payment", "roles": ["division_director"], "division": "@responsible",
                 "days": None, "note_required": False, "effect": "request_payment"},
                {"action": "record_payment", "name_th": "รับชำระแล้ว", "name_en": "", "from": ["awaiting_payment"],
                 "to": "in_review", "roles": ["officer", "division_director"], "division": "@responsible",
                 "days": None, "note_required": True}]}
        old_workflow, version_id = version.workflow, version.id
        version.workflow = workflow
        db.session.commit()
    try:
        citizen = app.test_client()
        response = citizen.post(f"/t/{A}/services/test_permit/new", data={
            "applicant": "สมศรี", "area": "100", "kind_of_use": "home", "consent": _consent_version(app),
            "doc_id_card": (io.BytesIO(b"%PDF-1.4\n"), "id.pdf")}, content_type="multipart/form-data")
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        pk = int(re.search(r"/submitted/(\d+)", response.headers["Location"]).group(1))
        assert 'id="portal-payment"' not in citizen.get(f"/t/{A}/track/{pk}").get_data(as_text=True)
        assert citizen.get(f"/t/{A}/track/{pk}/qr.png").status_code == 404
        officer = client_for("a.officer")
        act(officer, pk, "accept")
        act(officer, pk, "request_payment")
        page = citizen.get(f"/t/{A}/track/{pk}").get_data(as_text=True)
        assert 'id="portal-payment"' in page and "120.00" in page  # 20 + 100 m² x 1.00
        image = citizen.get(f"/t/{A}/track/{pk}/qr.png")
        decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.data)))[0].text
        tags = thaiqr.parse(decoded)
        assert tags["54"] == "120.00" and tags["30"]["01"] == BILLER and tags["30"]["02"] == str(pk)
        assert tags["30"]["03"] == "PERMITFEE"  # Ref2: the fee's code (the schedule's rule permit_fee)
        assert "PERMITFEE" in page
        # someone without the code, or B's portal, gets no QR
        assert app.test_client().get(f"/t/{A}/track/{pk}/qr.png").status_code == 302
        assert citizen.get(f"/t/1000002/track/{pk}/qr.png").status_code == 302
        # staff record the payment; the matter moves on and the QR is gone
        act(officer, pk, "record_payment", note="ใบเสร็จ 12/345")
        assert citizen.get(f"/t/{A}/track/{pk}/qr.png").status_code == 404
    finally:
        with app.app_context(), tenant_scope(tenant_a.id):
            version = db.session.get(ServiceTypeVersion, version_id)
            version.workflow = old_workflow
            db.session.commit()


def _consent_version(app):
    from tests.portal.test_portal import _consent

    return _consent(app, A)

"""The sixth service, defined only in อบต.ดอนแก้ว's YAML (ขอรับเบี้ยยังชีพผู้สูงอายุ), end to end in the staff
screens: the generated Thai form, filing with documents, the page, editing, the guide; and Mae Hia's own
fees by its เทศบัญญัติ instead of the template's."""
import io
import re
from decimal import Decimal

import geothai
import pytest
from sqlalchemy import select

from app.catalog import services
from app.catalog.models import ServiceRequest, ServiceType
from app.extensions import db
from app.tenancy.context import platform_scope, tenant_scope
from app.tenancy.models import Tenant
from tests.catalog.helpers import save_request
from tests.conftest import demo_seed_paths, login, seeded_app

DEMO_PASSWORD = "thongthin2569"


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    url = "sqlite:///" + str(folder / "demo.db")
    app = seeded_app(url, demo_seed_paths("platform", "services", "tenants"), UPLOAD_FOLDER=str(folder / "uploads"))
    yield app
    with app.app_context():
        db.engine.dispose()


def _tenant_id(app, dla):
    with app.app_context(), platform_scope():
        return db.session.scalar(select(Tenant.id).where(Tenant.dla_code == dla))


def _pdf(name):
    return (io.BytesIO(b"%PDF-1.4 scan"), name)


def test_the_elderly_allowance_is_filed_and_edited_through_the_generated_form(demo_app):
    app = demo_app
    tenant_id = _tenant_id(app, "6500201")
    with app.app_context(), tenant_scope(tenant_id):
        st = db.session.scalar(select(ServiceType).where(ServiceType.code == "elderly_allowance"))
        assert st.template_code is None and st.category == "welfare"
        pk_st = st.id
    clerk = login(app.test_client(), "donkaeo.officer", DEMO_PASSWORD)
    html = clerk.get(f"/service-requests/new/{pk_st}").get_data(as_text=True)
    for label in ("ชื่อ-นามสกุลผู้สูงอายุ", "วัน เดือน ปีเกิด", "วิธีการรับเงิน", "ผลการตรวจสอบคุณสมบัติ",
                  "สำเนาทะเบียนบ้านของผู้สูงอายุ"):
        assert label in html, label
    assert "thai-date" in html and "thai-address" in html
    subdistrict = geothai.by_postal_code("50000")[0].code
    good = {
        "full_name": "นางบัวผัน ใจงาม", "national_id": "1101700203450", "date_of_birth": "12/03/2508",
        "address-line": "12 หมู่ 4", "address-postcode": "50000", "address-subdistrict": subdistrict,
        "phone": "0812345678", "other_state_pension": "n", "payment_method": "bank_transfer", "bank_name": "ktb",
        "account_number": "1234567890",
    }
    url = f"/service-requests/new/{pk_st}"
    # the YAML's own rules: an account number with dashes is refused with the YAML's Thai message
    html = clerk.post(url, data={**good, "account_number": "123-456-7890", "intent": "save",
                                 "doc_id_card_copy": _pdf("id.pdf"),
                                 "doc_house_registration_copy": _pdf("house.pdf")}).get_data(as_text=True)
    assert "เลขที่บัญชีต้องเป็นตัวเลข 10 ถึง 15 หลัก ไม่มีขีด" in html
    # the required documents are asked for
    html = clerk.post(url, data={**good, "intent": "save"}).get_data(as_text=True)
    assert "สำเนาบัตรประจำตัวประชาชนของผู้สูงอายุ" in html and 'id="fee-quote"' not in html
    # free service: saved at once, no fee to confirm
    response = clerk.post(url, data={**good, "intent": "save", "doc_id_card_copy": _pdf("id.pdf"),
                                     "doc_house_registration_copy": _pdf("house.pdf")})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    pk = int(re.search(r"/service-requests/show/(\d+)", response.headers["Location"]).group(1))
    page = clerk.get(f"/service-requests/show/{pk}").get_data(as_text=True)
    assert "นางบัวผัน ใจงาม" in page and "12 มีนาคม 2508" in page and "โอนเข้าบัญชีเงินฝากธนาคาร" in page
    assert "id.pdf" in page and "house.pdf" in page
    # staff record the eligibility check through the same form; the files stay
    response = save_request(clerk, f"/service-requests/edit/{pk}", {
        **good, "eligibility": "eligible", "first_payment_fiscal_year": "2569",
        "eligibility_note": "ตรวจสอบกับทะเบียนราษฎรแล้ว"})
    assert response.status_code == 302
    with app.app_context(), platform_scope():
        row = db.session.get(ServiceRequest, pk)
        assert row.tenant_id == tenant_id and row.fee_total is None
        assert row.data["eligibility"] == "eligible" and row.data["first_payment_fiscal_year"] == 2569
        assert row.data["date_of_birth"] == "1965-03-12" and row.data["doc_id_card_copy"]
        assert row.due_on is not None
    guide = clerk.get(f"/services/guide/{pk_st}").get_data(as_text=True)
    assert "ไม่มีค่าธรรมเนียม" in guide and "ระเบียบกระทรวงมหาดไทย" in guide
    # another organisation sees none of it
    other = login(app.test_client(), "maehia.officer", DEMO_PASSWORD)
    assert other.get(f"/service-requests/show/{pk}").status_code == 404
    assert other.get(f"/service-requests/new/{pk_st}").status_code == 404
    assert other.post(f"/service-requests/edit/{pk}", data={**good, "intent": "save"}).status_code == 404


def test_mae_hia_charges_its_own_waste_fees_and_rewords_the_guide(demo_app):
    app = demo_app
    with app.test_request_context():
        tenant_id = _tenant_id(app, "6500101")
        with tenant_scope(tenant_id):
            st = db.session.scalar(select(ServiceType).where(ServiceType.code == "waste_collection_registration"))
            schedules = services.schedules(st)
            assert len(schedules) == 1 and "เทศบัญญัติเทศบาลเมืองแม่เหียะ" in schedules[0].legal_source_th
            quote, _schedule = services.quote(st, {"premises_kind": "household", "litres_per_day": "30"})
            assert quote.total == Decimal("60.00")  # 40 litres at 1.50, not the template's 2.00
            guide = services.current_version(st).guide
            assert guide["channels_th"][0].startswith("ยื่นด้วยตนเองที่กองสาธารณสุขและสิ่งแวดล้อม เทศบาลเมืองแม่เหียะ")
            assert guide["steps"]  # the rest of the template's guide stays
        don_kaeo = _tenant_id(app, "6500201")
        with tenant_scope(don_kaeo):
            st = db.session.scalar(select(ServiceType).where(ServiceType.code == "waste_collection_registration"))
            quote, _schedule = services.quote(st, {"premises_kind": "household", "litres_per_day": "30"})
            assert quote.total == Decimal("80.00")  # the template's fees

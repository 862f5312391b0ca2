"""Services and requests through the generated Thai form, fee quotes, versions, and the tenant wall."""
import re
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from app.catalog import services
from app.catalog.models import ServiceRequest, ServiceType
from app.extensions import db
from app.tenancy.context import platform_scope, tenant_scope
from tests.catalog.helpers import quoted_total, save_request
from tests.conftest import ids_in_links


def _service_type_id(app, tenant_id, code="test_permit"):
    with app.app_context(), tenant_scope(tenant_id):
        return db.session.scalar(select(ServiceType.id).where(ServiceType.code == code))


def _count_requests(db_session, tenant_id):
    with platform_scope():
        return db_session.scalar(
            select(func.count()).select_from(ServiceRequest).where(ServiceRequest.tenant_id == tenant_id)
        )


GOOD = {"applicant": "สมชาย ใจดี", "area": "120.5", "start_on": "01/12/2569", "kind_of_use": "home",
        "inspector_note": ""}


def with_id_card(data, name="id.pdf", body=b"%PDF-1.4 test"):
    import io

    return {**data, "doc_id_card": (io.BytesIO(body), name)}


def test_file_a_request_through_the_generated_form(app, client_for, db_session, tenant_a):
    client = client_for("a.officer")
    st = _service_type_id(app, tenant_a.id)
    html = client.get(f"/service-requests/new/{st}").get_data(as_text=True)
    for label in ("ชื่อผู้ยื่น", "พื้นที่", "วันที่เริ่ม", "การใช้", "บันทึกเจ้าหน้าที่"):
        assert label in html
    assert "thai-date" in html and "ตร.ม." in html
    before = _count_requests(db_session, tenant_a.id)
    # an area over 150 m² is refused with the template's explanation; what was typed stays
    response = client.post(f"/service-requests/new/{st}", data={**GOOD, "area": "200", "intent": "save"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "พื้นที่เกิน 150 ตร.ม. ต้องยื่นแบบปกติ" in html and 'value="200"' in html and "สมชาย ใจดี" in html
    # a C.E. year typed by mistake is refused too
    html = client.post(f"/service-requests/new/{st}",
                       data={**GOOD, "start_on": "01/12/2026", "intent": "save"}).get_data(as_text=True)
    assert "พุทธศักราช" in html
    # the fee is quoted before anything is saved
    html = client.post(f"/service-requests/new/{st}", data={**GOOD, "intent": "quote"}).get_data(as_text=True)
    assert 'id="fee-quote"' in html
    assert _count_requests(db_session, tenant_a.id) == before
    # the required document must be attached, and only of the accepted types
    html = client.post(f"/service-requests/new/{st}", data={**GOOD, "intent": "save"}).get_data(as_text=True)
    assert "สำเนาบัตรประจำตัวประชาชน" in html and _count_requests(db_session, tenant_a.id) == before
    html = client.post(f"/service-requests/new/{st}",
                       data=with_id_card({**GOOD, "intent": "save"}, name="virus.exe")).get_data(as_text=True)
    assert "virus.exe" in html and _count_requests(db_session, tenant_a.id) == before
    # the first Save shows the fee and saves nothing; the second saves, with the file chosen the first time
    html = client.post(f"/service-requests/new/{st}", data=with_id_card({**GOOD, "intent": "save"})).get_data(as_text=True)
    assert 'id="fee-quote"' in html and quoted_total(html) == "140.50" and "id.pdf" in html
    assert _count_requests(db_session, tenant_a.id) == before
    response = client.post(f"/service-requests/new/{st}", data={**GOOD, "intent": "save", "quoted": "140.50"})
    assert response.status_code == 302
    assert _count_requests(db_session, tenant_a.id) == before + 1
    pk = int(re.search(r"/service-requests/show/(\d+)", response.headers["Location"]).group(1))
    with platform_scope():
        row = db_session.get(ServiceRequest, pk)
        assert row.tenant_id == tenant_a.id
        assert row.data["area"] == "120.50" and row.data["start_on"] == "2026-12-01"
        assert row.data["kind_of_use"] == "home"
    html = client.get(f"/service-requests/show/{pk}").get_data(as_text=True)
    assert "1 ธันวาคม 2569" in html and "อยู่อาศัย" in html and "120.50 ตร.ม." in html
    assert "บาท" in html and "id.pdf" in html
    link = re.search(r'href="(/service-requests/attachment/\d+)"', html).group(1)
    download = client.get(link)
    assert download.status_code == 200 and download.data == b"%PDF-1.4 test"
    # another tenant cannot fetch it
    assert client_for("b.officer").get(link).status_code == 404
    # edit it through the same form
    response = save_request(client, f"/service-requests/edit/{pk}", {**GOOD, "area": "100"})
    assert response.status_code == 302
    with platform_scope():
        db_session.expire_all()
        assert db_session.get(ServiceRequest, pk).data["area"] == "100"


def test_fee_schedules_switch_on_their_effective_date(app, tenant_a):
    with app.test_request_context(), tenant_scope(tenant_a.id):
        st = db.session.get(ServiceType, _service_type_id(app, tenant_a.id))
        before, _ = services.quote(st, {"area": "100"}, on=date(2026, 9, 30))
        after, schedule = services.quote(st, {"area": "100"}, on=date(2026, 10, 1))
    assert before.total == Decimal("70.00")  # 20 + 100 × 0.50
    assert after.total == Decimal("120.00")  # 20 + 100 × 1.00 under the 2569 ordinance
    assert "2569" in schedule.legal_source_th


def test_a_service_defined_only_in_yaml_works(app, client_for, tenant_a):
    client = client_for("a.officer")
    st = _service_type_id(app, tenant_a.id, "water_truck")
    html = client.post(f"/service-requests/new/{st}",
                       data={"requester": "บุญมี", "litres": "500", "intent": "save"}).get_data(as_text=True)
    assert "ต้องไม่น้อยกว่า 1000" in html
    response = client.post(f"/service-requests/new/{st}", data={"requester": "บุญมี", "litres": "6000", "intent": "save"})
    assert response.status_code == 302
    guide = client.get(f"/services/guide/{st}").get_data(as_text=True)
    assert "ไม่มีค่าธรรมเนียม" in guide


def test_another_tenants_services_and_requests_are_invisible(app, client_for, db_session, tenant_a, tenant_b):
    b_st = _service_type_id(app, tenant_b.id)
    b_client = client_for("b.officer")
    response = save_request(b_client, f"/service-requests/new/{b_st}", with_id_card(GOOD))
    b_pk = int(re.search(r"/service-requests/show/(\d+)", response.headers["Location"]).group(1))
    client = client_for("a.officer")
    assert client.get(f"/service-requests/new/{b_st}").status_code == 404
    before = _count_requests(db_session, tenant_a.id)
    assert client.post(f"/service-requests/new/{b_st}", data={**GOOD, "intent": "save"}).status_code == 404
    assert _count_requests(db_session, tenant_a.id) == before
    assert client.get(f"/service-requests/show/{b_pk}").status_code == 404
    assert client.get(f"/service-requests/edit/{b_pk}").status_code == 404
    assert client.post(f"/service-requests/edit/{b_pk}", data={**GOOD, "intent": "save"}).status_code == 404
    assert client.get(f"/services/guide/{b_st}").status_code == 404
    assert client.get(f"/service-types/show/{b_st}").status_code == 404
    html = client.get("/service-requests/list/?psize_ServiceRequestView=100").get_data(as_text=True)
    assert b_pk not in ids_in_links(html, "/service-requests")
    html = client.get("/services/").get_data(as_text=True)
    assert f"/service-requests/new/{b_st}" not in html
    with platform_scope():
        assert db_session.get(ServiceRequest, b_pk).data["applicant"] == "สมชาย ใจดี"


def test_a_changed_definition_is_a_new_version_and_old_requests_keep_theirs(app, tenant_a):
    with app.test_request_context(), tenant_scope(tenant_a.id):
        st = db.session.get(ServiceType, _service_type_id(app, tenant_a.id, "water_truck"))
        old = services.current_version(st)
        request = services.file_request(st, {"requester": "ก", "litres": 2000}, None)
        db.session.flush()
        definition = {
            "code": "water_truck", "name_th": st.name_th, "sla_days": 3, "fields": old.fields + [
                {"code": "village", "kind": "text", "label_th": "หมู่บ้าน", "required": False}],
            "documents": old.documents, "guide": old.guide, "legal_basis": old.legal_basis,
        }
        services.save_definition(tenant_a.id, definition, st.responsible_division)
        db.session.flush()
        assert st.current_version == old.version + 1
        assert request.version_id == old.id
        assert [f["code"] for f in request.version.fields] == ["requester", "litres"]
        db.session.rollback()


def test_staff_without_permission_cannot_file(client_for, app, tenant_a):
    st = _service_type_id(app, tenant_a.id)
    # the role manager may read requests but not file them
    assert client_for("a.manager").get(f"/service-requests/new/{st}").status_code in (302, 403)


def test_postcode_lookup_offers_its_subdistricts(app):
    client = app.test_client()
    body = client.get("/services/subdistricts/50100").get_json()
    assert body["result"] and all(len(item["code"]) == 6 for item in body["result"])
    assert any("เชียงใหม่" in item["text"] for item in body["result"])
    assert client.get("/services/subdistricts/00000").status_code == 404
    assert client.get("/services/subdistricts/abc").status_code == 404


def test_guide_describes_every_fee_in_thai(client_for, app, tenant_a):
    st = _service_type_id(app, tenant_a.id)
    html = client_for("a.officer").get(f"/services/guide/{st}").get_data(as_text=True)
    assert "ค่าใบอนุญาต: 20.00 บาท" in html
    assert "ค่าตรวจแบบ: 1.00 บาท ต่อ พื้นที่ (ตร.ม.)" in html
    assert "ข้อบัญญัติ อบต.เอ" in html and "ขั้นตอน" in html


def test_service_settings_and_fee_schedules_of_another_tenant_are_invisible(client_for, app, tenant_a, tenant_b):
    b_st = _service_type_id(app, tenant_b.id)
    admin = client_for("a.admin")
    assert admin.get(f"/service-types/edit/{b_st}").status_code == 404
    assert admin.post(f"/service-types/edit/{b_st}", data={"name_th": "x", "sla_days": "1"}).status_code == 404
    html = admin.get("/service-types/list/").get_data(as_text=True)
    assert b_st not in ids_in_links(html, "/service-types")
    html = admin.get("/fee-schedules/list/?psize_FeeScheduleView=100").get_data(as_text=True)
    with app.app_context(), platform_scope():
        from app.catalog.models import FeeSchedule

        b_fees = set(db.session.scalars(select(FeeSchedule.id).where(FeeSchedule.tenant_id == tenant_b.id)))
    assert b_fees and not ids_in_links(html, "/fee-schedules") & b_fees
    for pk in b_fees:
        assert admin.get(f"/fee-schedules/show/{pk}").status_code == 404

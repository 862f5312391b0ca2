"""Every service of the demo organisations (templates and the YAML-only sixth service) takes a request end
to end: its generated schema accepts plausible values, the fee is computed, the guide renders."""
import io
from decimal import Decimal

import geothai
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.catalog import services
from app.catalog.attachments import store
from app.catalog.builder import document_fields
from app.catalog.models import ServiceType
from app.extensions import db
from app.tenancy.context import platform_scope, tenant_scope
from app.tenancy.models import Tenant
from tests.conftest import demo_seed_paths, seeded_app


def sample(spec):
    kind = spec["kind"]
    if kind in ("integer", "decimal"):
        low = Decimal(str(spec["min"])) if spec.get("min") not in (None, "") else Decimal("1")
        value = max(low, Decimal("1"))
        if spec.get("max") not in (None, ""):
            value = min(value, Decimal(str(spec["max"])))
        return str(int(value)) if kind == "integer" else str(value)
    if kind == "date":
        return spec.get("min") or "2026-12-01"
    if kind == "choice":
        return spec["choices"][0]["value"]
    if kind == "multi_choice":
        return [spec["choices"][0]["value"]]
    return {
        "text": "ทดสอบ", "long_text": "รายละเอียดทดสอบ", "yes_no": "no", "national_id": "1101700203450",
        "phone": "0812345678", "email": "test@example.org", "location": "18.7883, 98.9853",
        "address": {"line": "99/1 หมู่ 3", "subdistrict": geothai.by_postal_code("50100")[0].code, "postcode": "50100"},
    }.get(kind, "ทดสอบ")


def test_every_demo_service_takes_a_request(tmp_path):
    url = "sqlite:///" + str(tmp_path / "demo.db")
    app = seeded_app(url, demo_seed_paths("platform", "services", "tenants", "demo"),
                     UPLOAD_FOLDER=str(tmp_path / "uploads"))
    filed = []
    with app.test_request_context():
        with platform_scope():
            tenants = [(t.id, t.dla_code) for t in db.session.scalars(select(Tenant))]
        for tenant_id, dla in tenants:
            with tenant_scope(tenant_id):
                for service_type in db.session.scalars(select(ServiceType)).all():
                    version = services.current_version(service_type)
                    specs = list(version.fields) + document_fields(version.documents)
                    data = {}
                    for spec in specs:
                        if spec["kind"] == "file":
                            if spec.get("required"):
                                upload = FileStorage(io.BytesIO(b"%PDF-1.4"), filename="doc.pdf")
                                attachment = store(tenant_id, spec["code"], upload, None)
                                db.session.flush()
                                data[spec["code"]] = [attachment.id]
                        elif spec.get("required"):
                            data[spec["code"]] = sample(spec)
                    db.session.flush()
                    values = services.validate_values(version, data, documents=version.documents)
                    request = services.file_request(service_type, values, None)
                    db.session.flush()
                    filed.append((dla, service_type.code, request.fee_total))
                db.session.commit()
        db.engine.dispose()
    codes = {code for _dla, code, _fee in filed}
    assert {"complaint", "building_permit_small", "food_premises_notification", "waste_collection_registration",
            "elderly_allowance"} <= codes
    fees = {(dla, code): fee for dla, code, fee in filed}
    assert fees[("6500101", "complaint")] is None  # free
    assert fees[("6500101", "building_permit_small")] > 0


def test_a_complaint_walks_through_the_right_divisions(tmp_path):
    """เทศบาลเมืองแม่เหียะ: a street light out goes office → engineering → office, by the complaint's YAML."""
    from flask_appbuilder.security.sqla.models import User

    from app.service_requests import engine

    url = "sqlite:///" + str(tmp_path / "walk.db")
    app = seeded_app(url, demo_seed_paths("platform", "services", "tenants"), UPLOAD_FOLDER=str(tmp_path / "uploads"))
    with app.test_request_context():
        with platform_scope():
            tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.dla_code == "6500101"))
        with tenant_scope(tenant_id):
            def user(name):
                return db.session.scalar(select(User).where(User.username == name))

            st = db.session.scalar(select(ServiceType).where(ServiceType.code == "complaint"))
            version = services.current_version(st)
            data = {spec["code"]: sample(spec) for spec in version.fields if spec.get("required")}
            data["category"] = "street_light"
            request = services.file_request(st, services.validate_values(version, data), None)
            db.session.flush()
            office_officer = user("maehia.officer")  # officer in สำนักปลัด and กองคลัง
            engineer = user("maehia.divisiondirector")  # director of กองช่าง
            assert request.division.code == "office"
            assert [a.code for a in engine.available(request, engineer)] == []
            engine.take(request, "accept", office_officer)
            engine.take(request, "to_engineering", office_officer)
            assert request.division.code == "engineering" and request.step_due_on is not None
            # the office can no longer act; the engineering division can
            assert engine.available(request, office_officer) == []
            engine.take(request, "resolve", engineer, note="เปลี่ยนหลอดไฟแล้ว")
            assert request.division.code == "office"
            engine.take(request, "close", office_officer, note="แจ้งผู้ร้องเรียนทางโทรศัพท์แล้ว")
            assert request.status == "completed" and engine.state(request)["final"]
            steps = [(e.action, e.division.code) for e in engine.timeline(request)]
            assert steps == [("accept", "office"), ("to_engineering", "engineering"), ("resolve", "office"),
                             ("close", "office")]
            db.session.commit()
        db.engine.dispose()


def test_request_list_names_each_services_own_states(app, client_for, tenant_a):
    from tests.catalog.helpers import save_request

    client = client_for("a.officer")
    with app.app_context(), tenant_scope(tenant_a.id):
        st = db.session.scalar(select(ServiceType.id).where(ServiceType.code == "test_permit"))
    response = save_request(client, f"/service-requests/new/{st}", {
        "applicant": "สมชาย", "area": "100", "kind_of_use": "home", "doc_id_card": (io.BytesIO(b"%PDF"), "id.pdf")})
    assert response.status_code == 302
    html = client.get("/service-requests/list/").get_data(as_text=True)
    assert "ยื่นคำขอแล้ว" in html

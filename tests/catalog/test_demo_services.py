"""Every service of the demo organisations (templates and the YAML-only sixth service) takes a request end
to end: its generated schema accepts plausible values, the fee is computed, the guide renders."""
import io
import os
from decimal import Decimal

import geothai
from flask_migrate import upgrade
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.catalog import services
from app.catalog.attachments import store
from app.catalog.builder import document_fields
from app.catalog.models import ServiceType
from app.extensions import db
from app.seeds.apply import apply_paths
from app.tenancy.context import platform_scope, tenant_scope
from app.tenancy.models import Tenant
from tests.conftest import ROOT, make_app


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
    app = make_app(url, UPLOAD_FOLDER=str(tmp_path / "uploads"))
    with app.app_context():
        upgrade(directory=os.path.join(ROOT, "app", "migrations"))
    app = make_app(url, UPLOAD_FOLDER=str(tmp_path / "uploads"))
    filed = []
    with app.test_request_context():
        plan = apply_paths([os.path.join(ROOT, "seeds", p) for p in ("platform", "services", "tenants", "demo")])
        assert not plan.errors, plan.errors
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

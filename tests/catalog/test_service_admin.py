"""A tenant admin creates a service with fields and fees in the UI; a clerk files a request; the other
tenant sees none of it."""
import re
import textwrap

from sqlalchemy import select

from app.catalog.models import FeeSchedule, ServiceType
from app.extensions import db
from app.tenancy.context import platform_scope, tenant_scope

DEFINITION = textwrap.dedent("""\
    legal_basis:
      - {title_th: ข้อบัญญัติ อบต.เอ เรื่อง การให้บริการรถขยะ พ.ศ. 2569}
    fields:
      - {code: requester, kind: text, label_th: ผู้ขอ, required: true}
      - {code: trips, kind: integer, label_th: จำนวนเที่ยว, required: true, min: "1", max: "10"}
      - {code: on_day, kind: date, label_th: วันที่ต้องการ, required: true}
    documents:
      - {code: id_card, name_th: สำเนาบัตรประชาชน}
    guide:
      steps: [{name_th: รับคำขอ, days: 1}]
""")


def _division_id(app, tenant_id, code):
    from app.tenancy.models import Division

    with app.app_context(), tenant_scope(tenant_id):
        return db.session.scalar(select(Division.id).where(Division.code == code))


def test_admin_creates_a_service_with_fields_and_fees_and_a_clerk_uses_it(app, client_for, tenant_a, tenant_b):
    admin = client_for("a.admin")
    assert admin.get("/service-admin/new").status_code == 200
    data = {"template": "", "code": "garbage_truck", "name_th": "ขอใช้รถขยะ", "name_en": "Garbage truck",
            "responsible_division": _division_id(app, tenant_a.id, "office"), "sla_days": "5",
            "definition": DEFINITION}
    # preview first: the generated form, nothing saved
    html = admin.post("/service-admin/new", data={**data, "intent": "preview"}).get_data(as_text=True)
    assert 'id="form-preview"' in html and "จำนวนเที่ยว" in html and "thai-date" in html
    with app.app_context(), tenant_scope(tenant_a.id):
        assert db.session.scalar(select(ServiceType.id).where(ServiceType.code == "garbage_truck")) is None
    # a mistake in the YAML is named with its path, and nothing is saved
    bad = admin.post("/service-admin/new", data={**data, "definition": DEFINITION.replace("integer", "hologram"),
                                                 "intent": "save"}).get_data(as_text=True)
    assert "fields[1].kind" in bad
    response = admin.post("/service-admin/new", data={**data, "intent": "save"})
    assert response.status_code == 302
    pk = int(re.search(r"/service-types/show/(\d+)", response.headers["Location"]).group(1))
    # fees: a rule on an unknown field is refused, a good one saved
    fee = {"effective_from": "01/10/2568", "legal_source_th": "ข้อบัญญัติ อบต.เอ พ.ศ. 2569",
           "rules": '- {kind: per_unit, code: trip_fee, label_th: ค่าบริการ, field: trips, rate: "300.00"}\n'}
    html = admin.post(f"/service-admin/fees/{pk}", data={**fee, "rules": fee["rules"].replace("trips", "miles"),
                                                         "intent": "save"}).get_data(as_text=True)
    assert "miles" in html and 'id="fee-errors"' in html
    html = admin.post(f"/service-admin/fees/{pk}", data={**fee, "intent": "preview"}).get_data(as_text=True)
    assert "ค่าบริการ: 300.00 บาท ต่อ จำนวนเที่ยว" in html
    assert admin.post(f"/service-admin/fees/{pk}", data={**fee, "intent": "save"}).status_code == 302
    # a clerk files a request and gets the fee
    clerk = client_for("a.officer")
    import io

    from tests.catalog.helpers import save_request

    response = save_request(clerk, f"/service-requests/new/{pk}", {
        "requester": "มาลี", "trips": "2", "on_day": "05/01/2570",
        "doc_id_card": (io.BytesIO(b"%PDF-1.4"), "id.pdf")})
    assert response.status_code == 302
    html = clerk.get(response.headers["Location"]).get_data(as_text=True)
    assert "600.00 บาท" in html and "หกร้อยบาทถ้วน" in html
    # the definition can change: a new version; the other tenant sees none of it
    text = admin.get(f"/service-admin/definition/{pk}").get_data(as_text=True)
    assert "requester" in text
    b_admin = client_for("b.admin")
    for url in (f"/service-admin/definition/{pk}", f"/service-admin/fees/{pk}", f"/service-types/show/{pk}",
                f"/service-requests/new/{pk}"):
        assert b_admin.get(url).status_code == 404, url
    assert b_admin.post(f"/service-admin/fees/{pk}", data={**fee, "intent": "save"}).status_code == 404
    with app.app_context(), platform_scope():
        assert db.session.scalar(select(FeeSchedule.tenant_id).where(FeeSchedule.service_type_id == pk)) == tenant_a.id


def test_admin_changes_a_definition_into_a_new_version(app, client_for, tenant_a):
    with app.app_context(), tenant_scope(tenant_a.id):
        pk = db.session.scalar(select(ServiceType.id).where(ServiceType.code == "water_truck"))
    admin = client_for("a.admin")
    text = admin.get(f"/service-admin/definition/{pk}").get_data(as_text=True)
    assert "litres" in text
    definition = textwrap.dedent("""\
        fields:
          - {code: requester, kind: text, label_th: ผู้ขอ, required: true}
          - {code: litres, kind: integer, label_th: ปริมาณน้ำ, required: true, min: "1000", max: "12000"}
          - {code: village, kind: text, label_th: หมู่บ้าน}
        guide: {no_fee: true}
    """)
    response = admin.post(f"/service-admin/definition/{pk}", data={"definition": definition, "intent": "save"})
    assert response.status_code == 302
    with app.app_context(), tenant_scope(tenant_a.id):
        assert db.session.get(ServiceType, pk).current_version >= 2


def test_only_admins_define_services(client_for):
    for username in ("a.officer", "a.manager", "a.mayor"):
        assert client_for(username).get("/service-admin/new").status_code in (302, 403), username


def test_admin_edits_fields_one_by_one_and_publishes_a_version(app, client_for, tenant_a, tenant_b):
    from app.catalog.models import ServiceFieldDraft
    from tests.conftest import ids_in_links, select_options

    with app.app_context(), tenant_scope(tenant_a.id):
        pk = db.session.scalar(select(ServiceType.id).where(ServiceType.code == "test_permit"))
        before = db.session.get(ServiceType, pk).current_version
    admin = client_for("a.admin")
    html = admin.get(f"/service-admin/fields/{pk}").get_data(as_text=True)  # drafts from the current version
    assert 'id="form-preview"' in html and "ชื่อผู้ยื่น" in html
    # the add form offers only this tenant's services
    form = admin.get("/service-fields/add").get_data(as_text=True)
    with app.app_context(), tenant_scope(tenant_b.id):
        b_pk = db.session.scalar(select(ServiceType.id).where(ServiceType.code == "test_permit"))
    assert str(b_pk) not in select_options(form, "service_type")
    # a choice field without choices is refused as it is added, with the reason
    html = admin.post("/service-fields/add", data={"service_type": pk, "position": "100", "code": "roof",
                                                   "kind": "choice", "label_th": "ชนิดหลังคา"}).get_data(as_text=True)
    assert "ตัวเลือก" in html
    with app.app_context(), tenant_scope(tenant_a.id):
        assert db.session.scalar(select(ServiceFieldDraft).where(ServiceFieldDraft.code == "roof")) is None
    admin.post("/service-fields/add", data={"service_type": pk, "position": "100", "code": "roof", "kind": "choice",
                                            "label_th": "ชนิดหลังคา", "choices_text": "tile | กระเบื้อง"})
    with app.app_context(), tenant_scope(tenant_a.id):
        draft = db.session.scalar(select(ServiceFieldDraft).where(ServiceFieldDraft.code == "roof"))
        draft_id = draft.id
    response = admin.post(f"/service-fields/edit/{draft_id}", data={
        "service_type": pk, "position": "100", "code": "roof", "kind": "choice", "label_th": "ชนิดหลังคา",
        "choices_text": "tile | กระเบื้อง | Tile\nmetal | เมทัลชีท | Metal sheet"})
    assert response.status_code == 302
    html = admin.get(f"/service-admin/fields/{pk}").get_data(as_text=True)
    assert "เมทัลชีท" in html and 'value="publish"' in html
    assert admin.post(f"/service-admin/fields/{pk}", data={"intent": "publish"}).status_code == 302
    with app.app_context(), tenant_scope(tenant_a.id):
        service_type = db.session.get(ServiceType, pk)
        from app.catalog import services

        assert service_type.current_version == before + 1
        assert services.current_version(service_type).fields[-1]["choices"][1]["label_th"] == "เมทัลชีท"
    # B sees none of A's drafts and cannot touch them
    b_admin = client_for("b.admin")
    html = b_admin.get("/service-fields/list/?psize_ServiceFieldView=100").get_data(as_text=True)
    assert draft_id not in ids_in_links(html, "/service-fields")
    assert b_admin.get(f"/service-fields/edit/{draft_id}").status_code == 404
    assert b_admin.post(f"/service-fields/delete/{draft_id}").status_code == 404
    assert b_admin.get(f"/service-admin/fields/{pk}").status_code == 404

"""The catalogue's screens: both definition editors keep the workflow and every field setting, drafts never
undo a newer version, dates typed in the Thai box, caps on the admin fee screen, the fee seen before saving
and priced by the filing day, the guide in English, and the other tenant's rows nowhere."""
import glob
import io
import os
import re
from datetime import datetime

import pytest
import yaml
from sqlalchemy import func, select, update

from app.catalog import services
from app.catalog.models import (
    FeeSchedule,
    ServiceFieldDraft,
    ServiceRequest,
    ServiceType,
    ServiceTypeVersion,
)
from app.catalog.spec import TemplateFile
from app.extensions import db
from app.tenancy.context import platform_scope, tenant_scope
from app.tenancy.models import Division
from tests.catalog.helpers import quoted_total, save_request
from tests.conftest import ROOT, search_options, select_options

TEMPLATES = sorted(glob.glob(os.path.join(ROOT, "seeds", "services", "*.yaml")))


def _load_template(path):
    with open(path, encoding="utf-8") as handle:
        return TemplateFile().load(yaml.safe_load(handle))


def _offer(app, tenant_id, path, code):
    """The template's definition as a service of the tenant's own (what the YAML editor edits)."""
    with app.app_context(), tenant_scope(tenant_id):
        existing = db.session.scalar(select(ServiceType).where(ServiceType.code == code))
        if existing is None:
            definition = {k: v for k, v in _load_template(path).items() if k not in ("kind", "fees", "caps")}
            definition["code"] = code
            division = db.session.scalar(select(Division).where(Division.code == "office"))
            existing, _changed = services.save_definition(tenant_id, definition, division)
            db.session.commit()
        return existing.id


def _version(app, tenant_id, pk):
    with app.app_context(), tenant_scope(tenant_id):
        service_type = db.session.get(ServiceType, pk)
        version = services.current_version(service_type)
        return service_type.current_version, version.workflow, version.fields


PERMIT = os.path.join(ROOT, "seeds", "services", "building_permit_small.yaml")


# --- 1. both editors keep the workflow ---------------------------------------------------------------

def test_the_yaml_editor_keeps_and_edits_the_workflow(app, client_for, tenant_a):
    pk = _offer(app, tenant_a.id, PERMIT, "wf_yaml")
    number, workflow, _fields = _version(app, tenant_a.id, pk)
    assert workflow and workflow["states"]
    admin = client_for("a.admin")
    html = admin.get(f"/service-admin/definition/{pk}").get_data(as_text=True)
    text = re.search(r'<textarea[^>]*name="definition"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    import html as html_lib

    text = html_lib.unescape(text)
    assert "workflow:" in text and "states:" in text and "transitions:" in text
    # saved unchanged: nothing changes, the workflow stays
    admin.post(f"/service-admin/definition/{pk}", data={"definition": text, "intent": "save"})
    assert _version(app, tenant_a.id, pk)[:2] == (number, workflow)
    # edited in the YAML: a new version with the edited workflow
    body = yaml.safe_load(text)
    body["workflow"]["states"][0]["name_th"] = "รับคำขอแล้ว (แก้ไข)"
    response = admin.post(f"/service-admin/definition/{pk}",
                          data={"definition": yaml.safe_dump(body, allow_unicode=True), "intent": "save"})
    assert response.status_code == 302
    after, new_workflow, _ = _version(app, tenant_a.id, pk)
    assert after == number + 1 and new_workflow["states"][0]["name_th"] == "รับคำขอแล้ว (แก้ไข)"
    assert new_workflow["transitions"] == workflow["transitions"]


def test_the_field_editor_keeps_the_workflow_and_old_drafts_cannot_undo_a_newer_version(app, client_for, tenant_a):
    pk = _offer(app, tenant_a.id, PERMIT, "wf_fields")
    number, workflow, fields = _version(app, tenant_a.id, pk)
    admin = client_for("a.admin")
    admin.get(f"/service-admin/fields/{pk}")  # drafts from the current version
    with app.app_context(), tenant_scope(tenant_a.id):
        draft = db.session.scalar(select(ServiceFieldDraft).where(ServiceFieldDraft.service_type_id == pk,
                                                                  ServiceFieldDraft.code == fields[0]["code"]))
        draft.label_th = "ชื่อผู้ขออนุญาต (แก้ไข)"
        db.session.commit()
    assert admin.post(f"/service-admin/fields/{pk}", data={"intent": "publish"}).status_code == 302
    after, kept, new_fields = _version(app, tenant_a.id, pk)
    assert after == number + 1 and kept == workflow  # the workflow is not dropped to the standard one
    assert new_fields[0]["label_th"] == "ชื่อผู้ขออนุญาต (แก้ไข)"
    assert new_fields[1:] == fields[1:]  # every other field, with all its settings, as it was
    # an edit in the YAML editor makes a newer version: drafts made earlier are dropped, not published later
    admin.get(f"/service-admin/fields/{pk}")
    with app.app_context(), tenant_scope(tenant_a.id):
        stale = db.session.scalar(select(ServiceFieldDraft).where(ServiceFieldDraft.service_type_id == pk,
                                                                  ServiceFieldDraft.code == fields[1]["code"]))
        stale.label_th = "ฉบับร่างเก่า"
        db.session.commit()
        definition = {k: getattr(services.current_version(db.session.get(ServiceType, pk)), k)
                      for k in ("legal_basis", "fields", "documents", "guide", "workflow")}
    definition["fields"][2]["label_th"] = "แก้ในตัวแก้ไข YAML"
    assert admin.post(f"/service-admin/definition/{pk}", data={
        "definition": yaml.safe_dump(definition, allow_unicode=True), "intent": "save"}).status_code == 302
    admin.get(f"/service-admin/fields/{pk}")  # drafts again, from the newer version
    admin.post(f"/service-admin/fields/{pk}", data={"intent": "publish"})
    final = _version(app, tenant_a.id, pk)[2]
    assert final[2]["label_th"] == "แก้ในตัวแก้ไข YAML" and final[1]["label_th"] != "ฉบับร่างเก่า"


@pytest.mark.parametrize("path", TEMPLATES, ids=os.path.basename)
def test_publishing_unchanged_drafts_is_the_same_version(app, client_for, tenant_a, path):
    code = "rt_" + os.path.basename(path).split(".")[0][:40]
    pk = _offer(app, tenant_a.id, path, code)
    number, workflow, fields = _version(app, tenant_a.id, pk)
    admin = client_for("a.admin")
    html = admin.get(f"/service-admin/fields/{pk}").get_data(as_text=True)
    assert 'value="publish"' in html, re.findall(r"<li>(.*?)</li>", html)[:5]
    html = admin.post(f"/service-admin/fields/{pk}", data={"intent": "publish"},
                      follow_redirects=True).get_data(as_text=True)
    assert _version(app, tenant_a.id, pk) == (number, workflow, fields)
    assert "ไม่มีการเปลี่ยนแปลง" in html or "Nothing changed" in html


# --- 7. date limits in the Thai date box -----------------------------------------------------------------

def test_a_date_fields_limits_are_typed_in_the_thai_date_box(app, client_for, tenant_a):
    pk = _offer(app, tenant_a.id, PERMIT, "wf_dates")
    admin = client_for("a.admin")
    form = admin.get(f"/service-fields/add?_flt_0_service_type={pk}").get_data(as_text=True)
    assert re.search(r'name="min_date"[^>]*class="[^"]*thai-date|class="[^"]*thai-date[^"]*"[^>]*name="min_date"', form)
    base = {"service_type": pk, "position": "500", "kind": "date", "label_th": "วันที่ต้องการ"}
    # a พ.ศ. year typed as an ISO date in the number box: refused with its reason, nothing stored
    html = admin.post("/service-fields/add", data={**base, "code": "wanted_a", "min_value": "2568-10-01"}
                      ).get_data(as_text=True)
    assert "2568" in html and "พ.ศ." in html
    html = admin.post("/service-fields/add", data={**base, "code": "wanted_b", "min_date": "30/02/2568"}
                      ).get_data(as_text=True)
    assert "wanted_b" in html  # the form again, with what was typed
    response = admin.post("/service-fields/add", data={**base, "code": "wanted_c", "min_date": "01/10/2568",
                                                       "max_date": "30/09/2569"})
    assert response.status_code == 302
    with app.app_context(), tenant_scope(tenant_a.id):
        codes = set(db.session.scalars(select(ServiceFieldDraft.code).where(ServiceFieldDraft.service_type_id == pk)))
        assert "wanted_a" not in codes and "wanted_b" not in codes
        from app.catalog.drafts import spec_of

        draft = db.session.scalar(select(ServiceFieldDraft).where(ServiceFieldDraft.code == "wanted_c",
                                                                  ServiceFieldDraft.service_type_id == pk))
        assert (spec_of(draft)["min"], spec_of(draft)["max"]) == ("2025-10-01", "2026-09-30")
    html = admin.get(f"/service-admin/fields/{pk}").get_data(as_text=True)
    assert 'value="publish"' in html


# --- 4. caps on the admin fee screen ---------------------------------------------------------------------

def test_the_admin_fee_screen_refuses_fees_above_the_cap_even_renamed(app, client_for, tenant_a):
    with app.app_context(), tenant_scope(tenant_a.id):
        pk = db.session.scalar(select(ServiceType.id).where(ServiceType.code == "test_permit"))
        schedules = db.session.scalar(select(func.count()).select_from(FeeSchedule)
                                      .where(FeeSchedule.service_type_id == pk))
    admin = client_for("a.admin")
    fee = {"effective_from": "01/01/2570", "legal_source_th": "ข้อบัญญัติ อบต.เอ พ.ศ. 2570", "intent": "save"}
    html = admin.post(f"/service-admin/fees/{pk}", data={
        **fee, "rules": '- {kind: flat, code: permit_fee, label_th: ค่าใบอนุญาต, amount: "25.00"}\n'}
    ).get_data(as_text=True)
    assert 'id="fee-errors"' in html and "rules[0].amount" in html and "20.00" in html
    html = admin.post(f"/service-admin/fees/{pk}", data={
        **fee, "rules": '- {kind: flat, code: licence_fee, label_th: ค่าใบอนุญาต, amount: "25.00"}\n'}
    ).get_data(as_text=True)
    assert 'id="fee-errors"' in html and "rules[0].code" in html and "permit_fee" in html
    with app.app_context(), tenant_scope(tenant_a.id):
        assert db.session.scalar(select(func.count()).select_from(FeeSchedule)
                                 .where(FeeSchedule.service_type_id == pk)) == schedules


# --- 5. the fee is seen before saving, and priced by the filing day ----------------------------------------

GOOD = {"applicant": "สมหญิง ทดสอบ", "area": "100", "start_on": "01/12/2569", "kind_of_use": "home"}


def test_save_shows_the_fee_first_and_a_changed_fee_is_shown_again(app, client_for, db_session, tenant_a):
    with app.app_context(), tenant_scope(tenant_a.id):
        st = db.session.scalar(select(ServiceType.id).where(ServiceType.code == "test_permit"))
    clerk = client_for("a.officer")
    url = f"/service-requests/new/{st}"
    card = {"doc_id_card": (io.BytesIO(b"%PDF-1.4 scan"), "card.pdf")}
    html = clerk.post(url, data={**GOOD, **card, "intent": "save"}).get_data(as_text=True)
    assert quoted_total(html) == "120.00" and 'id="fee-quote"' in html
    # the clerk changes the area after seeing the fee: the new fee is shown, not saved unseen
    html = clerk.post(url, data={**GOOD, "area": "150", "intent": "save", "quoted": "120.00"}).get_data(as_text=True)
    assert quoted_total(html) == "170.00"
    with platform_scope():
        count = db_session.scalar(select(func.count()).select_from(ServiceRequest)
                                  .where(ServiceRequest.tenant_id == tenant_a.id))
    response = clerk.post(url, data={**GOOD, "area": "150", "intent": "save", "quoted": "170.00"})
    assert response.status_code == 302  # the card chosen the first time was kept
    pk = int(re.search(r"/service-requests/show/(\d+)", response.headers["Location"]).group(1))
    with platform_scope():
        row = db_session.get(ServiceRequest, pk)
        assert row.fee_total == 170 and row.data["doc_id_card"]
        assert db_session.scalar(select(func.count()).select_from(ServiceRequest)
                                 .where(ServiceRequest.tenant_id == tenant_a.id)) == count + 1


def test_a_request_is_priced_by_the_schedule_in_force_when_it_was_filed(app, client_for, db_session, tenant_a):
    with app.app_context(), tenant_scope(tenant_a.id):
        st = db.session.scalar(select(ServiceType.id).where(ServiceType.code == "test_permit"))
    clerk = client_for("a.officer")
    response = save_request(clerk, f"/service-requests/new/{st}",
                            {**GOOD, "doc_id_card": (io.BytesIO(b"%PDF-1.4"), "id.pdf")})
    pk = int(re.search(r"/service-requests/show/(\d+)", response.headers["Location"]).group(1))
    # filed in January 2569 B.E., under the 2568 ordinance (0.50 a m²), before the 2569 one (1.00 a m²)
    with platform_scope():
        db_session.execute(update(ServiceRequest).where(ServiceRequest.id == pk)
                           .values(created_at=datetime(2026, 1, 15, 3, 0), fee_total=70))
        db_session.commit()
    html = clerk.get(f"/service-requests/show/{pk}").get_data(as_text=True)
    assert "70.00" in html and "2568" in html and "120.00" not in html
    response = save_request(clerk, f"/service-requests/edit/{pk}", {**GOOD, "area": "80"})
    assert response.status_code == 302
    with platform_scope():
        db_session.expire_all()
        assert db_session.get(ServiceRequest, pk).fee_total == 60  # 20 + 80 × 0.50, not 20 + 80 × 1.00


def test_a_service_counted_in_calendar_days_is_due_on_the_calendar_day(app, tenant_a):
    from datetime import timedelta

    from app import thai

    pk = _offer(app, tenant_a.id, PERMIT, "wf_calendar")
    with app.test_request_context(), tenant_scope(tenant_a.id):
        st = db.session.get(ServiceType, pk)
        assert (st.sla_days, st.sla_unit) == (45, "calendar")
        version = services.current_version(st)
        assert services.legal_due_date(st, thai.today_bangkok()) == thai.today_bangkok() + timedelta(days=45)
        assert version.workflow
        db.session.rollback()


# --- 8. the guide in English --------------------------------------------------------------------------

def test_the_guide_is_english_when_the_user_chose_english(app, client_for, tenant_a):
    pk = _offer(app, tenant_a.id, PERMIT, "wf_guide")
    with app.app_context(), tenant_scope(tenant_a.id):
        st = db.session.get(ServiceType, pk)
        version = services.current_version(st)
        guide = dict(version.guide)
        guide["channels_en"] = []  # English missing here: the Thai is shown, marked as Thai
        version.guide = guide
        db.session.commit()
    officer = client_for("a.officer")
    officer.get("/lang/en")
    html = officer.get(f"/services/guide/{pk}").get_data(as_text=True)
    assert "Building Control Act" in html and "in Thai only" in html
    assert "calendar days" in html
    officer.get("/lang/th")
    html = officer.get(f"/services/guide/{pk}").get_data(as_text=True)
    assert "พระราชบัญญัติควบคุมอาคาร" in html and "Building Control Act" not in html and "thai-only" not in html


# --- cross-tenant --------------------------------------------------------------------------------------

def _b_ids(app, tenant_b):
    with app.app_context(), tenant_scope(tenant_b.id):
        st = db.session.scalar(select(ServiceType).where(ServiceType.code == "test_permit"))
        return st.id, services.current_version(st).id, tenant_b.division_ids["secret-b"] \
            if "secret-b" in tenant_b.division_ids else tenant_b.division_ids["finance"]


def test_another_tenants_division_is_refused_on_the_service_screens(app, client_for, tenant_a, tenant_b):
    _b_st, _b_version, b_division = _b_ids(app, tenant_b)
    with app.app_context(), tenant_scope(tenant_a.id):
        st = db.session.scalar(select(ServiceType).where(ServiceType.code == "water_truck"))
        pk, division_before = st.id, st.responsible_division_id
    admin = client_for("a.admin")
    form = admin.get(f"/service-types/edit/{pk}").get_data(as_text=True)
    assert str(b_division) not in select_options(form, "responsible_division")
    admin.post(f"/service-types/edit/{pk}", data={"name_th": "ขอใช้รถบรรทุกน้ำ", "responsible_division": b_division,
                                                   "sla_days": "3", "sla_unit": "working", "active": "y"})
    with app.app_context(), platform_scope():
        assert db.session.get(ServiceType, pk).responsible_division_id == division_before
    html = admin.post("/service-admin/new", data={
        "template": "", "code": "smuggled", "name_th": "ลักลอบ", "responsible_division": b_division,
        "sla_days": "5", "sla_unit": "working", "intent": "save",
        "definition": "fields:\n  - {code: a, kind: text, label_th: ก}\n"}).get_data(as_text=True)
    assert "smuggled" in html  # the form again
    with app.app_context(), platform_scope():
        assert db.session.scalar(select(ServiceType.id).where(ServiceType.code == "smuggled")) is None


def test_another_tenants_service_is_refused_on_the_field_screen(app, client_for, tenant_a, tenant_b):
    b_st, _b_version, _ = _b_ids(app, tenant_b)
    admin = client_for("a.admin")
    admin.post("/service-fields/add", data={"service_type": b_st, "position": "10", "code": "smuggled_field",
                                            "kind": "text", "label_th": "ลักลอบ"})
    with app.app_context(), platform_scope():
        assert db.session.scalar(select(ServiceFieldDraft.id).where(ServiceFieldDraft.code == "smuggled_field")) is None


def test_filter_dropdowns_list_only_own_services_and_divisions(app, client_for, tenant_a, tenant_b):
    with app.app_context(), tenant_scope(tenant_b.id):
        b_services = {str(i) for i in db.session.scalars(select(ServiceType.id))}
    b_divisions = {str(i) for i in tenant_b.division_ids.values()}
    admin = client_for("a.admin")
    requests = search_options(admin.get("/service-requests/list/").get_data(as_text=True))
    assert requests["service_type"] and not set(requests["service_type"]) & b_services
    assert requests["division"] and not set(requests["division"]) & b_divisions
    assert "กองลับเฉพาะบี" not in " ".join(requests["division"].values())
    fees = search_options(admin.get("/fee-schedules/list/").get_data(as_text=True))
    assert fees["service_type"] and not set(fees["service_type"]) & b_services


def test_another_tenants_service_versions_are_invisible_and_untouchable(app, tenant_a, tenant_b):
    _b_st, b_version, _ = _b_ids(app, tenant_b)
    with app.app_context(), tenant_scope(tenant_a.id):
        assert db.session.get(ServiceTypeVersion, b_version) is None
        assert b_version not in set(db.session.scalars(select(ServiceTypeVersion.id)))
        assert db.session.scalar(select(func.count()).select_from(ServiceTypeVersion)
                                 .where(ServiceTypeVersion.id == b_version)) == 0
    with app.app_context(), platform_scope():
        row = db.session.get(ServiceTypeVersion, b_version)
        fields_before = row.fields
        db.session.expunge_all()
    with app.app_context(), tenant_scope(tenant_a.id):
        with pytest.raises(Exception) as error:
            row = ServiceTypeVersion(id=b_version, tenant_id=tenant_b.id, service_type_id=_b_st, version=99,
                                     fields=[], documents=[], guide={}, legal_basis=[])
            db.session.merge(row)
            db.session.flush()
        db.session.rollback()
    assert "tenant" in str(error.value).lower() or "องค์กร" in str(error.value) or error.value is not None
    with app.app_context(), platform_scope():
        assert db.session.get(ServiceTypeVersion, b_version).fields == fields_before

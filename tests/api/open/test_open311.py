"""Open311 GeoReport v2 as a client uses it: discovery, services, a definition, filing with attributes, the
token, the request (JSON and XML), each jurisdiction walled off, errors in the standard's format in Thai and
English, scopes, and open/closed following the workflow."""
from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import func, select

from app.catalog.models import ServiceRequest
from app.extensions import db
from app.tenancy.context import platform_scope, tenant_scope
from tests.api.open.conftest import KeyClient, make_key

V2 = "/open311/v2"
A, B = "1000001", "1000002"
CODE = "o311_lamp"
DEFINITION = {
    "code": CODE, "name_th": "แจ้งไฟทางชำรุด", "name_en": "Broken street light", "category": "complaint",
    "responsible_division": "finance", "sla_days": 5,
    "fields": [
        {"code": "what", "kind": "text", "label_th": "เรื่อง", "label_en": "What", "required": True},
        {"code": "details", "kind": "long_text", "label_th": "รายละเอียด", "label_en": "Details"},
        {"code": "lamps", "kind": "integer", "label_th": "จำนวนดวง", "label_en": "Lamps", "min": "1", "max": "20",
         "required": True},
        {"code": "pole", "kind": "choice", "label_th": "ชนิดเสา", "label_en": "Pole", "required": True,
         "choices": [{"value": "concrete", "label_th": "เสาคอนกรีต", "label_en": "Concrete"},
                     {"value": "steel", "label_th": "เสาเหล็ก", "label_en": "Steel"}]},
        {"code": "hazards", "kind": "multi_choice", "label_th": "อันตราย", "label_en": "Hazards",
         "choices": [{"value": "wire", "label_th": "สายไฟห้อย", "label_en": "Hanging wire"},
                     {"value": "dark", "label_th": "มืดมาก", "label_en": "Very dark"}]},
        {"code": "urgent", "kind": "yes_no", "label_th": "เร่งด่วน", "label_en": "Urgent"},
        {"code": "where", "kind": "location", "label_th": "จุดที่เกิดเหตุ", "label_en": "Where"},
        {"code": "photo", "kind": "file", "label_th": "ภาพถ่าย", "accept": ["png", "jpg"]},
        {"code": "inspector", "kind": "long_text", "label_th": "บันทึกเจ้าหน้าที่", "visibility": "staff"},
    ],
    "guide": {"no_fee": True},
    "workflow": {
        "states": [
            {"code": "submitted", "name_th": "รับแจ้ง", "name_en": "Received"},
            {"code": "fixing", "name_th": "กำลังซ่อม", "name_en": "Being fixed"},
            {"code": "done", "name_th": "ซ่อมแล้ว", "name_en": "Fixed", "final": True},
        ],
        "transitions": [
            {"action": "start", "name_th": "รับเรื่อง", "from": ["submitted"], "to": "fixing", "roles": ["officer"]},
            {"action": "finish", "name_th": "ปิดเรื่อง", "from": ["fixing"], "to": "done", "roles": ["officer"],
             "note_required": True},
        ],
    },
}
FORM = {
    "service_code": CODE, "lat": "18.7883", "long": "98.9853", "attribute[what]": "ไฟดับหน้าวัด",
    "attribute[lamps]": "3", "attribute[pole]": "steel", "attribute[hazards][]": ["wire", "dark"],
    "attribute[urgent]": "y", "email": "somsri@example.com", "first_name": "สมศรี", "last_name": "มีสุข",
    "phone": "0812345678", "description": "มืดมากตอนกลางคืน", "media_url": "https://example.com/lamp.jpg",
}


def _offer(app, dla_code):
    from app.catalog import services
    from app.catalog.spec import ServiceSpec
    from app.tenancy.models import Division, Tenant

    with app.app_context():
        with platform_scope():
            tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.dla_code == dla_code))
        with tenant_scope(tenant_id):
            division = db.session.scalar(select(Division).where(Division.code == "finance"))
            services.save_definition(tenant_id, ServiceSpec().load(DEFINITION), division)
            db.session.commit()
        db.session.remove()


@pytest.fixture(scope="module")
def lamp(app, tenant_a, tenant_b):
    _offer(app, A)
    _offer(app, B)
    return CODE


@pytest.fixture(scope="module")
def officer_key(app, tenant_a):
    return make_key(app, A, "a.officer", name="o311 officer", rate_limit_per_minute=10000)


@pytest.fixture
def public(app):
    return KeyClient(app, None)


def _post(client, jurisdiction=A, fmt="json", **changes):
    form = {**FORM, "jurisdiction_id": jurisdiction, **changes}
    return client.post(f"{V2}/requests.{fmt}", data={k: v for k, v in form.items() if v is not None})


def _count(app) -> int:
    with app.app_context(), platform_scope():
        return db.session.scalar(select(func.count(ServiceRequest.id)))


def test_discovery_names_this_server(public):
    response = public.get("/open311/discovery.json")
    assert response.status_code == 200
    body = response.get_json()
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == f"http://localhost{V2}" and endpoint["type"] == "production"
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}
    assert body["changeset"].endswith("+00:00") and body["key_service"]
    root = ET.fromstring(public.get("/open311/discovery.xml").data)
    assert [f.text for f in root.iter("format")] == ["application/json", "text/xml"]


def test_json_round_trip(api_a, public, lamp, app):
    services = public.get(f"{V2}/services.json?jurisdiction_id={A}")
    assert services.status_code == 200
    listed = {s["service_code"]: s for s in services.get_json()}
    assert listed[CODE] == {"service_code": CODE, "service_name": "แจ้งไฟทางชำรุด", "description": "แจ้งไฟทางชำรุด",
                            "metadata": True, "type": "realtime", "keywords": f"{CODE}, complaint",
                            "group": "complaint"}
    assert "water_truck" in listed
    english = public.get(f"{V2}/services.json?jurisdiction_id={A}", headers={"Accept-Language": "en"}).get_json()
    assert {s["service_code"]: s["service_name"] for s in english}[CODE] == "Broken street light"

    definition = public.get(f"{V2}/services/{CODE}.json?jurisdiction_id={A}").get_json()
    attributes = {a["code"]: a for a in definition["attributes"]}
    # the location is lat/long, the photo is media_url, the inspector's note is for staff only
    assert list(attributes) == ["what", "details", "lamps", "pole", "hazards", "urgent"]
    assert {c: a["datatype"] for c, a in attributes.items()} == {
        "what": "string", "details": "text", "lamps": "number", "pole": "singlevaluelist",
        "hazards": "multivaluelist", "urgent": "singlevaluelist"}
    assert attributes["pole"]["values"] == [{"key": "concrete", "name": "เสาคอนกรีต"},
                                            {"key": "steel", "name": "เสาเหล็ก"}]
    assert attributes["lamps"]["required"] and attributes["lamps"]["order"] == 3
    assert "1" in attributes["lamps"]["datatype_description"] and attributes["lamps"]["variable"] is True

    before = _count(app)
    posted = _post(api_a)
    assert posted.status_code == 200, posted.get_json()
    [answer] = posted.get_json()
    assert answer["account_id"] is None and "5" in answer["service_notice"]
    pk = int(answer["service_request_id"])
    assert _count(app) == before + 1

    token = public.get(f"{V2}/tokens/{answer['token']}.json?jurisdiction_id={A}").get_json()
    assert token == [{"token": answer["token"], "service_request_id": str(pk)}]

    [shown] = api_a.get(f"{V2}/requests/{pk}.json?jurisdiction_id={A}").get_json()
    assert shown["status"] == "open" and shown["service_code"] == CODE and shown["status_notes"] is None
    assert shown["lat"] == pytest.approx(18.7883) and shown["long"] == pytest.approx(98.9853)
    assert shown["media_url"] == "https://example.com/lamp.jpg" and shown["description"] == "มืดมากตอนกลางคืน"
    assert shown["agency_responsible"] == "กองคลัง"
    # every time in UTC, as the spec says: the deadline is 16:30 in Bangkok, 09:30 UTC
    assert shown["requested_datetime"].endswith("+00:00") and shown["expected_datetime"].endswith("T09:30:00+00:00")
    text = api_a.get(f"{V2}/requests/{pk}.json?jurisdiction_id={A}").get_data(as_text=True)
    for private in ("สมศรี", "มีสุข", "somsri@example.com", "0812345678", "081-234-5678"):
        assert private not in text
    listed = api_a.get(f"{V2}/requests.json?jurisdiction_id={A}&service_code={CODE}").get_json()
    assert str(pk) in [r["service_request_id"] for r in listed]

    with app.app_context(), platform_scope():
        item = db.session.get(ServiceRequest, pk)
        assert item.channel == "open311" and item.contact_email == "somsri@example.com"
        assert item.data["lamps"] == 3 and item.data["hazards"] == ["wire", "dark"] and item.data["urgent"] is True
        assert item.data["where"] == {"lat": "18.788300", "lng": "98.985300"}
        assert item.data["details"] == "มืดมากตอนกลางคืน"
        # no field asks for the requester's name ("what" is not one): the name stays in the staff note only
        assert item.data["what"] == "ไฟดับหน้าวัด" and "สมศรี" not in str(item.data)


@pytest.fixture(scope="module")
def complaint(app, tenant_a, tmp_path_factory):
    """The real complaint template (seeds/services/complaint.yaml) offered by A, as test_walks offers it."""
    import os

    import yaml

    from app.seeds.apply import apply_paths
    from tests.conftest import FIXTURES, ROOT

    with open(os.path.join(FIXTURES, "tenant_a.yaml"), encoding="utf-8") as f:
        fixture = yaml.safe_load(f)
    seed = {"kind": "tenant", "tenant": fixture["tenant"], "divisions": fixture.get("divisions") or [],
            "services": [{"template": "complaint"}]}
    path = tmp_path_factory.mktemp("o311-seeds") / "tenant_a_complaint.yaml"
    path.write_text(yaml.safe_dump(seed, allow_unicode=True), encoding="utf-8")
    with app.app_context():
        plan = apply_paths([os.path.join(ROOT, "seeds", "services", "complaint.yaml"), str(path)])
        assert not plan.errors, [str(e) for e in plan.errors]
        db.session.remove()
    return "complaint"


COMPLAINT = {"service_code": "complaint", "lat": "18.7883", "long": "98.9853", "first_name": "สมศรี",
             "last_name": "มีสุข", "phone": "0812345678", "description": "ท่อระบายน้ำอุดตันหน้าบ้าน",
             "attribute[category]": "drain_blocked"}


def test_an_ordinary_georeport_client_files_a_complaint(api_a, public, complaint, app):
    listed = {s["service_code"]: s for s in public.get(f"{V2}/services.json?jurisdiction_id={A}").get_json()}
    assert listed["complaint"]["keywords"] == "complaint"  # code, category and template: one word once
    attributes = {a["code"]: a for a in public.get(
        f"{V2}/services/complaint.json?jurisdiction_id={A}&locale=en").get_json()["attributes"]}
    assert attributes["applicant_name"]["required"]
    assert "first_name and last_name fill it" in attributes["applicant_name"]["datatype_description"]
    assert "first_name" not in attributes["contact_phone"]["datatype_description"]
    # first_name/last_name, phone and description: the standard's own parameters fill the complaint's fields
    posted = api_a.post(f"{V2}/requests.json", data={**COMPLAINT, "jurisdiction_id": A})
    assert posted.status_code == 200, posted.get_json()
    pk = int(posted.get_json()[0]["service_request_id"])
    with app.app_context(), platform_scope():
        item = db.session.get(ServiceRequest, pk)
        assert item.data["applicant_name"] == "สมศรี มีสุข" and item.data["contact_phone"] == "081-234-5678"
        assert item.data["description"] == "ท่อระบายน้ำอุดตันหน้าบ้าน"
    # an attribute wins over first_name/last_name
    posted = api_a.post(f"{V2}/requests.json", data={**COMPLAINT, "jurisdiction_id": A,
                                                     "attribute[applicant_name]": "นายสมชาย ใจดี"})
    with app.app_context(), platform_scope():
        item = db.session.get(ServiceRequest, int(posted.get_json()[0]["service_request_id"]))
        assert item.data["applicant_name"] == "นายสมชาย ใจดี"
    # without a name the field is still required, in both languages
    missing = api_a.post(f"{V2}/requests.json", data={**COMPLAINT, "jurisdiction_id": A, "first_name": "",
                                                      "last_name": ""})
    assert missing.status_code == 400
    assert [e["description_en"].split(":")[0] for e in missing.get_json()] == ["attribute[applicant_name]"]


def test_the_name_field_is_the_filers_own_or_none():
    from app.api.open311.services import name_field

    def text(code, label=""):
        return {"code": code, "kind": "text", "label_th": label}

    assert name_field([text("what"), text("applicant_name")], {}) == "applicant_name"
    assert name_field([text("applicant_name")], {"applicant_name": ["x"]}) is None
    # a building permit: the owner files it; the designer's and the shop's names are other people's
    assert name_field([text("designer_name", "ชื่อผู้ออกแบบ"), text("owner_name", "ชื่อผู้ขออนุญาต (เจ้าของอาคาร)")],
                      {}) == "owner_name"
    assert name_field([text("business_name", "ชื่อร้านค้า"), text("designer_name", "ชื่อผู้ออกแบบ")], {}) is None
    assert name_field([{"code": "applicant_name", "kind": "long_text"}], {}) is None


def test_xml_round_trip(api_a, public, lamp):
    services = public.get(f"{V2}/services.xml?jurisdiction_id={A}")
    assert services.status_code == 200 and services.content_type == "text/xml; charset=utf-8"
    assert services.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(services.data)
    assert root.tag == "services"
    mine = [s for s in root.findall("service") if s.findtext("service_code") == CODE][0]
    assert mine.findtext("metadata") == "true" and mine.findtext("type") == "realtime"

    definition = ET.fromstring(public.get(f"{V2}/services/{CODE}.xml?jurisdiction_id={A}").data)
    assert definition.tag == "service_definition"
    pole = [a for a in definition.find("attributes").findall("attribute") if a.findtext("code") == "pole"][0]
    assert pole.findtext("datatype") == "singlevaluelist"
    assert [v.findtext("key") for v in pole.find("values").findall("value")] == ["concrete", "steel"]

    posted = _post(api_a, fmt="xml")
    assert posted.status_code == 200 and posted.content_type.startswith("text/xml")
    request = ET.fromstring(posted.data).find("request")
    pk, token = request.findtext("service_request_id"), request.findtext("token")
    assert request.find("account_id") is not None and request.findtext("account_id") == ""

    tokens = ET.fromstring(public.get(f"{V2}/tokens/{token}.xml?jurisdiction_id={A}").data)
    assert tokens.find("request").findtext("service_request_id") == pk
    shown = ET.fromstring(api_a.get(f"{V2}/requests/{pk}.xml?jurisdiction_id={A}").data)
    assert shown.tag == "service_requests"
    assert shown.find("request").findtext("status") == "open"
    assert shown.find("request").findtext("service_name") == "แจ้งไฟทางชำรุด"
    listed = ET.fromstring(api_a.get(f"{V2}/requests.xml?jurisdiction_id={A}&service_request_id={pk}").data)
    assert [r.findtext("service_request_id") for r in listed.findall("request")] == [pk]


def test_each_jurisdiction_is_walled_off(api_a, api_b, public, lamp, app):
    [b_answer] = _post(api_b, jurisdiction=B).get_json()
    b_pk = b_answer["service_request_id"]
    [a_answer] = _post(api_a).get_json()
    # A's key with B's jurisdiction: refused, whatever the call
    for path in (f"{V2}/services.json?jurisdiction_id={B}", f"{V2}/requests.json?jurisdiction_id={B}",
                 f"{V2}/requests/{b_pk}.json?jurisdiction_id={B}"):
        refused = api_a.get(path)
        assert refused.status_code == 403 and refused.get_json()[0]["code"] == 403, path
    assert _post(api_a, jurisdiction=B).status_code == 403
    # B's request and token do not exist under A
    missing = api_a.get(f"{V2}/requests/{b_pk}.json?jurisdiction_id={A}")
    assert missing.status_code == 404 and missing.get_json()[0]["code"] == 404
    assert public.get(f"{V2}/tokens/{b_answer['token']}.json?jurisdiction_id={A}").status_code == 404
    ids_a = {r["service_request_id"] for r in api_a.get(f"{V2}/requests.json?jurisdiction_id={A}").get_json()}
    assert a_answer["service_request_id"] in ids_a and b_pk not in ids_a
    by_id = api_a.get(f"{V2}/requests.json?jurisdiction_id={A}&service_request_id={b_pk}").get_json()
    assert by_id == []
    # unknown, missing and inactive jurisdictions
    unknown = public.get(f"{V2}/services.json?jurisdiction_id=9999999")
    assert unknown.status_code == 404 and "9999999" in unknown.get_json()[0]["description_en"]
    assert public.get(f"{V2}/services.json").status_code == 400
    assert api_a.get(f"{V2}/requests/99999999999.json?jurisdiction_id={A}").status_code == 404
    from app.tenancy.models import Tenant

    with app.app_context(), platform_scope():
        db.session.scalar(select(Tenant).where(Tenant.dla_code == B)).active = False
        db.session.commit()
    try:
        assert public.get(f"{V2}/services.json?jurisdiction_id={B}").status_code == 404
    finally:
        with app.app_context(), platform_scope():
            db.session.scalar(select(Tenant).where(Tenant.dla_code == B)).active = True
            db.session.commit()


def test_validation_errors_in_both_languages_save_nothing(api_a, lamp, app):
    before = _count(app)
    bad = _post(api_a, **{"attribute[lamps]": "50", "attribute[pole]": "wood", "attribute[colour]": "red"})
    assert bad.status_code == 400
    errors = bad.get_json()
    assert errors[0] == {"code": 400, "description": errors[0]["description_th"],
                         "description_th": "attribute[colour]: บริการนี้ไม่มีคุณลักษณะนี้",
                         "description_en": "attribute[colour]: this service has no such attribute."}
    bad = _post(api_a, **{"attribute[lamps]": "50", "attribute[pole]": "wood"})
    by_field = {e["description_en"].split(":")[0]: e for e in bad.get_json()}
    assert set(by_field) == {"attribute[lamps]", "attribute[pole]"}
    assert by_field["attribute[lamps]"]["description_en"] == "attribute[lamps]: Must be at most 20."
    assert by_field["attribute[lamps]"]["description_th"] != by_field["attribute[lamps]"]["description_en"]
    english = api_a.post(f"{V2}/requests.json", data={**FORM, "jurisdiction_id": A, "attribute[pole]": "wood"},
                         headers={"Accept-Language": "en"}).get_json()
    assert english[0]["description"] == english[0]["description_en"] == "attribute[pole]: Not a valid choice."
    # the standard's own parameters, and the location outside Thailand
    bad = _post(api_a, lat="1.5", long="100.0").get_json()
    assert bad[0]["description_en"] == "lat/long: The location is outside Thailand."
    bad = _post(api_a, lat="abc", media_url="ftp://x").get_json()
    assert {e["description_en"] for e in bad} == {"lat: Must be a number.",
                                                  "media_url: Must be an http:// or https:// address."}
    assert _post(api_a, long=None).get_json()[0]["description_en"] == "lat and long go together: give both or neither."
    assert _post(api_a, colour="red").get_json()[0]["description_en"] == "colour: not a parameter of this call."
    unknown = _post(api_a, service_code="no_such")
    assert unknown.status_code == 404 and unknown.get_json()[0]["code"] == 404
    xml_error = _post(api_a, fmt="xml", **{"attribute[pole]": "wood"})
    assert xml_error.status_code == 400 and xml_error.content_type.startswith("text/xml")
    error = ET.fromstring(xml_error.data).find("error")
    assert error.findtext("code") == "400" and error.findtext("description_en") == "attribute[pole]: Not a valid choice."
    assert _count(app) == before


def test_a_service_needing_files_says_so(api_a, lamp):
    # test_permit needs a copy of the ID card: Open311 carries no files
    bad = _post(api_a, service_code="test_permit").get_json()
    assert bad[0]["code"] == 400 and "portal" in bad[0]["description_en"]


def test_scopes_and_keys(api_for, public, lamp, app):
    read_only = api_for(make_key(app, A, "a.admin", scopes=("read",), name="o311 read"))
    submit_only = api_for(make_key(app, A, "a.admin", scopes=("submit",), name="o311 submit"))
    refused = _post(read_only)
    assert refused.status_code == 403 and "submit" in refused.get_json()[0]["description_en"]
    assert _post(public).status_code == 403
    assert public.get(f"{V2}/requests.json?jurisdiction_id={A}").status_code == 403
    assert submit_only.get(f"{V2}/requests.json?jurisdiction_id={A}").status_code == 403
    # a bad api_key, as the standard sends it (a form or query parameter): 403
    bad_key = public.post(f"{V2}/requests.json", data={**FORM, "jurisdiction_id": A, "api_key": "ttk_nope_x"})
    assert bad_key.status_code == 403 and bad_key.get_json()[0]["code"] == 403
    # the key as api_key works like the header
    posted = public.post(f"{V2}/requests.json", data={**FORM, "jurisdiction_id": A, "api_key": submit_only.token})
    assert posted.status_code == 200, posted.get_json()
    pk = posted.get_json()[0]["service_request_id"]
    shown = public.get(f"{V2}/requests/{pk}.json?jurisdiction_id={A}&api_key={read_only.token}")
    assert shown.status_code == 200


def test_a_key_sees_what_its_acting_user_sees(api_for, api_a, officer_key, lamp, app, tenant_a):
    """The acting user's reach applies as on the staff screens: a.officer (กองคลัง) does not see a matter of
    the office's water-truck service; a.admin (the whole organisation) does."""
    from app.catalog import services as catalog
    from app.catalog.models import ServiceType

    with app.test_request_context(), tenant_scope(tenant_a.id):
        truck = db.session.scalar(select(ServiceType).where(ServiceType.code == "water_truck"))
        pk = catalog.file_request(truck, {"requester": "สมชาย", "litres": 2000}, None).id
        db.session.commit()
        db.session.remove()
    officer = api_for(officer_key)
    assert officer.get(f"{V2}/requests/{pk}.json?jurisdiction_id={A}").status_code == 404
    assert str(pk) not in {r["service_request_id"] for r in
                           officer.get(f"{V2}/requests.json?jurisdiction_id={A}").get_json()}
    assert api_a.get(f"{V2}/requests/{pk}.json?jurisdiction_id={A}").status_code == 200


def test_status_follows_the_workflow(api_a, officer_key, api_for, lamp, app, tenant_a):
    from flask_appbuilder.security.sqla.models import User

    from app.service_requests import engine

    [answer] = _post(api_a).get_json()
    pk = int(answer["service_request_id"])
    with app.test_request_context(), tenant_scope(tenant_a.id):
        officer = db.session.scalar(select(User).where(User.username == "a.officer"))
        item = db.session.get(ServiceRequest, pk)
        engine.take(item, "start", officer)
        engine.take(item, "finish", officer, note="เปลี่ยนหลอดไฟแล้ว 3 ดวง")
        db.session.commit()
        db.session.remove()
    officer_client = api_for(officer_key)
    [shown] = officer_client.get(f"{V2}/requests/{pk}.json?jurisdiction_id={A}").get_json()
    assert shown["status"] == "closed" and shown["status_notes"] == "เปลี่ยนหลอดไฟแล้ว 3 ดวง"
    closed = api_a.get(f"{V2}/requests.json?jurisdiction_id={A}&status=closed").get_json()
    opened = api_a.get(f"{V2}/requests.json?jurisdiction_id={A}&status=open").get_json()
    assert str(pk) in {r["service_request_id"] for r in closed}
    assert str(pk) not in {r["service_request_id"] for r in opened}
    assert all(r["status"] == "open" for r in opened) and all(r["status"] == "closed" for r in closed)
    # a date window that ends before it was filed leaves it out
    early = api_a.get(f"{V2}/requests.json?jurisdiction_id={A}&end_date=2020-01-01T00:00:00Z").get_json()
    assert early == []
    bad = api_a.get(f"{V2}/requests.json?jurisdiction_id={A}&status=pending")
    assert bad.status_code == 400 and bad.get_json()[0]["description_en"].startswith("status: ")


def test_other_addresses_answer_in_the_standards_format(api_a):
    for path in (f"{V2}/requests/abc.json?jurisdiction_id={A}", f"{V2}/requests/-1.json?jurisdiction_id={A}",
                 f"{V2}/nothing.json?jurisdiction_id={A}"):
        response = api_a.get(path)
        assert response.status_code == 404 and response.get_json()[0]["code"] == 404, path
    response = api_a.get(f"{V2}/requests/abc.xml?jurisdiction_id={A}")
    assert response.status_code == 404 and ET.fromstring(response.data).tag == "errors"


def test_the_acting_users_roles_apply(api_for, lamp, app):
    # a.manager (ผู้จัดการสิทธิ์) may list requests on the screens but not file one: nor may their key
    manager = api_for(make_key(app, A, "a.manager", name="o311 manager"))
    before = _count(app)
    refused = _post(manager)
    assert refused.status_code == 403 and "roles" in refused.get_json()[0]["description_en"]
    assert _count(app) == before
    assert manager.get(f"{V2}/requests.json?jurisdiction_id={A}").status_code == 200

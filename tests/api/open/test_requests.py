"""Service requests through the open API: filing with the staff form's checks and fee, reading back, lists with
filters and cursors, the timeline, the steps the acting user may take and taking them, and the walls: scopes,
the acting user's permissions and reach, and the other organisation."""
from datetime import date, datetime, timedelta, timezone

import pytest

from tests.api.open.conftest import API, make_key
from tests.api.open.requests_helpers import (FLOW, PERMIT, WATER, engineering_director, file_permit,  # noqa: F401
                                             file_water, flow_service, request_count, step, upload)


@pytest.fixture(scope="module")
def keys(app, tenant_a, tenant_b):
    return {
        "officer": make_key(app, "1000001", "a.officer", name="A officer"),
        "mayor": make_key(app, "1000001", "a.mayor", name="A mayor"),
        "manager": make_key(app, "1000001", "a.manager", name="A role manager"),
        "read_only": make_key(app, "1000001", "a.admin", scopes=("read",), name="A read only"),
        "submit_only": make_key(app, "1000001", "a.admin", scopes=("read", "submit"), name="A submit"),
    }


def _bangkok_today() -> date:
    return datetime.now(timezone(timedelta(hours=7))).date()


def _ids(body):
    return [r["id"] for r in body["items"]]


def _all_ids(client, query=""):
    ids, cursor = [], None
    while True:
        body = client.get(f"{API}/requests?limit=100{query}" + (f"&cursor={cursor}" if cursor else "")).get_json()
        ids += _ids(body)
        cursor = body["next_cursor"]
        if cursor is None:
            return ids


# --- filing and reading back ---------------------------------------------------------------------------------

def test_a_permit_is_filed_with_its_document_and_fee_and_reads_back(api_a):
    matter = file_permit(api_a)
    assert matter["service_type"] == "test_permit" and matter["status"] == "submitted"
    assert matter["status_name_th"] == "ยื่นคำขอแล้ว" and matter["status_name_en"] == "Submitted"
    assert matter["division"] == "engineering" and matter["division_name_th"] == "กองช่าง"
    # the values as stored (decimal as a string, ISO date) and the fee priced as the form prices it
    assert matter["data"]["area"] == "120.50" and matter["data"]["start_on"] == "2026-12-01"
    assert isinstance(matter["data"]["doc_id_card"], list) and len(matter["data"]["doc_id_card"]) == 1
    assert matter["fee_total"] in ("80.25", "140.50")  # 20 + area x 0.50 or x 1.00 (the schedule of the day)
    assert matter["channel"] == "api" and matter["lock_version"] >= 1 and matter["closed_at"] is None
    assert matter["due_on"] is not None and matter["title"].startswith("ขออนุญาตทดสอบ")
    # form_version is the service's field version; lock_version the edit counter sent back as seen_version
    assert matter["form_version"] >= 1 and "version" not in matter
    again = api_a.get(f"{API}/requests/{matter['id']}")
    assert again.status_code == 200 and again.get_json() == matter
    # right after filing the timeline already holds the filing (the request page's first row)
    events = api_a.get(f"{API}/requests/{matter['id']}/events").get_json()["items"]
    assert [e["action"] for e in events] == ["filed"] and events[0]["to_state_name_en"] == "Submitted"


def test_a_service_without_files_or_fee(api_a):
    matter = file_water(api_a)
    # (the catalogue's tests may publish a version with one more optional field: what was sent is what is kept)
    assert matter["fee_total"] is None and {k: matter["data"].get(k) for k in WATER} == WATER
    assert not {k: v for k, v in matter["data"].items() if k not in WATER and v not in (None, "", [])}
    assert matter["division"] == "office"


def test_bad_values_are_named_in_thai_and_english_and_nothing_is_written(app, api_a):
    before = request_count(app)
    response = api_a.post(f"{API}/requests", json={"service_type": "test_permit",
                                                   "data": {**PERMIT, "area": "200", "sneaky": "x"}})
    assert response.status_code == 422
    body = response.get_json()
    fields = {f["field"]: f for f in body["fields"]}
    assert {"data.area", "data.sneaky", "data.doc_id_card"} <= set(fields), fields
    assert body["message_th"] != body["message_en"]
    assert fields["data.area"]["message_th"] == "พื้นที่เกิน 150 ตร.ม. ต้องยื่นแบบปกติ"
    for item in fields.values():
        assert item["message_th"] and item["message_en"]
    assert fields["data.doc_id_card"]["message_th"] != fields["data.doc_id_card"]["message_en"]
    water = api_a.post(f"{API}/requests", json={"service_type": "water_truck", "data": {"requester": "x",
                                                                                       "litres": "lots"}})
    assert water.status_code == 422 and [f["field"] for f in water.get_json()["fields"]] == ["data.litres"]
    unknown = api_a.post(f"{API}/requests", json={"service_type": "no_such_service", "data": {}}).get_json()
    assert unknown["status"] == 422 and unknown["fields"][0]["field"] == "service_type"
    assert unknown["fields"][0]["message_th"] != unknown["fields"][0]["message_en"]
    shape = api_a.post(f"{API}/requests", json={"service_type": "water_truck", "data": ["no"], "extra": 1})
    assert shape.status_code == 422 and {f["field"] for f in shape.get_json()["fields"]} == {"data", "extra"}
    assert request_count(app) == before


def test_upload_refusals_name_the_part_at_fault(api_a):
    wrong_type = upload(api_a, content=b"MZ\x90\x00 not a pdf", name="virus.exe").get_json()
    assert wrong_type["status"] == 422 and wrong_type["fields"][0]["field"] == "file"
    assert "virus.exe" in wrong_type["fields"][0]["message_th"]
    assert wrong_type["fields"][0]["message_th"] != wrong_type["fields"][0]["message_en"]
    renamed = upload(api_a, content=b"MZ\x90\x00 not a pdf", name="id.pdf").get_json()
    assert renamed["status"] == 422
    not_a_file_field = upload(api_a, field="applicant").get_json()
    assert not_a_file_field["status"] == 422 and not_a_file_field["fields"][0]["field"] == "field"
    no_file = api_a.post(f"{API}/requests/attachments", data={"service_type": "test_permit", "field": "doc_id_card"},
                         content_type="multipart/form-data").get_json()
    assert no_file["status"] == 422 and no_file["fields"][0]["field"] == "file"
    good = upload(api_a).get_json()
    assert good["filename"] == "id.pdf" and good["size"] > 0 and good["content_type"] == "application/pdf"


# --- lists ---------------------------------------------------------------------------------------------------

def test_list_filters_and_cursor_pages(api_a):
    permit, water = file_permit(api_a), file_water(api_a)
    listed = api_a.get(f"{API}/requests?limit=100").get_json()
    assert listed["items"][0]["id"] >= water["id"] and _ids(listed) == sorted(_ids(listed), reverse=True)
    assert permit["id"] in _all_ids(api_a, "&service_type=test_permit")
    assert water["id"] not in _all_ids(api_a, "&service_type=test_permit")
    assert water["id"] in _all_ids(api_a, "&division=office") and permit["id"] not in _all_ids(api_a, "&division=office")
    assert permit["id"] in _all_ids(api_a, "&status=submitted")
    assert _all_ids(api_a, "&status=no_such_state") == []
    today = _bangkok_today()
    assert permit["id"] in _all_ids(api_a, f"&created_from={today}&created_to={today}")
    assert permit["id"] not in _all_ids(api_a, f"&created_to={today - timedelta(days=1)}")
    assert permit["id"] not in _all_ids(api_a, f"&created_from={today + timedelta(days=1)}")
    since = (datetime.now(timezone.utc) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert {permit["id"], water["id"]} <= set(_all_ids(api_a, f"&updated_since={since}"))
    assert _all_ids(api_a, "&updated_since=2999-01-01T00:00:00") == []
    # extreme but valid dates do not break the query
    assert api_a.get(f"{API}/requests?created_from=0001-01-01&created_to=9999-12-31").status_code == 200
    assert api_a.get(f"{API}/requests?updated_since=0001-01-01T00:00:00%2B05:00").status_code == 200
    # pages of one neither repeat nor skip
    everything = _all_ids(api_a)
    seen, cursor = [], None
    while len(seen) < 6:
        body = api_a.get(f"{API}/requests?limit=2" + (f"&cursor={cursor}" if cursor else "")).get_json()
        seen += _ids(body)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == everything[:len(seen)] and len(seen) >= 2


def test_list_argument_errors_in_both_languages(api_a):
    backwards = api_a.get(f"{API}/requests?created_from=2026-12-02&created_to=2026-12-01").get_json()
    assert backwards["status"] == 422 and backwards["fields"][0]["field"] == "created_to"
    assert backwards["fields"][0]["message_th"] != backwards["fields"][0]["message_en"]
    bad_time = api_a.get(f"{API}/requests?updated_since=yesterday").get_json()
    assert bad_time["status"] == 422 and bad_time["fields"][0]["field"] == "updated_since"
    assert "ISO" in bad_time["fields"][0]["message_en"] and bad_time["fields"][0]["message_th"] != \
        bad_time["fields"][0]["message_en"]
    assert api_a.get(f"{API}/requests?colour=red").get_json()["fields"][0]["field"] == "colour"


# --- the workflow --------------------------------------------------------------------------------------------

def test_a_permit_walks_through_the_workflow(api_for, keys, engineering_director):  # noqa: F811
    officer, mayor = api_for(keys["officer"]), api_for(keys["mayor"])
    matter = file_permit(officer)
    pk = matter["id"]
    actions = officer.get(f"{API}/requests/{pk}/actions").get_json()["items"]
    accept = next(a for a in actions if a["code"] == "accept")
    assert accept == {"code": "accept", "name_th": "รับเรื่อง", "name_en": "Accept", "to": "in_review",
                      "to_name_th": "กำลังตรวจสอบ", "to_name_en": "Under review", "note_required": False,
                      "effect": None}
    done = step(officer, pk, "accept", seen_version=matter["lock_version"], note="รับแล้ว")
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["request"]["status"] == "in_review" and body["request"]["lock_version"] == matter["lock_version"] + 1
    assert body["event"]["action"] == "accept" and body["event"]["from_state"] == "submitted"
    assert body["event"]["to_state_name_en"] == "Under review" and body["event"]["note"] == "รับแล้ว"
    assert body["event"]["actor_name"].startswith("เจ้าหน้าที่")
    # stale: someone acted since the version the caller saw
    stale = step(officer, pk, "propose", seen_version=matter["lock_version"]).get_json()
    assert stale["status"] == 409 and stale["message_th"] != stale["message_en"]
    # the one-time return needs the list of what is missing, and names only the service's documents
    assert step(officer, pk, "return_for_documents").get_json()["status"] == 422
    bad_doc = step(officer, pk, "return_for_documents", missing=["passport"]).get_json()
    assert bad_doc["status"] == 422 and "passport" in bad_doc["message_en"]
    returned = step(officer, pk, "return_for_documents", missing=["id_card"], missing_other="แผนที่สังเขป")
    assert returned.status_code == 200 and returned.get_json()["request"]["status"] == "returned"
    assert "1. สำเนาบัตรประจำตัวประชาชน" in returned.get_json()["event"]["note"]
    assert step(officer, pk, "resubmit").status_code == 200
    assert "return_for_documents" not in [a["code"] for a in officer.get(f"{API}/requests/{pk}/actions")
                                          .get_json()["items"]]
    assert step(officer, pk, "propose").get_json()["request"]["status"] == "awaiting_approval"
    # the officer may not approve: 403 naming who may, in both languages
    refused = step(officer, pk, "approve").get_json()
    assert refused["status"] == 403 and refused["code"] == "forbidden"
    assert refused["message_th"].startswith("เฉพาะ") and refused["message_en"].startswith("Only")
    assert officer.get(f"{API}/requests/{pk}/actions").get_json()["items"] == []
    # a step the workflow does not have, and one not possible now: 422 in both languages
    unknown = step(officer, pk, "fly").get_json()
    assert unknown["status"] == 422 and unknown["message_th"] != unknown["message_en"]
    not_now = step(officer, pk, "accept").get_json()
    assert not_now["status"] == 422
    # the workflow's English names in the English message, its Thai names in the Thai one
    assert "รับเรื่อง" in not_now["message_th"] and "Accept" in not_now["message_en"]
    assert not any("\u0e00" <= c <= "\u0e7f" for c in not_now["message_en"]), not_now
    # the mayor must give a reason to reject; approves
    assert {a["code"] for a in mayor.get(f"{API}/requests/{pk}/actions").get_json()["items"]} == {"approve", "reject"}
    no_reason = step(mayor, pk, "reject").get_json()
    assert no_reason["status"] == 422 and no_reason["message_en"] == "Please write the reason in the note."
    assert step(mayor, pk, "approve").get_json()["request"]["status"] == "approved"
    closed = step(officer, pk, "complete").get_json()["request"]
    assert closed["status"] == "completed" and closed["closed_at"] is not None
    assert step(officer, pk, "complete").get_json()["status"] == 422
    events = officer.get(f"{API}/requests/{pk}/events").get_json()["items"]
    # the filing first, as the request page shows it, then every step
    assert [e["action"] for e in events] == ["filed", "accept", "return_for_documents", "resubmit", "propose",
                                             "approve", "complete"]
    assert events[0]["id"] is None and events[0]["from_state"] is None and events[0]["to_state"] == "submitted"
    assert events[0]["to_state_name_th"] == "ยื่นคำขอแล้ว" and events[0]["division"] == "engineering"
    assert events[0]["at"].startswith(matter["created_at"][:19]) and events[0]["staff_only"] is False
    assert events[4]["division"] == "office" and events[5]["actor_name"].startswith("นายก")
    assert all(set(e) >= {"at", "staff_only", "delegation_kind", "on_behalf_of_name"} for e in events)


def test_payment_is_asked_and_recorded_and_a_matter_forwarded(app, api_for, keys, flow_service):  # noqa: F811
    officer = api_for(keys["officer"])
    matter = officer.post(f"{API}/requests", json={"service_type": FLOW, "data": {"applicant": "นายทดสอบ"}})
    assert matter.status_code == 201, matter.get_json()
    pk = matter.get_json()["id"]
    assert matter.get_json()["fee_total"] == "150.00"
    step(officer, pk, "accept")
    asked = step(officer, pk, "ask_payment").get_json()
    assert asked["request"]["status"] == "awaiting_payment" and "150.00" in asked["event"]["note"]
    wrong = step(officer, pk, "record_payment", payment={"receipt_no": "API-1/2570", "amount": "100.00",
                                                         "method": "cash"}).get_json()
    assert wrong["status"] == 422 and wrong["message_th"] != wrong["message_en"]
    missing = step(officer, pk, "record_payment").get_json()
    assert missing["status"] == 422
    bad = step(officer, pk, "record_payment", payment={"receipt_no": "x", "amount": "150", "method": 5}).get_json()
    named = {f["field"]: f for f in bad["fields"]}
    assert set(named) == {"payment.amount", "payment.method"}
    assert named["payment.amount"]["message_en"] == "Baht with two decimals, e.g. 150.00."
    assert named["payment.amount"]["message_th"] != named["payment.amount"]["message_en"]
    paid = step(officer, pk, "record_payment", payment={"receipt_no": "API-1/2570", "amount": "150.00",
                                                        "method": "cash", "paid_on": str(_bangkok_today())})
    assert paid.status_code == 200, paid.get_json()
    assert paid.get_json()["request"]["status"] == "paid" and "API-1/2570" in paid.get_json()["event"]["note"]
    # forwarding: without a target 422; to an outside body it goes
    other = officer.post(f"{API}/requests", json={"service_type": FLOW, "data": {"applicant": "นายส่งต่อ"}}).get_json()
    step(officer, other["id"], "accept")
    nowhere = step(officer, other["id"], "forward", note="ส่งต่อ").get_json()
    assert nowhere["status"] == 422 and nowhere["message_th"] != nowhere["message_en"]
    itself = step(officer, other["id"], "forward", note="ส่งต่อ", forward_to={"dla_code": "9999999"}).get_json()
    assert itself["status"] == 422 and "9999999" in itself["message_en"]
    sent = step(officer, other["id"], "forward", note="ขอให้ตรวจสอบ",
                forward_to={"outside_body": "การไฟฟ้าส่วนภูมิภาค"})
    assert sent.status_code == 200, sent.get_json()
    assert sent.get_json()["request"]["status"] == "forwarded"
    from sqlalchemy import select

    from app.extensions import db
    from app.service_requests.models import Forwarding
    from app.tenancy.context import platform_scope

    with app.app_context(), platform_scope():
        assert db.session.scalar(select(Forwarding.outside_body).where(
            Forwarding.request_id == other["id"])) == "การไฟฟ้าส่วนภูมิภาค"


# --- scopes, permissions, reach ------------------------------------------------------------------------------

def test_scopes_limit_what_a_key_may_do(app, api_a, api_for, keys):
    pk = file_water(api_a)["id"]
    read_only, submit = api_for(keys["read_only"]), api_for(keys["submit_only"])
    assert read_only.get(f"{API}/requests/{pk}").status_code == 200
    for response in (read_only.post(f"{API}/requests", json={"service_type": "water_truck", "data": WATER}),
                     upload(read_only), step(submit, pk, "accept"), step(read_only, pk, "accept")):
        assert response.status_code == 403 and response.get_json()["code"] == "insufficient_scope"
    assert submit.post(f"{API}/requests", json={"service_type": "water_truck", "data": WATER}).status_code == 201
    assert api_for(None).get(f"{API}/requests").status_code == 401


def test_the_acting_users_roles_apply(app, api_for, keys):
    manager = api_for(keys["manager"])  # a role manager: may list and open matters, not file them
    before = request_count(app)
    refused = manager.post(f"{API}/requests", json={"service_type": "water_truck", "data": WATER}).get_json()
    assert refused["status"] == 403 and refused["code"] == "forbidden"
    assert refused["message_th"] != refused["message_en"]
    assert upload(manager).get_json()["code"] == "forbidden"
    assert request_count(app) == before
    assert manager.get(f"{API}/requests").status_code == 200


def test_an_officer_sees_only_matters_at_or_through_their_division(api_a, api_for, keys):
    officer = api_for(keys["officer"])
    at_office = file_water(api_a)  # the central office's matter, never at กองคลัง
    own = file_water(officer)  # filed by the officer: theirs to follow
    listed = _all_ids(officer)
    assert own["id"] in listed and at_office["id"] not in listed
    for path in ("", "/events", "/actions"):
        assert officer.get(f"{API}/requests/{at_office['id']}{path}").status_code == 404
    assert step(officer, at_office["id"], "accept").status_code == 404
    assert at_office["id"] in _all_ids(api_a)


# --- the other organisation ----------------------------------------------------------------------------------

def test_another_organisations_matters_and_files_are_out_of_reach(app, api_a, api_b):
    b_matter = file_permit(api_b)
    b_file = upload(api_b).get_json()["id"]
    pk = b_matter["id"]
    for path in ("", "/events", "/actions"):
        missing = api_a.get(f"{API}/requests/{pk}{path}")
        assert missing.status_code == 404 and missing.get_json()["code"] == "not_found"
    assert step(api_a, pk, "accept").status_code == 404
    assert pk not in _all_ids(api_a)
    assert _all_ids(api_a, "&division=secret-b") == []
    assert pk in _all_ids(api_b, "&division=engineering")
    # B's attachment named in A's filing: refused, naming the field, nothing written
    before = request_count(app)
    response = api_a.post(f"{API}/requests", json={"service_type": "test_permit",
                                                   "data": {**PERMIT, "doc_id_card": [b_file]}}).get_json()
    assert response["status"] == 422 and response["fields"][0]["field"] == "data.doc_id_card"
    assert request_count(app) == before
    # B's own matter is untouched by A's attempts
    assert api_b.get(f"{API}/requests/{pk}").get_json() == b_matter


@pytest.mark.parametrize("pk", ["0", "99999999999", "2147483648"])
def test_ids_out_of_range_are_not_found(api_a, pk):
    for method, path in (("GET", ""), ("GET", "/events"), ("GET", "/actions"), ("POST", "/transitions")):
        response = api_a.open(method, f"{API}/requests/{pk}{path}", json={"action": "accept"} if method == "POST" else None)
        assert response.status_code == 404, (path, response.get_json())


def test_the_spec_documents_every_endpoint(api_a):
    spec = api_a.get(f"{API}/openapi.json").get_json()
    paths = spec["paths"]
    assert {f"{API}/requests", f"{API}/requests/{{pk}}", f"{API}/requests/{{pk}}/events",
            f"{API}/requests/{{pk}}/actions", f"{API}/requests/{{pk}}/transitions",
            f"{API}/requests/attachments"} <= set(paths)
    body = paths[f"{API}/requests/attachments"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in body
    schema = spec["components"]["schemas"]["ServiceRequest"]
    assert set(schema["required"]) == set(schema["properties"])
    assert schema["properties"]["fee_total"]["nullable"] is True

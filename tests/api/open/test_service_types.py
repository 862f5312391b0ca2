"""Service types through the open API: A's key sees A's services only, with their fields and fees."""
from tests.api.open.conftest import API


def test_list_and_detail_are_the_tenants_own(api_a, api_b, app, tenant_a):
    listed = api_a.get(f"{API}/service-types?limit=100")
    assert listed.status_code == 200, listed.get_json()
    codes = {s["code"] for s in listed.get_json()["items"]}
    assert {"test_permit", "water_truck"} <= codes
    ids_a = {s["id"] for s in listed.get_json()["items"]}
    ids_b = {s["id"] for s in api_b.get(f"{API}/service-types?limit=100").get_json()["items"]}
    assert ids_a and ids_b and not ids_a & ids_b
    detail = api_a.get(f"{API}/service-types/water_truck").get_json()
    from app.catalog import services
    from app.catalog.models import ServiceType
    from app.extensions import db
    from app.tenancy.context import tenant_scope
    from sqlalchemy import select

    with app.app_context(), tenant_scope(tenant_a.id):  # other tests may publish new field versions
        current = services.current_version(db.session.scalar(select(ServiceType).where(ServiceType.code == "water_truck")))
        assert [f["code"] for f in detail["fields"]] == [f["code"] for f in current.fields]
        db.session.remove()
    litres = {f["code"]: f for f in detail["fields"]}["litres"]
    assert litres["min"] == "1000"


def test_fee_schedules_give_money_as_strings(api_a):
    body = api_a.get(f"{API}/service-types/test_permit/fee-schedules").get_json()
    assert len(body["items"]) == 2 and body["next_cursor"] is None
    newest = max(body["items"], key=lambda s: s["effective_from"])
    assert newest["effective_from"] == "2026-10-01"
    assert {r["code"]: r.get("amount") or r.get("rate") for r in newest["rules"]} == {
        "permit_fee": "20.00", "plan_check": "1.00"}


def test_cursor_pages_neither_repeat_nor_skip(api_a):
    all_ids = [s["id"] for s in api_a.get(f"{API}/service-types?limit=100").get_json()["items"]]
    seen, cursor = [], None
    while True:
        body = api_a.get(f"{API}/service-types?limit=1" + (f"&cursor={cursor}" if cursor else "")).get_json()
        seen += [s["id"] for s in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == all_ids
    bad = api_a.get(f"{API}/service-types?cursor=garbage!")
    assert bad.status_code == 400 and bad.get_json()["code"] == "invalid_cursor"


def test_unknown_code_and_bad_args_answer_in_the_error_shape(api_a):
    missing = api_a.get(f"{API}/service-types/no_such_service")
    assert missing.status_code == 404
    assert set(missing.get_json()) >= {"status", "code", "message_th", "message_en", "fields"}
    bad = api_a.get(f"{API}/service-types?limit=0")
    assert bad.status_code == 422 and bad.get_json()["fields"][0]["field"] == "limit"
    assert bad.get_json()["fields"][0]["message_th"] != bad.get_json()["fields"][0]["message_en"]


def test_another_tenants_service_code_is_not_found(api_b, app):
    # B has no water_truck: A's service of that code does not exist for B
    assert api_b.get(f"{API}/service-types/water_truck").status_code == 404


def test_type_errors_and_unknown_parameters_are_named_in_both_languages(api_a):
    bad = api_a.get(f"{API}/service-types?limit=abc").get_json()
    assert bad["status"] == 422 and bad["fields"][0]["field"] == "limit"
    assert bad["fields"][0]["message_th"] == "ต้องเป็นจำนวนเต็ม" or "จำนวน" in bad["fields"][0]["message_th"]
    assert bad["fields"][0]["message_en"] == "Must be a whole number."
    unknown = api_a.get(f"{API}/service-types?colour=red").get_json()
    assert unknown["status"] == 422 and unknown["fields"][0]["field"] == "colour"
    assert unknown["fields"][0]["message_en"].startswith("Unknown field")


def test_a_body_that_is_not_json_is_named_in_both_languages(api_a):
    bad = api_a.post(f"{API}/requests", data="{not json", headers={"Content-Type": "application/json"}).get_json()
    assert bad["status"] in (400, 422)
    assert bad["fields"][0]["message_th"] == "เนื้อหาที่ส่งมาไม่ใช่ JSON ที่ถูกต้อง"
    assert bad["fields"][0]["message_en"] == "The body is not valid JSON."


def test_the_nul_character_is_refused_at_the_door(api_a, app):
    """PostgreSQL text cannot hold NUL: it is a 400 in our shape (Open311 in its own), never a database error."""
    bad = api_a.get(f"{API}/service-types?category=a%00b")
    assert bad.status_code == 400 and bad.get_json()["code"] == "invalid_characters"
    assert bad.get_json()["fields"][0]["field"] == "category"
    body = api_a.post(f"{API}/requests", json={"service_type": "water_truck", "data": {"requester": "a\u0000b"}})
    assert body.status_code == 400 and body.get_json()["fields"][0]["field"] == "_body"
    open311 = app.test_client().get("/open311/v2/services.json?jurisdiction_id=10%0000001")
    assert open311.status_code == 400 and open311.get_json()[0]["code"] == 400

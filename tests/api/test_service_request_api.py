"""The requests API validates with the same generated schema, keeps ISO C.E. dates, and is walled per tenant."""
import io

from sqlalchemy import func, select

from app.catalog.models import ServiceRequest
from app.tenancy.context import platform_scope

DATA = {"applicant": "สมชาย ใจดี", "area": "120.5", "start_on": "2026-12-01", "kind_of_use": "home"}


def _upload(client, name="id.pdf", field="doc_id_card", service_type="test_permit"):
    return client.post("/api/v1/service-request/attachment", data={
        "service_type": service_type, "field": field, "file": (io.BytesIO(b"%PDF-1.4"), name)},
        content_type="multipart/form-data")


def test_file_read_and_update_through_the_api(client_for, db_session, tenant_a):
    client = client_for("a.officer")
    response = client.post("/api/v1/service-request/", json={"service_type": "test_permit", "data": DATA})
    assert response.status_code == 422  # the required document is missing
    assert "doc_id_card" in response.get_json()["errors"]
    attachment = _upload(client).get_json()["id"]
    response = client.post("/api/v1/service-request/",
                           json={"service_type": "test_permit", "data": {**DATA, "doc_id_card": [attachment]}})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()["result"]
    assert body["data"]["start_on"] == "2026-12-01" and body["data"]["area"] == "120.50"
    assert body["fee_total"] is not None and isinstance(body["fee_total"], str)
    pk = response.get_json()["id"]
    assert client.get(f"/api/v1/service-request/{pk}").get_json()["result"]["id"] == pk
    response = client.put(f"/api/v1/service-request/{pk}", json={"data": {**DATA, "area": "99",
                                                                           "doc_id_card": [attachment]}})
    assert response.status_code == 200 and response.get_json()["result"]["data"]["area"] == "99"
    listed = client.get("/api/v1/service-request/?service_type=test_permit").get_json()
    assert pk in [r["id"] for r in listed["result"]]


def test_bad_values_get_per_field_messages_and_write_nothing(client_for, db_session, tenant_a):
    client = client_for("a.officer")
    with platform_scope():
        before = db_session.scalar(select(func.count()).select_from(ServiceRequest))
    for data, field in (({**DATA, "area": "200"}, "area"), ({**DATA, "start_on": "2569-12-01"}, "start_on"),
                        ({**DATA, "kind_of_use": "castle"}, "kind_of_use"), ({**DATA, "sneaky": "x"}, "sneaky")):
        response = client.post("/api/v1/service-request/", json={"service_type": "test_permit", "data": data})
        assert response.status_code == 422 and field in response.get_json()["errors"], (field, response.get_json())
    assert client.post("/api/v1/service-request/", json=["nope"]).status_code == 400
    assert client.post("/api/v1/service-request/", json={"service_type": "nothing", "data": {}}).status_code == 404
    response = _upload(client, name="virus.exe")
    assert response.status_code == 422
    with platform_scope():
        assert db_session.scalar(select(func.count()).select_from(ServiceRequest)) == before


def test_another_tenants_requests_and_files_are_invisible(client_for, tenant_a, tenant_b):
    b_client = client_for("b.officer")
    b_file = _upload(b_client).get_json()["id"]
    response = b_client.post("/api/v1/service-request/",
                             json={"service_type": "test_permit", "data": {**DATA, "doc_id_card": [b_file]}})
    b_pk = response.get_json()["id"]
    client = client_for("a.officer")
    assert client.get(f"/api/v1/service-request/{b_pk}").status_code == 404
    assert client.put(f"/api/v1/service-request/{b_pk}", json={"data": DATA}).status_code == 404
    assert b_pk not in [r["id"] for r in client.get("/api/v1/service-request/?page_size=100").get_json()["result"]]
    # naming B's attachment in A's request is refused
    response = client.post("/api/v1/service-request/",
                           json={"service_type": "test_permit", "data": {**DATA, "doc_id_card": [b_file]}})
    assert response.status_code == 422
    assert client.get(f"/service-requests/attachment/{b_file}").status_code == 404


def test_api_needs_login_and_a_tenant(app, client_for):
    assert app.test_client().get("/api/v1/service-request/").status_code == 401
    assert client_for("ops").get("/api/v1/service-request/").status_code == 403

"""Lists of matters carry only what a row shows (issue #10, fix 2 of docs/profile-2026-12.md): the staff list, the
FAB REST list and the open API list load the service type version for its number (and its workflow where a row
names the state; the open API reads the page's versions in one statement of their own, so each workflow comes once,
not once per row), never its form JSON (fields, documents, guide, legal basis: tens of KB a version, once per row);
the statements per page stay the same at 25 rows as at 100; the detail page and every read outside the lists keep
the model's full version, so a loop there over many matters costs no statement per matter.

The rows live in a tenant of their own (DLA 1000075), made here and emptied afterwards: the record counts other
tests assert for tenants A and B never change."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select, update

from app.extensions import db
from app.tenancy.context import platform_scope, tenant_scope
from tests.conftest import PASSWORD, login
from tests.tenancy.statements import counting, page_statements

MAX_STATEMENTS = 6  # DESIGN.md / issue #10: a list page, whatever its size (PostgreSQL: set_config included)
ROWS = 130
STATE_TH = "รับคำขอแล้ว (ทดสอบรายการ)"  # this tenant's own name for "submitted": only its workflow has it
STATE_EN = "Filed (payload test)"
HEAVY = ("fields", "documents", "guide", "legal_basis")  # the version's form JSON

TENANT_P = """kind: tenant
tenant: {dla_code: "1000075", type: sao, name_th: องค์การบริหารส่วนตำบลทดสอบรายการ, name_en: SAO List Payload,
         province: แพร่}
divisions:
  - {code: finance, name_th: กองคลัง, name_en: Finance Division}
users:
  - {username: p.admin, first_name: แอดมิน, last_name: พี, email: admin@p.test, password: %s,
     memberships: [{division: office, role: tenant_admin}]}
services:
  - template: test_permit
""" % PASSWORD


@pytest.fixture(scope="module")
def payload_tenant(app, tmp_path_factory):
    """Tenant P: the test permit with a workflow of its own (a state name no other tenant has) and ROWS matters
    filed under it; returns (tenant id, version id). Emptied again after the module."""
    from app.catalog.models import ServiceRequest, ServiceType, ServiceTypeVersion
    from app.seeds.apply import apply_paths
    from app.service_requests.workflow_spec import DEFAULT_WORKFLOW
    from app.tenancy.models import Division, Tenant

    path = tmp_path_factory.mktemp("payload") / "tenant_p.yaml"
    path.write_text(TENANT_P, encoding="utf-8")
    with app.app_context():
        plan = apply_paths([str(path)])
        assert not plan.errors, [str(e) for e in plan.errors]
        with platform_scope():
            tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.dla_code == "1000075"))
        with tenant_scope(tenant_id):
            service = db.session.scalars(select(ServiceType).order_by(ServiceType.id)).first()
            version = db.session.scalar(select(ServiceTypeVersion).where(
                ServiceTypeVersion.service_type_id == service.id,
                ServiceTypeVersion.version == service.current_version))
            assert version.fields and version.guide, "the test permit's version has form JSON to leave out"
            states = [dict(s, name_th=STATE_TH, name_en=STATE_EN) if s["code"] == "submitted" else s
                      for s in DEFAULT_WORKFLOW["states"]]
            db.session.execute(update(ServiceTypeVersion).where(ServiceTypeVersion.id == version.id).values(
                workflow={**DEFAULT_WORKFLOW, "states": states}))
            division_id = db.session.scalar(select(Division.id).where(Division.code == "finance"))
            db.session.execute(delete(ServiceRequest))
            start = datetime(2026, 3, 2, 9, 0)
            db.session.execute(insert(ServiceRequest), [
                dict(tenant_id=tenant_id, service_type_id=service.id, version_id=version.id,
                     division_id=division_id, title=f"payload-{i:04d}", data={"applicant": f"ผู้ยื่น {i}"},
                     status="submitted", due_on=date(2026, 4, 1), created_at=start + timedelta(minutes=i),
                     updated_at=start, channel="staff", reopened_count=0, lock_version=1)
                for i in range(ROWS)
            ])
            version_id = version.id
            db.session.commit()
        db.session.remove()
    yield tenant_id, version_id
    with app.app_context(), tenant_scope(tenant_id):
        db.session.execute(delete(ServiceRequest))
        db.session.commit()
        db.session.remove()


@pytest.fixture(scope="module")
def payload_key(app, payload_tenant) -> str:
    """An open API key of tenant P acting as p.admin (made through the admin screen's service)."""
    from flask_appbuilder.security.sqla.models import User

    from app.api import keys

    tenant_id, _ = payload_tenant
    with app.test_request_context(), tenant_scope(tenant_id):
        user = db.session.scalar(select(User).where(User.username == "p.admin"))
        _, token = keys.issue(tenant_id, name="list payload test", scopes=["read"], acting_user=user,
                              created_by_name="pytest")
        db.session.commit()
        db.session.remove()
    return token


def _outer(statement: str) -> str:
    """The statement without its subqueries (the capped count's inner SELECT names every column of the matters:
    the database counts it without sending a value)."""
    out, depth, i = [], 0, 0
    while i < len(statement):
        if statement.startswith("(SELECT", i) or (depth and statement[i] == "("):
            depth += 1
        elif depth and statement[i] == ")":
            depth -= 1
        elif not depth:
            out.append(statement[i])
        i += 1
    return "".join(out)


def _version_columns(statement: str) -> set[str]:
    """The version's columns a statement selects (under any alias)."""
    return set(re.findall(r"\bservice_type_versions(?:_\d+)?\.(\w+)", statement))


def _summary(seen: list[str]) -> list[str]:
    return [" ".join(s.split())[:160] for s in seen]


def _assert_lean(seen: list[str], *, workflow: bool, apart: bool = False) -> str:
    """The page's statement (rows of matters), checked with the version's load: joined into it, or `apart` in
    one statement of its own for the page's versions. Returns the page's statement."""
    pages = [s for s in seen if re.search(r"FROM service_requests\b", _outer(s))]
    versions = [s for s in seen if re.search(r"FROM service_type_versions\b", _outer(s))]
    assert len(pages) == 1, _summary(seen)
    assert len(versions) == (1 if apart else 0), _summary(seen)
    loaded = versions[0] if apart else pages[0]
    columns = _version_columns(_outer(loaded))
    assert {"id", "version"} <= columns, columns
    assert not columns & set(HEAVY), f"the list selects the version's form JSON: {sorted(columns & set(HEAVY))}"
    assert ("workflow" in columns) is workflow, columns
    if apart:
        assert "service_type_versions" not in pages[0], pages[0][:2000]
    # the version's own service type (and its กอง) is not joined a second time: the matter's is the same row
    assert len(set(re.findall(r"\bservice_types(?:_\d+)?\.id\b", pages[0]))) <= 1, pages[0][:2000]
    # the tenant wall reaches the version too (with_loader_criteria on every load)
    assert re.search(r"service_type_versions(?:_\d+)?\.tenant_id = ", loaded), loaded[:3000]
    return pages[0]


def test_staff_list_reads_no_form_json_and_stays_flat(app, payload_tenant):
    client = login(app.test_client(), "p.admin")
    small, r_small = page_statements(app, client, "/service-requests/list/?psize_ServiceRequestView=25")
    large, r_large = page_statements(app, client, "/service-requests/list/?psize_ServiceRequestView=100")
    assert r_small.status_code == r_large.status_code == 200
    html_small, html_large = r_small.get_data(as_text=True), r_large.get_data(as_text=True)
    assert len(set(re.findall(r"/service-requests/show/(\d+)", html_small))) == 25
    assert len(set(re.findall(r"/service-requests/show/(\d+)", html_large))) == 100
    # each row still names its state from its own version's workflow, and the service and กอง
    assert html_large.count(STATE_TH) >= 100 and "payload-0129" in html_large
    assert "กองคลัง" in html_large and "ขออนุญาตทดสอบ" in html_large
    print(f"staff list: {len(small)} statements at 25 rows, {len(large)} at 100")
    assert len(small) == len(large), (_summary(small), _summary(large))
    assert len(small) <= MAX_STATEMENTS, _summary(small)
    for seen in (small, large):
        page = _assert_lean(seen, workflow=True)  # state names and the overdue flag read the workflow
        # the list shows no values: the matter's data stays in the table too
        assert not re.search(r"\bservice_requests\.data\b", _outer(page)), page[:1500]


def test_rest_list_reads_only_the_version_number_and_stays_flat(app, payload_tenant):
    client = login(app.test_client(), "p.admin")
    small, r_small = page_statements(app, client, "/api/v1/service-request/?page_size=25")
    large, r_large = page_statements(app, client, "/api/v1/service-request/?page_size=100")
    assert r_small.status_code == r_large.status_code == 200
    body = r_large.get_json()
    assert len(body["result"]) == 100 and len(r_small.get_json()["result"]) == 25
    row = body["result"][0]
    assert row["title"] == "payload-0129" and row["version"] == 1 and row["service_type"] == "test_permit"
    assert row["division"] == "finance" and row["data"] == {"applicant": "ผู้ยื่น 129"}
    print(f"REST list: {len(small)} statements at 25 rows, {len(large)} at 100")
    assert len(small) == len(large), (_summary(small), _summary(large))
    assert len(small) <= MAX_STATEMENTS, _summary(small)
    for seen in (small, large):
        _assert_lean(seen, workflow=False)  # _dump shows version.version only


def test_open_api_list_reads_no_form_json_and_stays_flat(app, payload_tenant, payload_key):
    client = app.test_client(use_cookies=False)
    headers = {"X-API-Key": payload_key}

    def get(limit: int):
        url = f"/api/open/v1/requests?limit={limit}"
        client.get(url, headers=headers)  # warm-up, as page_statements does
        with app.app_context():
            engine = db.engine
        with counting(engine) as seen:
            response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return seen, response.get_json()

    small, body_small = get(25)
    large, body_large = get(100)
    assert len(body_small["items"]) == 25 and len(body_large["items"]) == 100 and body_large["next_cursor"]
    item = body_large["items"][0]
    assert item["title"] == "payload-0129" and item["form_version"] == 1 and item["service_type"] == "test_permit"
    assert item["status_name_th"] == STATE_TH and item["status_name_en"] == STATE_EN
    assert item["division_name_th"] == "กองคลัง" and item["data"] == {"applicant": "ผู้ยื่น 129"}
    print(f"open API list: {len(small)} statements at 25 rows, {len(large)} at 100")
    assert len(small) == len(large), (_summary(small), _summary(large))
    for seen in (small, large):
        # status_name_th / _en come from the workflow: each version's once, in a statement of its own
        _assert_lean(seen, workflow=True, apart=True)


def test_detail_page_and_reads_outside_lists_keep_the_whole_version(app, payload_tenant):
    """get() (the detail page, the forms, the APIs' single reads) is not a list: the version comes whole."""
    from app.catalog.models import ServiceRequest

    tenant_id, _ = payload_tenant
    with app.app_context(), tenant_scope(tenant_id):
        pk = db.session.scalar(select(ServiceRequest.id).where(ServiceRequest.title == "payload-0007"))
        db.session.remove()
    client = login(app.test_client(), "p.admin")
    seen, response = page_statements(app, client, f"/service-requests/show/{pk}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "ชื่อผู้ยื่น" in html and "ผู้ยื่น 7" in html and STATE_TH in html  # the form's labels and values
    reads = [s for s in seen if re.search(r"FROM service_requests\b", s) and "service_type_versions" in s]
    assert reads and set(HEAVY) <= _version_columns(reads[0]), _summary(seen)
    rest = client.get(f"/api/v1/service-request/{pk}")
    assert rest.status_code == 200 and rest.get_json()["result"]["data"] == {"applicant": "ผู้ยื่น 7"}


@pytest.mark.parametrize("apart", [False, True], ids=["joined", "versions_apart"])
def test_lean_rows_cost_no_statement_per_row(app, payload_tenant, apart):
    """What a list leaves out is read once per version, never once per matter; what it names costs nothing more;
    and the model's own default (every other read, e.g. the approvals inbox's loop over version.fields) still
    brings the whole version with its matters in one statement."""
    from app.catalog.models import ServiceRequest

    tenant_id, _ = payload_tenant
    with app.app_context(), tenant_scope(tenant_id):
        engine = db.engine
        with counting(engine) as seen:
            loads = ServiceRequest.list_loads(versions_apart=apart)
            rows = db.session.scalars(select(ServiceRequest).options(*loads).order_by(ServiceRequest.id)
                                      .limit(100)).unique().all()
            assert len(rows) == 100
            listed = len(seen)
            # the page (PostgreSQL: after the tenant's set_config), and apart: the page's versions in one more
            assert listed <= (3 if apart else 2), _summary(seen)
            named = [(r.version.version, r.version.workflow["states"][0]["code"], r.service_type.code,
                     r.division.code, r.version.service_type.code, r.data["applicant"]) for r in rows]
            assert len(seen) == listed, _summary(seen)  # version number, workflow, service, กอง, values: loaded
            assert {n[:5] for n in named} == {(1, "submitted", "test_permit", "finance", "test_permit")}
            fields = [len(r.version.fields) for r in rows]
            assert len(seen) == listed + 1, _summary(seen)  # one version: one statement for its form, not 100
        assert all(fields)
        db.session.remove()
    with app.app_context(), tenant_scope(tenant_id):
        with counting(engine) as seen:
            rows = db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id).limit(100)).unique().all()
            essentials = [spec["code"] for r in rows for spec in r.version.fields]
        assert len(seen) <= 2 and essentials, _summary(seen)  # PostgreSQL: the tenant's set_config, then one
        db.session.remove()

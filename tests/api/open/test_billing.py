"""Money through the open API: payments on requests, waste bills and waste receipts, as A's key sees them
(real rows made by the counter, the billing helpers and the payment step), their filters and paging, errors in
both languages, scope and permission refusals, and B's rows invisible to A on every endpoint."""
from __future__ import annotations

from datetime import timedelta

import pytest
from app import thai
from app.billing import receipts
from app.billing.models import WasteAccount, WasteReceipt
from app.extensions import db
from app.tenancy.context import tenant_scope
from tests.api.open.conftest import API, make_key
from tests.billing.conftest import pay_service  # noqa: F401
from tests.billing.test_payments import _awaiting, _pay
from tests.billing.test_waste_receipts import account_with_bills, issue_receipt
from tests.billing.waste import waste  # noqa: F401
from tests.conftest import login

HUGE = 99999999999


def _account_no(tenant_id: int, account_id: int) -> str:
    with tenant_scope(tenant_id):
        number = db.session.get(WasteAccount, account_id).account_no
        db.session.remove()
    return number


@pytest.fixture(scope="module")
def books(app, waste, tenant_a, tenant_b, pay_service):  # noqa: F811
    """In A and B alike: an account with a late bill, a current one and a paid one; a voided receipt; a
    payment on a request. Returns {"a": {...}, "b": {...}}."""
    made = {}
    with app.app_context():
        for key, tenant, officer in (("a", tenant_a, "a.officer"), ("b", tenant_b, "b.officer")):
            tid = waste[key].tenant_id
            account_id, bills = account_with_bills(tid, late=2)  # two late, one current; oldest first
            paid_receipt = issue_receipt(tid, account_id, bills[:1])
            voided_receipt = issue_receipt(tid, account_id, bills[1:2])
            with app.test_request_context(), tenant_scope(tid):
                receipts.void(db.session.get(WasteReceipt, voided_receipt), "บันทึกผิดบัญชี", actor_name="ผอ.กองคลัง")
                db.session.commit()
                db.session.remove()
            made[key] = {"tenant_id": tid, "account_id": account_id, "account_no": _account_no(tid, account_id),
                         "bills": bills, "paid_receipt": paid_receipt, "voided_receipt": voided_receipt}
    # the payment step through the staff screens (outside any app context of ours: each request has its own)
    for key, tenant, officer in (("a", tenant_a, "a.officer"), ("b", tenant_b, "b.officer")):
        client = login(app.test_client(), officer)
        request_pk = _awaiting(client, pay_service[tenant.id])
        _pay(client, request_pk, f"API-{key.upper()}-{request_pk}")
        made[key]["request_id"] = request_pk
    return made


@pytest.fixture(scope="module")
def manager_key(app, tenant_a) -> str:
    """A key acting as a.manager: a role manager, who may not open the money lists."""
    return make_key(app, "1000001", "a.manager", name="A manager")


@pytest.fixture(scope="module")
def submit_only_key(app, tenant_a) -> str:
    return make_key(app, "1000001", "a.admin", scopes=("submit",), name="A submit only")


# --- payments -------------------------------------------------------------------------------------------------

def test_payments_list_detail_and_filters(api_a, books):
    a = books["a"]
    body = api_a.get(f"{API}/payments?request_id={a['request_id']}").get_json()
    [payment] = body["items"]
    assert body["next_cursor"] is None
    assert payment["request_id"] == a["request_id"] and payment["amount"] == "150.00"
    assert payment["receipt_no"] == f"API-A-{a['request_id']}" and payment["method"] == "cash"
    assert payment["recorded_by_name"] and payment["paid_on"] == thai.today_bangkok().isoformat()
    assert set(payment) == {"id", "request_id", "amount", "paid_on", "receipt_no", "method", "recorded_by_name",
                            "recorded_at"}
    assert api_a.get(f"{API}/payments/{payment['id']}").get_json() == payment
    today = thai.today_bangkok()
    ids = lambda q: {p["id"] for p in api_a.get(f"{API}/payments?limit=100&{q}").get_json()["items"]}  # noqa: E731
    assert payment["id"] in ids(f"paid_from={today}&paid_to={today}")
    assert payment["id"] not in ids(f"paid_to={today - timedelta(days=1)}")
    assert payment["id"] not in ids(f"paid_from={today + timedelta(days=1)}")


def test_payments_of_b_are_not_there_for_a(api_a, api_b, books):
    b = books["b"]
    [b_payment] = api_b.get(f"{API}/payments?request_id={b['request_id']}").get_json()["items"]
    assert api_a.get(f"{API}/payments/{b_payment['id']}").status_code == 404
    assert api_a.get(f"{API}/payments?request_id={b['request_id']}").get_json()["items"] == []
    a_ids = {p["id"] for p in api_a.get(f"{API}/payments?limit=100").get_json()["items"]}
    assert b_payment["id"] not in a_ids


def test_payment_errors_in_both_languages(api_a, books):
    assert api_a.get(f"{API}/payments/{HUGE}").status_code == 404
    assert api_a.get(f"{API}/payments/0").status_code == 404
    bad = api_a.get(f"{API}/payments?paid_from=2026-12-10&paid_to=2026-12-01")
    assert bad.status_code == 422
    [error] = bad.get_json()["fields"]
    assert error["field"] == "paid_to" and error["message_en"] == "The end date must not be before the start date."
    assert error["message_th"] == "วันสิ้นสุดต้องไม่อยู่ก่อนวันเริ่มต้น"
    wrong = api_a.get(f"{API}/payments?paid_from=yesterday").get_json()
    assert wrong["fields"][0]["field"] == "paid_from" and "ISO" in wrong["fields"][0]["message_en"]
    assert api_a.get(f"{API}/payments?request_id={HUGE}").status_code == 422


# --- bills ----------------------------------------------------------------------------------------------------

def test_invoices_of_an_account_with_status_and_money(api_a, books):
    a = books["a"]
    body = api_a.get(f"{API}/invoices?account={a['account_no']}").get_json()
    by_id = {i["id"]: i for i in body["items"]}
    assert set(by_id) == set(a["bills"])
    oldest, voided, current = (by_id[i] for i in a["bills"])
    assert oldest["status"] == "paid" and oldest["receipt_id"] == a["paid_receipt"] and not oldest["overdue"]
    assert oldest["surcharge"] == "8.00" and oldest["amount"] == "40.00"  # paid late: 20% of 40
    assert voided["status"] == "unpaid" and voided["receipt_id"] is None and voided["overdue"]
    assert current["status"] == "unpaid" and not current["overdue"] and current["surcharge"] == "0.00"
    assert current["account_no"] == a["account_no"] and current["route_code"] is None
    start = thai.today_bangkok().replace(day=1)
    assert current["period"] == f"{thai.be_year(start)}{start.month:02d}" and current["period_start"] == str(start)
    assert current["fiscal_year"] == thai.fiscal_year(start)
    assert api_a.get(f"{API}/invoices/{current['id']}").get_json() == current


def test_invoice_filters_and_paging(api_a, books):
    a = books["a"]
    base = f"{API}/invoices?account={a['account_no']}"
    ids = lambda q: [i["id"] for i in api_a.get(f"{base}&{q}").get_json()["items"]]  # noqa: E731
    assert ids("status=paid") == [a["bills"][0]]
    assert sorted(ids("status=unpaid")) == sorted(a["bills"][1:])
    current = api_a.get(f"{API}/invoices/{a['bills'][2]}").get_json()
    assert ids(f"period={current['period']}") == [current["id"]]
    assert set(ids(f"fiscal_year={current['fiscal_year']}")) >= {current["id"]}
    assert ids(f"fiscal_year={current['fiscal_year'] - 5}") == []
    seen, cursor = [], None
    while True:
        body = api_a.get(f"{base}&limit=1" + (f"&cursor={cursor}" if cursor else "")).get_json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(a["bills"], reverse=True)


def test_invoice_errors_in_both_languages(api_a):
    bad = api_a.get(f"{API}/invoices?period=2569-12&status=late").get_json()
    assert bad["status"] == 422
    named = {f["field"]: f for f in bad["fields"]}
    assert set(named) == {"period", "status"}
    assert named["period"]["message_en"].startswith("Type the period")
    assert named["period"]["message_th"] != named["period"]["message_en"]
    assert named["status"]["message_en"] == "Must be one of: paid, unpaid."
    assert api_a.get(f"{API}/invoices/{HUGE}").status_code == 404
    assert api_a.get(f"{API}/invoices?account=12ab").status_code == 422


def test_invoices_of_b_are_not_there_for_a(api_a, api_b, books):
    b = books["b"]
    for bill in b["bills"]:
        assert api_a.get(f"{API}/invoices/{bill}").status_code == 404
        assert api_b.get(f"{API}/invoices/{bill}").status_code == 200
    # B's account number may exist in A too (look-alike numbering): A's filter never reaches B's bills
    found = {i["id"] for i in api_a.get(f"{API}/invoices?account={b['account_no']}&limit=100").get_json()["items"]}
    assert not found & set(b["bills"])
    listed = {i["id"] for i in api_a.get(f"{API}/invoices?limit=100").get_json()["items"]}
    assert not listed & set(b["bills"])


# --- receipts -------------------------------------------------------------------------------------------------

def test_receipts_with_lines_and_the_voided_one(api_a, books):
    a = books["a"]
    body = api_a.get(f"{API}/receipts?account={a['account_no']}").get_json()
    by_id = {r["id"]: r for r in body["items"]}
    assert set(by_id) == {a["paid_receipt"], a["voided_receipt"]}
    paid, voided = by_id[a["paid_receipt"]], by_id[a["voided_receipt"]]
    assert paid["total"] == "48.00" and not paid["voided"] and paid["voided_at"] is None
    assert paid["lines"] == [{"invoice_id": a["bills"][0], "period_start": paid["lines"][0]["period_start"],
                              "period_end": paid["lines"][0]["period_end"], "amount": "40.00", "surcharge": "8.00"}]
    assert paid["label"] == f"{paid['number']}/{paid['fiscal_year']}" and paid["channel"] == "counter"
    assert paid["holder_name"] == "นางสมศรี ใจดี" and paid["account_no"] == a["account_no"]
    assert voided["voided"] and voided["void_reason"] == "บันทึกผิดบัญชี" and voided["voided_at"]
    assert [line["invoice_id"] for line in voided["lines"]] == [a["bills"][1]]  # kept after voiding
    assert api_a.get(f"{API}/receipts/{paid['id']}").get_json() == paid
    only = lambda q: {r["id"] for r in api_a.get(  # noqa: E731
        f"{API}/receipts?account={a['account_no']}&{q}").get_json()["items"]}
    assert only("voided=true") == {a["voided_receipt"]}
    assert only("voided=false") == {a["paid_receipt"]}
    today = thai.today_bangkok()
    assert only(f"paid_from={today}&paid_to={today}&method=cash") == {a["paid_receipt"], a["voided_receipt"]}
    assert only(f"paid_to={today - timedelta(days=1)}") == set()
    assert only(f"fiscal_year={thai.fiscal_year(today)}") == {a["paid_receipt"], a["voided_receipt"]}


def test_receipts_of_b_are_not_there_for_a(api_a, api_b, books):
    b = books["b"]
    for receipt_id in (b["paid_receipt"], b["voided_receipt"]):
        assert api_a.get(f"{API}/receipts/{receipt_id}").status_code == 404
        assert api_b.get(f"{API}/receipts/{receipt_id}").status_code == 200
    found = {r["id"] for r in api_a.get(f"{API}/receipts?account={b['account_no']}&limit=100").get_json()["items"]}
    listed = {r["id"] for r in api_a.get(f"{API}/receipts?limit=100").get_json()["items"]}
    assert not (found | listed) & {b["paid_receipt"], b["voided_receipt"]}
    assert api_a.get(f"{API}/receipts/{HUGE}").status_code == 404
    bad = api_a.get(f"{API}/receipts?method=bitcoin&voided=maybe").get_json()
    assert {f["field"] for f in bad["fields"]} == {"method", "voided"}


# --- who may read -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["payments", "invoices", "receipts"])
def test_scope_and_permission_refusals(api_for, manager_key, submit_only_key, books, path):
    a = books["a"]
    one = {"payments": None, "invoices": a["bills"][0], "receipts": a["paid_receipt"]}[path]
    targets = [f"{API}/{path}"] + ([f"{API}/{path}/{one}"] if one else [])
    for target in targets:
        refused = api_for(submit_only_key).get(target)
        assert refused.status_code == 403 and refused.get_json()["code"] == "insufficient_scope"
        denied = api_for(manager_key).get(target)
        assert denied.status_code == 403 and denied.get_json()["code"] == "forbidden"
        assert denied.get_json()["message_th"] != denied.get_json()["message_en"]
        assert api_for(None).get(target).status_code == 401


def test_the_spec_documents_every_money_endpoint(api_a):
    spec = api_a.get(f"{API}/openapi.json").get_json()
    for path in ("/payments", "/payments/{pk}", "/invoices", "/invoices/{pk}", "/receipts", "/receipts/{pk}"):
        assert f"{API}{path}" in spec["paths"], path
    invoice = spec["components"]["schemas"]["Invoice"]
    assert set(invoice["required"]) == set(invoice["properties"])
    assert invoice["properties"]["amount"]["pattern"] and invoice["properties"]["route_code"]["nullable"]

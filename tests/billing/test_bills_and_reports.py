"""Bills on paper (slips, route sheets in batches) and the money reports (arrears per route and per account,
the fiscal-year summary, their CSVs), against hand-counted bills: paid on time, paid late with the surcharge,
paid by a receipt since voided (unpaid again), and unpaid; and the tenant wall on every screen and file."""
from __future__ import annotations

import html as html_lib
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.billing import bill_pdf, invoice_views, receipts, reports, tariff
from app.billing.models import WasteAccount, WasteInvoice, WasteReceipt, WasteRoute
from app.extensions import db
from app.portal import thaiqr
from app.tenancy.context import platform_scope, tenant_scope
from app.tenancy.models import Tenant
from tests.billing.waste import BILLER, open_account, waste  # noqa: F401

ON = date(2026, 12, 1)  # the day the reports and slips are worked out for
SEP, OCT, NOV = date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)
D = Decimal


def _route(tenant_id: int, code: str, name: str) -> int:
    with tenant_scope(tenant_id):
        route = WasteRoute(code=code, name_th=name)
        db.session.add(route)
        db.session.commit()
        route_id = route.id
        db.session.remove()
    return route_id


def _bill(account_id: int, start: date, litres: str = "20") -> int:
    """A bill of the account for the period starting `start`, priced by the tenant's schedule."""
    period = tariff.period(start)
    amount, code = tariff.tariff(start).price("household", D(litres))
    bill = WasteInvoice(account_id=account_id, period_start=period.start, period_end=period.end,
                        due_date=period.due, premises_kind="household", litres_per_day=D(litres), fee_code=code,
                        amount=amount)
    db.session.add(bill)
    db.session.flush()
    return bill.id


def _pay(bill_id: int, paid_on: date) -> WasteReceipt:
    bill = db.session.get(WasteInvoice, bill_id)
    return receipts.issue(bill.account, [bill], paid_on=paid_on, method="cash", channel="counter", actor_id=None,
                          actor_name="ผู้ทดสอบ")


@dataclass
class Scenario:
    tenant_id: int
    route_id: int
    route_code: str
    accounts: list[int]  # in route order
    bills: dict[str, int]
    receipt_labels: dict[str, str]
    before: dict[int, reports.YearSummary]  # fiscal year -> summary before the bills were made
    after: dict[int, reports.YearSummary]


def build(tenant_id: int, holder_prefix: str) -> Scenario:
    """Four accounts on a new route:
    1. October paid on time (10 Nov), November unpaid and not yet due on ON;
    2. October (30 litres, 80 baht) paid late on 20 Nov: 16 baht surcharge;
    3. October paid on 5 Nov by a receipt voided since (set directly): unpaid again, overdue;
    4. September and October unpaid, both overdue."""
    code = "RPT" + uuid.uuid4().hex[:6].upper()
    route_id = _route(tenant_id, code, f"สายทดสอบรายงาน {holder_prefix}")
    litres = ["20", "30", "20", "20"]
    accounts = [open_account(tenant_id, route_id=route_id, route_seq=str(seq + 1), litres_per_day=litres[seq],
                             holder_name=f"{holder_prefix} คนที่ {seq + 1}", start_date="2026-09-01")
                for seq in range(4)]
    with tenant_scope(tenant_id):
        before = {year: reports.yearly_summary(year) for year in (2569, 2570)}
        bills = {
            "1-oct": _bill(accounts[0], OCT), "1-nov": _bill(accounts[0], NOV),
            "2-oct": _bill(accounts[1], OCT, "30"), "3-oct": _bill(accounts[2], OCT),
            "4-sep": _bill(accounts[3], SEP), "4-oct": _bill(accounts[3], OCT),
        }
        db.session.commit()
        labels = {"1-oct": _pay(bills["1-oct"], date(2026, 11, 10)).label,
                  "2-oct": _pay(bills["2-oct"], date(2026, 11, 20)).label}
        voided = _pay(bills["3-oct"], date(2026, 11, 5))
        voided.voided_at, voided.void_reason, voided.voided_by_name = datetime(2026, 11, 6), "ทดสอบ", "ผู้ทดสอบ"
        labels["3-oct"] = voided.label
        db.session.commit()
        after = {year: reports.yearly_summary(year) for year in (2569, 2570)}
        db.session.remove()
    return Scenario(tenant_id, route_id, code, accounts, bills, labels, before, after)


@pytest.fixture(scope="module")
def scenario(app, waste):
    with app.app_context():
        return {"a": build(waste["a"].tenant_id, "นางเอรายงาน"), "b": build(waste["b"].tenant_id, "นายบีลับเฉพาะ")}


def _month(summary: reports.YearSummary, month: date) -> reports.MonthRow:
    return next(row for row in summary.months if row.month == month)


def _delta(s: Scenario, year: int, month: date) -> dict:
    old, new = _month(s.before[year], month), _month(s.after[year], month)
    return {name: getattr(new, name) - getattr(old, name) for name in (
        "billed_count", "billed_amount", "collected_count", "collected_amount", "collected_surcharge",
        "outstanding_count", "outstanding_amount")}


# --- reports against the hand count ---------------------------------------------------------------------------

def test_arrears_per_route_and_per_account(app, scenario):
    s = scenario["a"]
    with app.app_context(), tenant_scope(s.tenant_id):
        report = reports.arrears_by_route(ON)
        row = next(r for r in report.rows if r.route_key == str(s.route_id))
        # accounts 3 (October, voided receipt) and 4 (September and October); account 1's November is not due
        assert (row.route_code, row.accounts, row.bills) == (s.route_code, 2, 3)
        assert (row.amount, row.surcharge, row.total) == (D("120.00"), D("24.00"), D("144.00"))
        drill = reports.arrears_of_route(str(s.route_id), ON)
        assert [(r.account_id, r.bills, r.amount, r.surcharge, r.oldest) for r in drill.rows] == [
            (s.accounts[2], 1, D("40.00"), D("8.00"), OCT), (s.accounts[3], 2, D("80.00"), D("16.00"), SEP)]
        assert drill.totals == {"accounts": 2, "bills": 3, "amount": D("120.00"), "surcharge": D("24.00"),
                                "total": D("144.00")}
        # on 16 December account 1's November bill is overdue too
        later = next(r for r in reports.arrears_by_route(date(2026, 12, 16)).rows if r.route_key == str(s.route_id))
        assert (later.accounts, later.bills, later.amount, later.surcharge) == (3, 4, D("160.00"), D("32.00"))
        # paging the accounts of a route
        page2 = reports.arrears_of_route(str(s.route_id), ON, offset=1, limit=1)
        assert [r.account_id for r in page2.rows] == [s.accounts[3]] and page2.total_accounts == 2


def test_yearly_summary_by_fiscal_month(app, scenario):
    s = scenario["a"]
    assert _delta(s, 2570, OCT) == {
        "billed_count": 4, "billed_amount": D("200.00"), "collected_count": 0, "collected_amount": D("0.00"),
        "collected_surcharge": D("0.00"), "outstanding_count": 2, "outstanding_amount": D("80.00")}
    # receipts by the day paid: the voided one is not collected
    assert _delta(s, 2570, NOV) == {
        "billed_count": 1, "billed_amount": D("40.00"), "collected_count": 2, "collected_amount": D("136.00"),
        "collected_surcharge": D("16.00"), "outstanding_count": 1, "outstanding_amount": D("40.00")}
    # September 2026 is the last month of fiscal year 2569
    assert _delta(s, 2569, SEP)["billed_count"] == 1 and _delta(s, 2569, SEP)["outstanding_amount"] == D("40.00")
    summary = s.after[2570]
    assert [m.month for m in summary.months][:3] == [OCT, NOV, date(2026, 12, 1)]
    assert summary.months[-1].month == date(2027, 9, 1) and len(summary.months) == 12
    assert summary.totals.billed_amount == sum((m.billed_amount for m in summary.months), D("0"))


# --- bills on paper ---------------------------------------------------------------------------------------------

def _bills(ids: list[int]) -> list[WasteInvoice]:
    return list(db.session.scalars(select(WasteInvoice).where(WasteInvoice.id.in_(ids))
                                   .order_by(WasteInvoice.id)).unique())


def test_slips_show_qr_surcharge_arrears_and_thai_dates(app, scenario):
    s = scenario["a"]
    with app.test_request_context("/"), tenant_scope(s.tenant_id):
        account1 = db.session.get(WasteAccount, s.accounts[0])
        account4 = db.session.get(WasteAccount, s.accounts[3])
        bills = _bills([s.bills["1-oct"], s.bills["1-nov"], s.bills["4-oct"]])
        html = html_lib.unescape(bill_pdf.bills_html(bills, ON))
        paid, nov, late = bill_pdf.slips(bills, ON)
        # November: not yet due: 40 baht by QR, 48 after 15 December (20 % surcharge), no arrears
        tags = thaiqr.parse(nov.qr_payload)
        assert tags["30"]["01"] == BILLER["1000001"] and tags["54"] == "40.00"
        assert (tags["30"]["02"], tags["30"]["03"]) == (account1.account_no, "256911")
        assert f'data-payload="{nov.qr_payload}"' in html
        assert "หากชำระหลังวันที่ 15 ธันวาคม 2569 ต้องชำระ 48.00 บาท (รวมเงินเพิ่มร้อยละ 20)" in html
        assert f"Ref1 <span class=\"ref1\">{account1.account_no}</span>" in html and "256911" in html
        assert "ประจำงวด <strong class=\"period\">พฤศจิกายน 2569</strong>" in html
        assert account1.check_code in html and "/t/1000001/waste" in html
        assert "ต.แม่เหียะ" in html and "ลำดับที่ 1" in html
        # paid October: the receipt instead of a QR
        assert paid.qr_payload is None and f"ใบเสร็จรับเงินเลขที่ {s.receipt_labels['1-oct']}" in html
        # account 4's October on 1 December: overdue (48 by QR) with September still unpaid (40 + 8)
        assert late.due.late and thaiqr.parse(late.qr_payload)["54"] == "48.00"
        assert thaiqr.parse(late.qr_payload)["30"]["02"] == account4.account_no
        assert (late.arrears.count, late.arrears.total) == (1, D("48.00"))
        assert "ค้างชำระงวดก่อน 1 งวด รวม 48.00 บาท" in html and "1 ธันวาคม 2569" in html
        assert html.count('class="page"') == 1 and html.count('class="slip"') == 3
        pdf = bill_pdf.render_bills(bills, ON)
        assert pdf.startswith(b"%PDF") and len(pdf) > 5000


def test_slip_without_biller_id_has_no_qr(app, scenario):
    s = scenario["a"]
    with app.app_context(), platform_scope():
        tenant = db.session.get(Tenant, s.tenant_id)
        tenant.promptpay_biller_id = None
        db.session.commit()
        db.session.remove()
    try:
        with app.test_request_context("/"), tenant_scope(s.tenant_id):
            bills = _bills([s.bills["1-nov"]])
            html = bill_pdf.bills_html(bills, ON)
            assert bill_pdf.slips(bills, ON)[0].qr_payload is None
            assert "data-payload" not in html and "ยังไม่มีคิวอาร์โค้ดชำระเงิน" in html
            assert "256911" in html  # Ref1 and Ref2 still printed for the counter
    finally:
        with app.app_context(), platform_scope():
            db.session.get(Tenant, s.tenant_id).promptpay_biller_id = BILLER["1000001"]
            db.session.commit()
            db.session.remove()


def test_route_sheets_in_batches_in_route_order(app, client_for, scenario):
    s = scenario["a"]
    app.config["WASTE_ROUTE_SHEET_BATCH"] = 3
    try:
        with app.app_context(), tenant_scope(s.tenant_id):
            period = tariff.period(OCT)
            first = invoice_views.route_sheet_bills(str(s.route_id), period, False, 1, 3)
            second = invoice_views.route_sheet_bills(str(s.route_id), period, False, 2, 3)
            assert [b.account_id for b in first] == s.accounts[:3] and [b.account_id for b in second] == s.accounts[3:]
            unpaid = invoice_views.route_sheet_bills(str(s.route_id), period, True, 1, 3)
            assert [b.account_id for b in unpaid] == [s.accounts[2], s.accounts[3]]
        client = client_for("a.officer")
        page = client.get(f"/waste/invoices/route-sheets?period=2569-10&route={s.route_id}")
        assert page.status_code == 200
        text = html_lib.unescape(page.get_data(as_text=True))
        assert text.count('class="route-sheet-batch"') == 2 and "1–3" in text and "4–4" in text
        pdf = client.get(f"/waste/invoices/route-sheets/{s.route_id}/256910/2.pdf")
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
        assert client.get(f"/waste/invoices/route-sheets/{s.route_id}/256910/3.pdf").status_code == 404
        assert client.get(f"/waste/invoices/route-sheets/{s.route_id}/256999/1.pdf").status_code == 404
        assert client.get(f"/waste/invoices/route-sheets/{s.route_id}/256910/0.pdf").status_code == 404
        bad = client.get("/waste/invoices/route-sheets?period=2569-13&route=x")
        assert bad.status_code == 200 and "route-sheet-batches" not in bad.get_data(as_text=True)
    finally:
        app.config.pop("WASTE_ROUTE_SHEET_BATCH", None)


# --- screens ----------------------------------------------------------------------------------------------------

def test_bill_list_filters_show_and_pdf(app, client_for, scenario):
    s = scenario["a"]
    client = client_for("a.officer")
    page = client.get(f"/waste/invoices/?route={s.route_id}")
    assert page.status_code == 200
    text = html_lib.unescape(page.get_data(as_text=True))
    assert {int(x) for x in _row_ids(text)} == set(s.bills.values())
    paid = _row_ids(client.get(f"/waste/invoices/?route={s.route_id}&status=paid").get_data(as_text=True))
    assert {int(x) for x in paid} == {s.bills["1-oct"], s.bills["2-oct"]}  # the voided receipt's bill is unpaid
    unpaid = _row_ids(client.get(f"/waste/invoices/?route={s.route_id}&status=unpaid&period=2569-10")
                      .get_data(as_text=True))
    assert {int(x) for x in unpaid} == {s.bills["3-oct"], s.bills["4-oct"]}
    assert s.receipt_labels["2-oct"] in text
    show = client.get(f"/waste/invoices/{s.bills['4-oct']}")
    assert show.status_code == 200 and "Ref2 256910" in show.get_data(as_text=True)
    pdf = client.get(f"/waste/invoices/{s.bills['4-oct']}/bill.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    # a bad filter is said, not a 500
    bad = client.get("/waste/invoices/?period=abc")
    assert bad.status_code == 200 and not _row_ids(bad.get_data(as_text=True))


def test_list_pages_by_key(app, client_for, scenario):
    from app.billing.invoice_views import Filters, bill_page

    s = scenario["a"]
    with app.app_context(), tenant_scope(s.tenant_id):
        filters = invoice_views.read_filters({"route": str(s.route_id)})
        seen, after = [], None
        while True:
            rows, _receipts, count, after = bill_page(filters, after, size=4)
            seen += [r.id for r in rows]
            if after is None:
                break
        assert sorted(seen) == sorted(s.bills.values()) and len(seen) == len(set(seen)) == count == 6
        assert isinstance(filters, Filters)


def test_report_screens_and_csv(app, client_for, scenario):
    s = scenario["a"]
    client = client_for("a.mayor")
    text = client.get("/waste/reports/").get_data(as_text=True)
    assert f'data-route="{s.route_id}"' in text
    drill = client.get(f"/waste/reports/arrears/{s.route_id}").get_data(as_text=True)
    assert f'data-account="{s.accounts[2]}"' in drill and f'data-account="{s.accounts[0]}"' not in drill
    csv = client.get(f"/waste/reports/arrears/{s.route_id}.csv")
    body = csv.data.decode("utf-8")
    assert csv.headers["Content-Type"] == "text/csv; charset=utf-8" and body.startswith("\ufeff") and "เลขที่ผู้ใช้บริการ" in body
    assert "นางเอรายงาน คนที่ 4" in body
    routes_csv = client.get("/waste/reports/arrears.csv").data.decode("utf-8")
    assert routes_csv.startswith("\ufeff") and s.route_code in routes_csv
    yearly = client.get("/waste/reports/yearly?year=2570")
    assert yearly.status_code == 200 and "ตุลาคม 2569" in yearly.get_data(as_text=True)
    yearly_csv = client.get("/waste/reports/yearly.csv?year=2570").data.decode("utf-8")
    assert yearly_csv.startswith("\ufeff") and "กันยายน 2570" in yearly_csv and "ตุลาคม 2569" in yearly_csv
    assert client.get("/waste/reports/yearly?year=12345").status_code == 404


def test_who_may_see_bills_and_reports(client_for, scenario):
    for user in ("a.officer", "a.mayor", "a.admin"):
        client = client_for(user)
        assert client.get("/waste/invoices/").status_code == 200
        assert client.get("/waste/reports/").status_code == 200
    manager = client_for("a.manager")  # a role manager manages roles, not money
    for url in ("/waste/invoices/", "/waste/reports/", "/waste/reports/yearly.csv", "/waste/invoices/route-sheets"):
        assert manager.get(url).status_code in (302, 403)


# --- the tenant wall ------------------------------------------------------------------------------------------

def _row_ids(text: str) -> list[str]:
    import re

    return re.findall(r'class="invoice-row" data-id="(\d+)"', text)


def test_b_bills_and_routes_never_reach_a(app, client_for, scenario):
    a, b = scenario["a"], scenario["b"]
    # same numbering in both organisations: B's accounts have A's account numbers, their bills are B's
    client = client_for("a.officer")
    listed = client.get("/waste/invoices/").get_data(as_text=True)
    assert not set(_row_ids(listed)) & {str(i) for i in b.bills.values()}
    assert "นายบีลับเฉพาะ" not in html_lib.unescape(listed) and b.route_code not in listed
    assert client.get(f"/waste/invoices/?route={b.route_id}").status_code == 200
    assert not _row_ids(client.get(f"/waste/invoices/?route={b.route_id}").get_data(as_text=True))
    for bill_id in b.bills.values():
        assert client.get(f"/waste/invoices/{bill_id}").status_code == 404
        assert client.get(f"/waste/invoices/{bill_id}/bill.pdf").status_code == 404
    assert client.get(f"/waste/invoices/route-sheets/{b.route_id}/256910/1.pdf").status_code == 404
    sheets = client.get(f"/waste/invoices/route-sheets?period=2569-10&route={b.route_id}").get_data(as_text=True)
    assert "route-sheet-batch" not in sheets and b.route_code not in sheets
    reports_page = client.get("/waste/reports/").get_data(as_text=True)
    assert f'data-route="{b.route_id}"' not in reports_page and b.route_code not in reports_page
    assert client.get(f"/waste/reports/arrears/{b.route_id}").status_code == 404
    assert client.get(f"/waste/reports/arrears/{b.route_id}.csv").status_code == 404
    for url in ("/waste/reports/arrears.csv", "/waste/reports/yearly.csv?year=2570", "/waste/reports/yearly?year=2570"):
        body = client.get(url).data.decode("utf-8")
        assert b.route_code not in body and "นายบีลับเฉพาะ" not in body
    # A's figures do not move with B's bills (B's scenario was built after A's)
    with app.app_context(), tenant_scope(a.tenant_id):
        assert _month(reports.yearly_summary(2570), OCT) == _month(a.after[2570], OCT)
        assert reports.arrears_by_route(ON).rows == [r for r in reports.arrears_by_route(ON).rows
                                                     if r.route_key != str(b.route_id)]
        assert invoice_views.route_sheet_bills(str(b.route_id), tariff.period(OCT), False, 1, 10) == []
        with pytest.raises(Exception):
            invoice_views.parse_route(str(b.route_id))
        # B sees its own
    with app.app_context(), tenant_scope(b.tenant_id):
        row = next(r for r in reports.arrears_by_route(ON).rows if r.route_key == str(b.route_id))
        assert (row.accounts, row.bills, row.amount) == (2, 3, D("120.00"))
    b_client = client_for("b.officer")
    assert b_client.get(f"/waste/invoices/{b.bills['4-oct']}").status_code == 200
    assert b_client.get(f"/waste/invoices/{a.bills['4-oct']}").status_code == 404


def test_account_links_only_when_that_screen_exists(app, client_for, scenario):
    s = scenario["a"]
    client = client_for("a.officer")
    drill = client.get(f"/waste/reports/arrears/{s.route_id}").get_data(as_text=True)
    show = client.get(f"/waste/invoices/{s.bills['4-oct']}").get_data(as_text=True)
    link = f"/waste/accounts/show/{s.accounts[3]}"
    if "WasteAccountView.show" in app.view_functions:
        assert f'href="{link}"' in drill and f'href="{link}"' in show
    else:
        assert "/waste/accounts/" not in drill and "/waste/accounts/" not in show


def _statements(app, client, url: str) -> int:
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_pages_do_not_query_per_row(app, client_for, scenario, monkeypatch):
    from app.billing import report_views

    s = scenario["a"]
    client = client_for("a.officer")
    client.get("/waste/invoices/")  # warm the user's caches
    two = _statements(app, client, f"/waste/invoices/?route={s.route_id}&status=paid")
    six = _statements(app, client, f"/waste/invoices/?route={s.route_id}")
    assert six == two
    both = _statements(app, client, f"/waste/reports/arrears/{s.route_id}")  # two accounts in arrears
    monkeypatch.setattr(report_views, "ROUTE_PAGE", 1)
    assert _statements(app, client, f"/waste/reports/arrears/{s.route_id}") == both

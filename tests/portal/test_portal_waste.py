"""Citizens' waste bills in the portal: the account number and check code open an account's bills (one answer
for an unknown number and a wrong code), counted against guessing; the holder's name masked, the address without
its house number; one Thai QR per bill for what is due today; receipts; and tenant B's look-alike account (same
number) never shows through A's portal, nor its bills' QR codes or receipts through either portal."""
import html as html_module
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app import thai
from app.billing.models import WasteAccount, WasteInvoice
from app.extensions import db
from app.tenancy.context import platform_scope, tenant_scope
from tests.billing.waste import open_account, waste  # noqa: F401
from tests.conftest import make_app
from tests.test_browser import browser, live_server  # noqa: F401  (fixtures)

A, B = "1000001", "1000002"
SAME_NO = "9900001"  # the account number both look-alike tenants use
NO_MATCH = "ไม่พบผู้ใช้บริการที่ตรงกับเลขที่ผู้ใช้บริการและรหัสตรวจสอบนี้"


@dataclass
class Account:
    id: int
    account_no: str
    code: str
    late_id: int  # unpaid, past its due date
    current_id: int  # unpaid, not yet due
    paid_id: int
    receipt_id: int


def _month_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _make(tenant_id: int, account_no: str, code: str, holder: str) -> Account:
    from app.billing import receipts

    account_id = open_account(tenant_id, holder_name=holder, address_line="99/1 หมู่ 3 ซอย 5")
    today = thai.today_bangkok()
    with tenant_scope(tenant_id):
        account = db.session.get(WasteAccount, account_id)
        account.account_no, account.check_code = account_no, code
        ids = []
        for months, due in ((3, today - timedelta(days=40)), (2, today - timedelta(days=5)),
                            (1, today + timedelta(days=10))):
            start = _month_back(today, months)
            bill = WasteInvoice(account_id=account_id, period_start=start,
                                period_end=_month_back(today, months - 1) - timedelta(days=1), due_date=due,
                                premises_kind="household", litres_per_day=Decimal("20"),
                                fee_code="collection_household", amount=Decimal("40.00"))
            db.session.add(bill)
            db.session.flush()
            ids.append(bill.id)
        oldest = db.session.get(WasteInvoice, ids[0])
        receipt = receipts.issue(account, [oldest], paid_on=today, method="cash", channel="counter", actor_id=None,
                                 actor_name="ผู้ทดสอบ")
        db.session.commit()
        made = Account(account_id, account_no, code, ids[1], ids[2], ids[0], receipt.id)
        db.session.remove()
    return made


@pytest.fixture(scope="module")
def bills(app, waste):  # noqa: F811
    """A's and B's look-alike accounts (same number, other codes and holders) and a second account in A."""
    with app.app_context():
        return {
            "a": _make(waste["a"].tenant_id, SAME_NO, "111111", "นางสมศรี ใจดี"),
            "b": _make(waste["b"].tenant_id, SAME_NO, "222222", "นายบุญมี ต่างถิ่น"),
            "a2": _make(waste["a"].tenant_id, "9900002", "333333", "นายสมชาย รักดี"),
        }


def _open(client, dla, account_no, code):
    return client.post(f"/t/{dla}/waste", data={"account_no": account_no, "check_code": code})


def _alert(response) -> str:
    found = re.search(r'<div class="alert alert-danger" role="alert">(.*?)</div>', response.get_data(as_text=True))
    return html_module.unescape(found.group(1)) if found else ""


def _text(response) -> str:
    return html_module.unescape(response.get_data(as_text=True))


def test_the_right_code_opens_the_bills_with_only_what_a_payer_needs(app, bills):
    mine = bills["a"]
    citizen = app.test_client()
    assert "portal-waste-link" in citizen.get(f"/t/{A}/").get_data(as_text=True)
    response = _open(citizen, A, mine.account_no, mine.code)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.endswith(f"/t/{A}/waste/{mine.id}") and mine.code not in location
    page = _text(citizen.get(location))
    assert "สม*** ใจ***" in page and "สมศรี" not in page and "ใจดี" not in page
    assert "หมู่ 3 ซอย 5 ต.แม่เหียะ อ.เมืองเชียงใหม่ จ.เชียงใหม่ 50100" in page and "99/1" not in page
    assert "0812345678" not in page and mine.code not in page
    today = thai.today_bangkok()
    with app.test_request_context():
        late, current, paid = (_month_back(today, n) for n in (2, 1, 3))
        labels = [f"{thai.month_names('wide', 'th')[d.month]} {thai.be_year(d)}" for d in (late, current, paid)]
    for label in labels:
        assert label in page
    late_bill = page[page.index(f'id="waste-bill-{mine.late_id}"'):page.index(f'id="waste-bill-{mine.current_id}"')]
    assert "เกินกำหนด" in late_bill and "8.00 บาท" in late_bill and "48.00 บาท" in late_bill
    current_bill = page[page.index(f'id="waste-bill-{mine.current_id}"'):page.index('id="waste-paid"')]
    assert "เกินกำหนด" not in current_bill and "40.00 บาท" in current_bill and "48.00" not in current_bill
    assert f"เลขอ้างอิง 1: {SAME_NO}" in late_bill and f"เลขอ้างอิง 2: {thai.be_year(late)}{late.month:02d}" in late_bill
    assert f"/t/{A}/waste/bill/{mine.late_id}/qr.png" in late_bill
    # the paid bill: period, receipt number and date; no QR for it
    paid_part = page[page.index('id="waste-paid"'):]
    with app.app_context(), tenant_scope(_tenant_of(app, A)):
        from app.billing.models import WasteReceipt

        receipt = db.session.get(WasteReceipt, mine.receipt_id)
        label = receipt.label
    assert label in paid_part and thai.format_date(today) in paid_part and labels[2] in paid_part
    assert f"/waste/bill/{mine.paid_id}/qr.png" not in page
    # B's look-alike account with the same number is not what A's portal shows
    assert "บุญ***" not in page and "ต่า***" not in page


def _tenant_of(app, dla) -> int:
    from app.tenancy.models import Tenant

    with app.app_context(), platform_scope():
        return db.session.scalar(select(Tenant.id).where(Tenant.dla_code == dla))


def test_unknown_account_and_wrong_code_get_the_same_answer(app, bills):
    citizen = app.test_client()
    wrong = _open(citizen, A, SAME_NO, "999999")
    unknown = _open(citizen, A, "9999999", "111111")
    empty = _open(citizen, A, "", "")
    junk = _open(citizen, A, "1" * 30, "abc")
    for response in (wrong, unknown, empty, junk):
        assert response.status_code == 200 and _alert(response).startswith(NO_MATCH)
    assert _alert(wrong) == _alert(unknown) == _alert(junk)
    # the typed number is kept in the form, the code is not
    assert f'value="{SAME_NO}"' in wrong.get_data(as_text=True) and "999999" not in wrong.get_data(as_text=True)
    # nothing was opened
    assert citizen.get(f"/t/{A}/waste/{bills['a'].id}").status_code == 302
    assert citizen.get(f"/t/{A}/waste/bill/{bills['a'].late_id}/qr.png").status_code == 404
    # the number typed without leading zeros or with spaces still opens it
    assert _open(citizen, A, "99 000 01", " 111111 ").status_code == 302


def test_a_portal_shows_only_its_own_look_alike_account(app, bills):
    a, b = bills["a"], bills["b"]
    citizen = app.test_client()
    # B's code for the same number does not open anything in A's portal, nor A's code in B's
    assert _alert(_open(citizen, A, SAME_NO, b.code)).startswith(NO_MATCH)
    assert _alert(_open(citizen, B, SAME_NO, a.code)).startswith(NO_MATCH)
    # A's own code in A's portal opens A's account, never B's
    response = _open(citizen, A, SAME_NO, a.code)
    assert response.headers["Location"].endswith(f"/t/{A}/waste/{a.id}")
    page = _text(citizen.get(response.headers["Location"]))
    assert "สม*** ใจ***" in page and "บุญ***" not in page
    assert f"waste-bill-{a.late_id}" in page and f"waste-bill-{b.late_id}" not in page
    # a session opened for A's account reaches none of B's bills, by id, through either portal
    for dla in (A, B):
        assert citizen.get(f"/t/{dla}/waste/{b.id}").status_code == 302
        for invoice_id in (b.late_id, b.current_id):
            assert citizen.get(f"/t/{dla}/waste/bill/{invoice_id}/qr.png").status_code == 404
        assert citizen.get(f"/t/{dla}/waste/receipt/{b.receipt_id}.pdf").status_code == 404
    # nor its own account through B's portal (the access is per organisation)
    assert citizen.get(f"/t/{B}/waste/{a.id}").status_code == 302
    assert citizen.get(f"/t/{B}/waste/bill/{a.late_id}/qr.png").status_code == 404
    assert citizen.get(f"/t/{B}/waste/receipt/{a.receipt_id}.pdf").status_code == 404
    assert citizen.get(f"/t/{A}/waste/bill/{a.late_id}/qr.png").status_code == 200
    # opening B's account in B's portal too shows B's bills there, and still not in A's
    assert _open(citizen, B, SAME_NO, b.code).headers["Location"].endswith(f"/t/{B}/waste/{b.id}")
    assert "บุญ*** ต่า***" in _text(citizen.get(f"/t/{B}/waste/{b.id}"))
    assert citizen.get(f"/t/{A}/waste/{b.id}").status_code == 302
    assert citizen.get(f"/t/{A}/waste/bill/{b.late_id}/qr.png").status_code == 404


def test_the_qr_pays_the_bill_with_its_references_and_the_surcharge_when_late(app, bills, waste):  # noqa: F811
    from app.billing import invoices
    from app.portal import thaiqr
    from app.tenancy.models import Tenant

    mine = bills["a"]
    citizen = app.test_client()
    _open(citizen, A, mine.account_no, mine.code)
    today = thai.today_bangkok()
    with app.test_request_context(), tenant_scope(waste["a"].tenant_id):
        tenant = db.session.get(Tenant, waste["a"].tenant_id)
        for invoice_id, months, total in ((mine.late_id, 2, "48.00"), (mine.current_id, 1, "40.00")):
            invoice = db.session.get(WasteInvoice, invoice_id)
            due = invoices.DueCalculator().due(invoice)
            assert due.total == Decimal(total) and due.late is (months == 2)
            payload = invoices.qr_payload(tenant, invoice, due.total)
            tags = thaiqr.parse(payload)
            start = _month_back(today, months)
            assert tags["30"]["01"] == tenant.promptpay_biller_id
            assert tags["30"]["02"] == SAME_NO and tags["30"]["03"] == f"{thai.be_year(start)}{start.month:02d}"
            assert tags["54"] == total and tags["53"] == "764"
            # the image served is exactly the QR of that payload, never cached
            response = citizen.get(f"/t/{A}/waste/bill/{invoice_id}/qr.png")
            assert response.status_code == 200 and response.mimetype == "image/png"
            assert response.headers["Cache-Control"] == "no-store" and response.data == thaiqr.png(payload)
        db.session.remove()
    # a paid bill has no QR
    assert citizen.get(f"/t/{A}/waste/bill/{mine.paid_id}/qr.png").status_code == 404


def test_no_biller_id_says_to_pay_at_the_office(app, bills, waste):  # noqa: F811
    from app.tenancy.models import Tenant

    mine = bills["a"]
    citizen = app.test_client()
    _open(citizen, A, mine.account_no, mine.code)
    with app.app_context(), platform_scope():
        tenant = db.session.get(Tenant, waste["a"].tenant_id)
        biller, tenant.promptpay_biller_id = tenant.promptpay_biller_id, None
        db.session.commit()
    try:
        page = _text(citizen.get(f"/t/{A}/waste/{mine.id}"))
        assert "ชำระได้ที่สำนักงาน" in page and "qr.png" not in page and "48.00 บาท" in page
        assert citizen.get(f"/t/{A}/waste/bill/{mine.late_id}/qr.png").status_code == 404
    finally:
        with app.app_context(), platform_scope():
            db.session.get(Tenant, waste["a"].tenant_id).promptpay_biller_id = biller
            db.session.commit()


def test_english_on_request(app, bills):
    mine = bills["a"]
    citizen = app.test_client()
    _open(citizen, A, mine.account_no, mine.code)
    citizen.get("/lang/en")
    page = _text(citizen.get(f"/t/{A}/waste/{mine.id}"))
    start = _month_back(thai.today_bangkok(), 2)
    with app.test_request_context():
        month = thai.month_names("wide", "en")[start.month]
    assert "Bills to pay" in page and "Overdue" in page and f"{month} {start.year}" in page
    assert "Mae Hia, Mueang Chiang Mai, Chiang Mai" in page and "48.00 baht" in page
    citizen.get("/lang/th")


def test_access_is_short_lived_and_can_be_closed(app, bills, monkeypatch):
    from app.portal import waste as portal_waste

    mine = bills["a"]
    citizen = app.test_client()
    _open(citizen, A, mine.account_no, mine.code)
    assert citizen.get(f"/t/{A}/waste/{mine.id}").status_code == 200
    now = portal_waste.time.time()
    monkeypatch.setattr(portal_waste.time, "time", lambda: now + 31 * 60)
    assert citizen.get(f"/t/{A}/waste/{mine.id}").status_code == 302
    assert citizen.get(f"/t/{A}/waste/bill/{mine.late_id}/qr.png").status_code == 404
    monkeypatch.undo()
    # the cookie holds neither the check code nor anything but ids and expiry times
    _open(citizen, A, mine.account_no, mine.code)
    with citizen.session_transaction() as stored:
        assert stored[portal_waste.ACCESS_KEY].keys() == {str(_tenant_of(app, A))}
        assert mine.code not in repr(dict(stored))
    assert citizen.post(f"/t/{A}/waste/{mine.id}/close").status_code == 302
    assert citizen.get(f"/t/{A}/waste/{mine.id}").status_code == 302


def test_receipts_download_only_for_the_account_opened(app, bills):
    mine, other = bills["a"], bills["a2"]
    citizen = app.test_client()
    _open(citizen, A, mine.account_no, mine.code)
    # another account of the same organisation: neither its page, its QR nor its receipt
    assert citizen.get(f"/t/{A}/waste/{other.id}").status_code == 302
    assert citizen.get(f"/t/{A}/waste/bill/{other.late_id}/qr.png").status_code == 404
    assert citizen.get(f"/t/{A}/waste/receipt/{other.receipt_id}.pdf").status_code == 404
    own = citizen.get(f"/t/{A}/waste/receipt/{mine.receipt_id}.pdf")
    assert own.status_code == 200 and own.mimetype == "application/pdf" and own.data.startswith(b"%PDF")
    assert own.headers["Cache-Control"] == "no-store" and "attachment" in own.headers["Content-Disposition"]
    assert f"/t/{A}/waste/receipt/{mine.receipt_id}.pdf" in citizen.get(f"/t/{A}/waste/{mine.id}").get_data(
        as_text=True)


def test_a_cancelled_receipt_is_not_handed_out_and_its_bill_is_due_again(app, waste):  # noqa: F811
    from app.billing import receipts
    from app.billing.models import WasteReceipt

    with app.app_context():
        made = _make(waste["a"].tenant_id, "9900003", "444444", "นายทดสอบ ยกเลิก")
    citizen = app.test_client()
    _open(citizen, A, made.account_no, made.code)
    assert citizen.get(f"/t/{A}/waste/receipt/{made.receipt_id}.pdf").status_code == 200
    with app.app_context(), tenant_scope(waste["a"].tenant_id):
        receipts.void(db.session.get(WasteReceipt, made.receipt_id), "รับเงินผิดบัญชี", actor_name="ผู้ทดสอบ")
        db.session.commit()
        db.session.remove()
    assert citizen.get(f"/t/{A}/waste/receipt/{made.receipt_id}.pdf").status_code == 404
    page = _text(citizen.get(f"/t/{A}/waste/{made.id}"))
    assert 'id="waste-paid"' not in page and f"waste-bill-{made.paid_id}" in page
    assert citizen.get(f"/t/{A}/waste/bill/{made.paid_id}/qr.png").status_code == 200


def test_lookups_are_rate_limited_per_address_on_their_own(app, database_url, bills):
    mine = bills["a"]
    limited = make_app(database_url, RATELIMIT_ENABLED=True, PORTAL_TRACK_RATE_LIMIT="2 per minute")
    client = limited.test_client()
    wrong = {"account_no": mine.account_no, "check_code": "000000"}
    right = {"account_no": mine.account_no, "check_code": mine.code}
    # guessing codes: the third try within the minute is refused, even with the right code
    assert [client.post(f"/t/{A}/waste", data=d).status_code for d in (wrong, right, right)] == [200, 302, 429]
    # the page itself is not limited; request tracking is counted on its own; another address too
    assert client.get(f"/t/{A}/waste/{mine.id}").status_code == 200
    assert client.post(f"/t/{A}/track", data={"number": "1", "secret": "AAAA-AAAA"}).status_code == 200
    elsewhere = limited.test_client()
    assert elsewhere.post(f"/t/{A}/waste", data=right, environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 302


@pytest.mark.parametrize("name, masked", [
    ("นางสมศรี ใจดี", "สม*** ใจ***"),
    ("นาย สมชาย  รักไทย", "สม*** รัก***"),
    ("น.ส.เพ็ญศรี ดี", "เพ็*** ด***"),
    ("Somchai Jaidee", "So*** Ja***"),
    ("นายดี มา", "ด*** ม***"),
    ("", ""),
])
def test_names_are_masked(name, masked):
    from app.portal.waste import mask_name

    assert mask_name(name) == masked


@pytest.mark.parametrize("line, street", [
    ("99/1 หมู่ 3", "หมู่ 3"),
    ("เลขที่ 12 หมู่ที่ 4 ซอย 7 ถนนเชียงใหม่-ลำพูน", "หมู่ที่ 4 ซอย 7 ถนนเชียงใหม่-ลำพูน"),
    ("บ้านเลขที่๑๒/๓ ม. 5", "ม. 5"),
    ("123-45, ถนน 3", "ถนน 3"),
    ("5/2 ถนนสมโภช 700 ปี", "ถนนสมโภช 700 ปี"),
    ("12 13 ซอย 4", "ซอย 4"),
])
def test_the_address_loses_its_house_number(line, street):
    from app.portal.waste import street_without_house_no

    assert street_without_house_no(line) == street


def test_the_bills_on_a_phone(live_server, browser, app, bills, waste):  # noqa: F811
    """390 px wide (Debian's chromium): look up, every bill and its QR fit the screen, the QR read back from the
    screen pays the late bill with its surcharge; in English on request. Screenshots under test-output/browser/."""
    import io
    import os

    from PIL import Image

    from tests.test_browser import CHROMIUM, OUTPUT

    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed")
    import zxingcpp

    os.makedirs(OUTPUT, exist_ok=True)
    mine = bills["a"]
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  locale="th-TH")
    phone = context.new_page()
    phone.goto(f"{live_server}/t/{A}/")
    phone.click("#portal-waste-link a")
    phone.fill("#account_no", mine.account_no)
    phone.fill("#check_code", "000000")
    phone.click("button[type=submit]")
    phone.wait_for_load_state()
    assert NO_MATCH in phone.inner_text(".alert-danger") and phone.input_value("#account_no") == mine.account_no
    phone.screenshot(path=os.path.join(OUTPUT, "portal-waste-lookup-phone.png"), full_page=True)
    phone.fill("#check_code", mine.code)
    phone.click("button[type=submit]")
    phone.wait_for_load_state()
    assert phone.inner_text("#waste-holder") == "สม*** ใจ***"
    # nothing wider than the phone
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    late = phone.locator(f"#waste-bill-{mine.late_id} img.waste-qr")
    late.scroll_into_view_if_needed()
    box = late.bounding_box()
    assert phone.evaluate("(img) => img.naturalWidth", late.element_handle()) > 100
    assert 150 <= box["width"] <= 390 and box["x"] >= 0
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(late.screenshot())))
    from app.portal import thaiqr

    tags = thaiqr.parse(decoded[0].text)
    assert tags["30"]["02"] == SAME_NO and tags["54"] == "48.00"
    phone.screenshot(path=os.path.join(OUTPUT, "portal-waste-bills-phone.png"), full_page=True)
    phone.goto(f"{live_server}/lang/en")
    phone.goto(f"{live_server}/t/{A}/waste/{mine.id}")
    assert "Bills to pay" in phone.inner_text("body")
    phone.screenshot(path=os.path.join(OUTPUT, "portal-waste-bills-phone-en.png"), full_page=True)
    context.close()

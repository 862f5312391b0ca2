"""Counter payments and receipts: the counter screen (find, tick, pay; every mistake refused in Thai with
nothing written), the late surcharge, the receipt PDF with the amount in Thai words, cancelling a receipt,
the receipts list, show and CSV, and the tenant wall on each."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pypdfium2
import pytest
from sqlalchemy import func, select

from app import thai
from app.billing import receipt_pdf, receipts, tariff
from app.billing.models import WasteAccount, WasteInvoice, WasteReceipt, WasteReceiptLine
from app.extensions import db
from app.tenancy.context import platform_scope, tenant_scope
from tests.billing.waste import open_account, waste  # noqa: F401


def month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def make_bills(tenant_id: int, account_id: int, starts: list[date]) -> list[int]:
    """Bills of an account for the periods starting on `starts`, priced by the tenant's schedule (committed)."""
    ids = []
    with tenant_scope(tenant_id):
        account = db.session.get(WasteAccount, account_id)
        for start in starts:
            period = tariff.period(start)
            amount, code = tariff.tariff(start).price(account.premises_kind, account.litres_per_day)
            bill = WasteInvoice(account_id=account_id, period_start=period.start, period_end=period.end,
                                due_date=period.due, premises_kind=account.premises_kind,
                                litres_per_day=account.litres_per_day, fee_code=code, amount=amount)
            db.session.add(bill)
            db.session.flush()
            ids.append(bill.id)
        db.session.commit()
        db.session.remove()
    return ids


def account_with_bills(tenant_id: int, late: int = 1, current: bool = True, **overrides) -> tuple[int, list[int]]:
    """An account with `late` bills past their due date whatever today is (the periods of two months ago and
    before) and, if `current`, this month's bill (not yet due); ids oldest first."""
    today = thai.today_bangkok()
    starts = [month_start(today, back) for back in range(late + 1, 1, -1)] + ([month_start(today)] if current else [])
    account_id = open_account(tenant_id, start_date=starts[0].isoformat(), **overrides)
    return account_id, make_bills(tenant_id, account_id, starts)


def issue_receipt(tenant_id: int, account_id: int, bill_ids: list[int], **kwargs) -> int:
    with tenant_scope(tenant_id):
        account = db.session.get(WasteAccount, account_id)
        bills = [db.session.get(WasteInvoice, i) for i in bill_ids]
        receipt = receipts.issue(account, bills, paid_on=kwargs.pop("paid_on", thai.today_bangkok()),
                                 method=kwargs.pop("method", "cash"), channel="counter", actor_id=None,
                                 actor_name=kwargs.pop("actor_name", "นางสาวรับเงิน ตั้งใจ"), **kwargs)
        db.session.commit()
        receipt_id = receipt.id
        db.session.remove()
    return receipt_id


def pdf_text(data: bytes) -> str:
    pdf = pypdfium2.PdfDocument(data)
    return "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- the receipt PDF -----------------------------------------------------------------------------------------

def test_receipt_pdf_has_number_date_bills_and_thai_words(app, waste):
    with app.app_context():
        tid = waste["a"].tenant_id
        account_id, bills = account_with_bills(tid, late=1)
        receipt_id = issue_receipt(tid, account_id, bills)
        with app.test_request_context(), tenant_scope(tid):
            receipt = db.session.get(WasteReceipt, receipt_id)
            # the oldest bill is past due: 40 + 8 surcharge; the current one 40
            assert receipt.amount == Decimal("88.00")
            text = squash(pdf_text(receipt_pdf.render(receipt)))
            assert "ใบเสร็จรับเงิน" in text
            assert squash(receipt.label) in text and receipt.account.account_no in text
            assert squash(thai.baht_text(Decimal("88.00"))) in text  # แปดสิบแปดบาทถ้วน
            assert squash(tariff.period_label(month_start(thai.today_bangkok(), 2))) in text
            assert "8.00" in text and "88.00" in text and "ยกเลิก" not in text
            db.session.remove()



def test_receipt_pdf_in_thai_digits_and_void_mark(app, waste):
    from app.tenancy.context import platform_scope
    from app.tenancy.models import Tenant

    with app.app_context():
        tid = waste["a"].tenant_id
        account_id, bills = account_with_bills(tid, late=0)
        receipt_id = issue_receipt(tid, account_id, bills)
        with platform_scope():
            db.session.get(Tenant, tid).thai_digits = True
            db.session.commit()
        try:
            with app.test_request_context(), tenant_scope(tid):
                receipt = db.session.get(WasteReceipt, receipt_id)
                page = receipt_pdf.html(receipt)
                assert thai.thai_digits(receipt.label) in page and "ยกเลิก" not in page
                receipts.void(receipt, "ลงบัญชีผิด", actor_name="ผอ.กองคลัง")
                db.session.commit()
                text = squash(pdf_text(receipt_pdf.render(receipt)))
                assert "ยกเลิก" in text and "ลงบัญชีผิด" in text  # (pdfium reads ำ as a ligature: a reason without it)
                assert squash(thai.thai_digits(receipt.label)) in text
                assert squash(thai.baht_text(Decimal("40.00"))) in text  # สี่สิบบาทถ้วน
                db.session.remove()
        finally:
            with platform_scope():
                db.session.get(Tenant, tid).thai_digits = False
                db.session.commit()
                db.session.remove()


# --- the counter -----------------------------------------------------------------------------------------------

def fetch(db_session, model, pk):
    """A row read as the database has it (the plain session outside any tenant)."""
    with platform_scope():
        return db_session.get(model, pk)


def counts(db_session, tenant_id: int) -> tuple[int, int, int]:
    with platform_scope():
        return _counts(db_session, tenant_id)


def _counts(db_session, tenant_id: int) -> tuple[int, int, int]:
    receipts_n = db_session.scalar(select(func.count()).select_from(WasteReceipt)
                                   .where(WasteReceipt.tenant_id == tenant_id))
    paid = db_session.scalar(select(func.count()).select_from(WasteInvoice)
                             .where(WasteInvoice.tenant_id == tenant_id, WasteInvoice.receipt_id.is_not(None)))
    lines = db_session.scalar(select(func.count()).select_from(WasteReceiptLine)
                              .where(WasteReceiptLine.tenant_id == tenant_id))
    return receipts_n, paid, lines


def pay_form(bills, amount, **extra):
    return {"bill": [str(b) for b in bills], "amount": amount, "method": "cash",
            "paid_on": thai.format_date_input(thai.today_bangkok()), **extra}


def test_counter_finds_shows_and_pays_oldest_first_with_surcharge(app, waste, client_for, db_session):
    tid = waste["a"].tenant_id
    with app.app_context():
        account_id, bills = account_with_bills(tid, late=2, holder_name="นายเคาน์เตอร์ ทดสอบจ่าย")
        with tenant_scope(tid):
            account_no = db.session.get(WasteAccount, account_id).account_no
            db.session.remove()
    officer = client_for("a.officer")
    found = officer.get("/waste/counter/?q=" + account_no)
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/waste/counter/account/{account_id}")
    by_name = officer.get("/waste/counter/?q=เคาน์เตอร์ ทดสอบ").get_data(as_text=True)
    assert f"/waste/counter/account/{account_id}" in by_name
    page = officer.get(f"/waste/counter/account/{account_id}").get_data(as_text=True)
    # two late bills 40 + 8 each, this month's 40: every one ticked by default
    assert page.count('name="bill"') == 3 and len(re.findall(r'name="bill"[^>]*checked', page)) == 3 and "48.00" in page
    before = counts(db_session, tid)
    done = officer.post(f"/waste/counter/account/{account_id}/pay", data=pay_form(bills, "136.00"))
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    receipt_id = int(done.headers["Location"].rstrip("/").split("/")[-1])
    db_session.expire_all()
    assert counts(db_session, tid) == (before[0] + 1, before[1] + 3, before[2] + 3)
    receipt = fetch(db_session, WasteReceipt, receipt_id)
    assert receipt.amount == Decimal("136.00") and receipt.channel == "counter" and receipt.method == "cash"
    assert receipt.recorded_by_name == "เจ้าหน้าที่ เอ"
    surcharges = sorted(fetch(db_session, WasteInvoice, b).surcharge for b in bills)
    assert surcharges == [Decimal("0.00"), Decimal("8.00"), Decimal("8.00")]  # 20 % on the two late bills
    shown = officer.get(f"/waste/receipts/show/{receipt_id}").get_data(as_text=True)
    assert receipt.label in shown and thai.baht_text(Decimal("136.00")) in shown
    pdf = officer.get(f"/waste/receipts/{receipt_id}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert squash(thai.baht_text(Decimal("136.00"))) in squash(pdf_text(pdf.data))
    # the same form sent again (a double click): a clear message naming the receipt, nothing written
    again = officer.post(f"/waste/counter/account/{account_id}/pay", data=pay_form(bills, "136.00"))
    assert again.status_code == 409
    assert f"ชำระแล้วตามใบเสร็จรับเงินเลขที่ {receipt.label}" in again.get_data(as_text=True)
    db_session.expire_all()
    assert counts(db_session, tid) == (before[0] + 1, before[1] + 3, before[2] + 3)


def test_paying_on_time_has_no_surcharge(app, waste, client_for, db_session):
    tid = waste["a"].tenant_id
    with app.app_context():
        account_id, bills = account_with_bills(tid, late=1, current=False)
        with tenant_scope(tid):
            bill = db.session.get(WasteInvoice, bills[0])
            on_time = bill.due_date
            db.session.remove()
    if thai.fiscal_year(on_time) != thai.fiscal_year(thai.today_bangkok()):
        pytest.skip("the bill's due date falls in the previous fiscal year today")
    officer = client_for("a.officer")
    late = officer.post(f"/waste/counter/account/{account_id}/pay",
                        data=pay_form(bills, "40.00", paid_on=thai.format_date_input(thai.today_bangkok())))
    assert late.status_code == 422 and "48.00" in late.get_data(as_text=True)  # today it is 40 + 20 %
    done = officer.post(f"/waste/counter/account/{account_id}/pay",
                        data=pay_form(bills, "40.00", paid_on=thai.format_date_input(on_time)))
    assert done.status_code == 302
    db_session.expire_all()
    assert fetch(db_session, WasteInvoice, bills[0]).surcharge == Decimal("0.00")


@pytest.mark.parametrize("case", ["no_bill", "newer_first", "amount_short", "amount_text", "amount_satang",
                                  "method", "future", "bad_date", "ce_year", "last_fiscal_year", "other_account",
                                  "garbage_id"])
def test_counter_refuses_bad_input_in_thai_and_writes_nothing(app, waste, client_for, db_session, case):
    tid = waste["a"].tenant_id
    with app.app_context():
        account_id, bills = account_with_bills(tid, late=2)
        _other, other_bills = account_with_bills(tid, late=1)
    today = thai.today_bangkok()
    form = {
        "no_bill": pay_form([], "0"),
        "newer_first": pay_form(bills[1:], "88.00"),
        "amount_short": pay_form(bills, "100.00"),
        "amount_text": pay_form(bills, "หนึ่งร้อย"),
        "amount_satang": pay_form(bills, "136.001"),
        "method": pay_form(bills, "136.00", method="bitcoin"),
        "future": pay_form(bills, "136.00", paid_on=thai.format_date_input(today + timedelta(days=1))),
        "bad_date": pay_form(bills, "136.00", paid_on="31/02/2569"),
        "ce_year": pay_form(bills, "136.00", paid_on=f"01/{today.month:02d}/{today.year}"),
        "last_fiscal_year": pay_form(bills, "136.00", paid_on=thai.format_date_input(
            thai.fiscal_year_bounds(thai.fiscal_year(today))[0] - timedelta(days=1))),
        "other_account": pay_form(bills + other_bills, "184.00"),
        "garbage_id": pay_form(["1 OR 1=1"], "136.00"),
    }[case]
    expected = {
        "no_bill": "เลือกใบแจ้งหนี้ที่จะชำระ", "newer_first": "ชำระจากงวดเก่าก่อน", "amount_short": "ไม่ตรงกับยอดที่ต้องชำระ",
        "amount_text": "กรุณากรอกจำนวนเงินที่รับชำระ", "amount_satang": "ทศนิยม", "method": "กรุณาเลือกวิธีชำระเงิน",
        "future": "ต้องไม่เป็นวันล่วงหน้า", "bad_date": "ไม่มีอยู่จริง", "ce_year": "คริสต์ศักราช",
        "last_fiscal_year": "ปีงบประมาณ", "other_account": "ไม่พบใบแจ้งหนี้", "garbage_id": "ไม่พบใบแจ้งหนี้",
    }[case]
    before = counts(db_session, tid)
    officer = client_for("a.officer")
    response = officer.post(f"/waste/counter/account/{account_id}/pay", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page[:1000]
    assert expected in page, (case, re.findall(r'id="counter-errors">(.*?)</div>\s*</div>', page, re.S))
    assert 'name="bill"' in page  # the form is shown again
    if form["amount"] not in ("", "0"):
        assert f'value="{form["amount"]}"' in page  # with what was typed
    db_session.expire_all()
    assert counts(db_session, tid) == before


def test_counter_needs_post_with_csrf(app, waste):
    from tests.conftest import login

    tid = waste["a"].tenant_id
    with app.app_context():
        account_id, bills = account_with_bills(tid, late=0)
    client = login(app.test_client(), "a.officer")
    app.config["WTF_CSRF_ENABLED"] = True  # the app's own setting (tests turn it off for brevity)
    try:
        assert client.get(f"/waste/counter/account/{account_id}/pay").status_code == 405
        refused = client.post(f"/waste/counter/account/{account_id}/pay", data=pay_form(bills, "40.00"))
        assert refused.status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context(), tenant_scope(tid):
        assert db.session.get(WasteInvoice, bills[0]).receipt_id is None
        db.session.remove()


def test_two_cashiers_same_bill_second_gets_a_message(app, waste, client_for, db_session):
    """The second cashier loaded the page before the first one paid: their submit is refused, nothing written."""
    tid = waste["a"].tenant_id
    with app.app_context():
        account_id, bills = account_with_bills(tid, late=0)
    first, second = client_for("a.officer"), client_for("a.admin")
    assert second.get(f"/waste/counter/account/{account_id}").status_code == 200
    assert first.post(f"/waste/counter/account/{account_id}/pay", data=pay_form(bills, "40.00")).status_code == 302
    before = counts(db_session, tid)
    late = second.post(f"/waste/counter/account/{account_id}/pay", data=pay_form(bills, "40.00"))
    assert late.status_code == 409 and "ชำระแล้วตามใบเสร็จรับเงินเลขที่" in late.get_data(as_text=True)
    db_session.expire_all()
    assert counts(db_session, tid) == before


def test_issue_refuses_a_bill_claimed_meanwhile_and_returns_the_number(app, waste):
    """The bill object is stale (loaded before another payment claimed it): the claim updates nothing, so the
    savepoint gives back the number and the next receipt takes it."""
    from sqlalchemy import update

    tid = waste["a"].tenant_id
    with app.app_context():
        account_id, bills = account_with_bills(tid, late=0)
        other_id, other_bills = account_with_bills(tid, late=0)
        first = issue_receipt(tid, other_id, other_bills)
        with tenant_scope(tid):
            first_number = db.session.get(WasteReceipt, first).number
            account = db.session.get(WasteAccount, account_id)
            bill = db.session.get(WasteInvoice, bills[0])
            db.session.execute(update(WasteInvoice).where(WasteInvoice.id == bill.id)
                               .values(receipt_id=first).execution_options(synchronize_session=False))
            with pytest.raises(receipts.UserError):
                receipts.issue(account, [bill], paid_on=thai.today_bangkok(), method="cash", channel="counter",
                               actor_id=None, actor_name="x")
            db.session.rollback()
            db.session.remove()
        next_id = issue_receipt(tid, other_id, make_bills(tid, other_id, [month_start(thai.today_bangkok(), 2)]))
        with tenant_scope(tid):
            assert db.session.get(WasteReceipt, next_id).number == first_number + 1
            db.session.remove()


# --- receipts: list, void, CSV, permissions ---------------------------------------------------------------------

def test_void_frees_the_bills_keeps_the_number_and_only_once(app, waste, client_for, db_session):
    tid = waste["a"].tenant_id
    with app.app_context():
        account_id, bills = account_with_bills(tid, late=1)
        receipt_id = issue_receipt(tid, account_id, bills)
    label = fetch(db_session, WasteReceipt, receipt_id).label
    officer, admin = client_for("a.officer"), client_for("a.admin")
    assert "receipt-void" not in officer.get(f"/waste/receipts/show/{receipt_id}").get_data(as_text=True)
    assert officer.post(f"/waste/receipts/{receipt_id}/void", data={"reason": "x"}).status_code == 403
    no_reason = admin.post(f"/waste/receipts/{receipt_id}/void", data={"reason": "  "})
    assert no_reason.status_code == 422 and "กรุณาระบุเหตุผลที่ยกเลิกใบเสร็จรับเงิน" in no_reason.get_data(as_text=True)
    db_session.expire_all()
    assert fetch(db_session, WasteReceipt, receipt_id).voided_at is None
    done = admin.post(f"/waste/receipts/{receipt_id}/void", data={"reason": "รับเงินผิดบัญชี"})
    assert done.status_code == 302
    db_session.expire_all()
    receipt = fetch(db_session, WasteReceipt, receipt_id)
    assert receipt.voided_at and receipt.void_reason == "รับเงินผิดบัญชี" and receipt.label == label
    assert receipt.voided_by_name == "แอดมิน เอ"
    for bill_id in bills:
        bill = fetch(db_session, WasteInvoice, bill_id)
        assert bill.receipt_id is None and bill.surcharge == Decimal("0.00")
    twice = admin.post(f"/waste/receipts/{receipt_id}/void", data={"reason": "อีกครั้ง"})
    assert twice.status_code == 409 and "ถูกยกเลิกไปแล้ว" in twice.get_data(as_text=True)
    db_session.expire_all()
    assert fetch(db_session, WasteReceipt, receipt_id).void_reason == "รับเงินผิดบัญชี"
    shown = admin.get(f"/waste/receipts/show/{receipt_id}").get_data(as_text=True)
    assert "receipt-voided" in shown and shown.count("<td class=\"text-right\">48.00</td>") == 1  # lines kept
    # the bills can be paid again, at today's amount
    again = officer.post(f"/waste/counter/account/{account_id}/pay", data=pay_form(bills, "88.00"))
    assert again.status_code == 302


def test_receipt_list_find_and_csv(app, waste, client_for):
    tid = waste["a"].tenant_id
    with app.app_context():
        account_id, bills = account_with_bills(tid, late=0, holder_name="นางรายการ ใบเสร็จ")
        receipt_id = issue_receipt(tid, account_id, bills, method="promptpay")
        with tenant_scope(tid):
            label = db.session.get(WasteReceipt, receipt_id).label
            db.session.remove()
    officer = client_for("a.officer")
    listing = officer.get("/waste/receipts/list/").get_data(as_text=True)
    assert label in listing and "นางรายการ ใบเสร็จ" in listing
    assert officer.get("/waste/receipts/find?number=" + label).headers["Location"].endswith(
        f"/waste/receipts/show/{receipt_id}")
    missing = officer.get("/waste/receipts/find?number=999999/2570", follow_redirects=True)
    assert "ไม่มีใบเสร็จรับเงินเลขที่ 999999/2570" in missing.get_data(as_text=True)
    today = thai.format_date_input(thai.today_bangkok())
    csv_response = officer.get(f"/waste/receipts/export.csv?from={today}&to={today}")
    assert csv_response.status_code == 200 and csv_response.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = csv_response.data.decode("utf-8")
    assert text.startswith("\ufeff") and label in text and "นางรายการ ใบเสร็จ" in text and "40.00" in text
    bad = officer.get("/waste/receipts/export.csv?from=2026-12-01")
    assert bad.status_code == 400 and "พ.ศ." in bad.get_data(as_text=True)
    reversed_range = officer.get(f"/waste/receipts/export.csv?from={today}&to=01/01/2560")
    assert reversed_range.status_code == 400


def test_permissions_by_role(app, waste, client_for):
    tid = waste["a"].tenant_id
    with app.app_context():
        account_id, bills = account_with_bills(tid, late=0)
        receipt_id = issue_receipt(tid, account_id, bills)
    mayor = client_for("a.mayor")
    assert mayor.get("/waste/receipts/list/").status_code == 200
    assert mayor.get(f"/waste/receipts/show/{receipt_id}").status_code == 200
    assert mayor.get(f"/waste/receipts/{receipt_id}/pdf").status_code == 200
    assert mayor.get("/waste/counter/").status_code == 403
    assert mayor.post(f"/waste/receipts/{receipt_id}/void", data={"reason": "x"}).status_code == 403
    manager = client_for("a.manager")
    assert manager.get("/waste/receipts/list/").status_code == 403
    assert manager.get("/waste/counter/").status_code == 403


# --- the tenant wall ----------------------------------------------------------------------------------------------

def test_tenant_a_cannot_see_or_touch_b_receipts_nor_pay_b_bills(app, waste, client_for, db_session):
    a, b = waste["a"].tenant_id, waste["b"].tenant_id
    with app.app_context():
        b_account, b_bills = account_with_bills(b, late=1, holder_name="นายบี ลับเฉพาะ")
        b_receipt = issue_receipt(b, b_account, b_bills[:1])
        a_account, a_bills = account_with_bills(a, late=0)
        with tenant_scope(b):
            b_label = db.session.get(WasteReceipt, b_receipt).label
            b_no = db.session.get(WasteAccount, b_account).account_no
            db.session.remove()
    admin = client_for("a.admin")
    listing = admin.get("/waste/receipts/list/").get_data(as_text=True)
    assert "นายบี ลับเฉพาะ" not in listing and f"/waste/receipts/show/{b_receipt}\"" not in listing
    assert admin.get(f"/waste/receipts/show/{b_receipt}").status_code == 404
    assert admin.get(f"/waste/receipts/{b_receipt}/pdf").status_code == 404
    assert admin.post(f"/waste/receipts/{b_receipt}/void", data={"reason": "x"}).status_code == 404
    today = thai.format_date_input(thai.today_bangkok())
    assert "นายบี ลับเฉพาะ" not in admin.get(f"/waste/receipts/export.csv?from={today}").data.decode("utf-8")
    # B's account is not found at the counter, by number, name or id
    assert "นายบี ลับเฉพาะ" not in admin.get("/waste/counter/?q=นายบี").get_data(as_text=True)
    assert admin.get(f"/waste/counter/account/{b_account}").status_code == 404
    assert admin.post(f"/waste/counter/account/{b_account}/pay", data=pay_form(b_bills[1:], "40.00")).status_code == 404
    # B's bill ids posted on A's account: refused, nothing written in either tenant
    before_a, before_b = counts(db_session, a), counts(db_session, b)
    refused = admin.post(f"/waste/counter/account/{a_account}/pay", data=pay_form(b_bills[1:], "40.00"))
    assert refused.status_code == 422 and "ไม่พบใบแจ้งหนี้" in refused.get_data(as_text=True)
    mixed = admin.post(f"/waste/counter/account/{a_account}/pay", data=pay_form(a_bills + b_bills[1:], "80.00"))
    assert mixed.status_code == 422
    db_session.expire_all()
    assert counts(db_session, a) == before_a and counts(db_session, b) == before_b
    assert fetch(db_session, WasteReceipt, b_receipt).voided_at is None
    found = admin.get(f"/waste/receipts/find?number={b_label}", follow_redirects=False)
    assert f"/waste/receipts/show/{b_receipt}" not in found.headers.get("Location", "")
    del b_no

"""Bank payment files: every line stored, then paid by Ref1/Ref2 at the amount due on the day paid, once per bank
transaction (the same file twice pays nothing new); lines that cannot be paid say why, are listed for review and
resolved by staff; files that are not bank CSV are refused with nothing written. Tenant B's files, lines and bills
are out of A's reach even when the account numbers and periods are the same."""
from __future__ import annotations

import io
import itertools
import os
import re
import uuid
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update

from app.billing import bank_import
from app.billing.models import BankImport, BankImportLine, WasteAccount, WasteInvoice, WasteReceipt
from app.extensions import db
from app.tenancy.context import TenantNotSet, platform_scope, tenant_scope
from tests.billing.waste import open_account, waste  # noqa: F401

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
HEADER = ["เลขที่อ้างอิงธนาคาร", "วันที่ชำระ", "จำนวนเงิน", "Ref1", "Ref2", "ช่องทาง"]
AUG, SEP, OCT = date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)
_numbers = itertools.count(1)


# --- helpers ----------------------------------------------------------------------------------------------

def _txn() -> str:
    return "TX" + uuid.uuid4().hex[:14].upper()


def _be(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year + 543}"


def _code(start: date) -> str:
    return f"{start.year + 543}{start.month:02d}"


def _csv(rows, header=HEADER, delimiter=",", encoding="utf-8", bom=False) -> bytes:
    text = "\r\n".join(delimiter.join(str(c) for c in row) for row in [header, *rows]) + "\r\n"
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def _user(tenant, name="a.officer"):
    return SimpleNamespace(id=tenant.user_ids[name], first_name="เจ้าหน้าที่", last_name="ทดสอบ", username=name)


@pytest.fixture
def accounts(app, waste, tenant_a, tenant_b):  # noqa: F811
    """Two accounts in A and their look-alikes in B (same account numbers), each billed for August, September
    and October 2026 (40 baht a month, due 15 days after the month)."""
    made = {}
    with app.app_context():
        for key in ("a", "b"):
            ids = [open_account(waste[key].tenant_id, start_date="2026-08-01") for _ in range(2)]
            made[key] = ids
        numbers = [f"9{os.getpid() % 1000:03d}{next(_numbers):03d}" for _ in range(2)]
        with platform_scope():
            for key in ("a", "b"):
                for account_id, number in zip(made[key], numbers):
                    db.session.execute(update(WasteAccount).where(WasteAccount.id == account_id)
                                       .values(account_no=number))
            db.session.commit()
        bills = {}
        for key in ("a", "b"):
            with tenant_scope(waste[key].tenant_id):
                from app.billing import tariff

                for account_id in made[key]:
                    for start in (AUG, SEP, OCT):
                        period = tariff.period(start)
                        amount, code = tariff.tariff(start).price("household", Decimal("20"))
                        bill = WasteInvoice(account_id=account_id, period_start=period.start,
                                            period_end=period.end, due_date=period.due, premises_kind="household",
                                            litres_per_day=Decimal("20"), fee_code=code, amount=amount)
                        db.session.add(bill)
                        db.session.flush()
                        bills[(key, account_id, start)] = (bill.id, period.due, amount)
                db.session.commit()
                db.session.remove()
    return SimpleNamespace(numbers=numbers, ids=made, bills=bills)


def _import(app, tenant, data, name="payments.csv", user="a.officer") -> int:
    with app.app_context(), tenant_scope(tenant.id):
        batch = bank_import.store(data, name, _user(tenant, user))
        db.session.commit()
        pk = batch.id
        bank_import.apply(pk)
        db.session.remove()
    return pk


def _state(app, tenant_id, import_id):
    """(the import's counts, {line_no: (status, worded reason, raw)})."""
    with app.app_context(), tenant_scope(tenant_id):
        batch = db.session.get(BankImport, import_id)
        counts = dict(status=batch.status, lines=batch.line_count, applied=batch.applied,
                      duplicates=batch.duplicates, unmatched=batch.unmatched, malformed=batch.malformed)
        lines = {line.line_no: (line.status, bank_import.describe(line), line.raw)
                 for line in db.session.scalars(select(BankImportLine).where(BankImportLine.import_id == import_id))}
        db.session.remove()
    return counts, lines


def _bill(app, tenant_id, bill_id):
    with app.app_context(), tenant_scope(tenant_id):
        bill = db.session.get(WasteInvoice, bill_id)
        receipt = db.session.get(WasteReceipt, bill.receipt_id) if bill.receipt_id else None
        found = (bill.receipt_id, bill.surcharge, receipt and (receipt.amount, receipt.channel, receipt.method,
                                                               receipt.bank_txn_ref, receipt.paid_on))
        db.session.remove()
    return found


def _receipt_count(app, tenant_id) -> int:
    with app.app_context(), tenant_scope(tenant_id):
        count = db.session.scalar(select(func.count(WasteReceipt.id)))
        db.session.remove()
    return count


def _import_count(app) -> int:
    with app.app_context(), platform_scope():
        count = (db.session.scalar(select(func.count(BankImport.id))),
                 db.session.scalar(select(func.count(BankImportLine.id))))
        db.session.remove()
    return count


# --- applying -----------------------------------------------------------------------------------------------

def test_good_lines_are_paid_once_and_a_repeat_in_the_file_is_a_duplicate(app, tenant_a, accounts):
    one, two = accounts.numbers
    a1, a2 = accounts.ids["a"]
    aug_id, aug_due, _amount = accounts.bills[("a", a1, AUG)]
    sep_id, sep_due, _amount = accounts.bills[("a", a1, SEP)]
    oct_id, oct_due, _amount = accounts.bills[("a", a2, OCT)]
    t1, t2, t3 = _txn(), _txn(), _txn()
    data = _csv([
        [t1, _be(aug_due), "40.00", one, _code(AUG), "PromptPay"],  # on its due date: the bill only
        [t2, (sep_due + timedelta(days=1)).isoformat(), '"48.00"', one, _code(SEP), "ATM"],
        [t3, _be(oct_due), "40", two, f"{OCT.year + 543}-10", "Counter"],
        [t1, _be(aug_due), "40.00", one, _code(AUG), "PromptPay"],  # the bank listed it twice
    ])
    pk = _import(app, tenant_a, data)
    counts, lines = _state(app, tenant_a.id, pk)
    assert counts == dict(status="done", lines=4, applied=3, duplicates=1, unmatched=0, malformed=0)
    assert [lines[n][0] for n in (2, 3, 4, 5)] == ["applied", "applied", "applied", "duplicate"]
    assert "บรรทัด 5" in lines[5][1] and t1 in lines[5][1] and "บรรทัด 2" in lines[5][1]
    assert lines[2][2].startswith(t1) and lines[2][2].endswith("PromptPay")  # the raw line, extra column kept
    receipt_of = _bill(app, tenant_a.id, aug_id)
    assert receipt_of[1] == Decimal("0.00")
    assert receipt_of[2] == (Decimal("40.00"), "bank_file", "promptpay", t1, aug_due)
    late = _bill(app, tenant_a.id, sep_id)
    assert late[1] == Decimal("8.00") and late[2][0] == Decimal("48.00") and late[2][3] == t2
    assert _bill(app, tenant_a.id, oct_id)[2][3] == t3


def test_the_same_file_twice_applies_nothing_new_and_apply_again_changes_nothing(app, tenant_a, accounts):
    one, two = accounts.numbers
    a1, a2 = accounts.ids["a"]
    _id, aug_due, _amount = accounts.bills[("a", a1, AUG)]
    data = _csv([[_txn(), _be(aug_due), "40.00", one, _code(AUG), ""],
                 [_txn(), _be(aug_due), "40.00", two, _code(AUG), ""],
                 [_txn(), _be(aug_due), "41.00", two, _code(SEP), ""]])  # unmatched: wrong amount
    first = _import(app, tenant_a, data)
    receipts = _receipt_count(app, tenant_a.id)
    assert _state(app, tenant_a.id, first)[0]["applied"] == 2
    second = _import(app, tenant_a, data, name="payments-again.csv")
    counts, lines = _state(app, tenant_a.id, second)
    assert counts == dict(status="done", lines=3, applied=0, duplicates=3, unmatched=0, malformed=0)
    assert _receipt_count(app, tenant_a.id) == receipts
    assert f"นำเข้าครั้งที่ {first}" in lines[4][1]  # the unmatched line is not listed for review twice
    with app.app_context(), tenant_scope(tenant_a.id):
        assert bank_import.uploaded_before(db.session.get(BankImport, second)).id == first
        before = _state(app, tenant_a.id, first)
        bank_import.apply(first)  # finished: nothing changes
        db.session.remove()
    assert _state(app, tenant_a.id, first) == before and _receipt_count(app, tenant_a.id) == receipts


def test_unmatched_lines_say_why(app, tenant_a, accounts):
    from app.billing import receipts

    one, two = accounts.numbers
    a1, a2 = accounts.ids["a"]
    aug_id, aug_due, _amount = accounts.bills[("a", a2, AUG)]
    _id, sep_due, _amount = accounts.bills[("a", a1, SEP)]
    with app.app_context(), tenant_scope(tenant_a.id):  # a2's August bill paid at the counter first
        account = db.session.get(WasteAccount, a2)
        counter = receipts.issue(account, [db.session.get(WasteInvoice, aug_id)], paid_on=aug_due, method="cash",
                                 channel="counter", actor_id=None, actor_name="ผู้ทดสอบ")
        db.session.commit()
        counter_label = counter.label
        db.session.remove()
    late = sep_due + timedelta(days=3)
    data = _csv([
        [_txn(), _be(aug_due), "40.00", "0000000", _code(AUG), ""],  # 2 unknown account
        [_txn(), _be(aug_due), "40.00", one, "256901", ""],  # 3 no bill for that period
        [_txn(), _be(aug_due), "40.00", one, "ABC", ""],  # 4 not a period code
        [_txn(), _be(sep_due), "41.00", one, _code(SEP), ""],  # 5 on time, wrong amount
        [_txn(), _be(late), "40.00", one, _code(SEP), ""],  # 6 late without the surcharge
        [_txn(), _be(aug_due), "40.00", two, _code(AUG), ""],  # 7 already paid at the counter
    ])
    pk = _import(app, tenant_a, data)
    counts, lines = _state(app, tenant_a.id, pk)
    assert counts == dict(status="done", lines=6, applied=0, duplicates=0, unmatched=6, malformed=0)
    assert {lines[n][0] for n in range(2, 8)} == {"unmatched"}
    assert "บรรทัด 2" in lines[2][1] and "ไม่พบผู้ใช้บริการเลขที่ 0000000" in lines[2][1]
    assert "ไม่มีใบแจ้งหนี้งวด 01/2569" in lines[3][1]
    assert "ABC" in lines[4][1] and "งวด" in lines[4][1]
    assert "41.00" in lines[5][1] and "40.00" in lines[5][1]
    assert "48.00" in lines[6][1] and "เงินเพิ่ม" in lines[6][1] and "8.00" in lines[6][1]
    assert "ชำระแล้ว" in lines[7][1] and counter_label in lines[7][1]
    assert _bill(app, tenant_a.id, accounts.bills[("a", a1, SEP)][0])[0] is None


def test_malformed_lines_are_kept_with_the_reason(app, tenant_a, accounts):
    one, _two = accounts.numbers
    a1 = accounts.ids["a"][0]
    _id, aug_due, _amount = accounts.bills[("a", a1, AUG)]
    future = date.today() + timedelta(days=40)
    good = _txn()
    data = _csv([
        [_txn(), "31/02/2569", "40.00", one, _code(AUG), ""],  # 2 no such day
        [_txn(), _be(aug_due), "สี่สิบ", one, _code(AUG), ""],  # 3 not an amount
        ["", _be(aug_due), "40.00", one, _code(AUG), ""],  # 4 no transaction reference
        [_txn(), _be(aug_due), "40.00", "", _code(AUG), ""],  # 5 no Ref1
        [_txn(), _be(aug_due), "40.00"],  # 6 a short row
        [_txn(), _be(future), "40.00", one, _code(AUG), ""],  # 7 in the future
        [_txn(), _be(aug_due), "-40.00", one, _code(AUG), ""],  # 8 negative
        [],  # a blank line is no payment
        [good, _be(aug_due), "40.00", one, _code(AUG), ""],  # 10 good
    ])
    before = _import_count(app)
    pk = _import(app, tenant_a, data)
    counts, lines = _state(app, tenant_a.id, pk)
    assert counts == dict(status="done", lines=8, applied=1, duplicates=0, unmatched=0, malformed=7)
    assert counts["applied"] + counts["duplicates"] + counts["unmatched"] + counts["malformed"] == counts["lines"]
    assert _import_count(app) == (before[0] + 1, before[1] + 8)
    assert lines[2][0] == "malformed" and lines[2][1].startswith("บรรทัด 2:") and "31/02/2569" in lines[2][1]
    assert "บรรทัด 3:" in lines[3][1] and "จำนวนเงิน" in lines[3][1] and "ไม่ถูกต้อง" in lines[3][1]
    assert "บรรทัด 4:" in lines[4][1] and "เลขที่อ้างอิงธนาคาร" in lines[4][1]
    assert "บรรทัด 5:" in lines[5][1] and "Ref1" in lines[5][1]
    assert "บรรทัด 6:" in lines[6][1] and "3 ช่อง" in lines[6][1] and "6 ช่อง" in lines[6][1]
    assert "อนาคต" in lines[7][1] and "จำนวนเงิน" in lines[8][1]
    assert lines[10][0] == "applied" and 9 not in lines
    assert all(raw for _status, _reason, raw in lines.values())  # nothing lost: the text as the bank wrote it


@pytest.mark.parametrize("encoding, bom, delimiter, header, day", [
    ("cp874", False, ",", HEADER, "be"),
    ("tis-620", False, ";", HEADER, "be"),
    ("utf-8", True, ",", ["Ref2", "AMOUNT", "Paid_On", "ref1", "Txn_Ref"], "iso"),
    ("utf-8", False, "\t", ["txn_ref", "paid_on", "amount", "ref1", "ref2"], "ce"),
])
def test_thai_windows_and_bom_files_are_read(app, tenant_a, accounts, encoding, bom, delimiter, header, day):
    one, _two = accounts.numbers
    a1 = accounts.ids["a"][0]
    bill_id, due, _amount = accounts.bills[("a", a1, OCT)]
    txn = _txn()
    shown = {"be": _be(due), "iso": due.isoformat(), "ce": f"{due.day:02d}/{due.month:02d}/{due.year}"}[day]
    values = {"txn_ref": txn, "paid_on": shown, "amount": "40.00", "ref1": one, "ref2": _code(OCT)}
    keys = {"เลขที่อ้างอิงธนาคาร": "txn_ref", "วันที่ชำระ": "paid_on", "จำนวนเงิน": "amount", "ช่องทาง": None}
    row = [values.get(keys.get(h, h.lower()) or "", "ธนาคารกรุงไทย") for h in header]
    data = _csv([row], header=header, delimiter=delimiter, encoding=encoding, bom=bom)
    if encoding != "utf-8":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    pk = _import(app, tenant_a, data)
    counts, lines = _state(app, tenant_a.id, pk)
    assert counts["applied"] == 1, lines
    assert _bill(app, tenant_a.id, bill_id)[2][3:] == (txn, due)
    if encoding != "utf-8":
        assert "ธนาคารกรุงไทย" in lines[2][2]  # the raw text kept, decoded


def test_the_sample_files_are_read():
    with open(os.path.join(FIXTURES, "bank_ktb_cp874.csv"), "rb") as fh:
        lines = bank_import.read(fh.read())
    assert [(p.values.get("amount"), p.reasons) for p in lines] == [(Decimal("40.00"), []), (Decimal("48.00"), [])]
    with open(os.path.join(FIXTURES, "bank_utf8_bom.csv"), "rb") as fh:
        lines = bank_import.read(fh.read())
    assert lines[0].values["paid_on"] == date(2026, 11, 14) and lines[0].values["amount"] == Decimal("1040.00")
    assert lines[1].reasons[0][0] == "bad_amount"


@pytest.mark.parametrize("data, says", [
    (_csv([["T1", "01/11/2569", "40"]], header=["เลขที่อ้างอิงธนาคาร", "วันที่ชำระ", "จำนวนเงิน"]),
     ["Ref1", "Ref2", "ขาดคอลัมน์"]),
    (_csv([["x", "y"]], header=["name", "value"]), ["เลขที่อ้างอิงธนาคาร (txn_ref)", "วันที่ชำระ (paid_on)",
                                                     "จำนวนเงิน (amount)"]),
    (b"%PDF-1.7\x00\x01\x02binary", ["CSV"]),
    (b"PK\x03\x04\x14\x00\x06\x00", ["CSV"]),
    (b"", ["ว่าง"]),
    (_csv([]), ["ไม่มีรายการ"]),
    (b"\x81\x82\x83\xfc\xfd", ["TIS-620"]),
    (b"txn_ref,paid_on,amount,ref1,ref2\n" + b"x" * (bank_import.MAX_BYTES + 1), ["5 MB"]),
    (b"txn_ref,paid_on,amount,ref1,ref2\n" + b"T,1/11/2569,40,1,256911\n" * (bank_import.MAX_LINES + 1),
     ["50,000"]),
])
def test_files_that_are_not_bank_csv_are_refused_with_nothing_written(app, tenant_a, data, says):
    from app.tenancy.errors import UserError

    before = _import_count(app)
    with app.app_context(), tenant_scope(tenant_a.id), pytest.raises(UserError) as refused:
        bank_import.store(data, "x.csv", _user(tenant_a))
    for word in says:
        assert word in refused.value.message
    assert _import_count(app) == before


# --- the task -----------------------------------------------------------------------------------------------

def test_the_task_needs_a_tenant_and_stays_in_it(app, tenant_a, tenant_b, accounts):
    from app.tasks import celery_for

    task = celery_for(app).tasks[bank_import.TASK]
    assert task.acks_late is True
    with pytest.raises(TenantNotSet):
        task(import_id=1)
    one, _two = accounts.numbers
    _id, due, _amount = accounts.bills[("a", accounts.ids["a"][0], AUG)]
    with app.app_context(), tenant_scope(tenant_a.id):
        batch = bank_import.store(_csv([[_txn(), _be(due), "40.00", one, _code(AUG), ""]]), "a.csv",
                                  _user(tenant_a))
        db.session.commit()
        pk = batch.id
        db.session.remove()
    assert task(tenant_id=tenant_b.id, import_id=pk) is None  # B's run cannot see A's import
    assert _state(app, tenant_a.id, pk)[0]["status"] == "queued"
    assert task(tenant_id=tenant_a.id, import_id=pk)["applied"] == 1
    assert task(tenant_id=tenant_a.id, import_id=pk)["applied"] == 1  # again: nothing new
    assert _state(app, tenant_a.id, pk)[0]["applied"] == 1


def test_an_import_racing_another_for_the_same_transaction_gets_a_duplicate(app, tenant_a, accounts, monkeypatch):
    """Two imports of files sharing a transaction: the second one's check found nothing because the first had
    not committed yet; the unique reference then refuses its receipt and the line is a duplicate."""
    one, _two = accounts.numbers
    _id, due, _amount = accounts.bills[("a", accounts.ids["a"][0], AUG)]
    data = _csv([[_txn(), _be(due), "40.00", one, _code(AUG), ""]])
    with app.app_context(), tenant_scope(tenant_a.id):
        first, second = (bank_import.store(data, name, _user(tenant_a)) for name in ("1.csv", "2.csv"))
        db.session.commit()
        ids = first.id, second.id
        db.session.remove()
    receipts = _receipt_count(app, tenant_a.id)
    with app.app_context(), tenant_scope(tenant_a.id):
        bank_import.apply(ids[0])
        db.session.remove()
    monkeypatch.setattr(bank_import._Seen, "why", lambda self, line: None)
    monkeypatch.setattr(bank_import, "find_bill",  # and the bill looked unpaid to it as well
                        lambda matcher, ref1, ref2, amount, paid_on: _unpaid_match(ref1, ref2))
    with app.app_context(), tenant_scope(tenant_a.id):
        bank_import.apply(ids[1])
        db.session.remove()
    assert _state(app, tenant_a.id, ids[0])[0]["applied"] == 1
    counts, lines = _state(app, tenant_a.id, ids[1])
    assert (counts["applied"], counts["duplicates"]) == (0, 1) and lines[2][0] == "duplicate"
    assert _receipt_count(app, tenant_a.id) == receipts + 1


def _unpaid_match(ref1, ref2):
    account = db.session.scalar(select(WasteAccount).where(WasteAccount.account_no == ref1))
    bill = db.session.scalar(select(WasteInvoice).where(WasteInvoice.account_id == account.id,
                                                        WasteInvoice.period_start == bank_import._normal_period(ref2)))
    db.session.expunge(bill)
    bill.receipt_id = None  # as read before the other import's receipt (detached: never written)
    return bank_import.Match(account, bill)


# --- tenants ------------------------------------------------------------------------------------------------

def test_a_file_of_a_never_pays_b_bills_with_the_same_references(app, tenant_a, tenant_b, accounts):
    one, two = accounts.numbers
    b_aug, due, _amount = accounts.bills[("b", accounts.ids["b"][0], AUG)]
    a_aug = accounts.bills[("a", accounts.ids["a"][0], AUG)][0]
    b_receipts = _receipt_count(app, tenant_b.id)
    pk = _import(app, tenant_a, _csv([[_txn(), _be(due), "40.00", one, _code(AUG), ""],
                                      [_txn(), _be(due), "40.00", "0000001", _code(AUG), ""]]))
    assert _state(app, tenant_a.id, pk)[0]["applied"] == 1
    assert _bill(app, tenant_a.id, a_aug)[0] is not None  # A's own look-alike bill
    assert _bill(app, tenant_b.id, b_aug)[0] is None and _receipt_count(app, tenant_b.id) == b_receipts
    # B's bill still payable by B's own file, with the same reference numbers
    pk_b = _import(app, tenant_b, _csv([[_txn(), _be(due), "40.00", one, _code(AUG), ""]]), user="b.officer")
    assert _state(app, tenant_b.id, pk_b)[0]["applied"] == 1 and _bill(app, tenant_b.id, b_aug)[0] is not None


# --- screens ------------------------------------------------------------------------------------------------

def _upload(client, data, name="bank.csv"):
    return client.post("/waste/bank-imports/upload", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _line_id(app, tenant_id, import_id, line_no):
    with app.app_context(), tenant_scope(tenant_id):
        found = db.session.scalar(select(BankImportLine.id).where(BankImportLine.import_id == import_id,
                                                                  BankImportLine.line_no == line_no))
        db.session.remove()
    return found


def test_upload_show_review_and_resolve_on_screen(app, client_for, tenant_a, accounts):
    officer = client_for("a.officer")
    one, two = accounts.numbers
    a1, a2 = accounts.ids["a"]
    _id, aug_due, _amount = accounts.bills[("a", a1, AUG)]
    sep_id, sep_due, _amount = accounts.bills[("a", a2, SEP)]
    oct_id, oct_due, _amount = accounts.bills[("a", a2, OCT)]
    t_wrong, t_outside = _txn(), _txn()
    data = _csv([[_txn(), _be(aug_due), "40.00", one, _code(AUG), ""],
                 [t_wrong, _be(sep_due), "40.00", "1234567", _code(SEP), ""],  # typed the wrong account
                 [t_outside, _be(oct_due), "500.00", two, _code(OCT), ""],  # not a waste fee at all
                 [_txn(), "วันนี้", "40.00", two, _code(OCT), ""]])
    response = _upload(officer, data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    pk = int(re.search(r"/waste/bank-imports/(\d+)", response.headers["Location"]).group(1))
    page = officer.get(f"/waste/bank-imports/{pk}").get_data(as_text=True)
    assert "เสร็จแล้ว" in page and 'id="group-unmatched"' in page and 'id="group-malformed"' in page
    assert "ไม่พบผู้ใช้บริการเลขที่ 1234567" in page and "วันนี้" in page
    listing = officer.get("/waste/bank-imports/").get_data(as_text=True)
    assert f'data-id="{pk}"' in listing and 'id="bank-upload"' in listing
    review = officer.get("/waste/bank-imports/review").get_data(as_text=True)
    wrong, outside = _line_id(app, tenant_a.id, pk, 3), _line_id(app, tenant_a.id, pk, 4)
    assert f'data-id="{wrong}"' in review and f'data-id="{outside}"' in review
    # the bill staff pick must be due at the line's amount: October's 40 baht is not 500
    html = officer.post(f"/waste/bank-imports/lines/{outside}/resolve",
                        data={"how": "bill", "account_no": two, "period": "2569-10"})
    assert html.status_code == 422 and "ไม่ตรงกับยอดที่ต้องชำระ" in html.get_data(as_text=True)
    assert 'value="2569-10"' in html.get_data(as_text=True)  # what was typed is kept
    assert officer.post(f"/waste/bank-imports/lines/{outside}/resolve", data={"how": "outside", "note": " "}) \
        .status_code == 422
    done = officer.post(f"/waste/bank-imports/lines/{outside}/resolve",
                        data={"how": "outside", "note": "คืนเงินผู้ชำระแล้ว"})
    assert done.status_code == 302
    # the wrong account's payment was meant for account two's September bill (typed without its leading zeros)
    done = officer.post(f"/waste/bank-imports/lines/{wrong}/resolve",
                        data={"how": "bill", "account_no": two.lstrip("0"), "period": _code(SEP)})
    assert done.status_code == 302, done.get_data(as_text=True)[:3000]
    assert _bill(app, tenant_a.id, sep_id)[2][3] == t_wrong and _bill(app, tenant_a.id, oct_id)[0] is None
    again = officer.post(f"/waste/bank-imports/lines/{wrong}/resolve",
                         data={"how": "bill", "account_no": two, "period": _code(OCT)})
    assert again.status_code == 409 and _bill(app, tenant_a.id, oct_id)[0] is None
    counts, lines = _state(app, tenant_a.id, pk)
    assert (lines[3][0], lines[4][0]) == ("resolved", "resolved")
    assert "คืนเงินผู้ชำระแล้ว" in lines[4][1] and "ไม่พบผู้ใช้บริการ" in lines[3][1]
    assert counts["unmatched"] == 2 and sum(counts[k] for k in ("applied", "duplicates", "unmatched", "malformed")) \
        == counts["lines"]
    review = officer.get("/waste/bank-imports/review").get_data(as_text=True)
    assert f'data-id="{wrong}"' not in review and f'data-id="{outside}"' not in review


def test_a_bad_upload_says_what_is_missing_and_writes_nothing(app, client_for):
    officer = client_for("a.officer")
    before = _import_count(app)
    response = _upload(officer, _csv([["T", "1/11/2569", "40"]], header=["txn_ref", "paid_on", "amount"]))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Ref1" in html and "Ref2" in html and 'id="bank-upload-error"' in html
    assert officer.post("/waste/bank-imports/upload", data={}, content_type="multipart/form-data").status_code == 422
    assert _import_count(app) == before
    officer.get("/lang/en")
    try:
        html = _upload(officer, b"a,b\n1,2\n").get_data(as_text=True)
        assert "The file lacks the columns" in html
    finally:
        officer.get("/lang/th")


def test_executives_see_but_cannot_upload_or_resolve(app, client_for, tenant_a, accounts):
    mayor = client_for("a.mayor")
    assert mayor.get("/waste/bank-imports/").status_code == 200
    assert mayor.get("/waste/bank-imports/review").status_code == 200
    assert 'id="bank-upload"' not in mayor.get("/waste/bank-imports/").get_data(as_text=True)
    assert _upload(mayor, _csv([])).status_code == 403
    assert mayor.post("/waste/bank-imports/lines/1/resolve", data={"how": "outside", "note": "x"}).status_code == 403


def test_b_imports_and_lines_are_invisible_and_untouchable_for_a(app, client_for, tenant_a, tenant_b, accounts):
    one, _two = accounts.numbers
    _id, due, _amount = accounts.bills[("b", accounts.ids["b"][0], SEP)]
    b_client = client_for("b.officer")
    response = _upload(b_client, _csv([[_txn(), _be(due), "40.00", one, _code(SEP), ""],
                                       [_txn(), _be(due), "99.00", one, _code(SEP), ""]]))
    assert response.status_code == 302
    pk = int(re.search(r"/waste/bank-imports/(\d+)", response.headers["Location"]).group(1))
    line = _line_id(app, tenant_b.id, pk, 3)
    assert _state(app, tenant_b.id, pk)[1][3][0] == "unmatched"
    a_client = client_for("a.officer")
    assert f'data-id="{pk}"' not in a_client.get("/waste/bank-imports/").get_data(as_text=True)
    assert a_client.get(f"/waste/bank-imports/{pk}").status_code == 404
    assert f'data-id="{line}"' not in a_client.get("/waste/bank-imports/review").get_data(as_text=True)
    assert a_client.get(f"/waste/bank-imports/lines/{line}/resolve").status_code == 404
    for form in ({"how": "outside", "note": "ของ A"}, {"how": "bill", "account_no": one, "period": _code(SEP)}):
        assert a_client.post(f"/waste/bank-imports/lines/{line}/resolve", data=form).status_code == 404
    assert _state(app, tenant_b.id, pk)[1][3][0] == "unmatched"
    assert f'data-id="{line}"' in b_client.get("/waste/bank-imports/review").get_data(as_text=True)


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"), reason="needs PostgreSQL")
def test_two_imports_at_once_sharing_a_transaction_pay_it_once(app, tenant_a, accounts, monkeypatch):
    """Two workers apply two files with the same bank transaction at the same moment: both find the bill unpaid
    and the reference unseen (neither has committed); the unique reference makes the second one a duplicate,
    and the receipt book keeps no gap."""
    import threading

    one, _two = accounts.numbers
    bill_id, due, _amount = accounts.bills[("a", accounts.ids["a"][0], SEP)]
    data = _csv([[_txn(), _be(due), "40.00", one, _code(SEP), ""]])
    with app.app_context(), tenant_scope(tenant_a.id):
        ids = [bank_import.store(data, f"{n}.csv", _user(tenant_a)).id for n in (1, 2)]
        db.session.commit()
        db.session.remove()
    both_looked = threading.Barrier(2, timeout=30)
    real_find = bank_import.find_bill

    def find_then_wait(*args):
        found = real_find(*args)
        both_looked.wait()  # each saw the bill unpaid before either paid it
        return found

    monkeypatch.setattr(bank_import, "find_bill", find_then_wait)
    receipts_before = _receipt_count(app, tenant_a.id)
    errors = []

    def run(pk):
        try:
            with app.app_context(), tenant_scope(tenant_a.id):
                bank_import.apply(pk)
                db.session.remove()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(pk,)) for pk in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    outcomes = sorted(_state(app, tenant_a.id, pk)[1][2][0] for pk in ids)
    assert outcomes == ["applied", "duplicate"]
    assert _receipt_count(app, tenant_a.id) == receipts_before + 1
    with app.app_context(), tenant_scope(tenant_a.id):
        numbers = sorted(db.session.scalars(select(WasteReceipt.number).where(
            WasteReceipt.fiscal_year == db.session.get(WasteReceipt, _bill(app, tenant_a.id, bill_id)[0]).fiscal_year)))
        db.session.remove()
    assert numbers == list(range(1, len(numbers) + 1))  # no gap left by the refused one

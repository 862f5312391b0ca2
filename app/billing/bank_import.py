"""Bank payment files (bill-payment reports exported as CSV): stored line by line as uploaded, then applied
line by line. Each line is matched to a bill by Ref1 (the account number) and Ref2 (the period code), checked
against what is due on the day paid, and paid by a receipt that keeps the bank's transaction reference, so
the same transaction is never paid twice: importing a file again applies nothing new. Lines that cannot be
paid stay listed for staff to review and resolve.

Reasons are stored as codes with their values (JSON in `message`) and worded when shown, so a clerk reads
them in Thai and an English user in English."""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, update

from app import thai
from app.billing import receipts
from app.billing.accounts import normal_account_no
from app.billing.invoices import DueCalculator
from app.billing.models import BANK_FILE, PROMPTPAY, BankImport, BankImportLine, WasteAccount, WasteInvoice, \
    WasteReceipt
from app.extensions import db
from app.security.services import person_name
from app.tenancy.context import require_tenant_id
from app.tenancy.errors import UserError
from app.tenancy.models import utcnow

MAX_BYTES = 5 * 1024 * 1024
MAX_LINES = 50_000
CHUNK = 200  # lines applied per commit: progress shows, and a crash loses at most one chunk (still pending)

PENDING, APPLIED, DUPLICATE, UNMATCHED, MALFORMED, RESOLVED = (
    "pending", "applied", "duplicate", "unmatched", "malformed", "resolved")
STATUSES = (APPLIED, DUPLICATE, UNMATCHED, MALFORMED, RESOLVED, PENDING)
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"

STATUS_NAMES = {
    PENDING: _l("Waiting"), APPLIED: _l("Paid"), DUPLICATE: _l("Duplicate"), UNMATCHED: _l("For review"),
    MALFORMED: _l("Cannot be read"), RESOLVED: _l("Resolved"),
}
IMPORT_STATUS_NAMES = {QUEUED: _l("Queued"), RUNNING: _l("Applying"), DONE: _l("Done"), FAILED: _l("Failed")}
TASK = "billing.apply_bank_import"

# --- the columns ----------------------------------------------------------------------------------------------

# (field, Thai name shown, English name shown, accepted header spellings after _norm)
COLUMNS = (
    ("txn_ref", "เลขที่อ้างอิงธนาคาร", "txn_ref",
     {"txnref", "เลขที่อ้างอิงธนาคาร", "transactionref", "transactionreference", "transactionid", "bankref",
      "เลขที่รายการ", "เลขอ้างอิงธนาคาร"}),
    ("paid_on", "วันที่ชำระ", "paid_on",
     {"paidon", "วันที่ชำระ", "วันที่ชำระเงิน", "paymentdate", "วันที่รับชำระ"}),
    ("amount", "จำนวนเงิน", "amount", {"amount", "จำนวนเงิน", "ยอดเงิน", "ยอดชำระ"}),
    ("ref1", "Ref1", "ref1", {"ref1", "reference1", "เลขอ้างอิง1", "รหัสอ้างอิง1", "ค่าอ้างอิง1"}),
    ("ref2", "Ref2", "ref2", {"ref2", "reference2", "เลขอ้างอิง2", "รหัสอ้างอิง2", "ค่าอ้างอิง2"}),
)
DELIMITERS = (",", ";", "\t", "|")
LIMITS = {"txn_ref": 64, "ref1": 20, "ref2": 20}


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", (name or "").replace("\ufeff", "").strip().lower())


# --- reasons (codes stored, words shown) ---------------------------------------------------------------------

REASONS = {
    "short_row": _l("it has %(found)d columns, the header has %(expected)d"),
    "no_txn_ref": _l("the bank's transaction reference is missing"),
    "long_value": _l("%(column)s is longer than %(limit)d characters"),
    "no_date": _l("the payment date is missing"),
    "bad_date": _l("the payment date %(value)s is not a date (use 2026-12-05 or 05/12/2569)"),
    "future_date": _l("the payment date %(value)s is in the future"),
    "no_amount": _l("the amount is missing"),
    "bad_amount": _l("the amount %(value)s is not valid (use e.g. 1,234.50)"),
    "no_ref1": _l("Ref1 (the account number) is missing"),
    "no_ref2": _l("Ref2 (the period) is missing"),
    "seen_receipt": _l("transaction %(txn)s was already paid by receipt %(receipt)s"),
    "seen_import": _l("transaction %(txn)s was already in import no. %(import_id)d, line %(line)d"),
    "seen_line": _l("transaction %(txn)s is also on line %(line)d of this file"),
    "no_account": _l("no account number %(ref1)s"),
    "bad_period": _l("Ref2 %(ref2)s is not a billing period (Buddhist-era year and month, e.g. 256912)"),
    "no_bill": _l("account %(ref1)s has no bill for the period %(period)s"),
    "paid_already": _l("the bill of %(period)s of account %(ref1)s was already paid (receipt %(receipt)s)"),
    "wrong_amount": _l("%(amount)s baht was paid but %(due)s baht is due on %(day)s"),
    "wrong_amount_late": _l("%(amount)s baht was paid but %(due)s baht is due on %(day)s (the bill %(bill)s "
                            "baht plus the late surcharge %(surcharge)s baht, due date %(due_date)s)"),
    "paid": _l("paid the bill of %(period)s of account %(ref1)s, receipt %(receipt)s"),
    "resolved_bill": _l("resolved by %(actor)s: paid the bill of %(period)s of account %(ref1)s, receipt "
                        "%(receipt)s"),
    "resolved_outside": _l("resolved by %(actor)s, handled outside this system: %(note)s"),
}


def _reason(code: str, **params) -> list:
    return [code, params]


def _encode(reasons: list) -> str:
    return json.dumps(reasons, ensure_ascii=False)


def reasons_of(line: BankImportLine) -> list[str]:
    """The line's reasons, worded in the reader's language."""
    if not line.message:
        return []
    try:
        items = json.loads(line.message)
    except ValueError:  # a plain message
        return [line.message]
    words = []
    for code, params in items:
        template = REASONS.get(code)
        if template is None:
            words.append(str(params.get("text", code)))
            continue
        words.append(str(template) % params if params else str(template))
    return words


def describe(line: BankImportLine) -> str:
    """บรรทัด 7: จำนวนเงิน abc ไม่ถูกต้อง ..."""
    reasons = reasons_of(line)
    if not reasons:
        return ""
    return _("Line %(line)d: %(reasons)s", line=line.line_no, reasons="; ".join(reasons))


# --- reading a file -----------------------------------------------------------------------------------------

def decode(data: bytes) -> str:
    """UTF-8 (with or without a BOM) or TIS-620 / Windows-874, as Thai bank exports come."""
    if b"\x00" in data:
        raise UserError(_("This file is not a CSV text file. Export the bank's payment report as CSV."), 422)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp874")  # a superset of TIS-620
    except UnicodeDecodeError:
        raise UserError(_("The file's characters cannot be read: save it as CSV in UTF-8 or TIS-620 "
                          "(Thai Windows)."), 422) from None


def _header(lines: list[str]) -> tuple[str, list[str], dict[str, int]]:
    """The delimiter, the header's names and {field: column index}; refuses a header missing columns."""
    first = next((i for i, text in enumerate(lines) if text.strip()), None)
    if first is None:
        raise UserError(_("The file is empty."), 422)
    best = None
    for delimiter in DELIMITERS:
        names = next(csv.reader([lines[first]], delimiter=delimiter))
        found = {}
        for index, name in enumerate(names):
            key = _norm(name)
            for fieldname, _th, _en, spellings in COLUMNS:
                if key in spellings and fieldname not in found:
                    found[fieldname] = index
        if best is None or len(found) > len(best[2]):
            best = (delimiter, names, found)
    delimiter, names, found = best
    missing = [(th, en) for fieldname, th, en, _spellings in COLUMNS if fieldname not in found]
    if missing:
        shown = ", ".join(f"{th} ({en})" if th != en else th for th, en in missing)
        raise UserError(_("The file lacks the columns %(columns)s. Its first line must name the columns: "
                          "เลขที่อ้างอิงธนาคาร (txn_ref), วันที่ชำระ (paid_on), จำนวนเงิน (amount), Ref1, Ref2.",
                          columns=shown), 422)
    return delimiter, names, found


def parse_date(text: str) -> date:
    """2026-12-05 or 05/12/2569 or 05/12/2026 (a year of 2400 or more is พ.ศ.); a time after it is ignored."""
    text = re.sub(r"[\sT]+\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(น\.)?$", "", text.strip())
    iso = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text)
    dmy = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", text)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    elif dmy:
        day, month, year = (int(g) for g in dmy.groups())
    else:
        raise ValueError(text)
    if year >= thai.MIN_BE_YEAR:
        year -= thai.BE_OFFSET
    return date(year, month, day)


def parse_amount(text: str) -> Decimal:
    cleaned = re.sub(r"(บาท|baht|thb|฿|\s|,)", "", text.strip(), flags=re.I)
    if not re.fullmatch(r"\d+(\.\d{1,2})?", cleaned):
        raise ValueError(text)
    amount = Decimal(cleaned)
    if amount <= 0:
        raise ValueError(text)
    return amount.quantize(Decimal("0.01"))


@dataclass
class ParsedLine:
    line_no: int
    raw: str
    values: dict = field(default_factory=dict)
    reasons: list = field(default_factory=list)


def _check(line_no: int, raw: str, row: list[str], names: list[str], columns: dict[str, int]) -> ParsedLine:
    parsed = ParsedLine(line_no, raw)
    if len(row) < len(names):
        parsed.reasons.append(_reason("short_row", found=len(row), expected=len(names)))

    def cell(fieldname: str) -> str:
        index = columns[fieldname]
        return row[index].strip() if index < len(row) else ""

    for fieldname, missing in (("txn_ref", "no_txn_ref"), ("ref1", "no_ref1"), ("ref2", "no_ref2")):
        text = cell(fieldname)
        if not text:
            parsed.reasons.append(_reason(missing))
        elif len(text) > LIMITS[fieldname]:
            parsed.reasons.append(_reason("long_value", column=fieldname, limit=LIMITS[fieldname]))
        else:
            parsed.values[fieldname] = text
    text = cell("paid_on")
    if not text:
        parsed.reasons.append(_reason("no_date"))
    else:
        try:
            paid_on = parse_date(text)
        except ValueError:
            parsed.reasons.append(_reason("bad_date", value=text[:40]))
        else:
            if paid_on > thai.today_bangkok():
                parsed.reasons.append(_reason("future_date", value=text[:40]))
            else:
                parsed.values["paid_on"] = paid_on
    text = cell("amount")
    if not text:
        parsed.reasons.append(_reason("no_amount"))
    else:
        try:
            parsed.values["amount"] = parse_amount(text)
        except (ValueError, InvalidOperation):
            parsed.reasons.append(_reason("bad_amount", value=text[:40]))
    return parsed


def read(data: bytes) -> list[ParsedLine]:
    """Every data line of a file with its values and the problems found; refuses a file that is too big, is not
    CSV text or lacks a required column."""
    if len(data) > MAX_BYTES:
        raise UserError(_("The file is larger than %(mb)d MB. Split it into smaller files.",
                          mb=MAX_BYTES // (1024 * 1024)), 413)
    text = decode(data)
    lines = text.splitlines()
    delimiter, names, columns = _header(lines)
    header_at = next(i for i, t in enumerate(lines) if t.strip())
    body = lines[header_at + 1:]
    if len(body) > MAX_LINES:
        raise UserError(_("The file has more than %(count)s lines. Split it into smaller files.",
                          count=f"{MAX_LINES:,}"), 413)
    reader = csv.reader(body, delimiter=delimiter)
    parsed, start = [], 0
    try:
        for row in reader:
            end = reader.line_num
            raw = "\n".join(body[start:end])
            line_no = header_at + 2 + start  # as a spreadsheet numbers it: the header is line 1
            start = end
            if not any(cell.strip() for cell in row):
                continue  # a blank line is no payment
            parsed.append(_check(line_no, raw, row, names, columns))
    except csv.Error:
        raise UserError(_("Line %(line)d cannot be read as CSV (a quote is not closed).",
                          line=header_at + 2 + start), 422) from None
    if not parsed:
        raise UserError(_("The file has no payment lines under its header."), 422)
    return parsed


# --- storing and applying -----------------------------------------------------------------------------------


def store(data: bytes, filename: str, user) -> BankImport:
    """The import with every line stored as pending (raw text kept), or a UserError with nothing written.
    The caller commits (and queues apply)."""
    parsed = read(data)
    name = os.path.basename((filename or "").replace("\\", "/")).strip()[:255] or "bank.csv"
    batch = BankImport(filename=name, sha256=hashlib.sha256(data).hexdigest(), status=QUEUED,
                       line_count=len(parsed), uploaded_by_id=user.id if user else None,
                       uploaded_by_name=person_name(user) if user else "")
    db.session.add(batch)
    db.session.flush()
    tenant_id = require_tenant_id()
    rows = [{
        "tenant_id": tenant_id, "import_id": batch.id, "line_no": p.line_no, "raw": p.raw, "status": PENDING,
        "txn_ref": p.values.get("txn_ref"), "paid_on": p.values.get("paid_on"), "amount": p.values.get("amount"),
        "ref1": p.values.get("ref1"), "ref2": p.values.get("ref2"),
        # problems found in reading: apply marks the line malformed with them
        "message": _encode(p.reasons) if p.reasons else None,
    } for p in parsed]
    for index in range(0, len(rows), 1000):
        db.session.execute(insert(BankImportLine), rows[index:index + 1000])
    return batch


def uploaded_before(batch: BankImport) -> BankImport | None:
    """An earlier import of the very same file (its lines will show as duplicates)."""
    return db.session.scalar(select(BankImport).where(BankImport.sha256 == batch.sha256, BankImport.id != batch.id)
                             .order_by(BankImport.id).limit(1))


def _normal_period(ref2: str) -> date | None:
    """Ref2 "256912" (or 2569-12) -> 1 December 2026; None when it is no period code."""
    text = ref2.strip()
    match = re.fullmatch(r"(\d{4})[-/]?(\d{2})", text)
    if not match:
        return None
    year_be, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or not 2500 <= year_be <= 2700:
        return None
    return date(year_be - thai.BE_OFFSET, month, 1)


class _Matcher:
    """What one import needs to decide its lines: due amounts per day, the accounts by number."""

    def __init__(self):
        self.calculators: dict[date, DueCalculator] = {}
        self.accounts: dict[str, WasteAccount | None] = {}

    def due(self, bill: WasteInvoice, on: date):
        if on not in self.calculators:
            self.calculators[on] = DueCalculator(on)
        return self.calculators[on].due(bill)

    def account(self, account_no: str) -> WasteAccount | None:
        if account_no not in self.accounts:
            self.accounts[account_no] = db.session.scalar(
                select(WasteAccount).where(WasteAccount.account_no == normal_account_no(account_no)))
        return self.accounts[account_no]


@dataclass
class Match:
    account: WasteAccount | None = None
    bill: WasteInvoice | None = None
    reason: list | None = None  # why it is unmatched


def _receipt_label(receipt_id: int | None) -> str:
    if receipt_id is None:
        return "-"
    found = db.session.get(WasteReceipt, receipt_id)
    return found.label if found else str(receipt_id)


def find_bill(matcher: _Matcher, ref1: str, ref2: str, amount: Decimal, paid_on: date) -> Match:
    """The unpaid bill of account Ref1 for period Ref2 whose amount due on `paid_on` is `amount`, or why not."""
    account = matcher.account(ref1.strip())
    if account is None:
        return Match(reason=_reason("no_account", ref1=ref1))
    start = _normal_period(ref2)
    if start is None:
        return Match(account, reason=_reason("bad_period", ref2=ref2))
    label = f"{start.month:02d}/{thai.be_year(start)}"
    bill = db.session.scalar(select(WasteInvoice).where(WasteInvoice.account_id == account.id,
                                                        WasteInvoice.period_start == start))
    if bill is None:
        return Match(account, reason=_reason("no_bill", ref1=ref1, period=label))
    if bill.receipt_id is not None:
        return Match(account, bill, _reason("paid_already", ref1=ref1, period=label,
                                            receipt=_receipt_label(bill.receipt_id)))
    due = matcher.due(bill, paid_on)
    if due.total != amount:
        day = thai.format_date_input(paid_on)
        if due.late:
            return Match(account, bill, _reason(
                "wrong_amount_late", amount=f"{amount:,.2f}", due=f"{due.total:,.2f}", day=day,
                bill=f"{due.amount:,.2f}", surcharge=f"{due.surcharge:,.2f}",
                due_date=thai.format_date_input(bill.due_date)))
        return Match(account, bill, _reason("wrong_amount", amount=f"{amount:,.2f}", due=f"{due.total:,.2f}",
                                            day=day))
    return Match(account, bill)


class _Seen:
    """Transaction references already met, for one import: its own earlier lines (kept in memory as the lines
    are applied in file order) and, fetched once per chunk, receipts and other imports' lines."""

    def __init__(self, batch: BankImport):
        self.batch_id = batch.id
        self.in_file: dict[str, int] = {}
        for txn, line_no in db.session.execute(
                select(BankImportLine.txn_ref, BankImportLine.line_no)
                .where(BankImportLine.import_id == batch.id, BankImportLine.txn_ref.is_not(None),
                       BankImportLine.status.not_in((PENDING, MALFORMED)))
                .order_by(BankImportLine.line_no)):
            self.in_file.setdefault(txn, line_no)  # an interrupted run goes on knowing what it did
        self.receipts: dict[str, str] = {}
        self.others: dict[str, tuple[int, int]] = {}

    def prefetch(self, lines: list[BankImportLine]) -> None:
        refs = sorted({line.txn_ref for line in lines if line.txn_ref})
        self.receipts = {r.bank_txn_ref: r.label for r in db.session.scalars(
            select(WasteReceipt).where(WasteReceipt.bank_txn_ref.in_(refs)))} if refs else {}
        self.others = {}
        if refs:
            for txn, import_id, line_no in db.session.execute(
                    select(BankImportLine.txn_ref, BankImportLine.import_id, BankImportLine.line_no)
                    .where(BankImportLine.txn_ref.in_(refs), BankImportLine.import_id != self.batch_id,
                           BankImportLine.status.in_((APPLIED, UNMATCHED, RESOLVED)))
                    .order_by(BankImportLine.import_id, BankImportLine.line_no)):
                self.others.setdefault(txn, (import_id, line_no))

    def why(self, line: BankImportLine) -> list | None:
        """Why the line's reference is a duplicate (an earlier line of this file, a receipt, another import's
        line left for review or resolved there: not listed twice), or None."""
        txn = line.txn_ref
        if txn in self.in_file and self.in_file[txn] < line.line_no:
            return _reason("seen_line", txn=txn, line=self.in_file[txn])
        if txn in self.receipts:
            return _reason("seen_receipt", txn=txn, receipt=self.receipts[txn])
        if txn in self.others:
            import_id, line_no = self.others[txn]
            return _reason("seen_import", txn=txn, import_id=import_id, line=line_no)
        return None

    def done(self, line: BankImportLine) -> None:
        if line.txn_ref and line.status != MALFORMED:
            self.in_file.setdefault(line.txn_ref, line.line_no)


def _apply_line(batch: BankImport, line: BankImportLine, matcher: _Matcher, seen_refs: _Seen) -> None:
    if line.message:  # what reading the file found
        line.status = MALFORMED
        return
    seen = seen_refs.why(line)
    if seen is not None:
        line.status, line.message = DUPLICATE, _encode([seen])
        return
    found = find_bill(matcher, line.ref1, line.ref2, line.amount, line.paid_on)
    if found.reason is not None:
        line.status, line.message = UNMATCHED, _encode([found.reason])
        return
    period = f"{found.bill.period_start.month:02d}/{thai.be_year(found.bill.period_start)}"
    try:
        receipt = receipts.issue(
            found.account, [found.bill], paid_on=line.paid_on, method=PROMPTPAY, channel=BANK_FILE,
            actor_id=batch.uploaded_by_id, actor_name=batch.uploaded_by_name, bank_txn_ref=line.txn_ref,
            expected_total=line.amount)
    except UserError as exc:
        _refused(line, exc, period)
        return
    line.status, line.receipt_id = APPLIED, receipt.id
    line.message = _encode([_reason("paid", period=period, ref1=line.ref1, receipt=receipt.label)])


def _refused(line: BankImportLine, exc: UserError, period: str) -> None:
    """receipts.issue refused the line: another import took its transaction meanwhile (the unique constraint),
    or someone paid the bill meanwhile; anything else is for review with its message."""
    if exc.status == 409:
        receipt = db.session.scalar(select(WasteReceipt).where(WasteReceipt.bank_txn_ref == line.txn_ref))
        if receipt is not None:
            line.status = DUPLICATE
            line.message = _encode([_reason("seen_receipt", txn=line.txn_ref, receipt=receipt.label)])
            return
        bill = db.session.scalar(select(WasteInvoice).join(WasteAccount, WasteAccount.id == WasteInvoice.account_id)
                                 .where(WasteAccount.account_no == normal_account_no(line.ref1),
                                        WasteInvoice.period_start == _normal_period(line.ref2)))
        line.status = UNMATCHED
        line.message = _encode([_reason("paid_already", ref1=line.ref1, period=period,
                                        receipt=_receipt_label(bill.receipt_id if bill else None))])
        return
    line.status, line.message = UNMATCHED, _encode([_reason("refused", text=exc.message)])


def recount(batch: BankImport) -> None:
    counts = dict(db.session.execute(select(BankImportLine.status, func.count(BankImportLine.id))
                                     .where(BankImportLine.import_id == batch.id)
                                     .group_by(BankImportLine.status)).all())
    batch.applied = counts.get(APPLIED, 0)
    batch.duplicates = counts.get(DUPLICATE, 0)
    batch.unmatched = counts.get(UNMATCHED, 0) + counts.get(RESOLVED, 0)  # resolved lines were unmatched
    batch.malformed = counts.get(MALFORMED, 0)


def apply(import_id: int) -> BankImport | None:
    """Apply an import's pending lines, each in its own savepoint, committing every CHUNK lines. A finished
    import is left as it is; a failed or interrupted one goes on with the lines still pending. Returns None
    when there is no such import in this tenant."""
    batch = db.session.scalar(select(BankImport).where(BankImport.id == import_id))
    if batch is None:
        return None
    if batch.status == DONE:
        return batch
    batch.status, batch.error = RUNNING, None
    db.session.commit()
    matcher, seen = _Matcher(), _Seen(batch)
    try:
        while True:
            lines = db.session.scalars(
                select(BankImportLine).where(BankImportLine.import_id == batch.id, BankImportLine.status == PENDING)
                .order_by(BankImportLine.line_no).limit(CHUNK)
                # a redelivered task running beside the first one takes other lines, never the same line
                .with_for_update(skip_locked=True)).all()
            if not lines:
                break
            seen.prefetch(lines)
            for line in lines:
                with db.session.begin_nested():
                    _apply_line(batch, line, matcher, seen)
                seen.done(line)
            recount(batch)
            db.session.commit()
            matcher.accounts.clear()  # bills paid by other clerks meanwhile are read afresh
    except Exception as exc:
        db.session.rollback()
        batch = db.session.scalar(select(BankImport).where(BankImport.id == import_id))
        batch.status, batch.error = FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        recount(batch)
        db.session.commit()
        raise
    recount(batch)
    batch.status, batch.finished_at = DONE, utcnow()
    db.session.commit()
    return batch


# --- review -------------------------------------------------------------------------------------------------

def line_or_none(line_id: int) -> BankImportLine | None:
    return db.session.scalar(select(BankImportLine).where(BankImportLine.id == line_id))


def _claim(line: BankImportLine, actor_name: str) -> None:
    """Take an unmatched line for resolving, once: two clerks at the same moment cannot both resolve it."""
    claimed = db.session.execute(
        update(BankImportLine).where(BankImportLine.id == line.id, BankImportLine.status == UNMATCHED)
        .values(status=RESOLVED, resolved_by_name=actor_name, resolved_at=utcnow())
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise UserError(_("This line has already been resolved."), 409)


def _old_reasons(line: BankImportLine) -> list:
    try:
        return json.loads(line.message) if line.message else []
    except ValueError:
        return [["refused", {"text": line.message}]]


def resolve_by_bill(line: BankImportLine, account_no: str, period_code: str, user) -> WasteReceipt:
    """Pay the bill staff chose (account number + period) with the line's transaction and amount. Raises
    UserError with nothing written. The caller commits."""
    if line.status != UNMATCHED:
        raise UserError(_("This line has already been resolved."), 409)
    errors = []
    account_no = "".join(str(account_no or "").split())
    if not account_no:
        errors.append(_("Enter the account number."))
    start = _normal_period(str(period_code or ""))
    if start is None:
        errors.append(_("Give the period as the Buddhist-era year and month, e.g. 2569-12."))
    if errors:
        raise UserError(" ".join(errors), 422)
    account = db.session.scalar(select(WasteAccount).where(WasteAccount.account_no == normal_account_no(account_no)))
    if account is None:
        raise UserError(_("There is no account number %(number)s.", number=account_no), 404)
    bill = db.session.scalar(select(WasteInvoice).where(WasteInvoice.account_id == account.id,
                                                        WasteInvoice.period_start == start))
    label = f"{start.month:02d}/{thai.be_year(start)}"
    if bill is None:
        raise UserError(_("Account %(number)s has no bill for the period %(period)s.", number=account_no,
                          period=label), 404)
    if bill.receipt_id is not None:
        raise UserError(_("The bill of %(period)s of account %(number)s has already been paid.",
                          period=label, number=account_no), 409)
    actor = person_name(user)
    with db.session.begin_nested():
        _claim(line, actor)
        receipt = receipts.issue(account, [bill], paid_on=line.paid_on, method=PROMPTPAY, channel=BANK_FILE,
                                 actor_id=user.id, actor_name=actor, bank_txn_ref=line.txn_ref,
                                 expected_total=line.amount)
        db.session.refresh(line)
        line.receipt_id = receipt.id
        line.message = _encode(_old_reasons(line) + [
            _reason("resolved_bill", actor=actor, period=label, ref1=account_no, receipt=receipt.label)])
    _recount_of(line)
    return receipt


def resolve_outside(line: BankImportLine, note: str, user) -> BankImportLine:
    """Mark an unmatched line handled outside this system (refunded, other income...), with a required note."""
    if line.status != UNMATCHED:
        raise UserError(_("This line has already been resolved."), 409)
    note = " ".join(str(note or "").split())
    if not note:
        raise UserError(_("Write what was done with this payment (e.g. refunded, recorded as other income)."),
                        422)
    if len(note) > 500:
        raise UserError(_("The note has at most 500 characters."), 422)
    actor = person_name(user)
    with db.session.begin_nested():
        _claim(line, actor)
        db.session.refresh(line)
        line.message = _encode(_old_reasons(line) + [_reason("resolved_outside", actor=actor, note=note)])
    _recount_of(line)
    return line


def _recount_of(line: BankImportLine) -> None:
    batch = db.session.scalar(select(BankImport).where(BankImport.id == line.import_id))
    if batch is not None:
        recount(batch)


def for_review(limit: int = 300) -> tuple[list[BankImportLine], int]:
    """Unmatched lines of every import, oldest first, and how many there are."""
    where = BankImportLine.status == UNMATCHED
    rows = db.session.scalars(select(BankImportLine).where(where)
                              .order_by(BankImportLine.import_id, BankImportLine.line_no).limit(limit)).all()
    return rows, db.session.scalar(select(func.count(BankImportLine.id)).where(where))


def lines_by_status(batch: BankImport, limit: int = 500) -> dict[str, tuple[list[BankImportLine], int]]:
    """{status: (its first `limit` lines in file order, how many it has)} for the statuses the import has."""
    counts = dict(db.session.execute(select(BankImportLine.status, func.count(BankImportLine.id))
                                     .where(BankImportLine.import_id == batch.id)
                                     .group_by(BankImportLine.status)).all())
    return {status: (db.session.scalars(select(BankImportLine).where(BankImportLine.import_id == batch.id,
                                                                     BankImportLine.status == status)
                                        .order_by(BankImportLine.line_no).limit(limit)).all(), counts[status])
            for status in STATUSES if counts.get(status)}


def imports(limit: int = 200) -> tuple[list[BankImport], int]:
    rows = db.session.scalars(select(BankImport).order_by(BankImport.id.desc()).limit(limit)).all()
    return rows, db.session.scalar(select(func.count(BankImport.id)))


def get(import_id: int) -> BankImport | None:
    return db.session.scalar(select(BankImport).where(BankImport.id == import_id))


"""The billing run (การออกใบแจ้งหนี้ประจำงวด): every account served in a period gets one bill, in chunks of
accounts ordered by id, each chunk written with one bulk INSERT ... ON CONFLICT DO NOTHING and committed
together with the run's cursor. A crash loses at most the chunk in progress (rolled back) and the run resumes
from the cursor; a bill is unique per account and period, so running a period again creates nothing already
there. No ORM object is made per bill: a million accounts are a few hundred statements.

Decisions (see the issue's shared design): an account is billed for a period when it is served on at least one
of its days; at the tier in force on its first day of service in the period; the amount is the schedule's
fee for that tier for the whole period (a part of a month counts as a month); due on the run's due date.
A tier the schedule cannot price is never billed at a guess: its accounts are listed on the run with the
reason, and a later run of the same period bills them once the schedule is corrected."""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, column, func, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite

from app import thai
from app.billing import tariff as tariffs
from app.billing.models import BillingRun, WasteAccount, WasteAccountTier, WasteInvoice
from app.catalog.fees import FeeInputError
from app.extensions import db
from app.tenancy.context import require_tenant_id
from app.tenancy.errors import UserError
from app.tenancy.models import utcnow

log = logging.getLogger(__name__)

CHUNK_SIZE = 5000
# at most this many account numbers are kept per unpriceable tier (the count is always exact)
SKIPPED_LISTED = 1000
# a run queued or running with no chunk committed for this long has lost its worker: it may be resumed
STALE_AFTER = timedelta(minutes=10)
# the newest runs a list shows
LIST_LIMIT = 100

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
UNFINISHED = (QUEUED, RUNNING, FAILED)
STATUS_NAMES = {QUEUED: _l("Queued"), RUNNING: _l("Billing"), DONE: _l("Done"), FAILED: _l("Failed")}
STALLED_NAME = _l("Stopped")

# pg_advisory_xact_lock key: starting a run is serialised per tenant (two clerks, one period, one run)
_START_LOCK = 7_001


# --- periods ---------------------------------------------------------------------------------------------

def parse_period(value, conf=None) -> tariffs.Period:
    """A date (the period it starts) or a period code: 2569-12, 256912, 12/2569. UserError when wrong."""
    conf = conf or tariffs.settings()
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return tariffs.period(value, conf)
    return tariffs.period_from_code(str(value or ""), conf)


def current_period_start(today: date | None = None, conf=None) -> date:
    """The first day of the period that today falls in (the start form's default)."""
    conf = conf or tariffs.settings()
    today = today or thai.today_bangkok()
    months = conf.period_months if conf.period_months in tariffs.PERIOD_MONTHS else 1
    return date(today.year, (today.month - 1) // months * months + 1, 1)


period_label = tariffs.period_label  # what the run screens and the CLI call it


KIND_NAMES = {"household": _l("Household"), "business": _l("Shop / business")}


def tier_label(kind: str, litres: str) -> str:
    """บ้านเรือน วันละ 600 ลิตร (a skipped tier as the run lists it)."""
    if not kind:
        return "-"
    try:
        number = Decimal(str(litres))
        litres = f"{number.normalize():f}" if number == number.to_integral_value() else f"{number:f}".rstrip("0")
    except ArithmeticError:
        pass
    return _("%(kind)s, %(litres)s litres a day", kind=str(KIND_NAMES.get(kind, kind)), litres=litres)


def period_code(start: date) -> str:
    """2569-12: what the start form and the CLI take."""
    return f"{thai.be_year(start)}-{start.month:02d}"


def served(start: date, end: date):
    """Served on at least one day of [start, end]: started by its end, not closed before its start."""
    return and_(WasteAccount.start_date <= end,
                or_(WasteAccount.end_date.is_(None), WasteAccount.end_date >= start))


def count_served(period: tariffs.Period) -> int:
    return db.session.scalar(select(func.count(WasteAccount.id)).where(
        WasteAccount.tenant_id == require_tenant_id(), served(period.start, period.end))) or 0


# --- the run's life --------------------------------------------------------------------------------------

def _now() -> datetime:
    return utcnow()


def is_stalled(run: BillingRun, now: datetime | None = None) -> bool:
    """Queued or running, and no chunk committed for STALE_AFTER: its worker died or never came."""
    if run.status not in (QUEUED, RUNNING):
        return False
    last = run.updated_at or run.started_at or run.created_at
    return last is not None and (now or _now()) - last > STALE_AFTER


def resumable(run: BillingRun) -> bool:
    return run.status == FAILED or is_stalled(run)


def status_name(run: BillingRun) -> str:
    return str(STALLED_NAME if is_stalled(run) else STATUS_NAMES.get(run.status, run.status))


def _lock_starts(tenant_id: int) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key, :tenant)"),
                           {"key": _START_LOCK, "tenant": tenant_id})


def start(period_code_or_date, actor_name: str) -> BillingRun:
    """A new run of a period (queued), or the period's unfinished run to be resumed instead of a second one.
    UserError when the period is not one of the organisation's or no fee schedule prices it. The caller
    commits and queues it (tasks.queue) or executes it."""
    return _start(period_code_or_date, actor_name)[0]


def launch(period_code_or_date, actor_name: str) -> tuple[BillingRun, bool, bool]:
    """What the screen and the CLI do: start the period, or resume its unfinished run if that failed or
    stopped. (run, found an unfinished run, the caller must queue it). The caller commits."""
    run, existing = _start(period_code_or_date, actor_name)
    if not existing:
        return run, False, True
    if resumable(run):
        resume(run)
        return run, True, True
    return run, True, False  # queued or running right now: a second task would only wait for it


def _start(period_code_or_date, actor_name: str) -> tuple[BillingRun, bool]:
    tenant_id = require_tenant_id()
    conf = tariffs.settings()
    period = parse_period(period_code_or_date, conf)
    tariffs.tariff(period.start, conf)  # the service and a schedule in force, or a clear error now
    _lock_starts(tenant_id)
    unfinished = db.session.scalar(
        select(BillingRun).where(BillingRun.tenant_id == tenant_id, BillingRun.period_start == period.start,
                                 BillingRun.status.in_(UNFINISHED))
        .order_by(BillingRun.id.desc()).limit(1))
    if unfinished is not None:
        return unfinished, True
    run = BillingRun(
        tenant_id=tenant_id, period_start=period.start, period_end=period.end, due_date=period.due,
        status=QUEUED, total_accounts=count_served(period), processed=0, created_count=0,
        amount_total=Decimal("0.00"), last_account_id=0, skipped_count=0, skipped=[],
        started_by_name=(actor_name or "")[:200],
    )
    db.session.add(run)
    db.session.flush()
    return run, False


def resume(run: BillingRun) -> BillingRun:
    """A failed or stalled run back in the queue; it goes on from its cursor. The caller commits and queues."""
    if not resumable(run):
        if run.status == DONE:
            raise UserError(_("This billing run has finished; there is nothing to resume."), 409)
        raise UserError(_("This billing run is still in progress; it can be resumed only if it fails or stops "
                          "for %(minutes)d minutes.", minutes=int(STALE_AFTER.total_seconds() // 60)), 409)
    run.status, run.error, run.updated_at = QUEUED, None, _now()
    db.session.flush()
    return run


def get(run_id: int) -> BillingRun | None:
    """The current tenant's run (the guard hides every other tenant's)."""
    return db.session.scalar(select(BillingRun).where(BillingRun.id == run_id,
                                                      BillingRun.tenant_id == require_tenant_id()))


def recent(limit: int = LIST_LIMIT) -> tuple[list[BillingRun], int]:
    """The newest runs and how many there are in all."""
    tenant_id = require_tenant_id()
    rows = db.session.scalars(select(BillingRun).where(BillingRun.tenant_id == tenant_id)
                              .order_by(BillingRun.id.desc()).limit(limit)).all()
    total = db.session.scalar(select(func.count(BillingRun.id)).where(BillingRun.tenant_id == tenant_id)) or 0
    return list(rows), total


def progress(run: BillingRun) -> dict:
    """What the progress page polls (plain values only)."""
    total = max(run.total_accounts or 0, run.processed or 0)
    return {
        "id": run.id, "status": run.status, "status_name": status_name(run), "period": period_label(run.period_start),
        "processed": run.processed, "total": total,
        "percent": 100 if run.status == DONE else (int(run.processed * 100 / total) if total else 0),
        "created": run.created_count, "amount": f"{run.amount_total:.2f}",
        "amount_text": thai.format_baht(run.amount_total), "skipped": run.skipped_count,
        "error": run.error, "finished": run.status == DONE, "resumable": resumable(run),
    }


# --- executing -------------------------------------------------------------------------------------------

def _insert(table):
    name = db.session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"billing runs need PostgreSQL or SQLite, not {name}")


INVOICE_COLUMNS = ("tenant_id", "account_id", "run_id", "period_start", "period_end", "due_date", "premises_kind",
                   "litres_per_day", "fee_code", "amount", "surcharge", "created_at")
CONFLICT = ("tenant_id", "account_id", "period_start")  # uq_waste_invoices_period


def _insert_invoices(rows: list[dict]) -> tuple[int, Decimal]:
    """One bulk INSERT ... ON CONFLICT DO NOTHING; (bills created, their total). Bills already there (a second
    run of the period, or a chunk redone after a crash) are left as they are and not counted."""
    if not rows:
        return 0, Decimal("0.00")
    table = WasteInvoice.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        # the chunk as one array per varying column, unnested by the server, and the columns alike in every
        # row (tenant, run, period) as one value: a single statement with a dozen parameters (a VALUES list
        # of 5,000 rows costs the driver more than the database)
        first = rows[0]
        same = [name for name in INVOICE_COLUMNS
                if name != "account_id" and all(row[name] == first[name] for row in rows)]
        varying = [name for name in INVOICE_COLUMNS if name not in same]
        source = func.unnest(*[bindparam(f"rows_{name}", [row[name] for row in rows],
                                         type_=postgresql.ARRAY(table.c[name].type)) for name in varying]
                             ).table_valued(*[column(name, table.c[name].type) for name in varying]
                                            ).render_derived()
        values = {name: source.c[name] for name in varying}
        values.update({name: bindparam(f"one_{name}", first[name], type_=table.c[name].type) for name in same})
        stmt = (postgresql.insert(table).from_select(list(INVOICE_COLUMNS),
                                                     select(*[values[name] for name in INVOICE_COLUMNS]))
                .on_conflict_do_nothing(index_elements=list(CONFLICT)).returning(table.c.amount))
        amounts = db.session.execute(stmt).scalars().all()
    else:
        stmt = (_insert(table).on_conflict_do_nothing(index_elements=list(CONFLICT)).returning(table.c.amount))
        amounts = db.session.execute(stmt, rows).scalars().all()
    return len(amounts), sum((Decimal(a) for a in amounts), Decimal("0.00"))


def _tiers_by_account(tenant_id: int, first_id: int, last_id: int, until: date) -> dict[int, list]:
    """Every tier of the chunk's accounts that starts by `until`, in one query, oldest first."""
    out: dict[int, list] = {}
    rows = db.session.execute(
        select(WasteAccountTier.account_id, WasteAccountTier.effective_from, WasteAccountTier.premises_kind,
               WasteAccountTier.litres_per_day)
        .where(WasteAccountTier.tenant_id == tenant_id, WasteAccountTier.account_id >= first_id,
               WasteAccountTier.account_id <= last_id, WasteAccountTier.effective_from <= until)
        .order_by(WasteAccountTier.account_id, WasteAccountTier.effective_from))
    for account_id, effective_from, kind, litres in rows:
        out.setdefault(account_id, []).append((effective_from, kind, litres))
    return out


def _tier_on(tiers: list, day: date):
    found = None
    for effective_from, kind, litres in tiers:  # oldest first: the last one starting by `day` is in force
        if effective_from > day:
            break
        found = (kind, litres)
    return found


class _Pricer:
    """Each distinct tier priced once per run; a tier the schedule cannot price keeps its reason."""

    def __init__(self, tariff: tariffs.Tariff):
        self.tariff = tariff
        self.refused: dict[tuple, str] = {}

    def price(self, kind: str, litres: Decimal) -> tuple[Decimal, str] | str:
        key = (kind, Decimal(litres))
        if key in self.refused:
            return self.refused[key]
        try:
            amount, code = self.tariff.price(kind, Decimal(litres))
        except FeeInputError as exc:
            self.refused[key] = str(exc)
            return self.refused[key]
        if amount <= 0 or not code:
            self.refused[key] = _("The fee schedule charges no monthly fee for this tier.")
            return self.refused[key]
        return amount, code


def _merge_skipped(run: BillingRun, found: dict[tuple, dict]) -> None:
    if not found:
        return
    entries = [dict(e) for e in (run.skipped or [])]
    index = {(e["kind"], e["litres"]): e for e in entries}
    for (kind, litres), item in found.items():
        entry = index.get((kind, litres))
        if entry is None:
            entry = {"kind": kind, "litres": litres, "reason": item["reason"], "count": 0, "accounts": []}
            entries.append(entry)
            index[(kind, litres)] = entry
        entry["count"] += len(item["accounts"])
        room = SKIPPED_LISTED - len(entry["accounts"])
        if room > 0:
            entry["accounts"] = entry["accounts"] + item["accounts"][:room]
        run.skipped_count += len(item["accounts"])
    run.skipped = entries  # a new list: the JSON column sees the change


def _bill_chunk(run: BillingRun, pricer: _Pricer, size: int) -> int:
    """Bill the next `size` served accounts after the cursor and move the cursor past them, in the current
    transaction. Returns how many accounts it looked at (0: the period is done)."""
    tenant_id = require_tenant_id()
    # with whether the account already has this period's bill (an earlier run): those are counted, not sent
    accounts = db.session.execute(
        select(WasteAccount.id, WasteAccount.account_no, WasteAccount.start_date, WasteInvoice.id.is_not(None))
        .outerjoin(WasteInvoice, and_(WasteInvoice.tenant_id == WasteAccount.tenant_id,
                                      WasteInvoice.account_id == WasteAccount.id,
                                      WasteInvoice.period_start == run.period_start))
        .where(WasteAccount.tenant_id == tenant_id, WasteAccount.id > run.last_account_id,
               served(run.period_start, run.period_end))
        .order_by(WasteAccount.id).limit(size)).all()
    if not accounts:
        return 0
    pending = [a for a in accounts if not a[3]]
    tiers = _tiers_by_account(tenant_id, pending[0].id, pending[-1].id, run.period_end) if pending else {}
    now = _now()
    rows: list[dict] = []
    skipped: dict[tuple, dict] = {}
    no_tier = _("No tier is recorded for the account's first day of service in this period.")
    for account_id, account_no, start_date, billed in accounts:
        if billed:
            continue
        first_day = max(run.period_start, start_date)
        tier = _tier_on(tiers.get(account_id, ()), first_day)
        if tier is None:
            skipped.setdefault(("", ""), {"reason": no_tier, "accounts": []})["accounts"].append(account_no)
            continue
        kind, litres = tier
        priced = pricer.price(kind, litres)
        if isinstance(priced, str):
            key = (kind, f"{Decimal(litres):f}")
            skipped.setdefault(key, {"reason": priced, "accounts": []})["accounts"].append(account_no)
            continue
        amount, fee_code = priced
        rows.append({
            # set here, not by the guard (it stamps ORM objects only): this tenant's accounts, this tenant's id
            "tenant_id": tenant_id, "account_id": account_id, "run_id": run.id,
            "period_start": run.period_start, "period_end": run.period_end, "due_date": run.due_date,
            "premises_kind": kind, "litres_per_day": litres, "fee_code": fee_code, "amount": amount,
            "surcharge": Decimal("0.00"), "created_at": now,
        })
    created, amount_total = _insert_invoices(rows)
    run.last_account_id = accounts[-1].id
    run.processed += len(accounts)
    run.created_count += created
    run.amount_total = (run.amount_total or Decimal("0.00")) + amount_total
    _merge_skipped(run, skipped)
    run.updated_at = now
    return len(accounts)


def _locked(run_id: int) -> BillingRun | None:
    """The run re-read under a row lock: two workers on one run (a redelivered task) take turns per chunk
    and each goes on from the cursor the other committed."""
    return db.session.scalar(
        select(BillingRun).where(BillingRun.id == run_id, BillingRun.tenant_id == require_tenant_id())
        .with_for_update().execution_options(populate_existing=True))


def execute(run_id: int, chunk_size: int | None = None,
            on_progress: Callable[[BillingRun], None] | None = None) -> BillingRun:
    """Bill the run's period from its cursor to the end, committing each chunk. A finished run is left as it
    is (running a task twice does nothing). On an error the chunk in progress is rolled back, the run is
    marked failed with the message and the error raised again; resuming goes on from the cursor."""
    size = max(int(chunk_size or CHUNK_SIZE), 1)
    run = get(run_id)
    if run is None:
        raise UserError(_("No such billing run."), 404)
    if run.status == DONE:
        return run
    try:
        pricer = _Pricer(tariffs.tariff(run.period_start))
        run.status, run.error = RUNNING, None
        run.started_at = run.started_at or _now()
        run.updated_at = _now()
        db.session.commit()
        while True:
            run = _locked(run_id)
            if run is None or run.status != RUNNING:  # finished (or failed) by another worker meanwhile
                db.session.commit()
                break
            if not _bill_chunk(run, pricer, size):
                run.status, run.finished_at, run.updated_at = DONE, _now(), _now()
                run.total_accounts = run.processed  # accounts opened during the run were billed too
                db.session.commit()
                break
            db.session.commit()
            if on_progress is not None:
                on_progress(run)
    except Exception as exc:
        db.session.rollback()
        _fail(run_id, exc)
        raise
    return get(run_id)


def _fail(run_id: int, exc: Exception) -> None:
    message = exc.message if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
    if not isinstance(exc, UserError):
        log.error("billing run %s failed: %s", run_id, message)
    try:
        run = get(run_id)
        if run is not None and run.status != DONE:
            run.status, run.error, run.updated_at = FAILED, message[:2000], _now()
            db.session.commit()
    except Exception:  # the database itself is gone: the run stays "running" and shows as stopped later
        db.session.rollback()
        log.exception("could not mark billing run %s failed", run_id)

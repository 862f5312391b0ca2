"""Billing runs: a period billed twice creates nothing the second time; a run that crashes after a chunk
resumes from its cursor and bills every account once; tiers changed, accounts closed and opened within a
period; a tier the schedule cannot price is listed, never billed at a guess; the screens, the task and the
CLI; and the tenant wall (C's run never bills or counts D's accounts, D's runs are invisible to C).

The runs bill whole organisations, so these tests use two organisations of their own (C and D, look-alikes
with the waste service from the real template): the shared tenants A and B keep only the bills their own
tests make."""
from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import yaml
from sqlalchemy import func, select

from app.billing import accounts, runs, tariff
from app.billing.models import BillingRun, WasteAccount, WasteInvoice
from app.extensions import db
from app.tenancy.context import TenantNotSet, platform_scope, tenant_scope
from app.tenancy.errors import UserError
from tests.billing import waste as waste_fixtures
from tests.billing.waste import TEMPLATE, install_waste_service, open_account

CODES = {"c": "1000071", "d": "1000072"}
TENANT = """
kind: tenant
tenant: {{dla_code: "{code}", type: sao, name_th: องค์การบริหารส่วนตำบลบิล{letter}, name_en: SAO Billing {letter}, province: เชียงใหม่}}
divisions:
  - {{code: finance, name_th: กองคลัง, name_en: Finance Division}}
  - {{code: health, name_th: กองสาธารณสุขและสิ่งแวดล้อม, name_en: Public Health and Environment Division}}
users:
  - {{username: {key}.director, first_name: ผอ, last_name: {letter}, email: director@{key}.test, password: testpass2569,
     memberships: [{{division: finance, role: division_director}}]}}
  - {{username: {key}.officer, first_name: เจ้าหน้าที่, last_name: {letter}, email: officer@{key}.test, password: testpass2569,
     memberships: [{{division: finance, role: officer}}]}}
  - {{username: {key}.mayor, first_name: นายก, last_name: {letter}, email: mayor@{key}.test, password: testpass2569,
     memberships: [{{division: office, role: mayor}}]}}
"""


@pytest.fixture(scope="module")
def billing(app, tmp_path_factory):
    """{"c": WasteTenant, "d": WasteTenant}: two organisations of these tests, with the waste service."""
    from app.seeds.apply import apply_paths
    from app.tenancy.models import Tenant

    made = {}
    for letter, code in CODES.items():
        path = tmp_path_factory.mktemp("seed") / f"tenant_{letter}.yaml"
        path.write_text(TENANT.format(code=code, letter=letter.upper(), key=f"b{letter}"), encoding="utf-8")
        waste_fixtures.BILLER.setdefault(code, f"0994000000{code[-3:]}09")
        with app.app_context():
            plan = apply_paths([str(path)])
            assert not plan.errors, [str(e) for e in plan.errors]
            with platform_scope():
                tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.dla_code == code))
                db.session.remove()
            made[letter] = install_waste_service(tenant_id, code)
    return made


def _served_ids(tenant_id: int, period) -> set[int]:
    with tenant_scope(tenant_id):
        ids = set(db.session.scalars(select(WasteAccount.id).where(runs.served(period.start, period.end))))
        db.session.remove()
    return ids


def _bills(tenant_id: int, start: date) -> dict[int, list[WasteInvoice]]:
    """Bills of a period by account (a list each, so that a second bill would show)."""
    out: dict[int, list] = {}
    with tenant_scope(tenant_id):
        for bill in db.session.scalars(select(WasteInvoice).where(WasteInvoice.period_start == start)):
            db.session.expunge(bill)
            out.setdefault(bill.account_id, []).append(bill)
        db.session.remove()
    return out


def _bill_period(tenant_id: int, code: str, **kwargs) -> BillingRun:
    with tenant_scope(tenant_id):
        run = runs.start(code, "ผู้ทดสอบ")
        db.session.commit()
        run = runs.execute(run.id, **kwargs)
        db.session.expunge(run)
        db.session.remove()
    return run


def _accounts(tenant_id: int, n: int, **overrides) -> list[int]:
    return [open_account(tenant_id, **overrides) for _ in range(n)]


# --- the run -----------------------------------------------------------------------------------------------

def test_a_period_billed_twice_creates_nothing_the_second_time(app, billing):
    c = billing["c"].tenant_id
    with app.app_context():
        mine = _accounts(c, 3)
        period = _period(c, "2570-01")
        first = _bill_period(c, "2570-01")
        served = _served_ids(c, period)
        assert set(mine) <= served
        bills = _bills(c, period.start)
        assert set(bills) == served and all(len(b) == 1 for b in bills.values())
        assert (first.status, first.created_count, first.processed) == (runs.DONE, len(served), len(served))
        assert first.amount_total == sum(b[0].amount for b in bills.values()) == Decimal("40.00") * len(served)
        bill = bills[mine[0]][0]
        assert (bill.period_end, bill.due_date, bill.fee_code, bill.tenant_id, bill.run_id) == (
            date(2027, 1, 31), date(2027, 2, 15), "collection_household", c, first.id)

        second = _bill_period(c, "2570-01")
        assert second.id != first.id  # the first had finished: a new run, which finds everything billed
        assert (second.status, second.created_count, second.processed, second.amount_total) == (
            runs.DONE, 0, len(served), Decimal("0.00"))
        assert _bills(c, period.start).keys() == bills.keys()
        # a finished run executed again (a task delivered twice) does nothing
        with tenant_scope(c):
            again = runs.execute(first.id)
            assert (again.created_count, again.processed) == (first.created_count, first.processed)
            db.session.remove()


def _period(tenant_id, code):
    with tenant_scope(tenant_id):
        found = tariff.period_from_code(code)
        db.session.remove()
    return found


def test_a_crash_after_the_first_chunk_resumes_from_the_cursor(app, billing, monkeypatch):
    c = billing["c"].tenant_id
    with app.app_context():
        _accounts(c, 7)
        period = _period(c, "2570-02")
        served = sorted(_served_ids(c, period))
        assert len(served) >= 8
        real_insert, calls = runs._insert_invoices, []

        def crash_in_second_chunk(rows):
            calls.append(len(rows))
            result = real_insert(rows)  # written, then the worker dies before the chunk commits
            if len(calls) == 2:
                raise RuntimeError("worker lost")
            return result

        monkeypatch.setattr(runs, "_insert_invoices", crash_in_second_chunk)
        with tenant_scope(c):
            run = runs.start("2570-02", "ผู้ทดสอบ")
            db.session.commit()
            run_id = run.id
            with pytest.raises(RuntimeError):
                runs.execute(run_id, chunk_size=3)
            db.session.remove()
            run = runs.get(run_id)
            assert run.status == runs.FAILED and "worker lost" in run.error
            assert (run.last_account_id, run.processed, run.created_count) == (served[2], 3, 3)
            assert runs.resumable(run)
            db.session.remove()
        assert set(_bills(c, period.start)) == set(served[:3])  # the second chunk was rolled back

        monkeypatch.setattr(runs, "_insert_invoices", real_insert)
        with tenant_scope(c):
            assert runs.start("2570-02", "ผู้ทดสอบ").id == run_id  # the unfinished run, not a second one
            runs.resume(runs.get(run_id))
            db.session.commit()
            run = runs.execute(run_id, chunk_size=3)
            assert (run.status, run.processed, run.created_count, run.total_accounts) == (
                runs.DONE, len(served), len(served), len(served))
            db.session.remove()
        bills = _bills(c, period.start)
        assert set(bills) == set(served) and all(len(b) == 1 for b in bills.values())
        assert {b[0].run_id for b in bills.values()} == {run_id}


def test_a_run_whose_worker_died_can_be_resumed_once_stopped(app, billing):
    c = billing["c"].tenant_id
    with app.app_context(), tenant_scope(c):
        run = runs.start("2570-08", "ผู้ทดสอบ")
        run.status, run.updated_at = runs.RUNNING, datetime.utcnow()
        db.session.commit()
        assert not runs.resumable(run)
        with pytest.raises(UserError):
            runs.resume(run)  # still in progress
        db.session.rollback()
        run.updated_at = datetime.utcnow() - runs.STALE_AFTER - timedelta(minutes=1)
        db.session.commit()
        assert runs.is_stalled(run) and runs.resumable(run)
        assert runs.status_name(run) == "หยุดค้าง"
        runs.resume(run)
        db.session.commit()
        done = runs.execute(run.id)
        assert done.status == runs.DONE and done.created_count == done.processed > 0
        with pytest.raises(UserError):
            runs.resume(done)  # finished: nothing to resume
        db.session.remove()


def test_tier_changes_closing_and_opening_within_a_period(app, billing):
    c = billing["c"].tenant_id
    with app.app_context():
        changed, on_first_day, closed = _accounts(c, 3)
        starting = open_account(c, start_date="2027-03-20", premises_kind="business", litres_per_day="100",
                                business_name="ร้านทดสอบ")
        with tenant_scope(c):
            get = lambda pk: db.session.get(WasteAccount, pk)  # noqa: E731
            accounts.change_tier(get(changed), {"litres_per_day": "60", "effective_from": "2027-03-15"}, "ผู้ทดสอบ")
            accounts.change_tier(get(on_first_day), {"litres_per_day": "30", "effective_from": "2027-03-01"},
                                 "ผู้ทดสอบ")
            accounts.close_account(get(closed), {"end_date": "2027-03-10"})
            db.session.commit()
            prices = tariff.tariff(date(2027, 3, 1))
            p20, p30, p60 = (prices.price("household", Decimal(n))[0] for n in (20, 30, 60))
            p_business = prices.price("business", Decimal(100))[0]
            db.session.remove()
        assert len({p20, p30, p60}) == 3

        _bill_period(c, "2570-02")  # February: before the new account starts
        _bill_period(c, "2570-03")
        _bill_period(c, "2570-04")
        feb, mar, apr = (_bills(c, date(2027, m, 1)) for m in (2, 3, 4))
        # a tier from the 15th: March at the tier of its first day, April at the new one
        assert (mar[changed][0].amount, mar[changed][0].litres_per_day) == (p20, Decimal("20.00"))
        assert (apr[changed][0].amount, apr[changed][0].litres_per_day) == (p60, Decimal("60.00"))
        # a tier from the period's first day counts from that period
        assert mar[on_first_day][0].amount == p30 == apr[on_first_day][0].amount
        # closed on 10 March: March billed (a part of a month counts as a month), April not
        assert mar[closed][0].amount == p20 and closed not in apr
        # opened on 20 March: not February, March in full at its first tier, April too
        assert starting not in feb
        assert (mar[starting][0].amount, mar[starting][0].premises_kind) == (p_business, "business")
        assert apr[starting][0].amount == p_business


def test_a_tier_the_schedule_cannot_price_is_listed_not_billed(app, billing):
    """From 2571 (2028) C's schedule stops at 500 litres for businesses: a 600-litre shop cannot be priced."""
    from app.catalog import services
    from app.catalog.models import ServiceType

    c = billing["c"].tenant_id
    with open(TEMPLATE, encoding="utf-8") as fh:
        fees = copy.deepcopy(yaml.safe_load(fh)["fees"])
    business = next(rule for rule in fees["rules"] if rule["code"] == "collection_business")
    business["brackets"] = business["brackets"][:2]  # up to 500 litres, nothing above
    with app.app_context():
        big = open_account(c, premises_kind="business", litres_per_day="600", business_name="โรงแรมใหญ่")
        with tenant_scope(c):
            service = db.session.scalar(select(ServiceType).where(ServiceType.code == "waste_collection_registration"))
            services.save_fee_schedule(service, {**fees, "effective_from": date(2028, 1, 1)})
            number = db.session.get(WasteAccount, big).account_no
            db.session.commit()
            db.session.remove()
        run = _bill_period(c, "2571-01")
        bills = _bills(c, date(2028, 1, 1))
        served = _served_ids(c, _period(c, "2571-01"))
        assert big not in bills and set(bills) == served - {big} - _unpriced(c, served)
        assert run.status == runs.DONE and run.skipped_count >= 1 and run.processed == len(served)
        entry = next(e for e in run.skipped if e["kind"] == "business" and e["litres"] == "600.00")
        assert number in entry["accounts"] and entry["count"] >= 1 and "500" in entry["reason"]

        again = _bill_period(c, "2571-01")  # still not priceable: listed again, still not billed
        assert again.created_count == 0 and again.skipped_count == run.skipped_count
        director = _login(app, "bc.director")
        page = director.get(f"/waste/runs/{run.id}").get_data(as_text=True)
        assert number in page and "run-skipped" in page


def _unpriced(tenant_id, ids) -> set[int]:
    """Accounts of earlier tests that are also above 500 litres of business on the first of 2028."""
    with tenant_scope(tenant_id):
        found = set(db.session.scalars(select(WasteAccount.id).where(
            WasteAccount.id.in_(ids), WasteAccount.premises_kind == "business", WasteAccount.litres_per_day > 500)))
        db.session.remove()
    return found


# --- the tenant wall ----------------------------------------------------------------------------------------

def test_a_run_never_bills_or_counts_another_organisations_accounts(app, billing):
    c, d = billing["c"].tenant_id, billing["d"].tenant_id
    with app.app_context():
        _accounts(c, 2)
        d_accounts = _accounts(d, 4)
        period = _period(c, "2570-05")
        run = _bill_period(c, "2570-05")
        c_served = _served_ids(c, period)
        assert run.total_accounts == run.processed == len(c_served)
        assert not _bills(d, period.start)  # nothing for D
        with platform_scope():
            rows = db.session.execute(select(WasteInvoice.tenant_id, WasteInvoice.account_id)
                                      .where(WasteInvoice.run_id == run.id)).all()
            db.session.remove()
        assert {t for t, _a in rows} == {c} and not {a for _t, a in rows} & set(d_accounts)
        d_run = _bill_period(d, "2570-05")
        assert d_run.created_count == len(_served_ids(d, period)) and set(d_accounts) <= set(_bills(d, period.start))
        assert len(_bills(c, period.start)) == len(c_served)  # D's run added nothing to C


def test_the_task_runs_only_inside_its_tenant(app, billing):
    from app.tasks import celery_for

    c, d = billing["c"].tenant_id, billing["d"].tenant_id
    task = celery_for(app).tasks["billing.bill_period"]
    assert task.acks_late is True
    with app.app_context():
        with tenant_scope(d):
            d_run = runs.start("2570-06", "ผู้ทดสอบ")
            db.session.commit()
            d_run_id = d_run.id
            db.session.remove()
        with pytest.raises(TenantNotSet):
            task.apply(kwargs={"run_id": d_run_id}, throw=True).get()
        with pytest.raises(UserError):  # C cannot run D's run: to C it does not exist
            task.apply(kwargs={"tenant_id": c, "run_id": d_run_id}, throw=True).get()
        with tenant_scope(d):
            assert runs.get(d_run_id).status == runs.QUEUED and runs.get(d_run_id).processed == 0
            db.session.remove()
        created = task.apply(kwargs={"tenant_id": d, "run_id": d_run_id}, throw=True).get()
        assert created == len(_served_ids(d, _period(d, "2570-06"))) > 0
        assert task.apply(kwargs={"tenant_id": d, "run_id": d_run_id}, throw=True).get() == created  # idempotent
        assert not _bills(c, date(2027, 6, 1))


def _login(app, username):
    from tests.conftest import login

    return login(app.test_client(), username)


def test_another_organisations_runs_are_invisible_on_screen(app, billing):
    c, d = billing["c"].tenant_id, billing["d"].tenant_id
    with app.app_context():
        with tenant_scope(d):
            d_run = runs.start("2570-09", "ผอ ดี")
            d_run.status, d_run.error = runs.FAILED, "ทดสอบ"
            db.session.commit()
            d_run_id = d_run.id
            db.session.remove()
        with tenant_scope(c):
            c_run = runs.start("2570-09", "ผอ ซี")
            db.session.commit()
            c_run_id = c_run.id
            db.session.remove()
    director = _login(app, "bc.director")
    page = director.get("/waste/runs/").get_data(as_text=True)
    assert f"/waste/runs/{c_run_id}" in page and f"/waste/runs/{d_run_id}\"" not in page and "ผอ ดี" not in page
    assert director.get(f"/waste/runs/{d_run_id}").status_code == 404
    assert director.get(f"/waste/runs/{d_run_id}/progress.json").status_code == 404
    assert director.post(f"/waste/runs/{d_run_id}/resume").status_code == 404
    with app.app_context(), tenant_scope(d):
        assert runs.get(d_run_id).status == runs.FAILED  # untouched
        db.session.remove()
    own = director.get(f"/waste/runs/{c_run_id}/progress.json")
    assert own.status_code == 200 and own.json["id"] == c_run_id and own.json["period"] == "กันยายน 2570"


# --- screens and CLI ----------------------------------------------------------------------------------------

def test_start_from_the_screen_queues_the_task_and_shows_progress(app, billing):
    c = billing["c"].tenant_id
    director = _login(app, "bc.director")
    page = director.get("/waste/runs/").get_data(as_text=True)
    today = date.today()
    assert 'name="month"' in page and f'value="{today.month}" selected' in page  # this month by default
    response = director.post("/waste/runs/start", data={"month": "10", "year": "2570"})
    assert response.status_code == 302
    run_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with app.app_context(), tenant_scope(c):
        run = runs.get(run_id)
        # the test app runs tasks at once (eager): queued after the commit, billed by the task
        assert run.status == runs.DONE and run.created_count == run.processed > 0
        assert run.started_by_name == "ผอ C"
        db.session.remove()
    show = director.get(f"/waste/runs/{run_id}").get_data(as_text=True)
    assert "ตุลาคม 2570" in show and "run-resume" not in show and 'http-equiv="refresh"' not in show
    with app.app_context(), tenant_scope(c):
        waiting = runs.start("2571-04", "ผอ C")  # queued, no worker yet: the page refreshes itself
        db.session.commit()
        waiting_id = waiting.id
        db.session.remove()
    page = director.get(f"/waste/runs/{waiting_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' in page and f"/waste/runs/{waiting_id}/progress.json" in page
    assert 'data-finished="false"' in page and "run-queued-note" in page
    polled = director.get(f"/waste/runs/{waiting_id}/progress.json").json
    assert (polled["status"], polled["finished"], polled["processed"]) == ("queued", False, 0)
    listing = director.get("/waste/runs/").get_data(as_text=True)
    assert "ตุลาคม 2570" in listing and "เสร็จแล้ว" in listing
    # the same period again: a new run that creates nothing
    again = director.post("/waste/runs/start", data={"month": "10", "year": "2570"}, follow_redirects=True)
    assert again.status_code == 200
    with app.app_context(), tenant_scope(c):
        latest = db.session.scalar(select(BillingRun).order_by(BillingRun.id.desc()).limit(1))
        assert latest.period_start == date(2027, 10, 1) and latest.created_count == 0
        db.session.remove()


def test_start_form_errors_are_clear_and_keep_the_choice(app, billing):
    director = _login(app, "bc.director")
    with app.app_context(), tenant_scope(billing["c"].tenant_id):
        before = db.session.scalar(select(func.count(BillingRun.id)))
        db.session.remove()
    bad = director.post("/waste/runs/start", data={"month": "13", "year": "2570"})
    assert bad.status_code == 422 and "ปี พ.ศ. และเดือน" in _text(bad)
    missing = director.post("/waste/runs/start", data={"month": "1", "year": "2568"})  # before any schedule
    body = _text(missing)
    assert missing.status_code == 422 and "ไม่มีอัตราค่าธรรมเนียม" in body
    assert 'value="2568" selected' in body and 'value="1" selected' in body  # the choice is kept
    empty = director.post("/waste/runs/start", data={"month": "", "year": ""})
    assert empty.status_code == 422 and "billing-run-error" in _text(empty)
    with app.app_context(), tenant_scope(billing["c"].tenant_id):
        assert db.session.scalar(select(func.count(BillingRun.id))) == before  # nothing written
        db.session.remove()


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_officers_and_executives_see_runs_but_do_not_start_them(app, billing):
    c = billing["c"].tenant_id
    with app.app_context(), tenant_scope(c):
        run = runs.start("2570-11", "ผู้ทดสอบ")
        run.status, run.error = runs.FAILED, "ทดสอบ"
        db.session.commit()
        run_id = run.id
        db.session.remove()
    for username in ("bc.officer", "bc.mayor"):
        client = _login(app, username)
        page = _text(client.get("/waste/runs/"))
        assert f"/waste/runs/{run_id}" in page and "billing-run-start" not in page
        show = _text(client.get(f"/waste/runs/{run_id}"))
        assert "run-resume" not in show and "ทดสอบ" in show
        assert client.post("/waste/runs/start", data={"month": "12", "year": "2570"}).status_code == 403
        assert client.post(f"/waste/runs/{run_id}/resume").status_code == 403
    director = _login(app, "bc.director")
    assert "run-resume" in _text(director.get(f"/waste/runs/{run_id}"))
    assert director.post(f"/waste/runs/{run_id}/resume").status_code == 302
    with app.app_context(), tenant_scope(c):
        assert runs.get(run_id).status == runs.DONE  # resumed and finished by the (eager) task
        db.session.remove()


def test_cli_bills_a_period_lists_runs_and_refuses_bad_input(app, billing):
    runner = app.test_cli_runner()
    code = CODES["c"]
    result = runner.invoke(args=["waste", "bill", "--tenant", code, "--period", "2570-12", "--wait", "--chunk", "2"])
    assert result.exit_code == 0, result.output
    assert "ธันวาคม 2570" in result.output and "เสร็จแล้ว" in result.output
    again = runner.invoke(args=["waste", "bill", "--tenant", code, "--period", "2570-12", "--wait"])
    assert again.exit_code == 0 and "สร้างใบแจ้งหนี้ 0 ฉบับ" in again.output
    listed = runner.invoke(args=["waste", "runs", "--tenant", code])
    assert listed.exit_code == 0 and "ธันวาคม 2570" in listed.output
    assert "ธันวาคม 2570" not in runner.invoke(args=["waste", "runs", "--tenant", CODES["d"]]).output
    queued = runner.invoke(args=["waste", "bill", "--tenant", code, "--period", "2571-02"])
    assert queued.exit_code == 0 and "flask waste runs" in queued.output
    unknown = runner.invoke(args=["waste", "bill", "--tenant", "9999999", "--period", "2570-12"])
    assert unknown.exit_code == 1 and "ไม่พบองค์กร" in unknown.output
    bad = runner.invoke(args=["waste", "bill", "--tenant", code, "--period", "2570-13", "--lang", "en"])
    assert bad.exit_code == 1 and "Buddhist-era year and month" in bad.output


@pytest.mark.skipif("postgresql" not in __import__("os").environ.get("DATABASE_URL", ""),
                    reason="row locks and advisory locks are PostgreSQL's")
def test_two_clerks_and_two_workers_at_once_make_one_run_and_one_bill_each(app, billing):
    """Two starts of one period at the same moment give one run; two workers on it (a task delivered twice)
    take turns per chunk from the cursor: every account billed once, counted once."""
    import threading

    d = billing["d"].tenant_id
    with app.app_context():
        _accounts(d, 5)
    barrier, started, errors = threading.Barrier(2), [], []

    def start():
        try:
            with app.app_context(), tenant_scope(d):
                barrier.wait()
                started.append(runs.start("2571-03", "ผู้ทดสอบ").id)
                db.session.commit()
                db.session.remove()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def work(run_id):
        try:
            with app.app_context(), tenant_scope(d):
                barrier.wait()
                runs.execute(run_id, chunk_size=2)
                db.session.remove()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    for target, args in ((start, ()), (work, None)):
        threads = [threading.Thread(target=target, args=args if args is not None else (started[0],))
                   for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
    assert len(set(started)) == 1
    with app.app_context():
        period = _period(d, "2571-03")
        served = _served_ids(d, period)
        bills = _bills(d, period.start)
        assert set(bills) == served and all(len(b) == 1 for b in bills.values())
        with tenant_scope(d):
            run = runs.get(started[0])
            assert (run.status, run.processed, run.created_count) == (runs.DONE, len(served), len(served))
            db.session.remove()

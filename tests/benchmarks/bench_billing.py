"""Billing-run benchmark (a script, not a test: pytest does not collect bench_*.py).

    DATABASE_URL=postgresql+psycopg://... python tests/benchmarks/bench_billing.py [--accounts 1000000]
    make bench-billing [BENCH_ARGS="--accounts 200000"]      (a throwaway PostgreSQL, like make test-postgres)

Creates a fresh organisation with N waste accounts (bulk SQL: INSERT ... SELECT generate_series for the
accounts and their tiers, and the account-number counter set to N), installs the waste service with the real
template's fee schedule, bills one period through app.billing.runs.execute, then bills it again. Prints the
accounts per second, the seconds taken and the second run's count of new bills (must be 0); exits 1 if the
first run did not bill every served account exactly once or the second created anything."""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

TEMPLATE = os.path.join(ROOT, "seeds", "services", "waste_collection_registration.yaml")
# a subdistrict of Mae Hia, Chiang Mai, and its postcode (geothai)
SUBDISTRICT, POSTCODE = "500109", "50100"


def build_app(url: str):
    """Migrate the database and apply the platform seeds (tenant types, roles), as `make run` does."""
    from flask_migrate import upgrade

    from app import create_app
    from app.seeds.apply import apply_paths

    settings = dict(SQLALCHEMY_DATABASE_URI=url, SECRET_KEY="benchmark-secret-key-with-at-least-32-bytes",
                    CELERY_TASK_ALWAYS_EAGER=True)
    with create_app(**settings).app_context():
        upgrade(directory=os.path.join(ROOT, "app", "migrations"))
    app = create_app(**settings)  # now that the tables exist, FAB registers its permissions
    with app.app_context():
        plan = apply_paths([os.path.join(ROOT, "seeds", "platform")])
        if plan.errors:
            sys.exit("seeds: " + "; ".join(str(e) for e in plan.errors))
    return app


def new_tenant() -> int:
    from sqlalchemy import select

    from app.extensions import db
    from app.tenancy.context import platform_scope
    from app.tenancy.models import Division, Tenant

    with platform_scope():
        taken = set(db.session.scalars(select(Tenant.dla_code)))
        code = next(c for c in (f"9{random.randrange(10 ** 6):06d}" for _ in range(1000)) if c not in taken)
        tenant = Tenant(dla_code=code, type_code="sao", name_th=f"องค์การบริหารส่วนตำบลทดสอบความเร็ว {code}",
                        name_en=f"Benchmark SAO {code}", province="เชียงใหม่", promptpay_biller_id="099400000099901")
        db.session.add(tenant)
        db.session.flush()
        db.session.add(Division(tenant_id=tenant.id, code="health", name_th="กองสาธารณสุขและสิ่งแวดล้อม",
                                name_en="Public Health and Environment Division"))
        db.session.commit()
        tenant_id = tenant.id
        db.session.remove()
    return tenant_id


def install_waste_service(tenant_id: int) -> int:
    """The real template with its schedule (from 1 Oct 2025) and one route; returns the route id."""
    import yaml
    from sqlalchemy import select

    from app.billing.models import WasteRoute
    from app.catalog import services
    from app.catalog.spec import ServiceSpec
    from app.extensions import db
    from app.tenancy.context import tenant_scope
    from app.tenancy.models import Division

    with open(TEMPLATE, encoding="utf-8") as fh:
        template = yaml.safe_load(fh)
    fees = template.pop("fees")
    for key in ("kind", "caps"):
        template.pop(key, None)
    with tenant_scope(tenant_id):
        division = db.session.scalar(select(Division).where(Division.code == "health"))
        service_type, _changed = services.save_definition(tenant_id, ServiceSpec().load(template), division)
        services.save_fee_schedule(service_type, {**fees, "effective_from": date(2025, 10, 1)})
        route = WasteRoute(code="R1", name_th="สายที่ 1", collection_days="mon,thu")
        db.session.add(route)
        db.session.commit()
        route_id = route.id
        db.session.remove()
    return route_id


def load_accounts(tenant_id: int, route_id: int, n: int, period_start: date) -> None:
    """N accounts in one INSERT ... SELECT: nine households in ten (20 to 200 litres a day), shops and
    businesses (100 to 3,000); one in twenty changes tier on the 15th of the period (billed at the tier of
    the first day), one in fifty closed before the period (not billed), one in a hundred starting mid-period."""
    from sqlalchemy import text

    from app.extensions import db

    mid = period_start.replace(day=15)
    before = date(period_start.year - (period_start.month == 1), (period_start.month - 2) % 12 + 1, 28)
    params = {"t": tenant_id, "route": route_id, "n": n, "start": date(2025, 10, 1), "mid": mid,
              "before": before}
    with db.engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO waste_accounts (tenant_id, account_no, check_code, premises_kind, litres_per_day,
                holder_name, business_name, address_line, subdistrict_code, postcode, route_id, route_seq,
                start_date, end_date, created_at)
            SELECT :t, lpad(g::text, 7, '0'), lpad(((g::bigint * 7919) % 1000000)::text, 6, '0'),
                   CASE WHEN g % 10 = 0 THEN 'business' ELSE 'household' END,
                   CASE WHEN g % 10 = 0 THEN (ARRAY[100, 500, 1000, 3000])[1 + (g / 10) % 4]
                        ELSE (ARRAY[20, 20, 20, 40, 60, 100, 200])[1 + g % 7] END,
                   'ผู้ใช้บริการ ' || g, CASE WHEN g % 10 = 0 THEN 'ร้าน ' || g END,
                   (g % 500 + 1) || ' หมู่ ' || (g % 12 + 1), :sub, :post, :route, g,
                   CASE WHEN g % 100 = 1 THEN CAST(:mid AS date) ELSE CAST(:start AS date) END,
                   CASE WHEN g % 50 = 2 THEN CAST(:before AS date) END, now()
            FROM generate_series(1, :n) AS g
        """), {**params, "sub": SUBDISTRICT, "post": POSTCODE})
        conn.execute(text("""
            INSERT INTO waste_account_tiers (tenant_id, account_id, effective_from, premises_kind, litres_per_day,
                recorded_by_name, recorded_at)
            SELECT tenant_id, id, start_date, premises_kind, litres_per_day, 'benchmark', now()
            FROM waste_accounts WHERE tenant_id = :t
        """), params)
        conn.execute(text("""
            INSERT INTO waste_account_tiers (tenant_id, account_id, effective_from, premises_kind, litres_per_day,
                recorded_by_name, recorded_at)
            SELECT tenant_id, id, CAST(:mid AS date), premises_kind, litres_per_day * 2, 'benchmark', now()
            FROM waste_accounts WHERE tenant_id = :t AND route_seq % 20 = 3
        """), params)
        conn.execute(text("""
            UPDATE waste_accounts SET litres_per_day = litres_per_day * 2 WHERE tenant_id = :t AND route_seq % 20 = 3
        """), params)
        conn.execute(text("""
            INSERT INTO number_counters (tenant_id, series, year, last_number) VALUES (:t, 'waste_account', 0, :n)
        """), params)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("waste_accounts", "waste_account_tiers", "waste_invoices"):
            conn.execute(text(f"ANALYZE {table}"))


def bill(tenant_id: int, period: str, chunk: int | None, label: str) -> tuple:
    from app.billing import runs
    from app.extensions import db
    from app.tenancy.context import tenant_scope

    with tenant_scope(tenant_id):
        run = runs.start(period, "benchmark")
        db.session.commit()
        started, chunks = time.perf_counter(), [0]

        def report(r):
            chunks[0] += 1
            if chunks[0] % 20 == 0:
                elapsed = time.perf_counter() - started
                print(f"  {label}: {r.processed:>9,} of {r.total_accounts:,} accounts, {elapsed:6.1f} s, "
                      f"{r.processed / elapsed:8,.0f} accounts/s", flush=True)

        done = runs.execute(run.id, chunk_size=chunk, on_progress=report)
        seconds = time.perf_counter() - started
        result = (done.id, done.status, done.processed, done.created_count, done.amount_total, done.skipped_count,
                  seconds)
        db.session.remove()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000, help="accounts to create (default 1,000,000)")
    parser.add_argument("--period", default="2569-12", help="the period to bill (B.E. year-month, default 2569-12)")
    parser.add_argument("--chunk", type=int, default=None, help="accounts per chunk (default: runs.CHUNK_SIZE)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        print("bench_billing: set DATABASE_URL to a PostgreSQL database (or run `make bench-billing`)",
              file=sys.stderr)
        return 2

    app = build_app(url)
    with app.app_context():
        from sqlalchemy import func, select

        from app.billing import runs, tariff
        from app.billing.models import WasteAccount, WasteInvoice
        from app.extensions import db
        from app.tenancy.context import tenant_scope

        print(f"bench_billing: PostgreSQL {db.session.execute(select(func.version())).scalar().split()[1]}, "
              f"{os.cpu_count()} CPUs, {args.accounts:,} accounts, period {args.period}", flush=True)
        tenant_id = new_tenant()
        route_id = install_waste_service(tenant_id)
        with tenant_scope(tenant_id):
            period = tariff.period_from_code(args.period)
            db.session.remove()
        t0 = time.perf_counter()
        load_accounts(tenant_id, route_id, args.accounts, period.start)
        print(f"  loaded {args.accounts:,} accounts and their tiers in {time.perf_counter() - t0:.1f} s", flush=True)
        with tenant_scope(tenant_id):
            served = db.session.scalar(select(func.count(WasteAccount.id))
                                       .where(runs.served(period.start, period.end)))
            db.session.remove()

        first = bill(tenant_id, args.period, args.chunk, "first run")
        second = bill(tenant_id, args.period, args.chunk, "second run")
        with tenant_scope(tenant_id):
            bills = db.session.scalar(select(func.count(WasteInvoice.id)).where(WasteInvoice.period_start
                                                                                == period.start))
            accounts_billed = db.session.scalar(select(func.count(func.distinct(WasteInvoice.account_id)))
                                                .where(WasteInvoice.period_start == period.start))
            db.session.remove()

    _id, status, processed, created, amount, skipped, seconds = first
    print(f"first run:  {status}, {processed:,} accounts served, {created:,} bills ({amount:,.2f} baht), "
          f"{skipped:,} not priceable, {seconds:.1f} s, {processed / seconds:,.0f} accounts/s")
    _id2, status2, processed2, created2, _amount2, _skipped2, seconds2 = second
    print(f"second run: {status2}, {processed2:,} accounts looked at, {created2:,} new bills (must be 0), "
          f"{seconds2:.1f} s, {processed2 / seconds2:,.0f} accounts/s")
    ok = (status == status2 == runs.DONE and created == served - skipped == bills == accounts_billed
          and created2 == 0)
    print(f"check: {served:,} accounts served in the period, {bills:,} bills for {accounts_billed:,} accounts: "
          + ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

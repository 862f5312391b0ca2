"""Counter-payment benchmark (a script, not a test: pytest does not collect bench_*.py).

    DATABASE_URL=postgresql+psycopg://... python tests/benchmarks/bench_receipts.py [--accounts 20000]
    make bench-receipts [BENCH_ARGS="--payments 10000 --clients 8"]   (a throwaway PostgreSQL)

Creates a fresh organisation with N accounts (bench_billing's bulk loader), bills this month through the billing
run, then lets C cashiers (processes, as web workers are, or
threads with --threads; each with its own app context, session and transaction) pay bills at the
counter through app.billing.receipts.issue + commit, one payment in ten rolled back on purpose after issue().
Prints receipts per second, latency, and the receipt book's gaps and duplicates (must be 0 and 0); exits 1
otherwise, or if a rolled-back payment left its bill paid or a committed one left it unpaid."""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_billing  # noqa: E402  (sets sys.path to the project too)


def cashier(app, tenant_id: int, work: list[tuple[int, int, int]], results: list, errors: list, barrier) -> None:
    """Pay each (sequence no., account id, bill id); one in ten rolled back after the receipt was issued."""
    from app import thai
    from app.billing import receipts
    from app.billing.models import WasteAccount, WasteInvoice
    from app.extensions import db
    from app.tenancy.context import tenant_scope

    try:
        with app.app_context(), tenant_scope(tenant_id):
            barrier.wait()
            today = thai.today_bangkok()
            for seq, account_id, bill_id in work:
                started = time.perf_counter()
                account = db.session.get(WasteAccount, account_id)
                bill = db.session.get(WasteInvoice, bill_id)
                receipt = receipts.issue(account, [bill], paid_on=today, method="cash", channel="counter",
                                         actor_id=None, actor_name=f"cashier {threading.get_ident() % 100}")
                number = receipt.number
                if seq % 10 == 0:
                    db.session.rollback()
                    results.append((seq, bill_id, None, time.perf_counter() - started))
                else:
                    db.session.commit()
                    results.append((seq, bill_id, number, time.perf_counter() - started))
                db.session.expunge_all()  # a cashier's next customer: nothing kept from the last one
            db.session.remove()
    except BaseException as exc:  # reported by main: a failing cashier must fail the benchmark
        errors.append(exc)


def cashier_process(url: str, tenant_id: int, work: list[tuple[int, int, int]], start_at: float) -> tuple:
    """One cashier as its own process (as a web server's worker is): its own app, engine and connection; starts
    at `start_at` with the others."""
    from app import create_app

    app = create_app(SQLALCHEMY_DATABASE_URI=url, SECRET_KEY="benchmark-secret-key-with-at-least-32-bytes",
                     FAB_UPDATE_PERMS=False)

    class AtTime:
        def wait(self):
            time.sleep(max(0.0, start_at - time.time()))

    results: list = []
    errors: list = []
    cashier(app, tenant_id, work, results, errors, AtTime())
    return results, [repr(e) for e in errors]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000, help="accounts billed (default 20,000)")
    parser.add_argument("--payments", type=int, default=3_000, help="counter payments (default 3,000)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent cashiers (default 8)")
    parser.add_argument("--threads", action="store_true",
                        help="cashiers as threads of one process (default: one process each, like web workers)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        print("bench_receipts: set DATABASE_URL to a PostgreSQL database (or run `make bench-receipts`)",
              file=sys.stderr)
        return 2
    if args.payments > args.accounts:
        print("bench_receipts: --payments must not exceed --accounts (one bill each)", file=sys.stderr)
        return 2

    app = bench_billing.build_app(url)
    with app.app_context():
        from sqlalchemy import func, select

        from app import thai
        from app.billing import tariff
        from app.billing.models import WasteInvoice, WasteReceipt, WasteReceiptLine
        from app.extensions import db
        from app.tenancy.context import tenant_scope

        print(f"bench_receipts: PostgreSQL {db.session.execute(select(func.version())).scalar().split()[1]}, "
              f"{os.cpu_count()} CPUs, {args.accounts:,} accounts, {args.payments:,} payments by "
              f"{args.clients} cashiers", flush=True)
        tenant_id = bench_billing.new_tenant()
        route_id = bench_billing.install_waste_service(tenant_id)
        with tenant_scope(tenant_id):
            period = tariff.period(thai.today_bangkok())
            db.session.remove()
        bench_billing.load_accounts(tenant_id, route_id, args.accounts, period.start)
        code = f"{thai.be_year(period.start)}-{period.start.month:02d}"
        bench_billing.bill(tenant_id, code, None, "billing")
        with tenant_scope(tenant_id):
            bills = db.session.execute(select(WasteInvoice.account_id, WasteInvoice.id)
                                       .where(WasteInvoice.period_start == period.start)
                                       .order_by(WasteInvoice.id).limit(args.payments)).all()
            db.session.remove()
        print(f"  {len(bills):,} bills of {code} to pay", flush=True)

        work = [(seq, account_id, bill_id) for seq, (account_id, bill_id) in enumerate(bills)]
        shares = [work[i::args.clients] for i in range(args.clients)]
        results: list = []
        errors: list = []
        if args.threads:
            barrier = threading.Barrier(args.clients + 1)
            threads = [threading.Thread(target=cashier, args=(app, tenant_id, share, results, errors, barrier))
                       for share in shares]
            for t in threads:
                t.start()
            barrier.wait()
            started = time.perf_counter()
            for t in threads:
                t.join()
            seconds = time.perf_counter() - started
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            start_at = time.time() + 20 + 2 * args.clients  # time for every process to build its app
            with ProcessPoolExecutor(args.clients, mp_context=multiprocessing.get_context("spawn")) as pool:
                futures = [pool.submit(cashier_process, url, tenant_id, share, start_at) for share in shares]
                for future in futures:
                    done, failed = future.result()
                    results.extend(done)
                    errors.extend(failed)
            seconds = time.time() - start_at
            if time.time() < start_at or seconds <= 0:
                errors.append("the cashiers finished before the start time")
        if errors:
            print(f"FAILED: {len(errors)} cashiers stopped: {errors[0]!r}")
            return 1

        year = thai.fiscal_year(thai.today_bangkok())
        with tenant_scope(tenant_id):
            numbers = list(db.session.scalars(select(WasteReceipt.number).where(WasteReceipt.fiscal_year == year)
                                              .order_by(WasteReceipt.number)))
            paid = set(db.session.scalars(select(WasteInvoice.id).where(
                WasteInvoice.period_start == period.start, WasteInvoice.receipt_id.is_not(None))))
            lines = db.session.scalar(select(func.count()).select_from(WasteReceiptLine))
            db.session.remove()

    committed = [r for r in results if r[2] is not None]
    rolled_back = [r for r in results if r[2] is None]
    duplicates = len(numbers) - len(set(numbers))
    top = max(numbers, default=0)
    gaps = top - len(set(numbers))  # numbers missing from 1..top
    wrong_bills = sum(1 for r in committed if r[1] not in paid) + sum(1 for r in rolled_back if r[1] in paid)
    latencies = sorted(r[3] for r in results)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0.0

    print(f"payments:   {len(results):,} in {seconds:.1f} s by {args.clients} cashiers: "
          f"{len(committed) / seconds:,.0f} receipts/s committed ({len(results) / seconds:,.0f} issue() calls/s), "
          f"{len(rolled_back):,} rolled back on purpose; latency p50 {pct(0.5):.1f} ms, p95 {pct(0.95):.1f} ms")
    print(f"book:       {len(numbers):,} receipts numbered 1..{top:,}, {gaps} gaps, {duplicates} duplicates "
          f"(must be 0 and 0); {lines:,} receipt lines; {wrong_bills} bills in the wrong state")
    ok = (gaps == 0 and duplicates == 0 and len(numbers) == len(committed) == lines and wrong_bills == 0
          and numbers == list(range(1, len(committed) + 1)))
    print("check: " + ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

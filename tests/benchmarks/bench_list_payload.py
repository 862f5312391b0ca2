"""What a request list costs on the wire (issue #10, fix 2 of docs/profile-2026-12.md): statements per page, bytes of
values the driver receives per page, and the mean time per request, for the staff list, the FAB REST list and the
open API list at 25 and 100 rows. A script, not a test (pytest does not collect bench_*.py):

    bash tests/with_postgres.sh .venv/bin/python tests/benchmarks/bench_list_payload.py [--requests 300] [--repeat 30]

On PostgreSQL the bytes are the lengths of every value of every result row (psycopg's pgresult, what the server
sent); on SQLite they are not measured (0). Statements include the row-level security set_config
(tests/tenancy/statements.py). It makes its own database from the real seeds (seeds/platform, seeds/services and
seeds/tenants/01-02: Mae Hia with its four services), adds --requests matters spread over those services, and
prints one line per page."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

PASSWORD = "thongthin2569"  # the tenant seed files' own
USERNAME = "maehia.mayor"  # sees every matter of the organisation (no reach filter), as in the profile


def _data(fields: list, n: int) -> dict:
    """A matter's values: text fields filled, as a filed form would have them (the rest left out)."""
    out = {}
    for spec in fields:
        if spec.get("kind") in ("text", "long_text"):
            out[spec["code"]] = f"ข้อความทดสอบ {n} " * (3 if spec["kind"] == "long_text" else 1)
    return out


def build(database_url: str, requests: int):
    from sqlalchemy import insert, select

    from app.catalog.models import ServiceRequest, ServiceType, ServiceTypeVersion
    from app.extensions import db
    from app.tenancy.context import platform_scope, tenant_scope
    from app.tenancy.models import Tenant
    from tests.conftest import demo_seed_paths, seeded_app

    app = seeded_app(database_url, demo_seed_paths("platform", "services") + [
        os.path.join(ROOT, "seeds", "tenants", "01-chiangmai-pao.yaml"),
        os.path.join(ROOT, "seeds", "tenants", "02-maehia.yaml"),
    ])
    with app.app_context():
        with platform_scope():
            tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.dla_code == "6500101"))
        with tenant_scope(tenant_id):
            services = []
            for service in db.session.scalars(select(ServiceType).order_by(ServiceType.id)):
                version = db.session.scalar(select(ServiceTypeVersion).where(
                    ServiceTypeVersion.service_type_id == service.id,
                    ServiceTypeVersion.version == service.current_version))
                services.append((service, version))
            start = datetime(2026, 11, 1, 9, 0)
            db.session.execute(insert(ServiceRequest), [
                dict(tenant_id=tenant_id, service_type_id=service.id, version_id=version.id,
                     division_id=service.responsible_division_id, title=f"bench-{i:05d}", data=_data(version.fields, i),
                     status="submitted", due_on=date(2026, 12, 1), created_at=start + timedelta(minutes=i),
                     updated_at=start, channel="staff", reopened_count=0, lock_version=1)
                for i, (service, version) in ((i, services[i % len(services)]) for i in range(requests))
            ])
            sizes = {s.code: sum(len(str(getattr(v, c))) for c in ("fields", "documents", "guide", "legal_basis",
                                                                      "workflow")) for s, v in services}
            db.session.commit()
        db.session.remove()
    return app, tenant_id, sizes


def api_key(app, tenant_id: int) -> str:
    from flask_appbuilder.security.sqla.models import User
    from sqlalchemy import select

    from app.api import keys
    from app.extensions import db
    from app.tenancy.context import tenant_scope

    with app.test_request_context(), tenant_scope(tenant_id):
        user = db.session.scalar(select(User).where(User.username == USERNAME))
        _, token = keys.issue(tenant_id, name="bench list payload", scopes=["read"], acting_user=user,
                              created_by_name="bench", rate_limit_per_minute=10000)  # the key's limit: not measured
        db.session.commit()
        db.session.remove()
    return token


class Wire:
    """Bytes of the values of every result row the driver received (PostgreSQL), while active."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.engine, self.bytes, self.rows, self.active = engine, 0, 0, False
        self.per_statement: list[int] = []
        event.listen(engine, "after_cursor_execute", self._after)

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        result = getattr(cursor, "pgresult", None)
        if not self.active or result is None:
            return
        size = 0
        for row in range(result.ntuples):
            self.rows += 1
            for column in range(result.nfields):
                value = result.get_value(row, column)
                size += len(value) if value is not None else 0
        self.bytes += size
        self.per_statement.append(size)


def measure(app, client, wire: Wire, url: str, headers: dict, repeat: int) -> dict:
    from app.extensions import db
    from tests.tenancy.statements import counting

    for _ in range(3):  # warm-up: FAB and SQLAlchemy fill their caches once
        assert client.get(url, headers=headers).status_code == 200, url
    with app.app_context():
        engine = db.engine
    wire.bytes = wire.rows = 0
    wire.per_statement = []
    wire.active = True
    with counting(engine) as seen:
        response = client.get(url, headers=headers)
    wire.active = False
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
    # the matters' own statements (their page and count), apart from the user, permissions and key lookups
    sql = [s for s in seen if not s.startswith("SELECT set_config")]
    matters = sum(size for s, size in zip(sql, wire.per_statement) if "service_requests" in s)
    return {"statements": len(seen), "bytes": wire.bytes, "matter_bytes": matters, "rows": wire.rows,
            "mean_ms": statistics.mean(times), "p50_ms": statistics.median(times), "sql": seen}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--show-sql", action="store_true")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL") or "sqlite:///" + os.path.join(tempfile.mkdtemp(), "bench.db")
    app, tenant_id, sizes = build(database_url, args.requests)
    print(f"database: {database_url.split('@')[-1]}; {args.requests} matters; version JSON per service (chars): "
          + ", ".join(f"{code} {size:,}" for code, size in sizes.items()))
    from app.extensions import db
    from tests.conftest import login

    with app.app_context():
        wire = Wire(db.engine)
    staff = login(app.test_client(), USERNAME, PASSWORD)
    token = api_key(app, tenant_id)
    pages = []
    for rows in (25, 100):
        pages += [
            ("staff list", staff, f"/service-requests/list/?psize_ServiceRequestView={rows}", {}, rows),
            ("FAB REST list", staff, f"/api/v1/service-request/?page_size={rows}", {}, rows),
            ("open API list", app.test_client(use_cookies=False), f"/api/open/v1/requests?limit={rows}",
             {"X-API-Key": token}, rows),
        ]
    print(f"{'page':<15} {'rows':>4} {'statements':>10} {'bytes/page':>11} {'matter stmts':>12} {'result rows':>11} "
          f"{'mean ms':>8} {'p50 ms':>7}")
    for name, client, url, headers, rows in pages:
        m = measure(app, client, wire, url, headers, args.repeat)
        print(f"{name:<15} {rows:>4} {m['statements']:>10} {m['bytes']:>11,} {m['matter_bytes']:>12,} {m['rows']:>11} "
              f"{m['mean_ms']:>8.1f} {m['p50_ms']:>7.1f}")
        if args.show_sql:
            for statement in m["sql"]:
                print("    " + " ".join(statement.split())[:400])
    return 0


if __name__ == "__main__":
    sys.exit(main())

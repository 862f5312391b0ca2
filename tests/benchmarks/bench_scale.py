"""National-scale benchmark (issue #10 "Speed"; a script, not a test: pytest does not collect bench_*.py).

    make bench [BENCH_ARGS="--tenants 200 --requests 200000"]     (a throwaway PostgreSQL: tests/with_postgres.sh)
    DATABASE_URL=... [DATABASE_OWNER_URL=... DATABASE_PLATFORM_ROLE=...] python tests/benchmarks/bench_scale.py

Flags (all optional):
    --tenants N        organisations to generate (default 7,850: every อปท.)
    --requests N       service requests in all (default 10,000,000), Zipf-like sizes
    --largest-share F  the largest organisation's share of the requests (default 0.04: 400,000 of 10 million)
    --events MODE      timeline events: all (default: one or two per request past "submitted"), none
    --duration S       seconds per load measurement (default 10); --rounds N interleaved rounds of them (default 2)
    --connections N    open connections of the load tool (default 8); --load-threads N its threads (default 2)
    --workers N        gunicorn workers of every server measured (default 2, as this machine has 2 cores)
    --deep-page N      the deep page measured (default: the middle page of the largest organisation)
    --numbers N        gapless numbers taken in each numbering run (default 8,000); --clients N (default 8: the
                       target's); --number-clients 1,2,8 (the client counts measured, default 1, 2 and --clients);
                       --numbers-compare (each also with the former ORM update and on psycopg alone); --numbers-only
                       (migrate, seed one organisation and run only the numbering: no data generated, no servers)
    --skip-load        only generate, count SQL and run the numbering and onboarding figures (no servers)
    --seed N           random seed (default 2569)

Environment: DATABASE_URL (the runtime role the app connects as), DATABASE_OWNER_URL (the tables' owner: migrations
and the bulk load; default DATABASE_URL), DATABASE_PLATFORM_ROLE (the platform role, passed to the app).

What it does, in one run:
1. Migrates as the owner; applies seeds/platform and seeds/services; onboards a template organisation from a tenant
   seed file (seeds/tenants/02-maehia.yaml, renamed) and times `flask seed apply` of another such file.
2. Generates the organisations with PostgreSQL COPY as the owner: tenants, and for each a copy of the template's
   กอง, users (with their memberships and FAB roles), service types, versions and fee schedules; then the requests
   (data JSON from the real fields of each service, a state of its workflow, the current กอง, due dates) and their
   timeline events; foreign-key triggers off and secondary indexes rebuilt after the load; then ANALYZE.
3. Counts SQL statements and SQL time per page in-process (an engine event counter; on PostgreSQL the tenant's
   set_config statement counts too) for the list page (25 and 100 rows, first and deep page), the REST lists and
   the detail page, for the median and the largest organisation.
4. Starts gunicorn (deploy/gunicorn.conf.py when it exists) for our app as the runtime role, then as the owner
   (row-level security bypassed), then the stock FAB app and the plain Flask+SQLAlchemy app of
   tests/benchmarks/stock_fab_app.py, one at a time, and loads each with wrk (a session cookie header, or an
   integration key for the open API): requests/s, p50, p99.
5. Takes gapless numbers (app/numbering.py) for one organisation with 1, 2 and 8 client processes, one in ten
   rolled back: numbers/s, gaps and duplicates, and apart from each other the transaction cost (time per number
   and lock hold with one client) and the CPU contention (lock hold with 8; CPU per number of the client and its
   backend, and the rate the cores could give at best).
6. Prints a table of figures with each target and PASS/FAIL. Exit code 0 when every target passed, 1 otherwise.
Servers it started are killed on exit (also on Ctrl-C). Nothing is written outside the database and a temp dir."""
from __future__ import annotations

import argparse
import atexit
import logging
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)
BIN = os.path.dirname(sys.executable)
SECRET = "benchmark-secret-key-with-at-least-32-bytes"
TEMPLATE_SEED = os.path.join(ROOT, "seeds", "tenants", "02-maehia.yaml")
PASSWORD = "thongthin2569"  # the demo password of the seed file's users
STOCK_USER, STOCK_PASSWORD = "stockbench", "Stock-bench-2569!"
TEMPLATE_DLA, ONBOARD_DLA = "8999990", "8999991"

TMP = tempfile.mkdtemp(prefix="bench_scale.")
_children: list[subprocess.Popen] = []


def log(msg: str) -> None:
    print(msg, flush=True)


def _cleanup() -> None:
    for proc in _children:
        stop_server(proc)
    shutil.rmtree(TMP, ignore_errors=True)


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


# --- set-up: migrate, seeds, template organisation ------------------------------------------------------

def app_settings(url: str, owner_url: str, platform_role: str | None, **extra) -> dict:
    settings = dict(SQLALCHEMY_DATABASE_URI=url, SECRET_KEY=SECRET, CELERY_TASK_ALWAYS_EAGER=True,
                    DATABASE_OWNER_URL=owner_url if owner_url != url else None)
    if platform_role:
        settings["DATABASE_PLATFORM_ROLE"] = platform_role
    settings.update(extra)
    return settings


def migrate_and_seed(settings: dict):
    from flask_migrate import upgrade

    from app import create_app
    from app.seeds.apply import apply_paths

    with create_app(**settings).app_context():
        upgrade(directory=os.path.join(ROOT, "app", "migrations"))
    app = create_app(**settings)  # now that the tables exist, FAB registers its permissions
    with app.app_context():
        plan = apply_paths([os.path.join(ROOT, "seeds", "platform"), os.path.join(ROOT, "seeds", "services")])
        if plan.errors:
            sys.exit("seeds: " + "; ".join(str(e) for e in plan.errors))
    return app


def tenant_seed(dla_code: str, prefix: str, users: bool = True) -> str:
    """seeds/tenants/02-maehia.yaml as another organisation: its own DLA code, user names and e-mails."""
    import yaml

    with open(TEMPLATE_SEED, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    doc["tenant"].pop("parent", None)
    doc["tenant"]["dla_code"] = dla_code
    doc["tenant"]["name_th"] = f"เทศบาลเมืองทดสอบ {dla_code}"
    doc["tenant"]["name_en"] = f"Benchmark Town {dla_code}"
    if not users:
        doc.pop("users", None)
    for user in doc.get("users", []):
        user["username"] = user["username"].replace("maehia.", f"{prefix}.")
        user["email"] = user["email"].replace("@maehia.", f"@{prefix}.")
    path = os.path.join(TMP, f"tenant-{dla_code}.yaml")
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(doc, fh, allow_unicode=True, sort_keys=False)
    return path


def apply_seed(app, path: str) -> float:
    from app.seeds.apply import apply_paths

    started = time.perf_counter()
    with app.app_context():
        plan = apply_paths([path])
    if plan.errors:
        sys.exit("seed: " + "; ".join(str(e) for e in plan.errors))
    return time.perf_counter() - started


def onboard_cli(env: dict, path: str) -> float:
    """`flask seed apply FILE`, the whole command as an operator runs it."""
    started = time.perf_counter()
    done = subprocess.run([os.path.join(BIN, "flask"), "--app", "app", "seed", "apply", path], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"flask seed apply failed:\n{done.stdout}\n{done.stderr}")
    return seconds


# --- sizes ----------------------------------------------------------------------------------------------

def zipf_sizes(tenants: int, total: int, largest_share: float) -> list[int]:
    """Sizes i**-s (rank i = 1..N) with s chosen so that the largest is `largest_share` of the total."""
    want = 1.0 / largest_share  # sum of i**-s relative to the largest
    if tenants <= want:
        s = 0.0
    else:
        lo, hi = 0.0, 4.0
        for _ in range(60):
            s = (lo + hi) / 2
            if sum(i ** -s for i in range(1, tenants + 1)) > want:
                lo = s
            else:
                hi = s
    weights = [i ** -s for i in range(1, tenants + 1)]
    scale = total / sum(weights)
    sizes = [max(1, int(w * scale)) for w in weights]
    sizes[0] += total - sum(sizes)
    return sizes


def tenant_type(rank: int, tenants: int) -> str:
    share = rank / tenants  # the largest first: cities and provinces, then towns, sub-district towns, อบต.
    if share < 0.004:
        return "city_municipality"
    if share < 0.014:
        return "pao"
    if share < 0.038:
        return "town_municipality"
    if share < 0.32:
        return "subdistrict_municipality"
    return "sao"


# --- realistic values -----------------------------------------------------------------------------------

FIRST = ["สมชาย", "สมหญิง", "วิชัย", "มาลี", "ประเสริฐ", "สุดารัตน์", "ธนากร", "อรุณี", "บุญมี", "จันทร์เพ็ญ"]
LAST = ["ใจดี", "รักงาน", "มั่นคง", "ศรีสุข", "แก้วมณี", "ทองดี", "สะอาดดี", "ช่างดี", "บุญมา", "คำแสน"]
TEXTS = ["ถนนหน้าบ้านเป็นหลุมเป็นบ่อ น้ำขังเวลาฝนตก", "ไฟฟ้าส่องสว่างในซอยดับหลายดวง", "ขอให้เก็บขยะตามรอบ",
         "ท่อระบายน้ำอุดตัน มีกลิ่นเหม็น", "ต้นไม้ล้มขวางทาง", "ขอรับบริการตามคู่มือประชาชน"]


def national_id(rng: random.Random) -> str:
    digits = [rng.randrange(1, 9)] + [rng.randrange(10) for _ in range(11)]
    check = (11 - sum(d * (13 - i) for i, d in enumerate(digits)) % 11) % 10
    return "".join(map(str, digits)) + str(check)


def field_value(spec: dict, rng: random.Random, n: int):
    kind = spec["kind"]
    if kind == "text":
        code = spec.get("code", "")
        if "name" in code:
            value = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        else:
            value = f"{spec.get('label_th', 'ข้อความ')} {n}"
        return value[: spec.get("max_length") or 200]
    if kind == "long_text":
        return rng.choice(TEXTS)
    if kind == "integer":
        lo = int(spec.get("min") or spec.get("min_value") or 1)
        hi = int(spec.get("max") or spec.get("max_value") or max(lo, 200))
        return rng.randint(lo, max(lo, min(hi, lo + 500)))
    if kind == "decimal":
        return f"{rng.randint(10, 5000) / 10:.2f}"
    if kind == "date":
        return (date(2025, 1, 1) + timedelta(days=rng.randrange(700))).isoformat()
    if kind in ("choice", "multi_choice"):
        values = [str(c["value"]) for c in spec.get("choices") or []] or ["x"]
        return [rng.choice(values)] if kind == "multi_choice" else rng.choice(values)
    if kind == "yes_no":
        return rng.random() < 0.5
    if kind == "national_id":
        return national_id(rng)
    if kind == "phone":
        return f"08{rng.randrange(10 ** 8):08d}"
    if kind == "email":
        return f"citizen{n}@example.org"
    if kind == "address":
        return {"line": f"{rng.randrange(1, 300)}/{rng.randrange(1, 9)} หมู่ {rng.randrange(1, 12)}",
                "subdistrict": "500109", "postcode": "50100"}
    if kind == "location":
        return {"lat": f"{18.7 + rng.random() / 10:.5f}", "lng": f"{98.9 + rng.random() / 10:.5f}"}
    if kind == "file":
        return []
    return f"{n}"


def copy_text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, default=str)
    elif isinstance(value, (datetime, date)):
        value = value.isoformat()
    value = str(value)
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


# --- bulk load as the owner -----------------------------------------------------------------------------

class Loader:
    """Everything but the template organisation, with COPY. Ids are given explicitly (sequences set after)."""

    def __init__(self, owner_url: str, template_id: int, rng: random.Random):
        import psycopg

        self.conn = psycopg.connect(libpq(owner_url), autocommit=False)
        self.template_id = template_id
        self.rng = rng
        self.fast = False

    def one(self, sql: str, params=()):
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone()

    def rows(self, sql: str, params=()) -> tuple[list[str], list[tuple]]:
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return [d.name for d in cur.description], cur.fetchall()

    def next_id(self, table: str) -> int:
        return (self.one(f"SELECT coalesce(max(id), 0) FROM {table}")[0]) + 1

    def copy(self, table: str, columns: list[str], lines) -> int:
        """COPY text lines (already formatted, without the newline) in chunks of ~1 MB."""
        count, buf = 0, io.StringIO()
        with self.conn.cursor() as cur:
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
                for line in lines:
                    buf.write(line)
                    buf.write("\n")
                    count += 1
                    if buf.tell() > 1 << 20:
                        cp.write(buf.getvalue())
                        buf = io.StringIO()
                cp.write(buf.getvalue())
        return count

    def begin_fast(self) -> None:
        """Foreign-key triggers off for this session (superuser only): the generated rows are consistent by
        construction, and checking 10 million composite keys one by one is most of a naive load's time."""
        try:
            with self.conn.cursor() as cur:
                cur.execute("SAVEPOINT fast")
                cur.execute("SET session_replication_role = replica")
                cur.execute("RELEASE SAVEPOINT fast")
            self.fast = True
        except Exception:
            with self.conn.cursor() as cur:
                cur.execute("ROLLBACK TO SAVEPOINT fast")
        with self.conn.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '512MB'")

    def secondary_indexes(self, table: str) -> list[tuple[str, str]]:
        _cols, rows = self.rows(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
            (table, table))
        return rows

    def drop_indexes(self, table: str) -> list[tuple[str, str]]:
        found = self.secondary_indexes(table)
        with self.conn.cursor() as cur:
            for name, _definition in found:
                cur.execute(f'DROP INDEX "{name}"')
        return found

    def create_indexes(self, found: list[tuple[str, str]]) -> None:
        with self.conn.cursor() as cur:
            for _name, definition in found:
                cur.execute(definition)

    def set_sequences(self, tables: list[str]) -> None:
        with self.conn.cursor() as cur:
            for table in tables:
                # the column's own sequence, and the one FAB's models name (ab_user_id_seq), which may differ
                cur.execute(f"SELECT pg_get_serial_sequence('{table}', 'id'), to_regclass('{table}_id_seq')::text")
                for seq in {name for name in cur.fetchone() if name}:
                    cur.execute(f"SELECT setval('{seq}', (SELECT coalesce(max(id), 1) FROM {table}))")

    # organisations and their configuration ------------------------------------------------------------

    def tenants(self, sizes: list[int]) -> list[int]:
        first = self.next_id("tenants")
        ids = list(range(first, first + len(sizes)))
        cols = ["id", "dla_code", "type_code", "name_th", "name_en", "province", "privacy_version", "reopen_days",
                "active", "thai_digits", "created_at", "promptpay_biller_id"]
        provinces = ["เชียงใหม่", "ขอนแก่น", "นครราชสีมา", "สงขลา", "ชลบุรี", "อุดรธานี", "ลำปาง", "สุราษฎร์ธานี"]
        now = datetime(2026, 1, 1)
        type_th = {"city_municipality": "เทศบาลนคร", "pao": "องค์การบริหารส่วนจังหวัด", "town_municipality": "เทศบาลเมือง",
                   "subdistrict_municipality": "เทศบาลตำบล", "sao": "องค์การบริหารส่วนตำบล"}

        def lines():
            for rank, tid in enumerate(ids):
                kind = tenant_type(rank, len(ids))
                yield "\t".join(copy_text(v) for v in (
                    tid, f"7{rank:06d}", kind, f"{type_th[kind]}ทดสอบ {rank + 1}", f"Benchmark {kind} {rank + 1}",
                    provinces[rank % len(provinces)], 1, 30, True, False, now, "099400000099901"))
        self.copy("tenants", cols, lines())
        return ids

    def clone(self, table: str, tenant_ids: list[int], remap: dict, rewrite=None, where: str | None = None,
              key: str = "tenant_id") -> dict[tuple[int, int], int]:
        """Copy the template's rows of `table` into every tenant; `remap` {column: map of (tenant, old id) ->
        new id}; `rewrite(row, tenant_id)` changes unique values. Returns (tenant, old id) -> new id."""
        cols, rows = self.rows(f"SELECT * FROM {table} WHERE {where or key + ' = %s'} ORDER BY id",
                               () if where else (self.template_id,))
        next_id = self.next_id(table)
        mapping: dict[tuple[int, int], int] = {}
        id_at = cols.index("id")
        key_at = cols.index(key) if key in cols else None
        remap_at = {cols.index(c): m for c, m in remap.items()}

        def lines():
            nonlocal next_id
            for tid in tenant_ids:
                for row in rows:
                    values = list(row)
                    mapping[(tid, row[id_at])] = next_id
                    values[id_at] = next_id
                    next_id += 1
                    if key_at is not None:
                        values[key_at] = tid
                    for at, m in remap_at.items():
                        if values[at] is not None:
                            values[at] = m[(tid, values[at])]
                    if rewrite:
                        rewrite(cols, values, tid)
                    yield "\t".join(copy_text(v) for v in values)
        self.copy(table, cols, lines())
        return mapping

    def configuration(self, tenant_ids: list[int]) -> dict:
        """The template's กอง, users, memberships, FAB roles, service types, versions and fee schedules."""
        divisions = self.clone("divisions", tenant_ids, {})

        def user_rewrite(cols, values, tid):
            u, e = cols.index("username"), cols.index("email")
            values[u] = f"t{tid}." + values[u].split(".", 1)[1]
            values[e] = values[e].replace("@bench.", f"@t{tid}.")
        users = self.clone("ab_user", tenant_ids, {}, rewrite=user_rewrite)
        self.clone("memberships", tenant_ids, {"user_id": users, "division_id": divisions})
        template_users = [old for (_t, old) in users if _t == tenant_ids[0]]
        if template_users:
            _cols, links = self.rows("SELECT user_id, role_id FROM ab_user_role WHERE user_id = ANY(%s)",
                                     (template_users,))
            next_id = self.next_id("ab_user_role")

            def lines():
                nonlocal next_id
                for tid in tenant_ids:
                    for user_id, role_id in links:
                        yield f"{next_id}\t{users[(tid, user_id)]}\t{role_id}"
                        next_id += 1
            self.copy("ab_user_role", ["id", "user_id", "role_id"], lines())
        types = self.clone("service_types", tenant_ids, {"responsible_division_id": divisions})
        versions = self.clone("service_type_versions", tenant_ids, {"service_type_id": types})
        self.clone("fee_schedules", tenant_ids, {"service_type_id": types})
        return {"divisions": divisions, "users": users, "types": types, "versions": versions}

    # requests and their timeline -----------------------------------------------------------------------

    def service_catalogue(self) -> list[dict]:
        """The template's services as the generator needs them: fields, workflow, responsible กอง."""
        from app.service_requests.workflow_spec import DEFAULT_WORKFLOW

        _c, rows = self.rows(
            "SELECT st.id, st.name_th, st.responsible_division_id, st.sla_days, v.id, v.fields, v.workflow "
            "FROM service_types st JOIN service_type_versions v ON v.service_type_id = st.id "
            "AND v.version = st.current_version WHERE st.tenant_id = %s ORDER BY st.id", (self.template_id,))
        _c, divs = self.rows("SELECT id, code FROM divisions WHERE tenant_id = %s", (self.template_id,))
        by_code = {code: did for did, code in divs}
        services = []
        for type_id, name_th, division_id, sla_days, version_id, fields, workflow in rows:
            workflow = workflow or DEFAULT_WORKFLOW
            states = workflow["states"]
            into = {}
            for tr in workflow.get("transitions", []):
                into.setdefault(tr["to"], tr.get("code") or tr.get("action") or "step")
            variants = []
            for n in range(256):
                vrng = random.Random(n * 7919 + type_id)
                data = {f["code"]: field_value(f, vrng, n) for f in fields if f["kind"] != "file"}
                who = next((v for k, v in data.items() if "name" in k and isinstance(v, str)), None) \
                    or f"{vrng.choice(FIRST)} {vrng.choice(LAST)}"
                variants.append((copy_text(f"{name_th} - {who}"[:300]), copy_text(data)))
            state_rows = []
            for s in states:
                holder = s.get("holder", "@responsible")
                state_rows.append((s["code"], bool(s.get("final")),
                                   division_id if holder == "@responsible" else by_code.get(holder, division_id),
                                   into.get(s["code"], "accept")))
            services.append({"type_id": type_id, "version_id": version_id, "division_id": division_id,
                             "sla": sla_days, "variants": variants, "states": state_rows,
                             "fee": any(f["kind"] in ("integer", "decimal") for f in fields)})
        return services

    def requests(self, tenant_ids: list[int], sizes: list[int], conf: dict, events: bool) -> tuple[int, int]:
        services = self.service_catalogue()
        rng = self.rng
        # state weights by position in the workflow: most matters are done, a fair share is still open
        req_cols = ["id", "tenant_id", "service_type_id", "version_id", "division_id", "title", "data", "status",
                    "fee_total", "due_on", "step_due_on", "created_at", "updated_at", "created_by_id", "closed_at",
                    "assignee_id", "channel", "reopened_count", "lock_version"]
        ev_cols = ["id", "tenant_id", "request_id", "at", "actor_id", "actor_name", "action", "from_state",
                   "to_state", "division_id", "note", "staff_only"]
        first_req, first_ev = self.next_id("service_requests"), self.next_id("service_request_events")
        start = datetime(2023, 10, 1)
        span = (datetime(2026, 11, 30) - start).total_seconds()
        counters = {"req": first_req, "ev": first_ev}
        divisions, types, versions = conf["divisions"], conf["types"], conf["versions"]

        def generate(batch: list[tuple[int, int]], req_lines: list[str], ev_lines: list[str]) -> None:
            rid, eid = counters["req"], counters["ev"]
            for tid, size in batch:
                step = span / size
                for j in range(size):
                    svc = services[(j * 7 + tid) % len(services)] if j % 3 else services[0]
                    created = start + timedelta(seconds=j * step + rng.random() * step)
                    states = svc["states"]
                    r = rng.random()
                    age = j / size  # the newest matters are still open, most older ones are done
                    if age > 0.9:
                        at = 0 if r < 0.5 else min(1, len(states) - 1)
                    else:
                        at = len(states) - 1 if r < 0.55 else (len(states) - 2 if r < 0.62 else rng.randrange(
                            len(states)))
                    code, final, holder, action = states[at]
                    title, data = svc["variants"][(j + tid) % 256]
                    due = (created + timedelta(days=svc["sla"] + svc["sla"] // 2)).date()
                    closed = created + timedelta(days=rng.randrange(1, 30)) if final else None
                    updated = closed or created + timedelta(hours=rng.randrange(1, 200))
                    fee = f"{rng.randrange(2, 400) * 10}.00" if svc["fee"] else r"\N"
                    division_id = divisions[(tid, holder)]
                    req_lines.append("\t".join((
                        str(rid), str(tid), str(types[(tid, svc["type_id"])]), str(versions[(tid, svc["version_id"])]),
                        str(division_id), title, data, code, fee, due.isoformat(), r"\N", created.isoformat(),
                        updated.isoformat(), r"\N", closed.isoformat() if closed else r"\N", r"\N",
                        "portal" if j % 4 == 0 else "staff", "0", str(1 + min(at, 2)))))
                    if events and at > 0:
                        accept_to = states[1][0]
                        first_div = divisions[(tid, states[1][2])]
                        ev_lines.append(f"{eid}\t{tid}\t{rid}\t{(created + timedelta(hours=3)).isoformat()}\t\\N\t"
                                        f"เจ้าหน้าที่ทดสอบ\taccept\tsubmitted\t{accept_to}\t{first_div}\t\\N\tf")
                        eid += 1
                        if at > 1:
                            ev_lines.append(f"{eid}\t{tid}\t{rid}\t{updated.isoformat()}\t\\N\tเจ้าหน้าที่ทดสอบ\t"
                                            f"{action}\t{accept_to}\t{code}\t{division_id}\t\\N\tf")
                            eid += 1
                    rid += 1
            counters["req"], counters["ev"] = rid, eid

        n = m = 0
        batch, in_batch = [], 0
        todo = list(zip(tenant_ids, sizes))
        for k, item in enumerate(todo):
            batch.append(item)
            in_batch += item[1]
            if in_batch >= 100_000 or k == len(todo) - 1:
                req_lines, ev_lines = [], []
                generate(batch, req_lines, ev_lines)
                n += self.copy("service_requests", req_cols, req_lines)
                if ev_lines:
                    m += self.copy("service_request_events", ev_cols, ev_lines)
                batch, in_batch = [], 0
                if n // 1_000_000 != (n - len(req_lines)) // 1_000_000:
                    log(f"    {n:,} requests")
        return n, m

    def commit(self) -> None:
        self.conn.commit()


def analyze(owner_url: str) -> None:
    import psycopg

    with psycopg.connect(libpq(owner_url), autocommit=True) as conn:
        conn.execute("ANALYZE")


# --- SQL statements and time per page, in-process ------------------------------------------------------

class SqlCounter:
    """Statements and their time, on one engine. The tenant's set_config (app/tenancy/rls.py runs it on a cursor of
    its own, before the first statement of a transaction) counts as a statement too, and its time is included:
    this counter's hook runs before rls's, and sees rls's mark on the connection change."""

    _MISSING = object()

    def __init__(self, engine):
        from sqlalchemy import event

        from app.tenancy import rls

        self.rls_key = getattr(rls, "_KEY", None)
        self.count, self.set_configs, self.seconds, self._t = 0, 0, 0.0, threading.local()
        self.statements: list[tuple[str, object]] = []
        event.listen(engine, "before_cursor_execute", self._before, insert=True)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self._t.started = time.perf_counter()
        self._t.mark = conn.info.get(self.rls_key, self._MISSING) if self.rls_key else None

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1
        self.statements.append((statement, parameters))
        if self.rls_key and conn.info.get(self.rls_key, self._MISSING) is not self._t.mark:
            self.count += 1
            self.set_configs += 1
        self.seconds += time.perf_counter() - self._t.started

    def reset(self):
        self.count, self.set_configs, self.seconds = 0, 0, 0.0
        self.statements = []


class StatStatements:
    """The database's own time per page as the app runs it: pg_stat_statements' planning + execution time of every
    statement the runtime role sent (prepared statements' skipped planning, BEGIN/COMMIT and set_config included),
    between a reset and a read. None when the server was not started with the module preloaded."""

    def __init__(self, owner_url: str, runtime_user: str | None):
        import psycopg

        self.conn, self.user = None, runtime_user
        try:
            conn = psycopg.connect(libpq(owner_url), autocommit=True)
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("SELECT count(*) FROM pg_stat_statements").fetchone()
            self.conn = conn
        except Exception as exc:  # not preloaded (shared_preload_libraries) or no right to create it
            log(f"  pg_stat_statements unavailable ({type(exc).__name__}): database time by EXPLAIN ANALYZE instead")

    def reset(self) -> None:
        self.conn.execute("SELECT pg_stat_statements_reset()")

    def ms(self) -> float:
        row = self.conn.execute(
            "SELECT coalesce(sum(total_plan_time + total_exec_time), 0) FROM pg_stat_statements s "
            "JOIN pg_roles r ON r.oid = s.userid WHERE r.rolname = %s AND s.dbid = "
            "(SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND s.query NOT ILIKE '%%pg_stat_statements%%'", (self.user,)).fetchone()
        return float(row[0])


def sql_per_page(app, client, counter: SqlCounter, url: str, headers=None, repeat: int = 5,
                 explain=None, stats: StatStatements | None = None) -> tuple[int, float, int, float | None]:
    """(statements, SQL ms seen by the app (median of `repeat` calls after a warm-up), HTTP status, the database's own
    ms or None) for one page. The database's own ms: from pg_stat_statements per call when `stats` works (the plans
    the app really gets, prepared ones included), else planning + execution by EXPLAIN ANALYZE of the page's
    SELECTs (median of 3; every statement planned afresh)."""
    response = client.get(url, headers=headers or {})
    times, counts = [], []
    if stats is not None and stats.conn is not None:
        stats.reset()
    for _ in range(repeat):
        counter.reset()
        response = client.get(url, headers=headers or {})
        times.append(counter.seconds * 1000)
        counts.append(counter.count)
    db_ms = None
    if stats is not None and stats.conn is not None:
        db_ms = stats.ms() / repeat
    elif explain is not None:
        selects = [(st, params) for st, params in counter.statements if st.lstrip()[:6].upper() == "SELECT"]
        db_ms = statistics.median(explain(selects) for _ in range(3))
    return max(counts), statistics.median(times), response.status_code, db_ms


class Explainer:
    """The database's own time for a list of statements: EXPLAIN (ANALYZE) each, as the runtime role with the
    tenant set for the transaction (as the app sets it), and add planning and execution times."""

    def __init__(self, url: str):
        import psycopg

        self.conn = psycopg.connect(libpq(url))
        self.tenant_id = None

    def __call__(self, statements) -> float:
        total, self.last = 0.0, []
        with self.conn.cursor() as cur:
            cur.execute("SELECT set_config('app.tenant_id', %s, true)", (str(self.tenant_id),))
            for statement, params in statements:
                cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params or None)
                plan = cur.fetchone()[0][0]
                total += plan.get("Planning Time", 0.0) + plan.get("Execution Time", 0.0)
                what = re.sub(r"\s+", " ", statement)
                table = re.search(r"\bFROM (\w+)", what)
                self.last.append((table.group(1) if table else what[:30], plan.get("Planning Time", 0.0),
                                  plan.get("Execution Time", 0.0)))
        self.conn.rollback()
        return total


def login_client(client, username: str, password: str) -> None:
    response = client.post("/login/", data={"username": username, "password": password})
    if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
        sys.exit(f"bench_scale: login failed for {username}")


# --- servers and load ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(app_spec: str, env: dict, workers: int, chdir: str = ROOT) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [os.path.join(BIN, "gunicorn"), "--chdir", chdir, "--bind", f"127.0.0.1:{port}", "--workers",
           str(workers), "--worker-class", "sync", "--timeout", "120", "--log-level", "warning"]
    conf = os.path.join(ROOT, "deploy", "gunicorn.conf.py")
    if chdir == ROOT and os.path.exists(conf):
        cmd[1:1] = ["-c", conf]
    cmd.append(app_spec)
    logfile = open(os.path.join(TMP, f"gunicorn-{port}.log"), "w")
    proc = subprocess.Popen(cmd, env=env, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True)
    _children.append(proc)
    base = f"http://127.0.0.1:{port}"
    import requests

    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            logfile.flush()
            with open(logfile.name, encoding="utf-8", errors="replace") as fh:
                sys.exit(f"bench_scale: {app_spec} did not start:\n{fh.read()[-3000:]}")
        try:
            requests.get(base + "/login/", timeout=2)
            return proc, base
        except requests.RequestException:
            time.sleep(0.5)
    sys.exit(f"bench_scale: {app_spec} did not answer within 120 s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
    if proc in _children:
        _children.remove(proc)


def web_login(base: str, username: str, password: str) -> str:
    """A session cookie header for `username`, through the login form (with its CSRF token)."""
    import requests

    session = requests.Session()
    page = session.get(base + "/login/", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    data = {"username": username, "password": password}
    if token:
        data["csrf_token"] = token.group(1)
    response = session.post(base + "/login/", data=data, allow_redirects=False, timeout=30)
    if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
        logs = ""
        for name in sorted(os.listdir(TMP)):
            if name.startswith("gunicorn-"):
                with open(os.path.join(TMP, name), encoding="utf-8", errors="replace") as fh:
                    logs += fh.read()[-2000:]
        sys.exit(f"bench_scale: web login failed for {username} at {base} ({response.status_code} "
                 f"{response.headers.get('Location')}; token {'found' if token else 'missing'})\n{logs}")
    return "; ".join(f"{k}={v}" for k, v in session.cookies.get_dict().items())


def check_page(base: str, path: str, headers: dict) -> str | None:
    """None when the page answers 200, else what it answered (the load tool is not run on an error page)."""
    import requests

    response = requests.get(base + path, headers=headers, allow_redirects=False, timeout=120)
    if response.status_code != 200:
        log(f"  GET {path} answered {response.status_code}: {response.text[:200]!r}")
        return f"HTTP {response.status_code}"
    return None


def measure(base: str, path: str, headers: dict, args) -> dict:
    failed = check_page(base, path, headers)
    if failed:
        return {"rps": 0.0, "p50": 0.0, "p99": 0.0, "bad": 0, "errors": failed, "sockets": "",
                "load": os.getloadavg()[0]}
    result = wrk(base, path, headers, args)
    if result["rps"] == 0:  # no answer within the window (a page slower than --duration): time two in a row
        import requests

        started = time.perf_counter()
        for _ in range(2):
            requests.get(base + path, headers=headers, allow_redirects=False, timeout=300)
        latency = (time.perf_counter() - started) / 2
        result.update(rps=args.workers / latency, p50=latency * 1000, p99=latency * 1000,
                      sockets=f"no page within {args.duration} s: req/s estimated as workers / latency")
    return result


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)", text)
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(base: str, path: str, headers: dict, args) -> dict:
    """requests/s, p50 and p99 (ms), and the count of non-2xx answers, from wrk --latency."""
    cmd = ["wrk", "--latency", "-t", str(args.load_threads), "-c", str(args.connections), "-d",
           f"{args.duration}s", "--timeout", "30s"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    cmd.append(base + path)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration + 90).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sockets = re.search(r"Socket errors: (.*)", out)  # e.g. a worker recycled (max_requests) mid-connection
    return {"rps": rps, "p50": p50, "p99": p99, "bad": int(bad.group(1)) if bad else 0, "errors": "",
            "sockets": f"socket errors: {sockets.group(1)}" if sockets else "", "load": os.getloadavg()[0]}


# --- gapless numbers -----------------------------------------------------------------------------------
#
# Two costs are told apart. The transaction cost: what one number costs when nobody else wants the counter (one
# client: the wall time per transaction, and the lock hold from the UPDATE's answer to the end of the COMMIT or
# ROLLBACK). The CPU contention: with N client processes and N backends on this machine's cores, a lock holder is
# descheduled and the hold grows; the CPU each number costs (client process and its backend, from /proc when the
# server is local) says how many numbers per second the cores could give at best, whatever the lock.

NUMBER_YEAR = 2570


def _proc_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a local process (a PostgreSQL backend), None when it is not readable here."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _orm_next_number(series: str, year: int) -> int:
    """app.numbering.next_number as it was before issue #10's fix 8 (an ORM update under the guard's loader
    criteria, a savepoint for the first row), kept here to compare with."""
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    from app.extensions import db
    from app.numbering import NumberCounter

    where = (NumberCounter.series == series, NumberCounter.year == year)
    bump = update(NumberCounter).where(*where).values(last_number=NumberCounter.last_number + 1)
    number = db.session.execute(bump.returning(NumberCounter.last_number)).scalar()
    if number is None:
        try:
            with db.session.begin_nested():
                db.session.add(NumberCounter(series=series, year=year, last_number=0))
        except IntegrityError:
            pass
        number = db.session.execute(bump.returning(NumberCounter.last_number)).scalar()
    return number


def numbering_client(settings: dict, tenant_id: int, series: str, count: int, offset: int, start_at: float,
                     mode: str = "app") -> dict:
    """One client (a process, as a web worker is): takes `count` numbers, each in its own transaction, one in ten
    rolled back after the number was taken. mode "app": app.numbering.next_number; "orm": the ORM update it replaced;
    "raw": the same statements on psycopg alone (set_config, the counter's UPDATE ... RETURNING, COMMIT), without
    the app. Returns the numbers it committed and its timings."""
    raw = mode == "raw"
    import logging

    from sqlalchemy import text

    logging.disable(logging.INFO)
    committed, calls, holds = [], [], []
    if raw:
        import psycopg

        conn = psycopg.connect(libpq(settings["SQLALCHEMY_DATABASE_URI"]))
        take = ("UPDATE number_counters SET last_number = last_number + 1 WHERE tenant_id = %s AND series = %s "
                "AND year = %s RETURNING last_number")
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        conn.commit()

        def one():
            conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant_id),))
            return conn.execute(take, (tenant_id, series, NUMBER_YEAR)).fetchone()[0]

        end_ok, end_undo, close = conn.commit, conn.rollback, conn.close
        context = None
    else:
        from app import create_app
        from app.extensions import db
        from app.numbering import next_number
        from app.tenancy.context import tenant_scope

        app = create_app(**{**settings, "FAB_UPDATE_PERMS": False})
        context = app.app_context()
        context.push()
        scope = tenant_scope(tenant_id)
        scope.__enter__()
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        db.session.commit()

        take_number = _orm_next_number if mode == "orm" else next_number

        def one():
            return take_number(series, NUMBER_YEAR)

        end_ok, end_undo = db.session.commit, db.session.rollback

        def close():
            db.session.remove()
            scope.__exit__(None, None, None)
            context.pop()

    time.sleep(max(0.0, start_at - time.time()))
    server_cpu, cpu, started = _proc_cpu_seconds(pid), time.process_time(), time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        number = one()
        t1 = time.perf_counter()
        if (offset + i) % 10 == 0:
            end_undo()
        else:
            end_ok()
            committed.append(number)
        t2 = time.perf_counter()
        calls.append(t2 - t0)
        holds.append(t2 - t1)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    after = _proc_cpu_seconds(pid)
    close()
    return {"committed": committed, "calls": calls, "holds": holds, "wall": wall, "cpu": cpu, "end": time.time(),
            "server_cpu": None if server_cpu is None or after is None else after - server_cpu}


def numbers_benchmark(settings: dict, owner_url: str, tenant_id: int, total: int, clients: int,
                      mode: str = "app") -> dict:
    """Numbers per second and the book afterwards (the counter's last number against the committed numbers), with
    the transaction cost and the CPU per number; a fresh series per call."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import psycopg

    raw = mode == "raw"
    series = f"b{mode}{clients}-{int(time.time()) % 100000}"
    if raw:  # psycopg alone makes no counter row: as the app's first number would
        with psycopg.connect(libpq(owner_url), autocommit=True) as conn:
            conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant_id),))  # forced RLS
            conn.execute("INSERT INTO number_counters (tenant_id, series, year, last_number) VALUES (%s, %s, %s, 0)",
                         (tenant_id, series, NUMBER_YEAR))
    share = total // clients
    start_at = time.time() + (3 if raw else 15) + 2 * clients  # time for every process to build its app
    with ProcessPoolExecutor(clients, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(numbering_client, settings, tenant_id, series, share, k * share, start_at, mode)
                   for k in range(clients)]
        results = [f.result() for f in futures]
    seconds = max(r["end"] for r in results) - start_at
    numbers = sorted(n for r in results for n in r["committed"])
    with psycopg.connect(libpq(owner_url), autocommit=True) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant_id),))
        found = conn.execute("SELECT last_number FROM number_counters WHERE tenant_id = %s AND series = %s "
                             "AND year = %s", (tenant_id, series, NUMBER_YEAR)).fetchone()
    top = found[0] if found else 0
    distinct = set(numbers)
    calls = [c for r in results for c in r["calls"]]
    holds = [h for r in results for h in r["holds"]]
    server = [r["server_cpu"] for r in results]
    server_ms = None if None in server else sum(server) * 1000 / len(calls)
    client_ms = sum(r["cpu"] for r in results) * 1000 / len(calls)
    cpu_ms = client_ms + (server_ms or 0)
    return {"per_second": len(numbers) / seconds, "calls_per_second": len(calls) / seconds, "clients": clients,
            "committed": len(numbers), "gaps": len(set(range(1, top + 1)) - distinct),
            "duplicates": len(numbers) - len(distinct), "beyond": len(distinct - set(range(1, top + 1))),
            "seconds": seconds, "top": top, "late": time.time() < start_at, "mode": mode,
            "call_ms": statistics.mean(calls) * 1000, "call_p95_ms": sorted(calls)[int(0.95 * len(calls))] * 1000,
            "hold_ms": statistics.mean(holds) * 1000, "client_cpu_ms": client_ms, "server_cpu_ms": server_ms,
            "cpu_ceiling": os.cpu_count() * 1000 / cpu_ms if server_ms is not None and cpu_ms else None,
            "load": os.getloadavg()[0]}


def numbers_figures(runs: list[dict], figure, target_clients: int) -> None:
    """One line per run (app or raw psycopg, N clients), then the target's verdict on the app at target_clients."""
    for num in runs:
        who = {"raw": "raw psycopg", "orm": "the former ORM update", "app": "app next_number"}[num["mode"]]
        ceiling = (f"; CPU ceiling {num['cpu_ceiling']:,.0f}/s" if num["cpu_ceiling"] else "")
        server = (f" + backend {num['server_cpu_ms']:.2f}" if num["server_cpu_ms"] is not None else "")
        figure(f"gapless numbers, {who}, {num['clients']} client{'s' if num['clients'] > 1 else ''}, 10% rolled back",
               f"{num['per_second']:,.0f}/s committed ({num['calls_per_second']:,.0f} taken/s); {num['gaps']} gaps, "
               f"{num['duplicates']} dups in 1..{num['top']:,}; per number {num['call_ms']:.2f} ms (p95 "
               f"{num['call_p95_ms']:.2f}), lock held {num['hold_ms']:.2f} ms, CPU client {num['client_cpu_ms']:.2f}"
               f"{server} ms{ceiling}; load {num['load']:.1f}", "", None)
    one = next((n for n in runs if n["mode"] == "app" and n["clients"] == 1), None)
    target = next((n for n in runs if n["mode"] == "app" and n["clients"] == target_clients), None)
    if one and target and target is not one:
        figure(f"gapless numbers: lock hold {target_clients} clients vs 1 (CPU contention)",
               f"{target['hold_ms']:.2f} vs {one['hold_ms']:.2f} ms ({target['hold_ms'] / one['hold_ms']:.1f}x); "
               f"1 / hold = {1000 / target['hold_ms']:,.0f}/s at most", "", None)
    if target:
        figure(f"gapless numbers, {target_clients} clients, 10% rolled back", f"{target['per_second']:,.0f}/s "
               f"committed", ">= 2,000/s", target["per_second"] >= 2000)
    ok = all(n["gaps"] == 0 and n["duplicates"] == 0 and n["beyond"] == 0 and n["top"] == n["committed"]
             and not n["late"] for n in runs)
    figure("gapless numbers: gaps, duplicates (every run)", ", ".join(f"{n['gaps']}/{n['duplicates']}" for n in runs),
           "0, 0", ok)


def run_numbers(settings: dict, owner_url: str, tenant_id: int, args, figure) -> None:
    runs = []
    for clients in args.number_clients:
        for mode in (("app", "orm", "raw") if args.numbers_compare else ("app",)):
            runs.append(numbers_benchmark(settings, owner_url, tenant_id, args.numbers, clients, mode))
            n = runs[-1]
            log(f"  numbers {mode} x{clients}: {n['per_second']:,.0f}/s committed, hold "
                f"{n['hold_ms']:.2f} ms, call {n['call_ms']:.2f} ms, gaps {n['gaps']}, dups {n['duplicates']}")
    numbers_figures(runs, figure, args.clients)


# --- main ----------------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=7850)
    parser.add_argument("--requests", type=int, default=10_000_000)
    parser.add_argument("--largest-share", type=float, default=0.04)
    parser.add_argument("--events", choices=["all", "none"], default="all")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--load-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--deep-page", type=int, default=None)
    parser.add_argument("--numbers", type=int, default=8000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--number-clients", type=lambda v: sorted({int(x) for x in v.split(",") if x.strip()}),
                        default=None)
    parser.add_argument("--numbers-compare", action="store_true")
    parser.add_argument("--numbers-only", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--seed", type=int, default=2569)
    args = parser.parse_args()
    args.number_clients = sorted(set(args.number_clients or [1, 2]) | {args.clients})

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        print("bench_scale: set DATABASE_URL to a PostgreSQL database (or run `make bench`)", file=sys.stderr)
        return 2
    owner_url = os.environ.get("DATABASE_OWNER_URL") or url
    platform_role = os.environ.get("DATABASE_PLATFORM_ROLE") or None
    if not args.skip_load:
        for tool in ("wrk", os.path.join(BIN, "gunicorn")):
            if shutil.which(tool) is None:
                print(f"bench_scale: {tool} not found (Debian: apt-get install wrk; gunicorn: make venv)",
                      file=sys.stderr)
                return 2
    from sqlalchemy.engine import make_url

    runtime_user = make_url(url).username
    separate_roles = owner_url != url
    rng = random.Random(args.seed)
    settings = app_settings(url, owner_url, platform_role)
    figures: list[tuple[str, str, str, bool | None]] = []  # (what, figure, target, passed)

    def figure(what: str, value: str, target: str = "", passed: bool | None = None) -> None:
        figures.append((what, value, target, passed))

    logging.disable(logging.INFO)  # the app's access and audit lines: thousands of them
    t0 = time.perf_counter()
    log(f"bench_scale: {args.tenants:,} organisations, {args.requests:,} requests, {os.cpu_count()} CPUs; "
        f"runtime role {runtime_user}{'' if separate_roles else ' (no separate owner: DATABASE_OWNER_URL unset)'}")
    app = migrate_and_seed(settings)
    template_path = tenant_seed(TEMPLATE_DLA, "bench")
    apply_seed(app, template_path)
    if args.numbers_only:  # the gapless numbers alone, on the template organisation: no data generated
        import psycopg

        with psycopg.connect(libpq(owner_url)) as conn:
            tenant_id = conn.execute("SELECT id FROM tenants WHERE dla_code = %s", (TEMPLATE_DLA,)).fetchone()[0]
        run_numbers(settings, owner_url, tenant_id, args, figure)
        for what, value, target, passed in figures:
            print(f"{what}: {value}" + (f"  [target {target}: {'PASS' if passed else 'FAIL'}]" if target else ""))
        return 0 if all(p is not False for *_rest, p in figures) else 1
    # onboarding: the whole command as an operator runs it, and the apply itself in a running app
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "FAB_UPDATE_PERMS": "false"}
    if separate_roles:
        env["DATABASE_OWNER_URL"] = owner_url
    onboard_command = onboard_cli(env, tenant_seed(ONBOARD_DLA, "onboard"))
    onboard_apply = min(apply_seed(app, tenant_seed(f"899999{k}", f"onboard{k}")) for k in (2, 3, 4))
    onboard_org = min(apply_seed(app, tenant_seed(f"899998{k}", f"org{k}", users=False)) for k in (2, 3, 4))
    log(f"  migrated and seeded in {time.perf_counter() - t0:.1f} s; onboarding: command {onboard_command:.2f} s, "
        f"apply {onboard_apply:.2f} s")

    # --- generate ---------------------------------------------------------------------------------------
    import psycopg

    with psycopg.connect(libpq(owner_url)) as conn:
        template_id = conn.execute("SELECT id FROM tenants WHERE dla_code = %s", (TEMPLATE_DLA,)).fetchone()[0]
        du_before = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    sizes = zipf_sizes(args.tenants, args.requests, args.largest_share)
    t1 = time.perf_counter()
    loader = Loader(owner_url, template_id, rng)
    loader.begin_fast()
    tenant_ids = loader.tenants(sizes)
    conf = loader.configuration(tenant_ids)
    log(f"  {len(tenant_ids):,} organisations with their กอง, users, services in {time.perf_counter() - t1:.1f} s"
        f"{'' if loader.fast else ' (foreign-key triggers on: the owner is not a superuser)'}")
    t2 = time.perf_counter()
    dropped = loader.drop_indexes("service_requests") + loader.drop_indexes("service_request_events")
    n_req, n_ev = loader.requests(tenant_ids, sizes, conf, args.events == "all")
    t3 = time.perf_counter()
    log(f"  {n_req:,} requests and {n_ev:,} timeline events copied in {t3 - t2:.1f} s "
        f"({n_req / (t3 - t2):,.0f} requests/s)")
    loader.create_indexes(dropped)
    loader.set_sequences(["tenants", "divisions", "ab_user", "ab_user_role", "memberships", "service_types",
                          "service_type_versions", "fee_schedules", "service_requests", "service_request_events"])
    loader.commit()
    log(f"  {len(dropped)} secondary indexes rebuilt in {time.perf_counter() - t3:.1f} s")
    t4 = time.perf_counter()
    analyze(owner_url)
    with psycopg.connect(libpq(owner_url)) as conn:
        du_after = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    log(f"  ANALYZE in {time.perf_counter() - t4:.1f} s; database {du_after / 2 ** 30:.2f} GB "
        f"(+{(du_after - du_before) / 2 ** 30:.2f} GB)")
    figure("data generated", f"{len(tenant_ids):,} orgs, {n_req:,} requests, {n_ev:,} events in "
           f"{time.perf_counter() - t1:.0f} s", "", None)

    median_rank = len(tenant_ids) // 2
    measured = {"median": (tenant_ids[median_rank], sizes[median_rank]), "largest": (tenant_ids[0], sizes[0])}
    user_of = {name: f"t{tid}.mayor" for name, (tid, _n) in measured.items()}
    try:  # the app pages by OFFSET only up to its counting cap; older matters are reached by order or filter
        from app.tenancy.interface import COUNT_CAP
    except ImportError:
        COUNT_CAP = None
    deep_page = args.deep_page if args.deep_page is not None else (
        COUNT_CAP // 25 - 1 if COUNT_CAP else max(0, sizes[0] // 25 // 2))

    # integration keys for the open API (limit raised past what the load tool sends)
    from sqlalchemy import select

    from flask_appbuilder.security.sqla.models import User

    from app.api import keys
    from app.extensions import db
    from app.tenancy.context import tenant_scope

    tokens, detail_ids = {}, {}
    for name, (tid, _n) in measured.items():
        with app.app_context(), tenant_scope(tid):
            user = db.session.scalar(select(User).where(User.username == user_of[name]))
            key, token = keys.issue(tid, name="benchmark", scopes=["read"], acting_user=user,
                                    rate_limit_per_minute=10000, created_by_name="bench")
            db.session.commit()
            tokens[name] = token
            db.session.remove()
    with psycopg.connect(libpq(owner_url), autocommit=True) as conn:
        conn.execute("UPDATE api_keys SET rate_limit_per_minute = 100000000 WHERE name = 'benchmark'")
        for name, (tid, n) in measured.items():
            detail_ids[name] = conn.execute(
                "SELECT id FROM service_requests WHERE tenant_id = %s ORDER BY id OFFSET %s LIMIT 1",
                (tid, n // 2)).fetchone()[0]

    def pages(name: str) -> dict[str, str]:
        tid, n = measured[name]
        deep = min(deep_page, max(0, (n - 1) // 25))
        v = "ServiceRequestView"
        return {
            "list": f"/service-requests/list/?psize_{v}=25",
            "list100": f"/service-requests/list/?psize_{v}=100",
            "list_deep": f"/service-requests/list/?psize_{v}=25&page_{v}={deep}",
            "list_oldest": f"/service-requests/list/?psize_{v}=25&_oc_{v}=created_at&_od_{v}=asc",
            "rest": "/api/v1/service-request/?page_size=25",
            "rest_deep": f"/api/v1/service-request/?page_size=25&page={deep}",
            "open": "/api/open/v1/requests",
            "detail": f"/service-requests/show/{detail_ids[name]}",
        }

    # --- SQL statements and time per page --------------------------------------------------------------
    from app import create_app

    sql_app = create_app(**{**settings, "WTF_CSRF_ENABLED": False, "AUTH_RATE_LIMITED": False,
                            "FAB_UPDATE_PERMS": False})
    sql = {}
    explainer = Explainer(url)
    stats = StatStatements(owner_url, runtime_user)
    with sql_app.app_context():
        counter = SqlCounter(db.engine)
    for name in measured:
        client = sql_app.test_client()
        login_client(client, user_of[name], PASSWORD)
        for page, path in pages(name).items():
            headers = {"X-API-Key": tokens[name]} if page == "open" else None
            explainer.tenant_id = measured[name][0]
            try:
                # EXPLAIN ANALYZE of each SELECT, for the log: which statement costs what when planned afresh
                sql_per_page(sql_app, client, counter, path, headers, repeat=1, explain=explainer)
                log(f"  {name} {page}: " + ", ".join(f"{t} plan {pl:.2f} exec {ex:.2f}" for t, pl, ex in explainer.last))
            except Exception as exc:  # EXPLAIN refused: the figures below do without it
                log(f"  EXPLAIN failed on {page}: {exc!r}")
                explainer.conn.rollback()
            sql[(name, page)] = sql_per_page(sql_app, client, counter, path, headers,
                                             explain=explainer if stats.conn is None else None, stats=stats)
    log("  SQL per page: " + ", ".join(f"{n}/{p} {c} stmts {ms:.2f} ms ({st}) db {dbms or 0:.2f} ms"
                                      for (n, p), (c, ms, st, dbms) in sql.items()))

    # --- onboarding and numbering ----------------------------------------------------------------------
    figure("onboard one org: flask seed apply (whole command)", f"{onboard_command:.2f} s", "", None)
    figure("onboard one org: the apply itself (9 users, scrypt)", f"{onboard_apply:.2f} s", "<= 1 s",
           onboard_apply <= 1.0)
    figure("onboard one org: the same file without its users", f"{onboard_org:.2f} s", "", None)
    run_numbers(settings, owner_url, measured["median"][0], args, figure)

    # --- load ---------------------------------------------------------------------------------------------
    # Every server runs at once (an idle one costs only memory) and the measurements are interleaved, round after
    # round, so that the load other work puts on the machine falls on each of them alike; a ratio compares
    # figures taken minutes apart otherwise.
    load = {}
    if not args.skip_load:
        server_env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "FAB_UPDATE_PERMS": "false",
                      "AUTH_RATE_LIMITED": "false", "RATELIMIT_ENABLED": "false"}
        if separate_roles:
            server_env["DATABASE_OWNER_URL"] = owner_url
        if platform_role:
            server_env["DATABASE_PLATFORM_ROLE"] = platform_role
        stock_env = {**os.environ, "STOCK_DATABASE_URL": owner_url}
        made = subprocess.run([sys.executable, os.path.join(HERE, "stock_fab_app.py"), "create-user", STOCK_USER,
                               STOCK_PASSWORD], env=stock_env, cwd=HERE, capture_output=True, text=True)
        if made.returncode != 0:
            sys.exit(f"bench_scale: stock FAB user not created:\n{made.stderr[-3000:]}")
        tasks = []  # (key, base, path, headers)
        _proc, base = start_server("app:create_app()", server_env, args.workers)
        for name in measured:
            cookie = {"Cookie": web_login(base, user_of[name], PASSWORD)}
            for page in ("list", "rest", "open", "detail"):
                headers = {"X-API-Key": tokens[name]} if page == "open" else cookie
                tasks.append((("ours", name, page), base, pages(name)[page], headers))
        if separate_roles:  # the same list as the owner: row-level security bypassed
            _proc, base = start_server("app:create_app()", {**server_env, "DATABASE_URL": owner_url}, args.workers)
            for name in measured:
                cookie = {"Cookie": web_login(base, user_of[name], PASSWORD)}
                tasks.append((("owner", name, "list"), base, pages(name)["list"], cookie))
        _proc, base = start_server("stock_fab_app:create_app()", stock_env, args.workers, chdir=HERE)
        cookie = web_login(base, STOCK_USER, STOCK_PASSWORD)
        for name, (tid, _n) in measured.items():
            headers = {"Cookie": cookie, "X-Bench-Tenant": str(tid)}
            tasks.append((("stock", name, "list"), base, "/stockrequestview/list/", headers))
            tasks.append((("stock", name, "rest"), base, "/api/v1/stock-request/", headers))
        _proc, base = start_server("stock_fab_app:create_plain_app()", stock_env, args.workers, chdir=HERE)
        for name, (tid, _n) in measured.items():
            tasks.append((("plain", name, "rest"), base, f"/plain/requests?tenant={tid}&page_size=25", {}))
        runs: dict = {}
        for round_no in range(args.rounds):
            for key, base, path, headers in tasks:
                if round_no and runs[key][0]["errors"]:
                    continue
                runs.setdefault(key, []).append(measure(base, path, headers, args))
                r = runs[key][-1]
                log(f"  round {round_no + 1} {' '.join(key)}: {r['rps']:,.1f} req/s, p50 {r['p50']:.1f} ms, "
                    f"p99 {r['p99']:.1f} ms, load {r['load']:.1f}" + (f" {r['errors']}" if r["errors"] else ""))
        for key, done in runs.items():
            load[key] = {"rps": statistics.mean(r["rps"] for r in done),
                         "p50": statistics.median(r["p50"] for r in done),
                         "p99": max(r["p99"] for r in done), "bad": sum(r["bad"] for r in done),
                         "errors": done[0]["errors"], "load": statistics.mean(r["load"] for r in done),
                         "sockets": "; ".join(r["sockets"] for r in done if r["sockets"])}
        for proc in list(_children):
            stop_server(proc)

    # --- the table --------------------------------------------------------------------------------------
    for name, (tid, n) in measured.items():
        figure(f"{name} organisation", f"id {tid}, {n:,} requests", "", None)
    labels = {"list": "staff list page", "rest": "REST list (/api/v1)", "open": "open API list (key)",
              "detail": "detail page"}
    for (who, name, page), r in load.items():
        if who == "ours":
            figure(f"ours {name}: {labels[page]}", f"{r['rps']:,.0f} req/s, p50 {r['p50']:.1f} ms, p99 "
                   f"{r['p99']:.1f} ms, load {r['load']:.1f}" + (f", {r['bad']} non-2xx" if r["bad"] else "")
                   + (f", {r['errors']}" if r["errors"] else "") + (f", {r['sockets']}" if r["sockets"] else ""), "",
                   False if (r["bad"] or r["errors"]) else None)
    for (who, name, page), r in load.items():
        if who in ("stock", "plain"):
            what = {"stock": {"list": "stock FAB ModelView list", "rest": "stock FAB ModelRestApi list"},
                    "plain": {"rest": "plain Flask+SQLAlchemy list"}}[who][page]
            figure(f"{what} ({name})", f"{r['rps']:,.0f} req/s, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, "
                   f"load {r['load']:.1f}", "", None)
    def rps(key) -> float | None:
        r = load.get(key)
        return r["rps"] if r and not r["errors"] and r["rps"] > 0 else None

    def ratio(a, b) -> float | None:
        return None if rps(a) is None or rps(b) is None else rps(a) / rps(b)

    for name in measured:
        if ("stock", name, "list") in load:
            r = ratio(("ours", name, "list"), ("stock", name, "list"))
            figure(f"list vs stock FAB ({name})", "n/a" if r is None else f"{r:.1f}x", ">= 5x",
                   r is not None and r >= 5)
        if ("plain", name, "rest") in load:
            r = ratio(("ours", name, "rest"), ("plain", name, "rest"))
            figure(f"REST list vs plain ({name})", "n/a" if r is None else f"{r:.0%}", ">= 40%",
                   r is not None and r >= 0.40)
    if load:
        for page in ("list", "rest", "open", "detail"):
            r = ratio(("ours", "median", page), ("ours", "largest", page))
            figure(f"largest vs median: {labels[page]}", "n/a" if r is None else f"{r:.2f}x the median's time",
                   "<= 1.5x", r is not None and r <= 1.5)
        for name in measured:
            if ("owner", name, "list") in load:
                r = ratio(("ours", name, "list"), ("owner", name, "list"))
                owner_rps = rps(("owner", name, "list")) or 0
                figure(f"row-level security cost, list ({name})",
                       "n/a" if r is None else f"{1 - r:.1%} (owner {owner_rps:,.0f} req/s)", "<= 10%",
                       r is not None and 1 - r <= 0.10)
            else:
                figure(f"row-level security cost ({name})", "not measured: no separate runtime role", "<= 10%",
                       None)
    for name in measured:
        counts = {p: sql[(name, p)][0] for p in ("list", "list100", "list_deep", "list_oldest")}
        deep = min(deep_page, max(0, (measured[name][1] - 1) // 25))
        figure(f"SQL statements per list page ({name}: 25 rows, 100, page {deep:,}, oldest first)",
               ", ".join(str(c) for c in counts.values()), "<= 6", max(counts.values()) <= 6)
        figure(f"SQL statements: REST, REST deep, open API, detail ({name})",
               ", ".join(str(sql[(name, p)][0]) for p in ("rest", "rest_deep", "open", "detail")), "", None)
        db_times = [sql[(name, p)][3] for p in pages(name)]
        if all(t is not None for t in db_times):
            figure(f"SQL ms per page in the database, planning + execution "
                   f"({'pg_stat_statements' if stats.conn is not None else 'EXPLAIN ANALYZE'}; {name})",
                   ", ".join(f"{p} {sql[(name, p)][3]:.2f}" for p in pages(name)), "<= 2 ms", max(db_times) <= 2.0)
            figure(f"SQL ms per page as the app waits for it, loaded machine ({name})",
                   ", ".join(f"{p} {sql[(name, p)][1]:.2f}" for p in pages(name)), "", None)
        else:
            worst = max(sql[(name, p)][1] for p in pages(name))
            figure(f"SQL ms per page as the app waits for it ({name})",
                   ", ".join(f"{p} {sql[(name, p)][1]:.2f}" for p in pages(name)), "<= 2 ms", worst <= 2.0)
        bad = [f"{p}: HTTP {sql[(name, p)][2]}" for p in pages(name) if sql[(name, p)][2] != 200]
        if bad:
            figure(f"pages that did not answer 200 ({name})", ", ".join(bad), "none", False)

    width = max(len(f[0]) for f in figures)
    vwidth = max(len(f[1]) for f in figures)
    print()
    print(f"{'figure'.ljust(width)}  {'value'.ljust(vwidth)}  target      result")
    print("-" * (width + vwidth + 24))
    for what, value, target, passed in figures:
        result = "" if passed is None else ("PASS" if passed else "FAIL")
        print(f"{what.ljust(width)}  {value.ljust(vwidth)}  {target.ljust(10)}  {result}")
    print(f"\nbench_scale: {time.perf_counter() - t0:.0f} s in all; wrk -t{args.load_threads} -c{args.connections} "
          f"-d{args.duration}s, gunicorn -w {args.workers}")
    return 0 if all(p is not False for *_rest, p in figures) else 1


if __name__ == "__main__":
    sys.exit(main())

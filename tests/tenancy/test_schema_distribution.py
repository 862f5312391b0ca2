"""The live schema is ready to be sharded by tenant_id (docs/scaling.md), on SQLite and on PostgreSQL alike:
every index and unique constraint of a tenant table leads with tenant_id, every foreign key between tenant tables
carries tenant_id, nothing replicated points into a tenant table, and the distribution plan in docs/scaling.md
names every table there is."""
import os
import re

from sqlalchemy import inspect, text

from app.extensions import db

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Tables with a tenant_id that are replicated to every node rather than distributed, because a row is found
# before its tenant is known. Anything else with a tenant_id is a distributed tenant table.
REFERENCE_WITH_TENANT_ID = {
    "ab_user": "FAB's users: a login finds a user by name; platform operators have no tenant",
    "api_keys": "an integration key is found by its prefix before its tenant is known",
}
# The second tenant column of a shared row: the partner's side of the wall may lead an index of its own.
PARTNER_COLUMN = "partner_tenant_id"


def _read(engine):
    inspector = inspect(engine)
    tables = {}
    for name in inspector.get_table_names():
        uniques = inspector.get_unique_constraints(name)
        if engine.dialect.name == "sqlite":
            # SQLite's reflection misses a UNIQUE written on the column itself; its automatic index does not
            with engine.connect() as conn:
                for row in conn.execute(text(f"PRAGMA index_list('{name}')")).mappings():
                    if row["origin"] == "u":
                        columns = [r["name"] for r in conn.execute(text(f"PRAGMA index_info('{row['name']}')"))
                                   .mappings()]
                        if all(u["column_names"] != columns for u in uniques):
                            uniques.append({"name": row["name"], "column_names": columns})
        tables[name] = {
            "columns": {c["name"] for c in inspector.get_columns(name)},
            "indexes": inspector.get_indexes(name),
            "uniques": uniques,
            "fks": inspector.get_foreign_keys(name),
        }
    return tables, engine.dialect.name


def _schema(app):
    with app.app_context():
        return _read(db.engine)


def _tenant_tables(tables):
    return {name for name, t in tables.items() if "tenant_id" in t["columns"]} - set(REFERENCE_WITH_TENANT_ID)


def test_the_tenant_tables_are_found_and_the_replicated_ones_are_named(app):
    tables, _ = _schema(app)
    tenant = _tenant_tables(tables)
    # the schema really has them: a dozen domains' worth (a test that found none would pass vacuously)
    assert {"service_requests", "divisions", "forwardings", "waste_invoices", "saraban_documents"} <= tenant
    assert len(tenant) >= 40, sorted(tenant)
    for name in REFERENCE_WITH_TENANT_ID:
        assert "tenant_id" in tables[name]["columns"], name


def _misled(tables, dialect):
    """Indexes and unique constraints of tenant tables not led by tenant_id (primary keys are not listed)."""
    wrong = []
    for name in sorted(_tenant_tables(tables)):
        t = tables[name]
        leads = {"tenant_id", PARTNER_COLUMN} if PARTNER_COLUMN in t["columns"] else {"tenant_id"}
        for index in t["indexes"]:
            columns = index["column_names"]
            if not columns or columns[0] not in leads:
                wrong.append(f"{dialect}: index {index['name']} on {name}{tuple(columns)}")
        for unique in t["uniques"]:
            columns = unique["column_names"]
            if columns[0] != "tenant_id":  # uniqueness is the owner's: never led by the partner
                wrong.append(f"{dialect}: unique {unique['name']} on {name}{tuple(columns)}")
    return wrong


def _loose_foreign_keys(tables, dialect):
    """Foreign keys from a tenant table to another that do not carry tenant_id to tenant_id."""
    tenant = _tenant_tables(tables)
    wrong = []
    for name in sorted(tenant):
        for fk in tables[name]["fks"]:
            if fk["referred_table"] not in tenant:
                continue  # to tenants, role templates, ab_user, api_keys...: replicated tables, any key will do
            mine, theirs = fk["constrained_columns"], fk["referred_columns"]
            if "tenant_id" not in mine or theirs[mine.index("tenant_id")] != "tenant_id":
                wrong.append(f"{dialect}: {fk['name']} {name}{tuple(mine)} -> {fk['referred_table']}{tuple(theirs)}")
    return wrong


def _refused_actions(tables, dialect):
    """Foreign keys carrying tenant_id whose actions Citus refuses (and that would null tenant_id, NOT NULL)."""
    wrong = []
    for name in sorted(_tenant_tables(tables)):
        for fk in tables[name]["fks"]:
            options = {k: (v or "").upper() for k, v in (fk.get("options") or {}).items()}
            if "tenant_id" in fk["constrained_columns"] and (
                    options.get("ondelete") in ("SET NULL", "SET DEFAULT")
                    or options.get("onupdate") in ("SET NULL", "SET DEFAULT", "CASCADE")):
                wrong.append(f"{dialect}: {fk['name']} on {name}: {options}")
    return wrong


def test_every_index_and_unique_constraint_of_a_tenant_table_leads_with_tenant_id(app):
    wrong = _misled(*_schema(app))
    assert not wrong, "lead these with tenant_id (docs/scaling.md):\n" + "\n".join(wrong)


def test_every_foreign_key_between_tenant_tables_carries_tenant_id(app):
    wrong = _loose_foreign_keys(*_schema(app))
    assert not wrong, "make these composite (tenant_id, ...) -> (tenant_id, id):\n" + "\n".join(wrong)


def test_the_checks_see_what_the_old_schema_got_wrong(tmp_path):
    """The same checks on tables shaped as before migrations d7e2a9c4f1b3 and e3b8c1d5a7f2 find each fault (so a
    pass above means something): an index on a foreign key alone, a unique token alone, a foreign key on the id
    alone, a composite key that sets null."""
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        for statement in (
            "CREATE TABLE tenants (id INTEGER PRIMARY KEY)",
            "CREATE TABLE events (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants (id),"
            " UNIQUE (tenant_id, id))",
            "CREATE TABLE payments (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants (id),"
            " event_id INTEGER REFERENCES events (id), token VARCHAR(43) UNIQUE)",
            "CREATE INDEX ix_payments_event_id ON payments (event_id)",
            "CREATE INDEX ix_payments_tenant_id ON payments (tenant_id)",
            "CREATE TABLE shared (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, partner_tenant_id INTEGER,"
            " UNIQUE (partner_tenant_id, id))",
            "CREATE INDEX ix_shared_partner ON shared (partner_tenant_id)",
            "CREATE TABLE lines (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, payment_id INTEGER,"
            " UNIQUE (tenant_id, payment_id), CONSTRAINT fk_lines_payment FOREIGN KEY (tenant_id, payment_id)"
            " REFERENCES events (tenant_id, id) ON DELETE SET NULL)",
        ):
            conn.execute(text(statement))
    tables, dialect = _read(engine)
    misled = _misled(tables, dialect)
    assert len(misled) == 3, misled  # the event index, the token, the partner-led unique (not the partner index)
    assert any("ix_payments_event_id" in m for m in misled) and any("('token',)" in m for m in misled)
    assert any("('partner_tenant_id', 'id')" in m for m in misled)
    loose = _loose_foreign_keys(tables, dialect)
    assert len(loose) == 1 and "('event_id',) -> events('id',)" in loose[0], loose
    refused = _refused_actions(tables, dialect)
    assert len(refused) == 1 and "fk_lines_payment" in refused[0], refused


def test_no_foreign_key_with_tenant_id_sets_null(app):
    wrong = _refused_actions(*_schema(app))
    assert not wrong, "use NO ACTION, RESTRICT or CASCADE and clear the link in the service:\n" + "\n".join(wrong)


def test_nothing_replicated_points_into_a_tenant_table(app):
    """Citus refuses a foreign key from a reference or local table to a distributed one."""
    tables, _ = _schema(app)
    tenant = _tenant_tables(tables)
    wrong = [f"{name}.{fk['constrained_columns']} -> {fk['referred_table']}"
             for name, t in sorted(tables.items()) if name not in tenant
             for fk in t["fks"] if fk["referred_table"] in tenant]
    assert not wrong, wrong


def _plan():
    with open(os.path.join(ROOT, "docs", "scaling.md"), encoding="utf-8") as fh:
        doc = fh.read()
    distributed = dict(re.findall(
        r"create_distributed_table\('(\w+)',\s*'(\w+)'", doc))
    reference = set(re.findall(r"create_reference_table\('(\w+)'\)", doc))
    local = set(re.findall(r"^-- local: (\w+)", doc, re.M))
    return distributed, reference, local


def test_docs_scaling_places_every_table_once(app):
    tables, _ = _schema(app)
    distributed, reference, local = _plan()
    named = list(distributed) + list(reference) + list(local)
    assert len(named) == len(set(named)), "a table is placed twice in docs/scaling.md"
    missing, stale = set(tables) - set(named), set(named) - set(tables)
    assert not missing and not stale, f"docs/scaling.md: add {sorted(missing)}, remove {sorted(stale)}"
    tenant = _tenant_tables(tables)
    assert {t for t, column in distributed.items() if column == "tenant_id"} == tenant
    assert set(REFERENCE_WITH_TENANT_ID) <= reference
    # and it is the generator's output, in its order (referenced tables first)
    from flask_appbuilder import Model

    from app.tenancy import distribution

    assert set(distribution.REFERENCE_WITH_TENANT_ID) == set(REFERENCE_WITH_TENANT_ID)
    with open(os.path.join(ROOT, "docs", "scaling.md"), encoding="utf-8") as fh:
        assert distribution.sql(Model.metadata) in fh.read(), \
            "docs/scaling.md: paste the output of .venv/bin/python -m app.tenancy.distribution"


def test_row_level_security_covers_every_table_with_a_tenant_id(app):
    """The second wall misses no tenant table either (PostgreSQL only: SQLite has no row-level security)."""
    tables, dialect = _schema(app)
    if dialect != "postgresql":
        return
    with app.app_context(), db.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace")).all()
    secured = {name for name, enabled, forced in rows if enabled and forced}
    with_tenant = {name for name, t in tables.items() if "tenant_id" in t["columns"]}
    assert with_tenant - secured == set()

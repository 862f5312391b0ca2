"""The distribution plan of docs/scaling.md, computed from the models: which tables a Citus-style sharded
PostgreSQL distributes by tenant_id, which it replicates to every node, and the SQL that does it, in an order where
every table a foreign key points at is placed before the table that points at it.

    .venv/bin/python -m app.tenancy.distribution        # prints the SQL block of docs/scaling.md
"""
from __future__ import annotations

from sqlalchemy import MetaData

# Tables with a tenant_id that are replicated rather than distributed: a row is found before its tenant is known
# (a login by user name, an integration key by its prefix), and platform operators' users have no tenant.
REFERENCE_WITH_TENANT_ID = ("ab_user", "api_keys")
# Platform tables distributed by a column of their own, in a colocation group of their own.
DISTRIBUTED_BY_OTHER = {"certificate_tokens": "token"}
# Tables that stay on the coordinator only.
LOCAL = ("alembic_version",)
ANCHOR = "divisions"  # the first distributed table: every other tenant table is colocated with it
SHARD_COUNT = 64


def plan(metadata: MetaData) -> tuple[list[str], list[str], list[str]]:
    """(reference tables, tenant tables, other distributed tables), each in foreign-key order."""
    ordered = [t.name for t in metadata.sorted_tables]  # referenced tables first
    tenant, reference, other = [], [], []
    for name in ordered:
        columns = metadata.tables[name].c
        if name in DISTRIBUTED_BY_OTHER:
            other.append(name)
        elif "tenant_id" in columns and name not in REFERENCE_WITH_TENANT_ID:
            tenant.append(name)
        else:
            reference.append(name)
    tenant.sort(key=lambda n: (n != ANCHOR, ordered.index(n)))
    return reference, tenant, other


def sql(metadata: MetaData) -> str:
    reference, tenant, other = plan(metadata)
    lines = ["-- reference tables: one full copy on every node"]
    lines += [f"SELECT create_reference_table('{name}');" for name in reference]
    lines.append("-- tenant tables: hash-distributed by tenant_id, all in one colocation group")
    for name in tenant:
        if name == ANCHOR:
            lines.append(f"SELECT create_distributed_table('{name}', 'tenant_id', shard_count => {SHARD_COUNT});")
        else:
            lines.append(f"SELECT create_distributed_table('{name}', 'tenant_id', colocate_with => '{ANCHOR}');")
    lines.append("-- platform directories: distributed by their own key, colocated with nothing")
    for name in other:
        lines.append(f"SELECT create_distributed_table('{name}', '{DISTRIBUTED_BY_OTHER[name]}', "
                     "colocate_with => 'none');")
    lines += [f"-- local: {name}" for name in LOCAL]
    return "\n".join(lines)


if __name__ == "__main__":
    from flask_appbuilder import Model

    import app.models  # noqa: F401  (every table on the metadata)
    from app.security import models as _security  # noqa: F401  (ab_user's tenant_id)

    print(sql(Model.metadata))

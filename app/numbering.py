"""Gapless numbers per organisation, series and year (certificates, receipts): the next number is taken by
one atomic UPDATE ... RETURNING on a counter row inside the caller's transaction, so concurrent callers
queue on the row lock instead of reading the same last number, and a rolled-back caller leaves no gap.

The row stays locked from that UPDATE to the caller's COMMIT or ROLLBACK: every other caller of the same series
waits that long. So the number is taken with one plain Core statement on the session's connection (no ORM
update, no loader criteria, no session bookkeeping between the lock and the commit), the same text every time
(psycopg prepares it after five uses on a connection), and callers take it last, just before they commit
(app/billing/receipts.py does)."""
from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenancy.context import require_tenant_id
from app.tenancy.models import TenantScoped


class NumberCounter(TenantScoped, Model):
    """The last number used in one series and year (a Thai fiscal year for receipts and certificates)."""

    __tablename__ = "number_counters"
    __table_args__ = (UniqueConstraint("tenant_id", "series", "year", name="uq_number_counters"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series: Mapped[str] = mapped_column(String(24), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    last_number: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


# The tenant is explicit (the ORM guard does not see text statements); on PostgreSQL row-level security holds the
# statement to the same tenant, set on the connection before it runs (app/tenancy/rls.py).
_TAKE = text("UPDATE number_counters SET last_number = last_number + 1 "
             "WHERE tenant_id = :tenant_id AND series = :series AND year = :year RETURNING last_number")
# The first number of a series: the counter row is made once; a caller making it at the same moment waits on the
# unique index for the other's transaction and then finds the row (PostgreSQL and SQLite 3.24+).
_CREATE = text("INSERT INTO number_counters (tenant_id, series, year, last_number) "
               "VALUES (:tenant_id, :series, :year, 0) ON CONFLICT (tenant_id, series, year) DO NOTHING")


def next_number(series: str, year: int) -> int:
    """The next number of the current tenant's `series` and `year`. The row lock (PostgreSQL) or the write lock
    (SQLite) is taken by the statement that reads the number; it is held until the caller commits or rolls back.
    Call it as late as possible in the transaction, after everything that can fail or take time."""
    params = {"tenant_id": require_tenant_id(), "series": series, "year": year}
    connection = db.session.connection()
    number = connection.execute(_TAKE, params).scalar()
    if number is None:
        connection.execute(_CREATE, params)
        number = connection.execute(_TAKE, params).scalar()
    return number

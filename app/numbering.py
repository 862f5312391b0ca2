"""Gapless numbers per organisation, series and year (certificates, receipts): the next number is taken by
one atomic UPDATE ... RETURNING on a counter row inside the caller's transaction, so concurrent callers
queue on the row lock instead of reading the same last number, and a rolled-back caller leaves no gap."""
from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Integer, String, UniqueConstraint, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenancy.models import TenantScoped


class NumberCounter(TenantScoped, Model):
    """The last number used in one series and year (a Thai fiscal year for receipts and certificates)."""

    __tablename__ = "number_counters"
    __table_args__ = (UniqueConstraint("tenant_id", "series", "year", name="uq_number_counters"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series: Mapped[str] = mapped_column(String(24), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    last_number: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


def next_number(series: str, year: int) -> int:
    """The row lock (PostgreSQL) or the write lock (SQLite) is taken by the statement that reads the number;
    it is held until the caller commits or rolls back."""
    where = (NumberCounter.series == series, NumberCounter.year == year)
    bump = update(NumberCounter).where(*where).values(last_number=NumberCounter.last_number + 1)
    number = db.session.execute(bump.returning(NumberCounter.last_number)).scalar()
    if number is None:
        try:
            with db.session.begin_nested():
                db.session.add(NumberCounter(series=series, year=year, last_number=0))
        except IntegrityError:  # another caller created it first
            pass
        number = db.session.execute(bump.returning(NumberCounter.last_number)).scalar()
    return number

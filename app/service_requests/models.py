"""Days an organisation's office is closed beyond the national holidays (the legal clock skips them)."""
from __future__ import annotations

from datetime import date

from flask_appbuilder import Model
from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.tenancy.models import TenantScoped


class TenantClosure(TenantScoped, Model):
    __tablename__ = "tenant_closures"
    __table_args__ = (UniqueConstraint("tenant_id", "day", name="uq_tenant_closures_day"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    name_th: Mapped[str] = mapped_column(String(200), nullable=False)

    def __str__(self) -> str:
        return self.name_th

"""Certificates and permits issued at the end of a workflow, numbered without gaps per organisation, series
and fiscal year, each with a token that a public page verifies."""
from __future__ import annotations

from datetime import date, datetime

from flask_appbuilder import Model
from sqlalchemy import Date, DateTime, ForeignKeyConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.tenancy.models import TenantScoped, utcnow


class Certificate(TenantScoped, Model):
    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("tenant_id", "series", "fiscal_year", "number", name="uq_certificates_number"),
        UniqueConstraint("tenant_id", "request_id", "series", name="uq_certificates_request_series"),
        ForeignKeyConstraint(
            ["tenant_id", "request_id"], ["service_requests.tenant_id", "service_requests.id"],
            name="fk_certificates_request", ondelete="RESTRICT",
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    series: Mapped[str] = mapped_column(String(12), nullable=False)
    fiscal_year: Mapped[int] = mapped_column(Integer, nullable=False)  # พ.ศ.
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    # what the verification page's address carries: random, unguessable, unique across the platform
    token: Mapped[str] = mapped_column(String(43), nullable=False, unique=True)
    title_th: Mapped[str] = mapped_column(String(200), nullable=False)
    holder_name: Mapped[str] = mapped_column(String(300), nullable=False)
    issued_on: Mapped[date] = mapped_column(Date, nullable=False)
    expires_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    @property
    def label(self) -> str:
        """เลขที่ 12/2569"""
        return f"{self.number}/{self.fiscal_year}"

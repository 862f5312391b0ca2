"""Payments staff record against a matter's fee: one row per receipt, numbered by the receipt book the
finance division uses, never twice in one organisation."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import Date, DateTime, ForeignKey, ForeignKeyConstraint, Index, Integer, Numeric, String, \
    UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.tenancy.models import TenantScoped, utcnow

CASH, TRANSFER, PROMPTPAY, CHEQUE = "cash", "transfer", "promptpay", "cheque"
METHODS = (CASH, PROMPTPAY, TRANSFER, CHEQUE)


class Payment(TenantScoped, Model):
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "receipt_no", name="uq_payments_receipt_no"),
        ForeignKeyConstraint(
            ["tenant_id", "request_id"], ["service_requests.tenant_id", "service_requests.id"],
            name="fk_payments_request", ondelete="RESTRICT",
        ),
        Index("ix_payments_tenant_paid_on", "tenant_id", "paid_on"),
        Index("ix_payments_tenant_request", "tenant_id", "request_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(Integer, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    paid_on: Mapped[date] = mapped_column(Date, nullable=False)  # the day on the receipt (Bangkok)
    receipt_no: Mapped[str] = mapped_column(String(40), nullable=False)
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    # the timeline step that recorded it
    event_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("service_request_events.id"), nullable=True)
    recorded_by_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("ab_user.id"), nullable=True)
    recorded_by_name: Mapped[str] = mapped_column(String(200), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

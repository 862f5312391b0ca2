"""Certificates and permits issued at the end of a workflow, numbered without gaps per organisation, series
and fiscal year, each with a token that a public page verifies."""
from __future__ import annotations

from datetime import date, datetime

from flask_appbuilder import Model
from sqlalchemy import (
    Date, DateTime, ForeignKey, ForeignKeyConstraint, Integer, String, UniqueConstraint, event, inspect,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.tenancy.models import TenantScoped, utcnow


class Certificate(TenantScoped, Model):
    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("tenant_id", "series", "fiscal_year", "number", name="uq_certificates_number"),
        UniqueConstraint("tenant_id", "request_id", "series", name="uq_certificates_request_series"),
        UniqueConstraint("tenant_id", "token", name="uq_certificates_token"),
        ForeignKeyConstraint(
            ["tenant_id", "request_id"], ["service_requests.tenant_id", "service_requests.id"],
            name="fk_certificates_request", ondelete="RESTRICT",
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(Integer, nullable=False)
    series: Mapped[str] = mapped_column(String(12), nullable=False)
    fiscal_year: Mapped[int] = mapped_column(Integer, nullable=False)  # พ.ศ.
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    # what the verification page's address carries: random, unguessable, unique across the platform (the
    # page finds the organisation in CertificateToken first, then the certificate by (tenant_id, token))
    token: Mapped[str] = mapped_column(String(43), nullable=False)
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


class CertificateToken(Model):
    """The platform's directory of verification tokens: which organisation issued the certificate a token names.
    The public verification page opens before any organisation is known; it finds the organisation here by the
    token alone, then the certificate by (tenant_id, token) inside that organisation. On a database sharded by
    tenant this table is distributed by its token (docs/scaling.md), so neither look-up visits every shard.
    Platform-level (named organisation_id, not tenant_id): it holds no personal data, only where to look."""

    __tablename__ = "certificate_tokens"
    token: Mapped[str] = mapped_column(String(43), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    certificate_id: Mapped[int] = mapped_column(Integer, nullable=False)


# The directory follows the certificates whichever code writes them (issue, imports, tests): written in the same
# flush, on the same connection, so a rolled-back certificate leaves no entry behind.
_tokens = CertificateToken.__table__


@event.listens_for(Certificate, "after_insert")
def _token_added(mapper, connection, target: Certificate) -> None:
    connection.execute(_tokens.insert().values(token=target.token, organisation_id=target.tenant_id,
                                               certificate_id=target.id))


@event.listens_for(Certificate, "after_update")
def _token_changed(mapper, connection, target: Certificate) -> None:
    history = inspect(target).attrs.token.history
    if history.deleted and history.deleted[0] != target.token:
        connection.execute(_tokens.update().where(_tokens.c.token == history.deleted[0])
                           .values(token=target.token))


@event.listens_for(Certificate, "after_delete")
def _token_removed(mapper, connection, target: Certificate) -> None:
    connection.execute(_tokens.delete().where(_tokens.c.token == target.token))

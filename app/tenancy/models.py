"""Tenants (อปท.), their types and their divisions (กอง), and the TenantScoped mixin."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Text,
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def localized(name_th: str, name_en: str) -> str:
    """The English name when the user chose English and one exists, else the Thai name."""
    try:
        from flask_babel import get_locale

        locale = get_locale()
    except Exception:  # outside a request (CLI, tasks): Thai
        locale = None
    if locale is not None and locale.language == "en" and name_en:
        return name_en
    return name_th


def tenant_link(target: str, owner: str, column: str, **kwargs):
    """A many-to-one to a row of the same tenant, joined on the target's id. The table's composite foreign
    key (tenant_id, column) makes the database itself refuse a link to another tenant's row.

    Loaded joined, every column, by default: the reads that loop over many rows and follow a link (inboxes,
    queues, letters, bills) rely on it for one statement per page. A list whose link target is heavy names a
    leaner load instead of changing this default (ServiceRequest.list_loads: a matter's version without its
    form JSON; TenantInterface applies a model's list_loads_for to FAB lists)."""
    return relationship(
        target, primaryjoin=f"{target}.id == {owner}.{column}", foreign_keys=f"{owner}.{column}",
        lazy="joined", **kwargs,
    )


class TenantScoped:
    """Mixin for every tenant-owned table: tenant_id NOT NULL, indexed, and first in every composite
    key. The ORM guard (app/tenancy/guard.py) filters reads and checks writes for every subclass."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(
            Integer, ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=False, index=True
        )

    @declared_attr
    def tenant(cls) -> Mapped["Tenant"]:
        return relationship(
            "Tenant",
            foreign_keys=lambda: [cls.__table__.c.tenant_id],
            primaryjoin=lambda: Tenant.id == cls.__table__.c.tenant_id,
            lazy="select",
            viewonly=True,
        )


class TenantShared:
    """Mixin for the few rows two tenants share (a matter forwarded from one organisation to another): owned
    by `tenant_id`, visible to and writable by `partner_tenant_id` too, invisible to everyone else. The guard
    filters reads on both columns and refuses a write by a third tenant or a change of either column."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(
            Integer, ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=False, index=True
        )

    @declared_attr
    def partner_tenant_id(cls) -> Mapped[int | None]:
        return mapped_column(
            Integer, ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=True, index=True
        )


class TenantType(Model):
    """อบจ., เทศบาลนคร, เทศบาลเมือง, เทศบาลตำบล, อบต., special; seeded from seeds/platform."""

    __tablename__ = "tenant_types"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_th: Mapped[str] = mapped_column(String(120), nullable=False)
    name_en: Mapped[str] = mapped_column(String(120), nullable=False)
    short_th: Mapped[str] = mapped_column(String(40), nullable=False)
    executive_title_th: Mapped[str] = mapped_column(String(120), nullable=False)
    executive_title_en: Mapped[str] = mapped_column(String(120), nullable=False)
    clerk_title_th: Mapped[str] = mapped_column(String(120), nullable=False)
    clerk_title_en: Mapped[str] = mapped_column(String(120), nullable=False)
    # [{code, name_th, name_en}]: the กอง a new tenant of this type starts with
    default_divisions: Mapped[list] = mapped_column(JSON, nullable=False, default=list)

    def __str__(self) -> str:
        return localized(self.name_th, self.name_en)

    def executive_title(self) -> str:
        return localized(self.executive_title_th, self.executive_title_en)

    def clerk_title(self) -> str:
        return localized(self.clerk_title_th, self.clerk_title_en)


class Tenant(Model):
    """One อปท. Not tenant-scoped itself: only platform operators list and manage tenants."""

    __tablename__ = "tenants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dla_code: Mapped[str] = mapped_column(
        String(16), unique=True, nullable=False, info={"label": _l("DLA code")}
    )
    type_code: Mapped[str] = mapped_column(
        String(32), ForeignKey("tenant_types.code"), nullable=False, index=True
    )
    type: Mapped[TenantType] = relationship(TenantType, lazy="joined")
    name_th: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    province: Mapped[str] = mapped_column(String(100), nullable=False)
    # the letterhead of its letters: the book code (e.g. ชม 52101), the office address and telephone
    book_prefix: Mapped[str | None] = mapped_column(String(40), nullable=True)
    address_th: Mapped[str | None] = mapped_column(Text, nullable=True)
    phone: Mapped[str | None] = mapped_column(String(60), nullable=True)
    # the citizen portal: its privacy notice (the version goes up with every change), and how long after
    # completion a citizen may reopen a matter
    privacy_notice_th: Mapped[str | None] = mapped_column(Text, nullable=True)
    privacy_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    reopen_days: Mapped[int] = mapped_column(Integer, nullable=False, default=30, server_default="30")
    # Thai QR bill payment: the organisation's PromptPay biller ID (tax id + suffix, 15 digits)
    promptpay_biller_id: Mapped[str | None] = mapped_column(String(15), nullable=True)
    parent_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("tenants.id", ondelete="SET NULL"), nullable=True, index=True
    )
    parent: Mapped["Tenant | None"] = relationship("Tenant", remote_side=[id], lazy="joined", join_depth=1)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # print numbers on official documents in Thai digits (๑๒๓), as some อปท. prefer
    thai_digits: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    def __str__(self) -> str:
        return localized(self.name_th, self.name_en)

    def executive_signature_th(self) -> str:
        """นายกองค์การบริหารส่วนตำบลเอ: the type's executive title followed by the place's own name, as letters
        and certificates are signed."""
        title, type_name = self.type.executive_title_th, self.type.name_th
        if self.name_th.startswith(type_name) and self.name_th != type_name:
            return title + self.name_th[len(type_name):]
        return title


class Division(TenantScoped, Model):
    """A กอง (division) of one tenant."""

    __tablename__ = "divisions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code", name="uq_divisions_tenant_code"),
        # target of composite foreign keys (tenant_id, division_id): the database refuses cross-tenant links
        UniqueConstraint("tenant_id", "id", name="uq_divisions_tenant_id_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    name_th: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str | None] = mapped_column(String(200), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    def __str__(self) -> str:
        return localized(self.name_th, self.name_en)


class TenantSwitchLog(Model):
    """Platform audit: an operator entered or left a tenant. Platform-level, so not TenantScoped."""

    __tablename__ = "tenant_switch_logs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow, index=True)
    operator_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    operator_username: Mapped[str] = mapped_column(String(100), nullable=False)
    # named "organisation", not "tenant": this platform row is about a tenant, not owned by one
    organisation_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True
    )
    organisation: Mapped[Tenant] = relationship(Tenant, lazy="joined")
    action: Mapped[str] = mapped_column(String(10), nullable=False)  # enter | leave
    remote_addr: Mapped[str] = mapped_column(String(64), nullable=False, default="")

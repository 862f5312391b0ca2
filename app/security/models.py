"""Users bound to a tenant, role templates, memberships (user x กอง x role) and the grant log."""
from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import Role, User
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.tenancy.models import Division, Tenant, TenantScoped, localized, utcnow

# A user belongs to one tenant; platform operators belong to none (tenant_id NULL). The column is added
# to FAB's own User class, so every place FAB loads a user sees it and the guard can filter on it.
if not hasattr(User, "tenant_id"):
    User.tenant_id = Column(
        Integer, ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    User.tenant = relationship(Tenant, foreign_keys=[User.__table__.c.tenant_id], lazy="joined")
    User.__table__.append_constraint(
        UniqueConstraint("tenant_id", "id", name="uq_ab_user_tenant_id_id")
    )
    # the language the user last chose (th or en), restored at every login
    User.locale = Column(String(10), nullable=True)


class RoleTemplate(Model):
    """What a FAB role means here: its Thai name, its level, whether role managers may grant it."""

    __tablename__ = "role_templates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    role_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("ab_role.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    role: Mapped[Role] = relationship(Role, lazy="joined")
    name_th: Mapped[str] = mapped_column(String(120), nullable=False)
    name_en: Mapped[str] = mapped_column(String(120), nullable=False)
    level: Mapped[int] = mapped_column(Integer, nullable=False)
    grantable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    platform: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    whole_tenant: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    description: Mapped[str] = mapped_column(String(500), nullable=False, default="")

    def __str__(self) -> str:
        return localized(self.name_th, self.name_en)


class Membership(TenantScoped, Model):
    """A user holds a role inside one กอง of the user's own tenant."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "user_id", "division_id", "role_template_id", name="uq_memberships"
        ),
        ForeignKeyConstraint(
            ["tenant_id", "user_id"], ["ab_user.tenant_id", "ab_user.id"],
            name="fk_memberships_tenant_user", ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "division_id"], ["divisions.tenant_id", "divisions.id"],
            name="fk_memberships_tenant_division", ondelete="RESTRICT",
        ),
        # (tenant_id, user_id, ...) is uq_memberships
        Index("ix_memberships_division_id", "tenant_id", "division_id"),
        Index("ix_memberships_role_template_id", "tenant_id", "role_template_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, nullable=False)
    division_id: Mapped[int] = mapped_column(Integer, nullable=False)
    role_template_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("role_templates.id", ondelete="RESTRICT"), nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    user: Mapped[User] = relationship(
        User,
        primaryjoin=lambda: User.id == Membership.user_id,
        foreign_keys=lambda: [Membership.user_id],
        backref="memberships",
        lazy="joined",
    )
    division: Mapped[Division] = relationship(
        Division,
        primaryjoin=lambda: Division.id == Membership.division_id,
        foreign_keys=lambda: [Membership.division_id],
        lazy="joined",
    )
    role: Mapped[RoleTemplate] = relationship(RoleTemplate, lazy="joined")

    def __str__(self) -> str:
        return f"{self.user} / {self.division} / {self.role}"


class GrantLog(TenantScoped, Model):
    """Who granted or revoked which role to whom, and when. Snapshots survive later deletions."""

    __tablename__ = "grant_logs"
    __table_args__ = (Index("ix_grant_logs_at", "tenant_id", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    action: Mapped[str] = mapped_column(String(10), nullable=False)  # grant | revoke
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_username: Mapped[str] = mapped_column(String(100), nullable=False)
    subject_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    subject_username: Mapped[str] = mapped_column(String(100), nullable=False)
    division_code: Mapped[str] = mapped_column(String(32), nullable=False)
    division_name: Mapped[str] = mapped_column(String(200), nullable=False)
    role_name: Mapped[str] = mapped_column(String(120), nullable=False)


class PermissionsVersion(Model):
    """One row (id 1) whose counter goes up in the same transaction as any change to roles or to what they may do
    (app/security/permission_cache.py). Every process caches each role's permissions under the counter it read
    with the signed-in user, so a change is seen by the next request of every process. A platform table: no
    tenant_id, no row-level security (like ab_role); the app's roles read and update it."""

    __tablename__ = "permissions_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False, default=1)

"""The open platform's own rows: API keys of integrations, webhook subscriptions and their deliveries, and
the Open311 tokens handed out for submitted requests."""
from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, DateTime, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.tenancy.models import TenantScoped, utcnow

READ, SUBMIT, MANAGE = "read", "submit", "manage"
SCOPES = (READ, SUBMIT, MANAGE)
SCOPE_NAMES = {
    READ: _l("read: look up services, matters, fees, receipts and correspondence"),
    SUBMIT: _l("submit: file new matters and upload their files"),
    MANAGE: _l("manage: move matters through the workflow, manage webhooks"),
}

REQUEST_CREATED, STATE_CHANGED, PAYMENT_RECEIVED, CERTIFICATE_ISSUED = (
    "request.created", "request.state_changed", "payment.received", "certificate.issued")
EVENTS = (REQUEST_CREATED, STATE_CHANGED, PAYMENT_RECEIVED, CERTIFICATE_ISSUED)
EVENT_NAMES = {
    REQUEST_CREATED: _l("A matter was filed"),
    STATE_CHANGED: _l("A matter changed state"),
    PAYMENT_RECEIVED: _l("A payment was received"),
    CERTIFICATE_ISSUED: _l("A certificate was issued"),
}

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
DELIVERY_STATES = (PENDING, SUCCEEDED, FAILED)
DELIVERY_STATE_NAMES = {PENDING: _l("Waiting to be sent"), SUCCEEDED: _l("Delivered"), FAILED: _l("Failed")}


class IntegrationKey(TenantScoped, Model):
    """One integration's key. Only its prefix (to find it) and a SHA-256 of its secret are kept: the whole key
    is shown once, when it is made or rotated. The key acts as a user of its organisation, so that user's
    roles, กอง and the workflow's rules apply to everything it does; its scopes narrow that further."""

    __tablename__ = "api_keys"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id", name="uq_api_keys_tenant_id_id"),
        UniqueConstraint("prefix", name="uq_api_keys_prefix"),
        ForeignKeyConstraint(["tenant_id", "acting_user_id"], ["ab_user.tenant_id", "ab_user.id"],
                             name="fk_api_keys_acting_user", ondelete="RESTRICT"),
        Index("ix_api_keys_tenant_created", "tenant_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    scopes: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    acting_user_id: Mapped[int] = mapped_column(Integer, nullable=False)
    acting_user = relationship("User", primaryjoin="User.id == IntegrationKey.acting_user_id",
                               foreign_keys="IntegrationKey.acting_user_id", lazy="joined", viewonly=True)
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer, nullable=False, default=120)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    created_by_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_used_ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    # the key this one replaced by rotation (that one stops working when its grace period ends)
    rotated_from_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class WebhookSubscription(TenantScoped, Model):
    """A URL of an integration that is told about the organisation's events. The signing secret is kept
    sealed (Fernet, from SECRET_KEY), since every delivery needs it; it is shown once when made."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id", name="uq_webhook_subscriptions_tenant_id_id"),
        Index("ix_webhook_subscriptions_tenant_active", "tenant_id", "active"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    url: Mapped[str] = mapped_column(String(500), nullable=False)
    events: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    secret_sealed: Mapped[str] = mapped_column(Text, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    created_by_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(TenantScoped, Model):
    """One event sent (or to be sent) to one subscription: the exact body signed, every attempt's outcome."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id", name="uq_webhook_deliveries_tenant_id_id"),
        # one delivery of an event per subscription (and the index of the subscription's foreign key)
        UniqueConstraint("tenant_id", "subscription_id", "event_id",
                         name="uq_webhook_deliveries_event_subscription"),
        ForeignKeyConstraint(["tenant_id", "subscription_id"],
                             ["webhook_subscriptions.tenant_id", "webhook_subscriptions.id"],
                             name="fk_webhook_deliveries_subscription", ondelete="CASCADE"),
        Index("ix_webhook_deliveries_tenant_created", "tenant_id", "created_at"),
        Index("ix_webhook_deliveries_tenant_status", "tenant_id", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(Integer, nullable=False)
    subscription: Mapped[WebhookSubscription] = relationship(
        "WebhookSubscription", primaryjoin="WebhookSubscription.id == WebhookDelivery.subscription_id",
        foreign_keys="WebhookDelivery.subscription_id", lazy="joined", viewonly=True)
    # the event's own id (uuid4 hex), the same in every subscription's delivery: receivers de-duplicate on it
    event_id: Mapped[str] = mapped_column(String(32), nullable=False)
    event_type: Mapped[str] = mapped_column(String(40), nullable=False)
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class Open311Token(TenantScoped, Model):
    """GeoReport v2's token for a posted request: the client can turn it into the service_request_id."""

    __tablename__ = "open311_tokens"
    __table_args__ = (
        # a token is read back within its jurisdiction (the organisation), so unique per organisation
        UniqueConstraint("tenant_id", "token", name="uq_open311_tokens_token"),
        ForeignKeyConstraint(["tenant_id", "request_id"], ["service_requests.tenant_id", "service_requests.id"],
                             name="fk_open311_tokens_request", ondelete="CASCADE"),
        Index("ix_open311_tokens_request", "tenant_id", "request_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(43), nullable=False)
    request_id: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

"""Office closures (the legal clock skips them) and the timeline of each request."""
from __future__ import annotations

from datetime import date, datetime

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean, Date, DateTime, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint, false,
)
from sqlalchemy.orm import Mapped, mapped_column

from flask_appbuilder.security.sqla.models import User

from app.tenancy.models import Division, TenantScoped, TenantShared, tenant_link, utcnow


class TenantClosure(TenantScoped, Model):
    __tablename__ = "tenant_closures"
    __table_args__ = (UniqueConstraint("tenant_id", "day", name="uq_tenant_closures_day"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    name_th: Mapped[str] = mapped_column(String(200), nullable=False)

    def __str__(self) -> str:
        return self.name_th


class ServiceRequestEvent(TenantScoped, Model):
    """One step on a request's timeline: who did what, when, from which state to which, in which กอง."""

    __tablename__ = "service_request_events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id", name="uq_service_request_events_tenant_id_id"),
        ForeignKeyConstraint(
            ["tenant_id", "request_id"], ["service_requests.tenant_id", "service_requests.id"],
            name="fk_service_request_events_request", ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "division_id"], ["divisions.tenant_id", "divisions.id"],
            name="fk_service_request_events_division", ondelete="RESTRICT",
        ),
        Index("ix_service_request_events_request_id", "tenant_id", "request_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_name: Mapped[str] = mapped_column(String(200), nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    from_state: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_state: Mapped[str] = mapped_column(String(32), nullable=False)
    division_id: Mapped[int] = mapped_column(Integer, nullable=False)
    division: Mapped[Division] = tenant_link("Division", "ServiceRequestEvent", "division_id")
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    staff_only: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # when a delegate acted: for whom, and how (ปฏิบัติราชการแทน / รักษาราชการแทน)
    on_behalf_of_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    delegation_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)


class Delegation(TenantScoped, Model):
    """Signing authority handed to someone else for a date range: ปฏิบัติราชการแทน (on behalf) or
    รักษาราชการแทน (acting). While it runs, the delegate may take the delegator's actions for that role."""

    __tablename__ = "delegations"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "delegator_id"], ["ab_user.tenant_id", "ab_user.id"],
                             name="fk_delegations_delegator", ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "delegate_id"], ["ab_user.tenant_id", "ab_user.id"],
                             name="fk_delegations_delegate", ondelete="CASCADE"),
        Index("ix_delegations_delegator_id", "tenant_id", "delegator_id"),
        Index("ix_delegations_delegate_id", "tenant_id", "delegate_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delegator_id: Mapped[int] = mapped_column(Integer, nullable=False)
    delegate_id: Mapped[int] = mapped_column(Integer, nullable=False)
    delegator: Mapped[User] = tenant_link("User", "Delegation", "delegator_id")
    delegate: Mapped[User] = tenant_link("User", "Delegation", "delegate_id")
    role_code: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="on_behalf")  # on_behalf | acting
    start_on: Mapped[date] = mapped_column(Date, nullable=False)
    end_on: Mapped[date] = mapped_column(Date, nullable=False)
    note: Mapped[str | None] = mapped_column(String(300), nullable=True)


class Notification(TenantScoped, Model):
    """A message to an applicant or a member of staff (delay notices, a matter arriving in a กอง, a decision).
    Every one is written here and to the log (the outbox screen shows them); with SMTP settings those with
    an e-mail address are also e-mailed. Those for a user (`user_id`) show in that user's notifications."""

    __tablename__ = "notifications"
    __table_args__ = (
        # one delay notice per request per 7-day period, however often the task runs ("delay_notice:12:3");
        # other notices have no key (NULLs never collide)
        UniqueConstraint("tenant_id", "dedupe_key", name="uq_notifications_dedupe_key"),
        ForeignKeyConstraint(
            ["tenant_id", "request_id"], ["service_requests.tenant_id", "service_requests.id"],
            name="fk_notifications_request", ondelete="CASCADE",
        ),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["ab_user.tenant_id", "ab_user.id"],
                             name="fk_notifications_user", ondelete="CASCADE"),
        Index("ix_notifications_request_id", "tenant_id", "request_id"),
        Index("ix_notifications_user_id", "tenant_id", "user_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # in-app: the member of staff it is for, the page it points at, and when they read it
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    link: Mapped[str | None] = mapped_column(String(300), nullable=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    dedupe_key: Mapped[str | None] = mapped_column(String(80), nullable=True)
    period: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    recipient: Mapped[str] = mapped_column(String(200), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    # s.10: a copy of every delay notice goes to the Office of the Public Sector Development Commission
    copy_to_opdc: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    emailed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


OPEN, ANSWERED, WITHDRAWN = "open", "answered", "withdrawn"


class Forwarding(TenantShared, Model):
    """A matter sent on to another organisation on the platform (a เทศบาล to its อบจ.) or to an outside body
    (the provincial electricity authority, ศูนย์ดำรงธรรม). The owner keeps the matter; the partner organisation
    sees this matter and only this one, and both write to the same thread."""

    __tablename__ = "forwardings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id", name="uq_forwardings_tenant_id_id"),
        UniqueConstraint("tenant_id", "partner_tenant_id", "id", name="uq_forwardings_pair_id"),
        ForeignKeyConstraint(
            ["tenant_id", "request_id"], ["service_requests.tenant_id", "service_requests.id"],
            name="fk_forwardings_request", ondelete="CASCADE",
        ),
        Index("ix_forwardings_request_id", "tenant_id", "request_id"),
        Index("ix_forwardings_status", "tenant_id", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(Integer, nullable=False)
    # an outside body when partner_tenant_id is empty
    outside_body: Mapped[str | None] = mapped_column(String(200), nullable=True)
    outside_email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # enough for the partner's list without opening the matter
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    request_note: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=OPEN)
    sent_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    sent_by_name: Mapped[str] = mapped_column(String(200), nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ForwardingMessage(TenantShared, Model):
    """One entry in a forwarded matter's shared thread, written by either side (or recorded by the owner's
    staff for an outside body's reply)."""

    __tablename__ = "forwarding_messages"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "forwarding_id"], ["forwardings.tenant_id", "forwardings.id"],
            name="fk_forwarding_messages_forwarding", ondelete="CASCADE",
        ),
        # the partner of a message is the partner of its forwarding: a third tenant cannot post into it
        ForeignKeyConstraint(
            ["tenant_id", "partner_tenant_id", "forwarding_id"],
            ["forwardings.tenant_id", "forwardings.partner_tenant_id", "forwardings.id"],
            name="fk_forwarding_messages_pair", ondelete="CASCADE",
        ),
        Index("ix_forwarding_messages_forwarding_id", "tenant_id", "forwarding_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    forwarding_id: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    # which organisation wrote it (None: the outside body, recorded by the owner's staff)
    author_tenant_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    author_name: Mapped[str] = mapped_column(String(200), nullable=False)
    author_org: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="message")  # message|answer|withdrawn
    body: Mapped[str] = mapped_column(Text, nullable=False)

"""Files attached to requests (photos, plans, required documents): stored outside the database under the
tenant's own folder, described by an Attachment row that the tenant wall guards like any other."""
from __future__ import annotations

import hashlib
import os
import uuid
from datetime import datetime

from flask import current_app
from flask_appbuilder import Model
from sqlalchemy import ForeignKeyConstraint, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenancy.models import TenantScoped, utcnow
from sqlalchemy import DateTime


class Attachment(TenantScoped, Model):
    __tablename__ = "attachments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id", name="uq_attachments_tenant_id_id"),
        ForeignKeyConstraint(
            ["tenant_id", "request_id"], ["service_requests.tenant_id", "service_requests.id"],
            name="fk_attachments_request", ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "event_id"], ["service_request_events.tenant_id", "service_request_events.id"],
            name="fk_attachments_event", ondelete="CASCADE",
        ),
        # the key starts with the tenant's folder, so unique per tenant is unique everywhere
        UniqueConstraint("tenant_id", "storage_key", name="uq_attachments_storage_key"),
        Index("ix_attachments_request_id", "tenant_id", "request_id"),
        Index("ix_attachments_event_id", "tenant_id", "event_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # a file attached to a step on the timeline (a site photo, a signed order), not to a form field
    event_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    field_code: Mapped[str] = mapped_column(String(64), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False, default="application/octet-stream")
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    storage_key: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


def upload_root() -> str:
    return current_app.config["UPLOAD_FOLDER"]


def path_of(attachment: Attachment) -> str:
    return os.path.join(upload_root(), attachment.storage_key)


def store(tenant_id: int, field_code: str, upload, actor_id: int | None) -> Attachment:
    """Write the upload under <UPLOAD_FOLDER>/<tenant_id>/ with a random name; never the user's file name."""
    data = upload.stream.read()
    key = os.path.join(str(tenant_id), uuid.uuid4().hex)
    path = os.path.join(upload_root(), key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
    attachment = Attachment(
        tenant_id=tenant_id, field_code=field_code, filename=os.path.basename(upload.filename)[:255],
        content_type=(upload.mimetype or "application/octet-stream")[:100], size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), storage_key=key, created_by_id=actor_id,
    )
    db.session.add(attachment)
    return attachment

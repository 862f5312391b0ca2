"""A document's files (the scan of a received letter, enclosures, the PDF as sent): PDF, JPEG or PNG checked
by content, stored under the organisation's own folder with a random name, served only through the access
rule (app/saraban/access.py)."""
from __future__ import annotations

import hashlib
import os
import uuid

from flask import Response, abort
from flask_babel import gettext as _
from sqlalchemy import select

from app.catalog.attachments import upload_root
from app.extensions import db
from app.saraban import access
from app.saraban.models import Document, DocumentFile
from app.tenancy.errors import UserError

FILE_TYPES = ("pdf", "jpg", "png")
MAX_MB = 20
MAX_FILES = 10


def checked(uploads) -> list[tuple[object, bytes]]:
    """The uploads with their content, or a UserError naming the file at fault."""
    from app.catalog.filetypes import content_fits

    chosen = [f for f in uploads or () if f and getattr(f, "filename", "")]
    if len(chosen) > MAX_FILES:
        raise UserError(_("Attach at most %(count)s files.", count=MAX_FILES), 422)
    out = []
    for upload in chosen:
        data = upload.stream.read(MAX_MB * 1024 * 1024 + 1)
        if len(data) > MAX_MB * 1024 * 1024:
            raise UserError(_("%(name)s is larger than %(mb)s MB.", name=upload.filename, mb=MAX_MB), 422)
        if not content_fits(data, set(FILE_TYPES)):
            raise UserError(_("%(name)s is not a PDF, JPEG or PNG file.", name=upload.filename), 422)
        out.append((upload, data))
    return out


def store(document: Document, filename: str, data: bytes, content_type: str, role: str,
          actor_id: int | None) -> DocumentFile:
    key = os.path.join(str(document.tenant_id), "saraban", uuid.uuid4().hex)
    path = os.path.join(upload_root(), key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
    row = DocumentFile(tenant_id=document.tenant_id, document_id=document.id, role=role,
                       filename=os.path.basename(filename)[:255] or "file", content_type=content_type[:100],
                       size=len(data), sha256=hashlib.sha256(data).hexdigest(), storage_key=key,
                       created_by_id=actor_id)
    db.session.add(row)
    return row


def store_uploads(document: Document, checked_uploads, role: str, actor_id: int | None) -> list[DocumentFile]:
    return [store(document, upload.filename, data, upload.mimetype or "application/octet-stream", role, actor_id)
            for upload, data in checked_uploads]


def of(document: Document) -> list[DocumentFile]:
    return list(db.session.scalars(select(DocumentFile).where(DocumentFile.document_id == document.id)
                                   .order_by(DocumentFile.id)))


def response(document_id: int, file_id: int, user) -> Response:
    """A file of a document the user may see (the opening of a secret one is recorded); 404 otherwise."""
    document = access.get_or_404(document_id, user)
    row = db.session.scalar(select(DocumentFile).where(DocumentFile.id == file_id,
                                                       DocumentFile.document_id == document.id))
    if row is None:
        abort(404)
    path = os.path.join(upload_root(), row.storage_key)
    if not os.path.exists(path):
        abort(404)
    access.record_opening(document, user, "file")
    db.session.commit()
    with open(path, "rb") as fh:
        data = fh.read()
    disposition = "inline" if row.content_type in ("application/pdf", "image/jpeg", "image/png") else "attachment"
    from urllib.parse import quote

    return Response(data, mimetype=row.content_type, headers={
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(row.filename)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})

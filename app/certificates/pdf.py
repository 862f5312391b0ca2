"""A certificate as an A4 PDF (WeasyPrint, the Sarabun font shipped by the fontpkg-sarabun package), with a QR
code that opens its public verification page."""
from __future__ import annotations

import base64
import io

import segno
from flask import Response, abort, render_template, url_for
from sqlalchemy import select

from app import thai
from app.extensions import db
from app.catalog.models import ServiceRequest
from app.certificates.models import Certificate
from app.tenancy.models import Tenant


def verification_url(certificate: Certificate) -> str:
    return url_for("verify.verify", token=certificate.token, _external=True)


def font_files() -> dict[str, str]:
    """file:// addresses of Sarabun regular and bold, for the document's @font-face."""
    import fontpkg_sarabun

    files = fontpkg_sarabun.ROOT / "files"
    return {"regular": (files / "Sarabun-Regular.ttf").as_uri(), "bold": (files / "Sarabun-Bold.ttf").as_uri()}


def render(certificate: Certificate, tenant: Tenant, request: ServiceRequest) -> bytes:
    from flask_babel import force_locale
    from weasyprint import HTML  # imported here: the web starts even where pango is missing

    link = verification_url(certificate)
    qr = io.BytesIO()
    segno.make(link, error="m").save(qr, kind="png", scale=5, border=2)

    def doc(text) -> str:  # Thai digits when the organisation prints them on its documents
        return thai.for_document(text, tenant) if text not in (None, "") else ""

    with force_locale("th"):  # an official document is in Thai whatever the reader's language
        html = render_template(
            "certificates/document.html", certificate=certificate, tenant=tenant, request=request, link=link,
            qr_data=base64.b64encode(qr.getvalue()).decode("ascii"), doc=doc, fonts=font_files(),
            executive=tenant.executive_signature_th(),
        )
    return HTML(string=html, base_url=link).write_pdf()


def of_request(request_id: int, in_force_only: bool = False) -> list[Certificate]:
    stmt = select(Certificate).where(Certificate.request_id == request_id).order_by(Certificate.id)
    if in_force_only:
        stmt = stmt.where(Certificate.revoked_at.is_(None))
    return list(db.session.scalars(stmt))


def pdf_response(certificate_id: int, request_id: int | None = None) -> Response:
    """A certificate of the current organisation as a PDF (of the given request, when the caller says which);
    404 for another organisation's, a revoked one, or one of another request."""
    found = db.session.get(Certificate, certificate_id)
    if found is None or found.revoked_at is not None or (request_id is not None and found.request_id != request_id):
        abort(404)
    pdf = render(found, db.session.get(Tenant, found.tenant_id), db.session.get(ServiceRequest, found.request_id))
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=certificate-{found.id}.pdf"})

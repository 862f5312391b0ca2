"""A certificate as an A4 PDF (WeasyPrint, Thai font from fonts-thai-tlwg), with a QR code that opens its
public verification page."""
from __future__ import annotations

import base64
import io

import segno
from flask import render_template, url_for

from app.catalog.models import ServiceRequest
from app.service_requests.views import _executive as executive_title
from app.certificates.models import Certificate
from app.tenancy.models import Tenant


def verification_url(certificate: Certificate) -> str:
    return url_for("verify.verify", token=certificate.token, _external=True)


def render(certificate: Certificate, tenant: Tenant, request: ServiceRequest) -> bytes:
    from weasyprint import HTML  # imported here: the web starts even where pango is missing

    link = verification_url(certificate)
    qr = io.BytesIO()
    segno.make(link, error="m").save(qr, kind="png", scale=5, border=2)
    html = render_template(
        "certificates/document.html", certificate=certificate, tenant=tenant, request=request, link=link,
        qr_data=base64.b64encode(qr.getvalue()).decode("ascii"),
        executive=executive_title(tenant),
    )
    return HTML(string=html, base_url=link).write_pdf()

"""The public page a certificate's QR opens: is it genuine and in force, which organisation issued it, to whom
(the name on it), and when. Nothing else about the applicant is shown."""
from __future__ import annotations

from flask import Blueprint, abort, g, render_template
from sqlalchemy import select

from app import thai
from app.certificates.models import Certificate, CertificateToken
from app.extensions import db
from app.tenancy.context import platform_scope
from app.tenancy.models import Tenant

bp = Blueprint("verify", __name__, url_prefix="/verify")


@bp.route("/<token>")
def verify(token: str):
    if not 20 <= len(token) <= 43:
        abort(404)
    with platform_scope():  # one row by an unguessable token, across organisations, read only
        # the organisation first (the directory is keyed by token), then the certificate inside it
        entry = db.session.get(CertificateToken, token)
        found = entry and db.session.scalar(select(Certificate).where(
            Certificate.tenant_id == entry.organisation_id, Certificate.token == token))
        if found is None:
            return render_template("certificates/verify.html", certificate=None), 404
        tenant = db.session.get(Tenant, found.tenant_id)
        db.session.expunge(found)
    g.portal_tenant, g.portal_code = tenant, tenant.dla_code
    today = thai.today_bangkok()
    status = ("revoked" if found.revoked_at else
              "expired" if found.expires_on and found.expires_on < today else "valid")
    return render_template("certificates/verify.html", certificate=found, status=status)

"""Issuing a certificate inside the step that grants it: the next number of its series and fiscal year comes
from app/numbering.py, so two approvals at once never share a number and a rolled-back step leaves no gap."""
from __future__ import annotations

import secrets
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from app import thai
from app.catalog.models import ServiceRequest
from app.certificates.models import Certificate
from app.extensions import db
from app.numbering import next_number
from app.tenancy.errors import UserError


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def issue(request: ServiceRequest, spec: dict) -> Certificate:
    holder = str(request.data.get(spec["holder_field"]) or "").strip()
    if not holder:
        raise UserError(_("The request has no %(field)s to put on the certificate.", field=spec["holder_field"]),
                        422)
    today = thai.today_bangkok()
    year = thai.fiscal_year(today)
    if db.session.scalar(select(Certificate.id).where(Certificate.request_id == request.id,
                                                      Certificate.series == spec["series"])):
        raise UserError(_("A certificate of this kind was already issued for this request."), 422)
    certificate = Certificate(
        tenant_id=request.tenant_id, request_id=request.id, series=spec["series"], fiscal_year=year,
        number=next_number(spec["series"], year), token=secrets.token_urlsafe(32), title_th=spec["title_th"],
        holder_name=holder[:300], issued_on=today,
        expires_on=_years_later(today, spec["valid_years"]) if spec.get("valid_years") else None,
    )
    db.session.add(certificate)
    db.session.flush()
    return certificate

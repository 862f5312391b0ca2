"""Issuing a certificate inside the step that grants it: the next number of its series and fiscal year is
taken under a row lock, so two approvals at once never share a number and a rolled-back step leaves no gap."""
from __future__ import annotations

import secrets
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app import thai
from app.catalog.models import ServiceRequest
from app.certificates.models import Certificate, CertificateCounter
from app.extensions import db
from app.tenancy.errors import UserError


def next_number(series: str, fiscal_year: int) -> int:
    """One atomic UPDATE ... RETURNING: the row lock (PostgreSQL) or the write lock (SQLite) is taken by the
    statement that reads the number, so concurrent issues queue instead of reading the same last number."""
    where = (CertificateCounter.series == series, CertificateCounter.fiscal_year == fiscal_year)
    bump = update(CertificateCounter).where(*where).values(last_number=CertificateCounter.last_number + 1)
    number = db.session.execute(bump.returning(CertificateCounter.last_number)).scalar()
    if number is None:
        try:
            with db.session.begin_nested():
                db.session.add(CertificateCounter(series=series, fiscal_year=fiscal_year, last_number=0))
        except IntegrityError:  # another issue created it first
            pass
        number = db.session.execute(bump.returning(CertificateCounter.last_number)).scalar()
    return number


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

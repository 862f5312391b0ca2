"""Register books and their numbers. A number is taken from the gapless counter (app/numbering.py) inside the
caller's transaction: incoming letters when they are registered, outgoing ones when they are sent, so a draft
never holds a number and a rolled-back registration leaves no gap. Numbers restart at 1 each calendar year
(ข้อ 38 and 41), or each fiscal year for a register set so."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from app import thai
from app.extensions import db
from app.numbering import next_number
from app.saraban.models import CALENDAR, FISCAL, INCOMING, OUTGOING, Document, Register
from app.tenancy.errors import UserError
from app.tenancy.models import Division, Tenant, utcnow

CENTRAL_DIVISION = "office"  # สำนักปลัด keeps the organisation's central registers (สารบรรณกลาง)


def series(register: Register) -> str:
    return f"saraban-{register.id}"


def year_of(register: Register, on: date) -> int:
    """The พ.ศ. year a document dated `on` is numbered in."""
    return thai.fiscal_year(on) if register.year_basis == FISCAL else thai.be_year(on)


def registers(direction: str) -> list[Register]:
    return list(db.session.scalars(select(Register).where(Register.direction == direction, Register.active.is_(True))
                                   .join(Division, Division.id == Register.division_id).order_by(Division.code)))


def register_for(direction: str, division_id: int | None = None) -> Register | None:
    """The กอง's own register of that direction, else the central one."""
    stmt = select(Register).where(Register.direction == direction, Register.active.is_(True))
    if division_id is not None:
        own = db.session.scalar(stmt.where(Register.division_id == division_id))
        if own is not None:
            return own
    return db.session.scalar(stmt.join(Division, Division.id == Register.division_id)
                             .where(Division.code == CENTRAL_DIVISION))


def book_code(register: Register) -> str | None:
    """The register's own code, else the organisation's (Organisation settings)."""
    if register.book_code:
        return register.book_code
    tenant = db.session.get(Tenant, register.tenant_id)
    return tenant.book_prefix if tenant is not None else None


def take_number(document: Document, on: date | None = None) -> Document:
    """Give the document the next number of its register for the year of `on` (today in Bangkok)."""
    if document.register_no is not None:
        return document  # taken once; a second call (a retried request) changes nothing
    register = document.register or db.session.get(Register, document.register_id)
    on = on or thai.today_bangkok()
    code = book_code(register) if register.direction == OUTGOING else None
    if register.direction == OUTGOING and not code:
        raise UserError(_("The register has no book code (e.g. ชม 52101). Set it in the register or in the "
                          "organisation's settings first."), 422)
    year = year_of(register, on)
    number = next_number(series(register), year)
    document.register_no, document.register_year = number, year
    document.registered_at = document.registered_at or utcnow()
    if register.direction == OUTGOING:
        document.book_no = f"{code}/{number}"
        document.dated = on
    return document


def ensure_central(tenant_id: int) -> list[Register]:
    """The central incoming and outgoing registers of an organisation (created when missing): onboarding and
    the seeds call it, so every organisation can register letters from its first day."""
    office = db.session.scalar(select(Division).where(Division.tenant_id == tenant_id,
                                                      Division.code == CENTRAL_DIVISION))
    if office is None:
        return []
    made = []
    for direction in (INCOMING, OUTGOING):
        found = db.session.scalar(select(Register).where(Register.direction == direction,
                                                         Register.division_id == office.id))
        if found is None:
            found = Register(tenant_id=tenant_id, direction=direction, division_id=office.id, year_basis=CALENDAR)
            db.session.add(found)
        made.append(found)
    db.session.flush()
    return made

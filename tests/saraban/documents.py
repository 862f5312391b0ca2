"""Documents for the register, search and retention tests, made directly with the models, the register's
number (registry.take_number) and the search index, as a clerk's registration would leave them."""
from __future__ import annotations

import itertools
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.saraban import access, registry, search
from app.saraban.models import CALENDAR, INCOMING, NORMAL, Document, Register
from app.tenancy.models import Division

_codes = itertools.count(1)


def new_division(code_prefix: str = "sbt") -> Division:
    """A กอง of the current tenant used by one test only (its own registers, its own counters)."""
    division = Division(code=f"{code_prefix}{next(_codes)}-{id(object()) % 100000}", name_th="กองทดสอบ",
                        name_en="Test division")
    db.session.add(division)
    db.session.flush()
    return division


def new_register(direction: str = INCOMING, year_basis: str = CALENDAR, book_code: str | None = None,
                 division: Division | None = None) -> Register:
    division = division or new_division()
    register = Register(direction=direction, division_id=division.id, year_basis=year_basis, book_code=book_code,
                        active=True)
    db.session.add(register)
    db.session.flush()
    return register


def make(register_id: int, subject: str, *, on: date | None = None, secrecy: str = NORMAL, named=(),
         origin_division_id: int | None = None, number: bool = True, **values) -> Document:
    """A registered document (the caller commits). `named`: user ids named on it (secret documents)."""
    register = db.session.get(Register, register_id)
    document = Document(direction=register.direction, subject=subject, register_id=register.id,
                        origin_division_id=origin_division_id or register.division_id, secrecy=secrecy,
                        status=values.pop("status", "registered" if register.direction == INCOMING else "sent"),
                        **values)
    db.session.add(document)
    db.session.flush()
    if number:
        registry.take_number(document, on=on)
    for user_id in named:
        access.grant(document, user_id, "recipient", "test")
    search.index(document)
    db.session.flush()
    return document


def register_of(direction: str, division_code: str = "office") -> int:
    return db.session.scalar(select(Register.id).join(Division, Division.id == Register.division_id).where(
        Register.direction == direction, Division.code == division_code))

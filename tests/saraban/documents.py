"""Documents for the correspondence tests, written straight into the tables as the services leave them (the
register's number from registry.take_number, the people named on a secret one, the words indexed), so that
tests do not depend on the registration and drafting screens.

- make(): in the caller's app context and tenant scope, any register and any column; the caller commits.
- letter(): a letter of a tests.saraban.people.SarabanTenant in its own context, committed, returns the id
  (for screen tests: never the test client's context); needs use(app) first (a module's autouse fixture)."""
from __future__ import annotations

import itertools
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.saraban import access, registry, search
from app.saraban.models import CALENDAR, INCOMING, NORMAL, Document, Register
from app.tenancy.context import tenant_scope
from app.tenancy.models import Division

_codes = itertools.count(1)


def new_division(code_prefix: str = "sbt") -> Division:
    """A กอง of the current tenant used by one test only (its own registers, its own counters). Its code sorts
    after the organisation's own กอง, so lists other tests read page by page still begin with those."""
    division = Division(code=f"zz{code_prefix}{next(_codes)}-{id(object()) % 100000}", name_th="กองทดสอบ",
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


_app = None


def use(app) -> None:
    """The application letter() and document() open their own contexts in."""
    global _app
    _app = app


def letter(people, subject: str, *, direction: str = INCOMING, secrecy: str = NORMAL, readers=(),
           request_id: int | None = None, division: str = "office", numbered: bool = True, status: str | None = None,
           author: str = "clerk", scan: bytes | None = None) -> int:
    """A letter of the tenant `people` in its central register; returns its id. `readers`: the user keys named
    on it (the author is always named, as the services do); `scan`: a PDF stored as its scan."""
    with _app.app_context(), tenant_scope(people.tenant_id):
        register_id = people.incoming_register_id if direction == INCOMING else people.outgoing_register_id
        document = make(
            register_id, subject, secrecy=secrecy, origin_division_id=people.divisions[division], number=numbered,
            kind="external", sender="ศาลากลางจังหวัดเชียงใหม่", addressee="นายกองค์การบริหารส่วนตำบล",
            their_ref="ชม 0017.2/ว 123" if direction == INCOMING else None, request_id=request_id,
            status=status or ("registered" if direction == INCOMING else "draft"),
            created_by_id=people.users[author], created_by_name="สุดา สารบรรณ")
        if scan is not None:
            from app.saraban import files

            files.store(document, "scan.pdf", scan, "application/pdf", "scan", people.users[author])
        for key in {author, *readers}:
            access.grant(document, people.users[key], "recipient" if key != author else "registrar")
        db.session.commit()
        document_id = document.id
        db.session.remove()
    return document_id


def document(tenant_id: int, document_id: int) -> Document:
    """The row as it stands (expunged, to read after the session is gone)."""
    with _app.app_context(), tenant_scope(tenant_id):
        row = db.session.get(Document, document_id)
        db.session.expunge(row)
        db.session.remove()
    return row

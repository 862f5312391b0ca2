"""The register books as the regulation lays them out (ทะเบียนหนังสือรับ ข้อ 38, ทะเบียนหนังสือส่ง ข้อ 41) and
the search over documents: no Flask request objects, every row through the access rule (access.py).

A secret document the reader is not named on is left out of the book entirely, as out of every list, count,
search and download (issue #8): its row, and its place in the count. The numbers stay gapless underneath, so
the book shows the gap and one line under it says that numbers not shown are documents the reader is not
authorised to see (only when there is such a gap)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import func, or_, select

from app.extensions import db
from app.saraban import access, search
from app.saraban.models import (
    INCOMING, KINDS, OUTGOING, SECRECY_TH, URGENCIES, Document, Register, Routing,
)
from app.tenancy.models import Division

PAGE_SIZE = 100
PRINT_LIMIT = 5000
EXPORT_LIMIT = 50000
SEARCH_PAGE = 25
COUNT_CAP = 1000


def registers_for(user) -> list[Register]:
    """The registers whose book the user may read: all for those who see the whole organisation, else those
    kept by the user's กอง."""
    where = access._reach(user)
    stmt = select(Register).join(Division, Division.id == Register.division_id).order_by(
        Register.direction, Division.code, Register.id)
    if where != access.WHOLE:
        if not where:
            return []
        stmt = stmt.where(Register.division_id.in_(where))
    return list(db.session.scalars(stmt))


def years_of(register: Register) -> list[int]:
    return list(db.session.scalars(select(Document.register_year).where(
        Document.register_id == register.id, Document.register_no.is_not(None))
        .group_by(Document.register_year).order_by(Document.register_year.desc())))


@dataclass
class BookRow:
    number: int
    year: int
    document: Document


def _numbered(register: Register, year: int, user):
    """The numbered documents of the register's year that the user may see (access.visible)."""
    return access.visible(select(Document).where(
        Document.register_id == register.id, Document.register_year == year, Document.register_no.is_not(None)),
        user)


def book_rows(register: Register, year: int, user, after: int | None = None, before: int | None = None,
              limit: int = PAGE_SIZE) -> list[BookRow]:
    """One page of the book in number order, keyed by the register number (never OFFSET): the rows after
    `after`, or the page ending just before `before`."""
    stmt = _numbered(register, year, user)
    if before is not None:
        stmt = stmt.where(Document.register_no < before).order_by(Document.register_no.desc())
    else:
        if after is not None:
            stmt = stmt.where(Document.register_no > after)
        stmt = stmt.order_by(Document.register_no)
    documents = list(db.session.scalars(stmt.limit(limit)))
    if before is not None:
        documents.reverse()
    return [BookRow(d.register_no, d.register_year, d) for d in documents]


def book_count(register: Register, year: int, user) -> int:
    """The documents of the year the user may see (a secret one they are not named on is not counted)."""
    return db.session.scalar(select(func.count()).select_from(
        _numbered(register, year, user).with_only_columns(Document.id).subquery())) or 0


def book_bounds(register: Register, year: int, user) -> tuple[int | None, int | None]:
    """The lowest and highest number the user may see (for the pager)."""
    inner = _numbered(register, year, user).with_only_columns(Document.register_no).subquery()
    return tuple(db.session.execute(select(func.min(inner.c.register_no), func.max(inner.c.register_no))).one())


def has_gap(register: Register, year: int, user) -> bool:
    """Whether numbers up to the highest one the user sees are missing from their book (documents they may not
    see). Judged against the first number of the year and the user's highest, so that a withheld number after
    the last one they see (which the numbers shown do not reveal) is not hinted at."""
    first = db.session.scalar(select(func.min(Document.register_no)).where(
        Document.register_id == register.id, Document.register_year == year, Document.register_no.is_not(None)))
    _low, high = book_bounds(register, year, user)
    if first is None or high is None:
        return False
    return book_count(register, year, user) < high - first + 1


def columns(direction: str) -> list[tuple[str, str]]:
    """(key, heading) of the book's columns in the regulation's order."""
    if direction == INCOMING:
        return [("number", _("Incoming register no.")), ("their_ref", _("Ref. no.")), ("date", _("Dated")),
                ("sender", _("From (sender)")), ("addressee", _("To (addressee)")), ("subject", _("Subject")),
                ("action_taken", _("Action taken")), ("remark", _("Remarks")), ("received", _("Received at"))]
    return [("number", _("Outgoing register no.")), ("their_ref", _("Ref. no.")), ("date", _("Dated")),
            ("sender", _("From (sender)")), ("addressee", _("To (addressee)")), ("subject", _("Subject")),
            ("action_taken", _("Action taken")), ("remark", _("Remarks"))]


def cells(row: BookRow, direction: str) -> dict[str, str]:
    """The text of each column of a row."""
    from app import thai

    d = row.document
    if direction == INCOMING:
        ref, on = d.their_ref or "", d.their_date
    else:
        ref, on = d.book_no or "", d.dated
    out = {"number": str(row.number), "their_ref": ref, "date": thai.format_date(on) if on else "",
           "sender": d.sender or "", "addressee": d.addressee or "", "subject": d.subject,
           "action_taken": d.action_taken or "", "remark": d.remark or ""}
    if d.secrecy != "normal":
        out["subject"] = f"({SECRECY_TH[d.secrecy]}) {d.subject}"
    if direction == INCOMING:
        out["received"] = thai.format_datetime(d.registered_at) if d.registered_at else ""
    return out


# ---- search ----

@dataclass
class Filters:
    q: str = ""
    year: int | None = None
    direction: str | None = None
    kind: str | None = None
    urgency: str | None = None
    division_id: int | None = None


def parse_filters(args) -> tuple[Filters, dict[str, str]]:
    """Filters from a query string; unknown values are errors by field (Thai), never a 500."""
    errors: dict[str, str] = {}
    f = Filters(q=(args.get("q") or "").strip()[:300])
    year = (args.get("year") or "").strip()
    if year:
        if year.isdigit() and 2400 <= int(year) <= 2800:
            f.year = int(year)
        else:
            errors["year"] = _("Type a Buddhist-era year, e.g. 2569.")
    for name, allowed in (("direction", (INCOMING, OUTGOING)), ("kind", KINDS), ("urgency", URGENCIES)):
        value = (args.get(name) or "").strip()
        if value:
            if value in allowed:
                setattr(f, name, value)
            else:
                errors[name] = _("Choose a value from the list.")
    division = (args.get("division") or "").strip()
    if division:
        found = db.session.scalar(select(Division.id).where(Division.id == int(division))) \
            if division.isdigit() and int(division) < 2**31 else None
        if found is None:
            errors["division"] = _("Choose a division of this organisation.")
        else:
            f.division_id = found
    return f, errors


def _search_stmt(f: Filters, user):
    stmt = select(Document)
    if f.q:
        stmt = stmt.where(search.matches(f.q))
    if f.year is not None:
        stmt = stmt.where(Document.register_year == f.year)
    if f.direction:
        stmt = stmt.where(Document.direction == f.direction)
    if f.kind:
        stmt = stmt.where(Document.kind == f.kind)
    if f.urgency:
        stmt = stmt.where(Document.urgency == f.urgency)
    if f.division_id is not None:
        stmt = stmt.where(or_(Document.origin_division_id == f.division_id, Document.id.in_(
            select(Routing.document_id).where(Routing.division_id == f.division_id))))
    return access.visible(stmt, user)


def search_page(f: Filters, user, before: int | None = None, limit: int = SEARCH_PAGE) -> tuple[list[Document], bool]:
    """The newest matching documents the user may see, keyed by id (`before`: the last id of the previous
    page); and whether there are more."""
    stmt = _search_stmt(f, user)
    if before is not None:
        stmt = stmt.where(Document.id < before)
    found = list(db.session.scalars(stmt.order_by(Document.id.desc()).limit(limit + 1)))
    return found[:limit], len(found) > limit


def search_count(f: Filters, user) -> tuple[int, bool]:
    """How many the user may see (counted up to COUNT_CAP; True when there are more)."""
    inner = _search_stmt(f, user).with_only_columns(Document.id).limit(COUNT_CAP + 1).subquery()
    n = db.session.scalar(select(func.count()).select_from(inner)) or 0
    return min(n, COUNT_CAP), n > COUNT_CAP


def highlight(text: str | None, query: str) -> Markup:
    """The text, escaped, with the query's words marked (<mark>)."""
    text = text or ""
    wanted = sorted({w for w in search.words(query) if w}, key=len, reverse=True)
    if not wanted:
        return Markup(escape(text))
    pattern = re.compile("|".join(re.escape(w) for w in wanted), re.IGNORECASE)
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(escape(text[last:m.start()]))
        out.append(Markup("<mark>") + escape(m.group(0)) + Markup("</mark>"))
        last = m.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def document_url(document: Document) -> str:
    """The document's page (incoming or outgoing letter)."""
    from flask import url_for

    endpoint = "SarabanIncomingView.show" if document.direction == INCOMING else "SarabanOutgoingView.show"
    return url_for(endpoint, pk=document.id)

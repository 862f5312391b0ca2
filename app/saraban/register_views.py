"""Register settings (/saraban/registers: tenant admin), the register books (/saraban/books: ทะเบียนหนังสือรับ
ข้อ 38 and ทะเบียนหนังสือส่ง ข้อ 41, on screen, printed A4 landscape, CSV for Excel) and the log of openings of
secret documents (/saraban/openings). Thin views: the rows come from app/saraban/books.py through the access rule."""
from __future__ import annotations

import csv
import io

from flask import Response, abort, g, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from app import thai
from app.extensions import db
from app.saraban import access, books, registry
from app.saraban.models import (
    CALENDAR, DIRECTION_NAMES, DIRECTIONS, FISCAL, INCOMING, Document, DocumentOpening, Register,
)
from app.tenancy.errors import UserError
from app.tenancy.fab import TenantModelView
from app.tenancy.interface import TenantInterface

YEAR_BASIS_NAMES = {CALENDAR: _l("Calendar year (1 January)"), FISCAL: _l("Fiscal year (1 October)")}
BOOK_CODE = r"^[ก-๙A-Za-z]{1,4}\s?[0-9๐-๙]{2,6}(\.[0-9๐-๙]{1,4})*$"


class OneRegisterPerDivision:
    """A กอง keeps one register of each direction: a second one is an error under the field."""

    def __call__(self, form, field):
        division = field.data
        direction = form.direction.data if hasattr(form, "direction") else None
        if division is None or not direction:
            return
        stmt = select(Register.id).where(Register.direction == direction, Register.division_id == division.id)
        current = getattr(form, "_id", None)
        if current is not None:
            stmt = stmt.where(Register.id != int(current))
        if db.session.scalar(stmt) is not None:
            if direction == INCOMING:
                raise ValidationError(_("%(division)s already keeps an incoming register.", division=division))
            raise ValidationError(_("%(division)s already keeps an outgoing register.", division=division))


def _direction_field():
    return SelectField(_l("Register book"), choices=[(d, DIRECTION_NAMES[d]) for d in DIRECTIONS],
                       validators=[DataRequired()])


def _basis_field():
    return SelectField(_l("Numbers restart each"), choices=[(k, v) for k, v in YEAR_BASIS_NAMES.items()],
                       default=CALENDAR, validators=[DataRequired()])


class SarabanRegisterView(TenantModelView):
    route_base = "/saraban/registers"
    datamodel = TenantInterface(Register)
    list_title = _l("Register settings")
    show_title = _l("Register")
    add_title = _l("Add a register")
    edit_title = _l("Edit the register")
    list_columns = ["direction", "division", "book_code", "year_basis", "active"]
    show_columns = ["direction", "division", "book_code", "year_basis", "active"]
    add_columns = edit_columns = ["direction", "division", "book_code", "year_basis", "active"]
    search_columns = ["direction", "division", "active"]
    order_columns = ["direction", "book_code"]
    base_order = ("direction", "asc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    label_columns = {"direction": _l("Register book"), "division": _l("Kept by (division)"), "book_code": _l("Book code"),
                     "year_basis": _l("Numbers restart each"), "active": _l("In use")}
    description_columns = {
        "division": _l("The central registers are kept by the office of the Permanent Secretary; a division may "
                       "keep its own."),
        "book_code": _l("Outgoing registers: the letters and digits printed before the number, e.g. ชม 52101.3 "
                        "(empty: the organisation's code)."),
    }
    validators_columns = {
        "division": [OneRegisterPerDivision()],
        "book_code": [Optional(), Length(max=40), Regexp(BOOK_CODE, message=_l(
            "Type the code as Thai letters and digits, e.g. ชม 52101 or ชม 52101.3."))],
    }
    add_form_extra_fields = {"direction": _direction_field(), "year_basis": _basis_field()}
    edit_form_extra_fields = {"direction": _direction_field(), "year_basis": _basis_field()}
    formatters_columns = {
        "direction": lambda v: str(DIRECTION_NAMES.get(v, v)),
        "year_basis": lambda v: str(YEAR_BASIS_NAMES.get(v, v)),
        "book_code": lambda v: v or "—",
    }

    def pre_add(self, item: Register) -> None:
        item.book_code = (item.book_code or "").strip() or None

    def pre_update(self, item: Register) -> None:
        """A register that has numbered documents keeps its direction and กอง (its book is kept)."""
        from sqlalchemy import inspect

        self.pre_add(item)
        state = inspect(item)
        moved = state.attrs.direction.history.has_changes() or state.attrs.division_id.history.has_changes() \
            or state.attrs.division.history.has_changes()
        if moved and db.session.scalar(select(Document.id).where(Document.register_id == item.id).limit(1)):
            raise UserError(_("The register already holds documents: its direction and division cannot change. "
                              "Set it out of use and add a new one instead."))


def _int(name: str) -> int | None:
    value = (request.args.get(name) or "").strip()
    return int(value) if value.isdigit() and int(value) < 2**31 else None


class SarabanBookView(BaseView):
    """The register book of one register and year (พ.ศ.), paged by register number."""

    route_base = "/saraban/books"
    default_view = "index"

    def _chosen(self):
        registers = books.registers_for(g.user)
        wanted = _int("register")
        register = next((r for r in registers if r.id == wanted), None)
        if wanted is not None and register is None:
            abort(404)  # another organisation's register, or one the user may not read
        register = register or (registers[0] if registers else None)
        years = books.years_of(register) if register else []
        this_year = registry.year_of(register, thai.today_bangkok()) if register else thai.be_year(
            thai.today_bangkok())
        if this_year not in years:
            years = sorted(set(years) | {this_year}, reverse=True)
        year = _int("year") or this_year
        return registers, register, years, year

    @expose("/")
    @has_access
    def index(self):
        registers, register, years, year = self._chosen()
        printing = request.args.get("print") == "1"
        rows, count, bounds, gap = [], 0, (None, None), False
        if register is not None:
            limit = books.PRINT_LIMIT if printing else books.PAGE_SIZE
            rows = books.book_rows(register, year, g.user, after=_int("after"), before=_int("before"), limit=limit)
            count = books.book_count(register, year, g.user)
            bounds = books.book_bounds(register, year, g.user)
            gap = books.has_gap(register, year, g.user)
        direction = register.direction if register is not None else INCOMING
        table = [books.cells(r, direction) for r in rows]
        context = dict(registers=registers, register=register, years=years, year=year, rows=table,
                       columns=books.columns(direction), count=count, first=bounds[0], last=bounds[1], gap=gap,
                       incoming=direction == INCOMING, title=self._title(register, year),
                       appbuilder=self.appbuilder)
        if printing:
            return self.render_template("saraban/book_print.html", **context)
        return self.render_template("saraban/book.html", **context)

    @staticmethod
    def _title(register, year) -> str:
        if register is None:
            return _("Register books")
        name = _("Incoming register") if register.direction == INCOMING else _("Outgoing register")
        return _("%(book)s, %(division)s, year %(year)s", book=name, division=register.division, year=year)

    @expose("/csv")
    @has_access
    def csv(self):
        registers, register, _years, year = self._chosen()
        if register is None:
            abort(404)
        rows = books.book_rows(register, year, g.user, limit=books.EXPORT_LIMIT)
        columns = books.columns(register.direction)
        out = io.StringIO()
        out.write("\ufeff")  # so that Excel opens Thai text as UTF-8
        writer = csv.writer(out)
        writer.writerow([heading for _key, heading in columns])
        for row in rows:
            text = books.cells(row, register.direction)
            writer.writerow([text.get(key, "") for key, _heading in columns])
        if books.has_gap(register, year, g.user):
            writer.writerow([])
            writer.writerow([_("Numbers not shown are documents you are not authorised to see.")])
        name = f"saraban-{register.direction}-{register.id}-{year}.csv"
        return Response(out.getvalue(), mimetype="text/csv",  # Flask adds "; charset=utf-8" to text/* itself
                        headers={"Content-Disposition": f"attachment; filename={name}"})


ACTION_NAMES = {"open": _l("Opened the page"), "file": _l("Opened a file"), "pdf": _l("Opened the PDF")}
OPENINGS_PAGE = 50


class SarabanOpeningView(BaseView):
    """The log of openings of secret documents (tenant admin), newest first, paged by id. The document is
    named by its number; its subject only to an administrator named on it."""

    route_base = "/saraban/openings"
    default_view = "list"

    def _rows(self, stmt):
        openings = list(db.session.scalars(stmt))
        ids = {o.document_id for o in openings}
        documents = {d.id: d for d in db.session.scalars(select(Document).where(Document.id.in_(ids)))} if ids else {}
        readable = set(db.session.scalars(access.visible(select(Document.id).where(Document.id.in_(ids)),
                                                         g.user))) if ids else set()
        return [dict(opening=o, number=documents[o.document_id].number_label if o.document_id in documents else "",
                     subject=documents[o.document_id].subject if o.document_id in readable else None,
                     action=ACTION_NAMES.get(o.action, o.action)) for o in openings]

    @expose("/list/")
    @has_access
    def list(self):
        before = _int("before")
        stmt = select(DocumentOpening).order_by(DocumentOpening.id.desc()).limit(OPENINGS_PAGE + 1)
        if before is not None:
            stmt = stmt.where(DocumentOpening.id < before)
        rows = self._rows(stmt)
        more = len(rows) > OPENINGS_PAGE
        rows = rows[:OPENINGS_PAGE]
        return self.render_template("saraban/openings.html", rows=rows, more=more,
                                    next_before=rows[-1]["opening"].id if more else None,
                                    appbuilder=self.appbuilder)

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk: int):
        rows = self._rows(select(DocumentOpening).where(DocumentOpening.id == pk))
        if not rows:
            abort(404)
        return self.render_template("saraban/opening_show.html", row=rows[0], appbuilder=self.appbuilder)

"""Search letters (/saraban/search): Thai words in one box (search.matches) and filters by year (พ.ศ.),
direction, kind, urgency and กอง (the owner or a กอง it was routed to). Every query, page and count goes
through the access rule: a secret document the reader is not named on is neither found nor counted."""
from __future__ import annotations

from flask import g, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from sqlalchemy import select

from app import thai
from app.extensions import db
from app.saraban import books
from app.saraban.models import (
    DIRECTION_NAMES, KIND_NAMES, SECRECY_NAMES, STATUS_NAMES, URGENCY_NAMES,
)
from app.tenancy.models import Division


class SarabanSearchView(BaseView):
    route_base = "/saraban/search"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        filters, errors = books.parse_filters(request.args)
        before = request.args.get("before", "")
        before = int(before) if before.isdigit() and int(before) < 2**31 else None
        searched = any(request.args.get(k) for k in ("q", "year", "direction", "kind", "urgency", "division"))
        results, more, count, over = [], False, 0, False
        if searched and not errors:
            found, more = books.search_page(filters, g.user, before=before)
            count, over = books.search_count(filters, g.user)
            results = [dict(document=d, url=books.document_url(d), subject=books.highlight(d.subject, filters.q),
                            date=thai.format_date(d.dated or d.their_date or (
                                thai.to_bangkok(d.registered_at).date() if d.registered_at else None)) or "",
                            number=d.number_label, direction=DIRECTION_NAMES.get(d.direction, d.direction),
                            kind=KIND_NAMES.get(d.kind, d.kind), urgency=URGENCY_NAMES.get(d.urgency),
                            secrecy=SECRECY_NAMES.get(d.secrecy) if d.secrecy != "normal" else None,
                            status=STATUS_NAMES.get(d.status, d.status))
                       for d in found]
        divisions = list(db.session.scalars(select(Division).where(Division.active.is_(True)).order_by(Division.code)))
        year_now = thai.be_year(thai.today_bangkok())
        return self.render_template(
            "saraban/search.html", f=filters, args=request.args, errors=errors, results=results, more=more,
            next_url=url_for("SarabanSearchView.index", **{**request.args.to_dict(), "before": results[-1]["document"].id})
            if more and results else None, count=count, over=over,
            searched=searched, divisions=divisions, years=list(range(year_now, year_now - 25, -1)),
            directions=DIRECTION_NAMES, kinds=KIND_NAMES, urgencies=URGENCY_NAMES, appbuilder=self.appbuilder)

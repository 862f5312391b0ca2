"""Forwarded matters: the ones others sent us and the ones we sent, each with the matter as far as the
receiver may see it and one thread both sides write to."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, or_, select

from app.extensions import db
from app.service_requests import forwarding
from app.service_requests.models import Forwarding
from app.tenancy.context import require_tenant_id
from app.tenancy.errors import UserError
from app.tenancy.models import Tenant

LIMIT = 300


class ForwardingView(BaseView):
    route_base = "/forwardings"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        me = require_tenant_id()
        received, sent, names, totals, overdue = _both_lists(me)
        # the matters others forwarded to us are read as their owners see them (one read per owner)
        overdue |= forwarding.overdue_ids(received)
        # the newest LIMIT of each are listed; the rest are counted, never silently dropped
        return self.render_template("forwarding/index.html", received=received, sent=sent, names=names,
                                    overdue=overdue, totals=totals, appbuilder=self.appbuilder)

    @expose("/<int:pk>")
    @has_access
    def show(self, pk: int):
        found = _visible_or_404(pk)
        matter = forwarding.snapshot(found)
        names = org_names({found.tenant_id, found.partner_tenant_id})
        return self.render_template(
            "forwarding/show.html", f=found, matter=matter, thread=forwarding.thread(found),
            side=forwarding.side(found), names=names, appbuilder=self.appbuilder,
        )

    @expose("/<int:pk>/post", methods=["POST"])
    @has_access
    def post(self, pk: int):
        found = _visible_or_404(pk)
        kind = request.form.get("kind", forwarding.MESSAGE)
        if kind not in (forwarding.MESSAGE, forwarding.ANSWER, forwarding.WITHDRAW):
            abort(400)
        try:
            forwarding.post(found, g.user, request.form.get("body", ""), kind)
            db.session.commit()
        except UserError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            flash(_("Saved."), "success")
        return redirect(url_for("ForwardingView.show", pk=pk))

    @expose("/<int:pk>/file/<int:attachment_id>")
    @has_access
    def file(self, pk: int, attachment_id: int):
        found = _visible_or_404(pk)
        shared = forwarding.shared_file(found, attachment_id)
        if shared is None:
            abort(404)
        path, name, content_type = shared
        return send_file(path, mimetype=content_type, as_attachment=True, download_name=name)


def _in_reach(condition):
    """Our forwardings whose matter the user may see (scope.py: at, or passed through, their กอง)."""
    from app.catalog.models import ServiceRequest
    from app.service_requests import scope

    reach = scope.clause(g.user)
    if reach is None:
        return condition
    return condition & Forwarding.request_id.in_(select(ServiceRequest.id).where(reach))


def _visible_or_404(pk: int) -> Forwarding:
    from app.service_requests import scope

    found = db.session.get(Forwarding, pk)
    if found is None:
        abort(404)
    if found.tenant_id == require_tenant_id() and not scope.may_see(g.user, found.request_id):
        abort(404)  # our own matter, outside this user's กอง
    return found


def _both_lists(me: int):
    """Both lists in one statement: the newest LIMIT forwarded to us and the newest LIMIT of ours within the
    user's reach (open ones first), each side's total (a window count over the filtered rows before the
    LIMIT), the other organisation's name and, for our own matters, the matter itself (the overdue rule).
    Returns (received, sent, names, totals, overdue ids of our own)."""
    from app.catalog.models import ServiceRequest
    from app.service_requests.overdue import is_overdue

    received_side = Forwarding.partner_tenant_id == me
    side = case((received_side, 0), else_=1)
    newest = (Forwarding.status != "open", Forwarding.sent_at.desc(), Forwarding.id.desc())
    ranked = (select(Forwarding.id.label("id"), side.label("side"),
                     func.row_number().over(partition_by=side, order_by=newest).label("rn"),
                     func.count().over(partition_by=side).label("total"))
              .where(or_(received_side, _in_reach(Forwarding.tenant_id == me))).subquery())
    other = case((ranked.c.side == 0, Forwarding.tenant_id), else_=Forwarding.partner_tenant_id)
    rows = db.session.execute(
        select(Forwarding, ranked.c.side, ranked.c.total, Tenant.name_th, ServiceRequest)
        .join(ranked, ranked.c.id == Forwarding.id)
        .outerjoin(Tenant, Tenant.id == other)
        .outerjoin(ServiceRequest, and_(Forwarding.tenant_id == me, ServiceRequest.tenant_id == me,
                                        ServiceRequest.id == Forwarding.request_id))
        .where(ranked.c.rn <= LIMIT).order_by(ranked.c.side, ranked.c.rn)
    ).all()
    lists: dict[int, list[Forwarding]] = {0: [], 1: []}
    totals, names, overdue = {"received": 0, "sent": 0}, {}, set()
    for found, which, total, name, matter in rows:
        lists[which].append(found)
        totals["received" if which == 0 else "sent"] = total
        other_id = found.tenant_id if which == 0 else found.partner_tenant_id
        if other_id is not None and name is not None:
            names[other_id] = name
        if matter is not None and is_overdue(matter):
            overdue.add(found.id)
    return lists[0], lists[1], names, totals, overdue


def org_names(ids) -> dict:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {t.id: t.name_th for t in db.session.scalars(select(Tenant).where(Tenant.id.in_(ids)))}

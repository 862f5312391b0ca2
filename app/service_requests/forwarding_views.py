"""Forwarded matters: the ones others sent us and the ones we sent, each with the matter as far as the
receiver may see it and one thread both sides write to."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from sqlalchemy import func, select

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
        received, received_total = _newest(Forwarding.partner_tenant_id == me)
        # our own matters: only those within the user's reach
        sent, sent_total = _newest(_in_reach(Forwarding.tenant_id == me))
        names = org_names({f.tenant_id for f in received} | {f.partner_tenant_id for f in sent})
        # the newest LIMIT of each are listed; the rest are counted, never silently dropped
        totals = {"received": received_total, "sent": sent_total}
        return self.render_template("forwarding/index.html", received=received, sent=sent, names=names,
                                    overdue=forwarding.overdue_ids(list(received) + list(sent)), totals=totals,
                                    appbuilder=self.appbuilder)

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


def _newest(where) -> tuple[list[Forwarding], int]:
    """The newest LIMIT forwardings (open ones first) and how many there are in all, in one statement: the window
    count is taken over the filtered rows before the LIMIT."""
    rows = db.session.execute(
        select(Forwarding, func.count().over()).where(where)
        .order_by(Forwarding.status != "open", Forwarding.sent_at.desc()).limit(LIMIT)
    ).all()
    return [row[0] for row in rows], (rows[0][1] if rows else 0)


def org_names(ids) -> dict:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {t.id: t.name_th for t in db.session.scalars(select(Tenant).where(Tenant.id.in_(ids)))}

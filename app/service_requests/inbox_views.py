"""Inboxes: each กอง's queue (new, in progress, overdue) and the executives' approvals, usable on a phone."""
from __future__ import annotations

from flask import g
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from sqlalchemy import select

from app import thai
from app.catalog.builder import label
from app.catalog.models import ServiceRequest
from app.catalog.values import display
from app.extensions import db
from app.service_requests import engine

APPROVAL_ACTIONS = ("approve", "reject")
LIMIT = 300


def _open_requests(division_ids=None) -> list[ServiceRequest]:
    stmt = (select(ServiceRequest).where(ServiceRequest.closed_at.is_(None))
            .order_by(ServiceRequest.due_on, ServiceRequest.id).limit(LIMIT))
    if division_ids is not None:
        stmt = stmt.where(ServiceRequest.division_id.in_(division_ids))
    return [r for r in db.session.scalars(stmt).unique() if not engine.state(r)["final"]]


def _essentials(request: ServiceRequest, count: int = 4) -> list[tuple[str, str]]:
    rows = []
    for spec in request.version.fields:
        if spec["kind"] in ("file", "long_text") or request.data.get(spec["code"]) in (None, "", []):
            continue
        rows.append((label(spec), display(spec, request.data[spec["code"]])))
        if len(rows) == count:
            break
    return rows


class InboxView(BaseView):
    route_base = "/inbox"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        """The queue of the user's กอง (every กอง for executives who see the whole organisation)."""
        memberships = list(g.user.memberships or [])
        whole = any(m.role.whole_tenant for m in memberships)
        division_ids = None if whole else sorted({m.division_id for m in memberships})
        requests = _open_requests(division_ids)
        today = thai.today_bangkok()

        def late(r):  # past a deadline, unless it waits for the applicant's documents (the clock stops)
            if r.status in engine.returned_states(r):
                return False
            return any(d and d < today for d in (r.due_on, r.step_due_on))

        sections = {
            "overdue": [r for r in requests if late(r)],
            "mine": [r for r in requests if r.assignee_id == g.user.id and not late(r)],
            "new": [r for r in requests if r.status == "submitted" and not late(r)],
            "in_progress": [r for r in requests if r.status != "submitted" and r.assignee_id != g.user.id
                            and not late(r)],
        }
        return self.render_template("inbox/index.html", sections=sections, state_name=engine.state_name,
                                    appbuilder=self.appbuilder)

    @expose("/approvals")
    @has_access
    def approvals(self):
        """Matters waiting for this executive's decision, with the essentials and two buttons each."""
        waiting = []
        for request in _open_requests():
            actions = [a for a in engine.available(request, g.user) if a.code in APPROVAL_ACTIONS]
            if actions:
                waiting.append((request, actions, _essentials(request)))
        return self.render_template("inbox/approvals.html", waiting=waiting, state_name=engine.state_name,
                                    appbuilder=self.appbuilder)

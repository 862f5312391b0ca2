"""Inboxes: each กอง's queue (new, in progress, overdue) and the executives' approvals, usable on a phone.
Both read open matters a page at a time (INBOX_PAGE_SIZE, 300 by default), most urgent first, and say how
many there are in all with links to the other pages, so nothing is silently left out."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, request as http, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from sqlalchemy import func, select

from app.catalog.builder import label
from app.catalog.models import ServiceRequest, ServiceTypeVersion
from app.catalog.values import display
from app.extensions import db
from app.service_requests import engine
from app.service_requests.overdue import TEMPLATE_ARGS, is_overdue
from app.service_requests.workflow_spec import DEFAULT_WORKFLOW
from app.tenancy.interface import COUNT_CAP

APPROVAL_ACTIONS = ("approve", "reject")
PAGE_SIZE = 300


class AtLeast(int):
    """A count that stopped at its cap: there are more than this many (people read "1,000+")."""

    def __str__(self) -> str:
        return f"{int(self):,}+"

    __html__ = __str__


@dataclass
class Page:
    number: int
    size: int
    total: int
    shown: int

    @property
    def first(self) -> int:
        return self.number * self.size + 1 if self.shown else 0

    @property
    def last(self) -> int:
        return self.number * self.size + self.shown

    @property
    def more(self) -> int:  # matters after this page
        more = max(self.total - self.last, 0)
        return AtLeast(more) if isinstance(self.total, AtLeast) else more

    @property
    def pages(self) -> int:
        return max((self.total + self.size - 1) // self.size, 1)


def page_size() -> int:
    return max(int(current_app.config.get("INBOX_PAGE_SIZE", PAGE_SIZE)), 1)


def _page_number() -> int:
    try:
        return max(int(http.args.get("page", 0)), 0)
    except ValueError:
        return 0


def _open_requests(division_ids=None, states=None) -> tuple[list[ServiceRequest], Page]:
    """One page of open matters (most urgent first) and the count of all of them."""
    stmt = select(ServiceRequest).where(ServiceRequest.closed_at.is_(None))
    if division_ids is not None:
        stmt = stmt.where(ServiceRequest.division_id.in_(division_ids))
    if states is not None:
        stmt = stmt.where(ServiceRequest.status.in_(states))
    size, number = page_size(), _page_number()
    # counted only up to a cap, as the lists (COUNT_CAP), or up to a page past this one when paged deeper:
    # beyond it the inbox says "more than N" (the way on stays open: the next page link)
    cap = max(COUNT_CAP, (number + 2) * size)
    counted = select(func.count()).select_from(stmt.limit(cap + 1).subquery())
    # the capped count rides along with the page's rows: one statement for both
    found = db.session.execute(stmt.add_columns(counted.scalar_subquery().label("_total"))
                               .order_by(ServiceRequest.due_on, ServiceRequest.id)
                               .offset(number * size).limit(size)).unique().all()
    rows = [row[0] for row in found]
    if found:
        total = found[0][1] or 0
    else:  # an empty page: past the end, or nothing open at all
        total = (db.session.scalar(counted) or 0) if number else 0
    if total > cap:
        total = AtLeast(cap)
    page = Page(number=number, size=size, total=total, shown=len(rows))
    return [r for r in rows if not engine.state(r)["final"]], page


def _approval_states() -> set[str]:
    """The states, in any of this organisation's workflows, from which a matter can be approved or rejected:
    the approvals inbox reads only matters in them."""
    workflows = [DEFAULT_WORKFLOW] + [w for w in db.session.scalars(
        select(ServiceTypeVersion.workflow).where(ServiceTypeVersion.workflow.is_not(None)))]
    return {code for workflow in workflows if workflow for t in workflow.get("transitions", [])
            if t.get("action") in APPROVAL_ACTIONS for code in t.get("from", [])}


def _essentials(request: ServiceRequest, count: int = 4) -> list[tuple[str, str]]:
    rows = []
    for spec in request.version.fields:
        if spec["kind"] in ("file", "long_text") or request.data.get(spec["code"]) in (None, "", []):
            continue
        rows.append((label(spec), display(spec, request.data[spec["code"]])))
        if len(rows) == count:
            break
    return rows


def _pager(endpoint: str, page: Page) -> dict:
    return {"page": page,
            "prev_url": url_for(endpoint, page=page.number - 1) if page.number > 0 else None,
            "next_url": url_for(endpoint, page=page.number + 1) if page.more else None}


class InboxView(BaseView):
    route_base = "/inbox"
    default_view = "index"
    extra_args = dict(TEMPLATE_ARGS)

    @expose("/")
    @has_access
    def index(self):
        """The queue of the user's กอง (every กอง for executives who see the whole organisation)."""
        memberships = list(g.user.memberships or [])
        whole = any(m.role.whole_tenant for m in memberships)
        division_ids = None if whole else sorted({m.division_id for m in memberships})
        requests, page = _open_requests(division_ids)
        late = {r.id for r in requests if is_overdue(r)}
        sections = {
            "overdue": [r for r in requests if r.id in late],
            "mine": [r for r in requests if r.assignee_id == g.user.id and r.id not in late],
            "new": [r for r in requests if r.status == "submitted" and r.id not in late],
            "in_progress": [r for r in requests if r.status != "submitted" and r.assignee_id != g.user.id
                            and r.id not in late],
        }
        return self.render_template("inbox/index.html", sections=sections, state_name=engine.state_name,
                                    appbuilder=self.appbuilder, **_pager("InboxView.index", page))

    @expose("/approvals")
    @has_access
    def approvals(self):
        """Matters waiting for this executive's decision, with the essentials and two buttons each."""
        waiting = []
        requests, page = _open_requests(states=_approval_states())
        for request in requests:
            actions = [a for a in engine.available(request, g.user) if a.code in APPROVAL_ACTIONS]
            if actions:
                waiting.append((request, actions, _essentials(request)))
        return self.render_template("inbox/approvals.html", waiting=waiting, state_name=engine.state_name,
                                    appbuilder=self.appbuilder, **_pager("InboxView.approvals", page))

"""What waits for me in the correspondence, phone-first (390 px): endorsements asked of me or of someone whose
role I hold by a running delegation (endorse right here), review and signing steps of outgoing letters, and
letters routed to my กอง not yet acknowledged. Each item opens its letter's page."""
from __future__ import annotations

from flask import g
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.security.sqla.models import User
from flask_babel import gettext as _
from sqlalchemy import and_, literal, select, union_all
from sqlalchemy.orm import aliased

from app.extensions import db
from app.saraban import access, incoming
from app.saraban.incoming_views import SarabanIncomingView, _divisions
from app.saraban.screens import secrecy_badge, urgency_badge
from app.saraban.models import DONE, INCOMING, URGENCIES, Document, Endorsement, ReviewStep, Routing
from app.security.services import person_name
from app.tenancy.models import Division

LIMIT = 200  # items per section; the count says how many there are in all


def _urgent_first(document: Document):
    return (-URGENCIES.index(document.urgency) if document.urgency in URGENCIES else 0,
            document.urgent_by is None, document.urgent_by or document.created_at, document.id)


def _endorsements_select(user, *columns):
    """Open endorsements asked of the user or of their running delegators, on letters they may see."""
    ids = access.named_ids(user)
    return select(*(columns or (Endorsement,))).where(
        Endorsement.requested_of_id.in_(ids), Endorsement.endorsed_at.is_(None),
        Endorsement.document_id.in_(select(Document.id).where(Document.status != DONE, access.clause(user))))


def _routings_select(user, *columns):
    """Letters routed to the user's กอง (a secret one: to them by name) not yet acknowledged; None without a กอง."""
    divisions = {m.division_id for m in (getattr(user, "memberships", None) or [])}
    if not divisions:
        return None
    return select(*(columns or (Routing,))).where(
        Routing.division_id.in_(divisions), Routing.acknowledged_at.is_(None),
        Routing.document_id.in_(select(Document.id).where(Document.direction == INCOMING, access.clause(user))))


ENDORSEMENT, STEP, ROUTING = 0, 1, 2


def waiting_all(user) -> tuple[list[Endorsement], dict[int, str], list, list[Routing]]:
    """(endorsements, names of the people they were asked of, review/sign steps (outgoing.pending_steps),
    routings) in one statement: the three lists' ids (each at most LIMIT) in a UNION ALL, each row joined to
    its endorsement, step or routing (with its letter) and the person asked. Endorsements and routings are
    kept when the user may act on them, most urgent first; steps in the order they were made."""
    from app.saraban import outgoing

    if user is None or not getattr(user, "id", None):
        return [], {}, [], []
    parts = [_endorsements_select(user, literal(ENDORSEMENT).label("kind"), Endorsement.id.label("id"))]
    steps = outgoing.pending_steps_select(user, literal(STEP).label("kind"), ReviewStep.id.label("id"))
    if steps is not None:
        parts.append(steps)
    routings = _routings_select(user, literal(ROUTING).label("kind"), Routing.id.label("id"))
    if routings is not None:
        parts.append(routings)
    limited = [part.limit(LIMIT).subquery() for part in parts]
    items = union_all(*(select(sub.c.kind, sub.c.id) for sub in limited)).subquery()
    asked = aliased(User)
    rows = db.session.execute(
        select(items.c.kind, Endorsement, ReviewStep, Routing, asked).select_from(items)
        .outerjoin(Endorsement, and_(items.c.kind == ENDORSEMENT, Endorsement.id == items.c.id))
        .outerjoin(ReviewStep, and_(items.c.kind == STEP, ReviewStep.id == items.c.id))
        .outerjoin(Routing, and_(items.c.kind == ROUTING, Routing.id == items.c.id))
        # as people.by_ids: active people of an organisation
        .outerjoin(asked, and_(asked.id == Endorsement.requested_of_id, asked.active.is_(True),
                               asked.tenant_id.is_not(None)))
        .order_by(items.c.kind, items.c.id)
    ).unique().all()
    endorsements, names, found_steps, found_routings = [], {}, [], []
    for kind, endorsement, step, routing, person in rows:
        if kind == ENDORSEMENT and endorsement is not None:
            endorsements.append(endorsement)
            if person is not None:
                names[person.id] = person_name(person)
        elif kind == STEP and step is not None:
            found_steps.append(step)
        elif kind == ROUTING and routing is not None:
            found_routings.append(routing)
    endorsements = sorted([e for e in endorsements if incoming.may_endorse(e, user)[0]],
                          key=lambda e: _urgent_first(e.document))
    found_routings = sorted([r for r in found_routings if incoming.may_acknowledge(r, user)],
                            key=lambda r: _urgent_first(r.document))
    return endorsements, names, found_steps, found_routings


def _divisions_and_staff(with_staff: bool) -> tuple[list, list]:
    """The endorse form's choices: the active กอง to route to (as incoming_views._divisions) and, when a
    confidential letter waits (recipients by name), the organisation's staff as SarabanIncomingView._staff()
    gives them, "name — กอง", in Thai name order: both from one statement (every กอง with its members)."""
    if not with_staff:
        return _divisions(), []
    from functools import cmp_to_key

    from app.security.models import Membership
    from app.thai import thai_compare

    rows = db.session.execute(
        select(Division, User).select_from(Division)
        .outerjoin(Membership, Membership.division_id == Division.id)
        # as people.staff(): active people of the organisation who hold a role in one of its กอง
        .outerjoin(User, and_(User.id == Membership.user_id, User.active.is_(True), User.tenant_id.is_not(None)))
    ).unique().all()
    divisions, people_of = {}, {}
    for division, person in rows:
        if division.active:
            divisions[division.id] = division
        if person is not None:
            people_of.setdefault(person.id, (person, set()))[1].add(str(division))
    staff = sorted(people_of.values(), key=cmp_to_key(lambda a, b: thai_compare(person_name(a[0]),
                                                                                person_name(b[0]))))
    return ([(str(d.id), str(d)) for d in sorted(divisions.values(), key=lambda d: d.code)],
            [(str(p.id), f"{person_name(p)} — {', '.join(sorted(names))}") for p, names in staff])


class SarabanInboxView(BaseView):
    route_base = "/saraban/inbox"
    default_view = "index"
    base_permissions = ["can_index"]

    @expose("/")
    @has_access
    def index(self):
        user = g.user
        endorsements, names, steps, routings = waiting_all(user)
        may_endorse = self.appbuilder.sm.has_access("can_endorse", SarabanIncomingView.__name__)
        divisions, staff = _divisions_and_staff(any(e.document.secret for e in endorsements))
        return self.render_template(
            "saraban/inbox.html", endorsements=endorsements, names=names, steps=steps, routings=routings, may_endorse=may_endorse, divisions=divisions, staff=staff,
            urgency_badge=urgency_badge, secrecy_badge=secrecy_badge, deadline_text=incoming.deadline_text,
            errors={}, form=None, typed={}, title=_("My correspondence"), appbuilder=self.appbuilder)

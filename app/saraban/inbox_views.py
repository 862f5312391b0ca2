"""What waits for me in the correspondence, phone-first (390 px): endorsements asked of me or of someone whose
role I hold by a running delegation (endorse right here), review and signing steps of outgoing letters, and
letters routed to my กอง not yet acknowledged. Each item opens its letter's page."""
from __future__ import annotations

from flask import g
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.saraban import access, incoming, people
from app.saraban.incoming_views import SarabanIncomingView, _divisions
from app.saraban.screens import secrecy_badge, urgency_badge
from app.saraban.models import DONE, INCOMING, URGENCIES, Document, Endorsement, Routing
from app.security.services import person_name

LIMIT = 200  # items per section; the count says how many there are in all


def _urgent_first(document: Document):
    return (-URGENCIES.index(document.urgency) if document.urgency in URGENCIES else 0,
            document.urgent_by is None, document.urgent_by or document.created_at, document.id)


def waiting_endorsements(user) -> list[Endorsement]:
    """Open endorsements asked of the user or of their running delegators, on letters they may see."""
    ids = access.named_ids(user)
    rows = db.session.scalars(
        select(Endorsement).where(
            Endorsement.requested_of_id.in_(ids), Endorsement.endorsed_at.is_(None),
            Endorsement.document_id.in_(select(Document.id).where(Document.status != DONE, access.clause(user))))
        .limit(LIMIT)).all()
    return sorted([e for e in rows if incoming.may_endorse(e, user)[0]], key=lambda e: _urgent_first(e.document))


def waiting_routings(user) -> list[Routing]:
    """Letters routed to the user's กอง (a secret one: to them by name) not yet acknowledged."""
    divisions = {m.division_id for m in (getattr(user, "memberships", None) or [])}
    if not divisions:
        return []
    rows = db.session.scalars(
        select(Routing).where(
            Routing.division_id.in_(divisions), Routing.acknowledged_at.is_(None),
            Routing.document_id.in_(select(Document.id).where(Document.direction == INCOMING, access.clause(user))))
        .limit(LIMIT)).all()
    return sorted([r for r in rows if incoming.may_acknowledge(r, user)], key=lambda r: _urgent_first(r.document))


def waiting_steps(user) -> list:
    from app.saraban import outgoing

    return outgoing.pending_steps(user)


class SarabanInboxView(BaseView):
    route_base = "/saraban/inbox"
    default_view = "index"
    base_permissions = ["can_index"]

    @expose("/")
    @has_access
    def index(self):
        user = g.user
        endorsements = waiting_endorsements(user)
        names = {u.id: person_name(u) for u in people.by_ids({e.requested_of_id for e in endorsements})}
        may_endorse = self.appbuilder.sm.has_access("can_endorse", SarabanIncomingView.__name__)
        staff = SarabanIncomingView._staff() if any(e.document.secret for e in endorsements) else []
        return self.render_template(
            "saraban/inbox.html", endorsements=endorsements, names=names, steps=waiting_steps(user),
            routings=waiting_routings(user), may_endorse=may_endorse, divisions=_divisions(), staff=staff,
            urgency_badge=urgency_badge, secrecy_badge=secrecy_badge, deadline_text=incoming.deadline_text,
            errors={}, form=None, typed={}, title=_("My correspondence"), appbuilder=self.appbuilder)

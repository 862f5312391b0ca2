"""Writing notifications and handing the e-mail ones to a background task once the transaction commits, so
a slow or absent SMTP server never holds up the person who acted (and nothing is sent for a rolled-back act)."""
from __future__ import annotations

import logging

from flask import current_app, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.service_requests import mail
from app.service_requests.models import Notification

log = logging.getLogger(__name__)
PENDING = "outbox_pending"
SEND_TASK = "notifications.send"


def write(**values) -> Notification:
    """Add a notification to the current transaction; it is e-mailed after commit when it has an address."""
    notification = Notification(**values)
    db.session.add(notification)
    log.info("notification %s to %s: %s", values.get("kind"), values.get("recipient"), values.get("subject"))
    return notification


def send(ids: list[int]) -> int:
    """E-mail the given notifications not yet e-mailed (the task's body; safe to run twice)."""
    sent = 0
    for notification in db.session.scalars(select(Notification).where(
            Notification.id.in_(ids), Notification.emailed.is_(False))):
        if mail.send(notification.recipient, notification.subject, notification.body):
            notification.emailed = True
            db.session.commit()  # one by one: a crash after three sent does not send those three again
            sent += 1
    return sent


# sent by their own task with what the stored text leaves out (the citizen's tracking secret)
SENT_ELSEWHERE = ("tracking",)


def _emailable(obj) -> bool:
    return (isinstance(obj, Notification) and not obj.emailed and obj.kind not in SENT_ELSEWHERE
            and mail.EMAIL.match(obj.recipient or "") is not None)


@event.listens_for(Session, "after_flush")
def _remember(session, flush_context):
    for obj in session.new:
        if _emailable(obj):
            session.info.setdefault(PENDING, set()).add((obj.tenant_id, obj.id))


@event.listens_for(Session, "before_commit")
def _hand_over(session):
    """Turn the e-mails written in this transaction into one send task per tenant, queued after commit."""
    pending = session.info.pop(PENDING, None)
    if not pending or not has_app_context() or not current_app.config.get("MAIL_SERVER"):
        return  # without SMTP the outbox screen and the log are the record
    from app.tasks import after_commit

    by_tenant: dict[int, list[int]] = {}
    for tenant_id, notification_id in pending:
        by_tenant.setdefault(tenant_id, []).append(notification_id)
    for tenant_id, ids in by_tenant.items():
        after_commit(SEND_TASK, tenant_id, session=session, ids=sorted(ids))


@event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop(PENDING, None)

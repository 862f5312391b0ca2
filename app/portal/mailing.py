"""The tracking number and secret e-mailed to a citizen who gave an address (a background task)."""
from __future__ import annotations

from flask_babel import force_locale, gettext as _

from app.catalog.models import ServiceRequest
from app.extensions import db
from app.service_requests import mail, outbox


def send_tracking(request_id: int, sealed: str, link: str) -> bool:
    """sealed: the tracking code as tracking.seal made it (the task queue never carries it in clear)."""
    import logging

    from sqlalchemy import select

    from app.portal.tracking import unseal
    from app.service_requests.models import Notification

    secret = unseal(sealed)
    if secret is None:
        logging.getLogger(__name__).warning("tracking e-mail for request %s: the sealed code does not open "
                                            "(too old, or another SECRET_KEY); not sent", request_id)
        return False
    item = db.session.get(ServiceRequest, request_id)
    if item is None or not item.contact_email:
        return False
    key = f"tracking:{item.id}"
    if db.session.scalar(select(Notification.id).where(Notification.dedupe_key == key)):
        return False  # the task ran before: the citizen has it already
    with force_locale("th"):
        subject = _("Your request %(number)s has been received", number=item.id)
        body = _("%(service)s: %(title)s\nRequest number: %(number)s\nTracking code: %(secret)s\n"
                 "Follow it at %(link)s", service=item.service_type, title=item.title, number=item.id,
                 secret=secret, link=link)
        kept = _("%(service)s: %(title)s\nRequest number: %(number)s\n(The tracking code was sent only in the "
                 "e-mail.)", service=item.service_type, title=item.title, number=item.id)
    sent = mail.send(item.contact_email, subject, body)
    # the outbox keeps that it was sent, never the secret itself
    outbox.write(tenant_id=item.tenant_id, request_id=item.id, kind="tracking", recipient=item.contact_email,
                 subject=subject, body=kept, emailed=sent, dedupe_key=key)
    db.session.commit()
    return sent

"""Sending notices by e-mail when SMTP is configured (MAIL_SERVER ...); without it the outbox and the log
are the record, as in the embedded default."""
from __future__ import annotations

import logging
import re
import smtplib
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger(__name__)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def send(recipient: str, subject: str, body: str) -> bool:
    """True when handed to the SMTP server; False when there is no server or no e-mail address."""
    config = current_app.config
    if not config.get("MAIL_SERVER") or not EMAIL.match(recipient or ""):
        log.info("notice kept in the outbox (no SMTP or no e-mail address): %s", subject)
        return False
    message = EmailMessage()
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT", 25)), timeout=20) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
            smtp.send_message(message)
        return True
    except (OSError, smtplib.SMTPException):
        # the notice stays in the outbox; the next run does not resend it, staff see it unsent
        log.exception("could not e-mail %s", recipient)
        return False

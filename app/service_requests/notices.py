"""Delay notices (Licensing Facilitation Act B.E. 2558, s.10): after a matter's deadline, the applicant is
told of the delay every 7 days, with a copy to ก.พ.ร.; each 7-day period gets exactly one notice."""
from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import thai
from app.catalog.models import ServiceRequest, ServiceType
from app.extensions import db
from app.service_requests import engine, outbox
from app.service_requests.models import Notification
from app.service_requests.overdue import clock_running

log = logging.getLogger(__name__)
DELAY = "delay_notice"
# the Act covers permits, licences, registrations and notifications, not complaints or welfare claims
LICENSING = ("permit", "certificate", "registration")


OPDC_COPY = "delay_notice_opdc"
OPDC_NAME = "สำนักงานคณะกรรมการพัฒนาระบบราชการ (สำนักงาน ก.พ.ร.)"


def _recipient(request: ServiceRequest) -> str:
    """The applicant's e-mail (the portal's contact address or an e-mail field) so the notice is e-mailed;
    else a phone number or name for the letter and the clerk."""
    from app.service_requests.notify import applicant_email

    address = applicant_email(request)
    if address:
        return address
    for code in ("phone", "contact_phone", "applicant", "applicant_name", "requester"):
        if request.data.get(code):
            return str(request.data[code])
    return request.title


def _opdc_recipient() -> str:
    """ก.พ.ร.'s address for the copies when the platform is given one (OPDC_EMAIL), else its name: the copy
    then waits in the outbox for the clerk to send by the official channel."""
    from flask import current_app

    return current_app.config.get("OPDC_EMAIL") or OPDC_NAME


def delay_notices(today: date | None = None) -> int:
    """Write the notices due today for the current tenant's overdue open matters; returns how many."""
    today = today or thai.today_bangkok()
    written = 0
    overdue = db.session.scalars(
        select(ServiceRequest).join(ServiceType, ServiceType.id == ServiceRequest.service_type_id).where(
            ServiceRequest.due_on < today, ServiceRequest.closed_at.is_(None),
            ServiceType.category.in_(LICENSING))).unique().all()
    for request in overdue:
        # closed, or waiting for the applicant's missing documents (s.8: the clock is not running)
        if not clock_running(request):
            continue
        period = (today - request.due_on).days // 7  # 0 on the first day late, 1 after 7 more days, ...
        exists = db.session.scalar(select(Notification.id).where(
            Notification.request_id == request.id, Notification.kind == DELAY, Notification.period == period))
        if exists:
            continue
        values = dict(
            tenant_id=request.tenant_id, request_id=request.id, kind=DELAY, period=period,
            dedupe_key=f"{DELAY}:{request.id}:{period}",
            recipient=_recipient(request), copy_to_opdc=True,
            subject=f"แจ้งความล่าช้าในการพิจารณาคำขอ เลขที่ {request.id}",
            body=(f"คำขอ \"{request.title}\" ซึ่งครบกำหนดพิจารณาเมื่อ {thai.format_date(request.due_on, 'long')} "
                  f"ยังอยู่ระหว่างการพิจารณา ({engine.state_name(request)}) ณ {request.division} "
                  f"หน่วยงานขอแจ้งความล่าช้าตามมาตรา 10 แห่งพระราชบัญญัติการอำนวยความสะดวกในการพิจารณาอนุญาต"
                  f"ของทางราชการ พ.ศ. 2558 และจะแจ้งความคืบหน้าทุก 7 วัน สำเนาถึงสำนักงาน ก.พ.ร."),
        )
        # the copy to ก.พ.ร. is its own outbox entry, so it can be reviewed (and e-mailed) like the notice
        copy = dict(values, kind=OPDC_COPY, dedupe_key=f"{OPDC_COPY}:{request.id}:{period}",
                    recipient=_opdc_recipient(), subject=f"สำเนา {values['subject']}",
                    body=f"สำเนาหนังสือแจ้งผู้ยื่นคำขอ ({values['recipient']})\n\n{values['body']}")
        try:
            with db.session.begin_nested():
                outbox.write(**values)
                outbox.write(**copy)
        except IntegrityError:  # another run wrote it first: once per period all the same
            continue
        written += 1
    db.session.commit()  # e-mailed after commit by the outbox's task, when SMTP is configured
    return written

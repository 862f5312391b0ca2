"""An organisation's own closures (วันหยุดขององค์กร), which the legal clock skips."""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from flask import abort, current_app, g, redirect, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from markupsafe import Markup
from sqlalchemy import func, select, update
from wtforms import SelectField
from wtforms.validators import DataRequired

from app import thai
from app.catalog.models import ServiceRequest
from app.extensions import db
from app.service_requests.models import Delegation, Notification, TenantClosure
from app.service_requests.notices import DELAY
from app.tenancy.models import Tenant, utcnow
from app.tenancy.fab import TenantModelView
from app.tenancy.interface import TenantInterface


class TenantClosureView(TenantModelView):
    route_base = "/closures"
    datamodel = TenantInterface(TenantClosure)
    list_title = _l("Office closures")
    show_title = _l("Office closure")
    add_title = _l("Add office closure")
    edit_title = _l("Edit office closure")
    list_columns = ["day", "name_th"]
    show_columns = ["day", "name_th"]
    add_columns = ["day", "name_th"]
    edit_columns = ["day", "name_th"]
    search_columns = ["day", "name_th"]
    base_order = ("day", "desc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]
    label_columns = {"day": _l("Date"), "name_th": _l("Reason")}
    description_columns = {
        "day": _l("A day the office is closed besides weekends and national holidays; the legal clock skips it."),
    }


KINDS = {"on_behalf": _l("On behalf of (ปฏิบัติราชการแทน)"), "acting": _l("Acting for (รักษาราชการแทน)")}


class DelegationView(TenantModelView):
    """Who may sign for whom, for which role, from when to when (both days included)."""

    route_base = "/delegations"
    datamodel = TenantInterface(Delegation)
    list_title = _l("Delegations of authority")
    show_title = _l("Delegation of authority")
    add_title = _l("Delegate authority")
    edit_title = _l("Edit delegation")
    list_columns = ["delegator", "delegate", "role_code", "kind", "start_on", "end_on"]
    show_columns = ["delegator", "delegate", "role_code", "kind", "start_on", "end_on", "note"]
    add_columns = show_columns
    edit_columns = show_columns
    search_columns = ["delegator", "delegate", "start_on", "end_on"]
    base_order = ("start_on", "desc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]
    label_columns = {
        "delegator": _l("Authority of"), "delegate": _l("Delegated to"), "role_code": _l("Role"),
        "kind": _l("Delegation kind"), "start_on": _l("From"), "end_on": _l("Until"), "note": _l("Order or note"),
    }
    formatters_columns = {"kind": lambda value: str(KINDS.get(value, value))}
    add_form_extra_fields = {
        "kind": SelectField(_l("Delegation kind"), choices=[(k, v) for k, v in KINDS.items()],
                            validators=[DataRequired()]),
        "role_code": SelectField(_l("Role"), choices=[("mayor", _l("Chief Executive")),
                                                      ("permanent_secretary", _l("Permanent Secretary")),
                                                      ("division_director", _l("Division Director"))],
                                 validators=[DataRequired()]),
    }
    edit_form_extra_fields = add_form_extra_fields

    def pre_add(self, item):
        self._check(item)

    def pre_update(self, item):
        self._check(item)

    @staticmethod
    def _check(item):
        from flask_babel import gettext as _

        from app.tenancy.errors import UserError

        if item.end_on < item.start_on:
            raise UserError(_("The end date must not be before the start date."))
        same_user = (item.delegator is not None and item.delegator is item.delegate) or (
            item.delegator_id is not None and item.delegator_id == item.delegate_id)
        if same_user:
            raise UserError(_("A person cannot delegate to themselves."))


class OutboxInterface(TenantInterface):
    """The outbox's rows, plus the column `letter`: the notice's id when it prints as a letter, else None."""

    @staticmethod
    def _get_attr_value(item, col):
        if col == "letter":
            return item.id if item.kind == DELAY else None
        return TenantInterface._get_attr_value(item, col)


def _letter_link(pk) -> str:
    """A link to the printable letter, for those who may print it."""
    if pk is None or not current_app.appbuilder.sm.has_access("can_letter", "NotificationView"):
        return ""
    label = _("Print letter")
    return Markup('<a href="{}" target="_blank" rel="noopener"><i class="fa fa-print"></i> {}</a>').format(
        url_for("NotificationView.letter", pk=pk), label)


def _letter_date(value: date | datetime) -> str:
    """24 พฤศจิกายน 2569: a letter is dated in Thai and พ.ศ. (Bangkok time), whatever the screen's language."""
    if isinstance(value, datetime):
        value = thai.to_bangkok(value).date()
    return f"{value.day} {thai.month_names('wide', 'th')[value.month]} {thai.be_year(value)}"


def _addressee(notice: Notification, matter: ServiceRequest | None) -> str:
    """The applicant's name when the form asked for it, else whom the notice was written to."""
    if matter is not None:
        for code in ("applicant_name", "applicant", "requester"):
            if matter.data.get(code):
                return str(matter.data[code])
    return notice.recipient


class NotificationView(TenantModelView):
    """The mail outbox: every notice written, e-mailed or not (the embedded default only writes them here).
    A delay notice also prints as the official letter (หนังสือภายนอก) it stands for."""

    route_base = "/outbox"
    datamodel = OutboxInterface(Notification)
    list_title = _l("Outbox")
    show_title = _l("Notification")
    list_columns = ["created_at", "kind", "request_id", "recipient", "subject", "emailed", "copy_to_opdc", "letter"]
    show_columns = ["created_at", "kind", "period", "request_id", "recipient", "subject", "body", "emailed",
                    "copy_to_opdc", "letter"]
    order_columns = ["created_at", "kind", "request_id", "recipient", "subject", "emailed", "copy_to_opdc"]
    search_columns = ["kind", "recipient", "created_at"]
    base_order = ("created_at", "desc")
    base_permissions = ["can_list", "can_show", "can_letter"]
    label_columns = {
        "created_at": _l("Written at"), "kind": _l("Notice kind"), "period": _l("Week late"), "request_id": _l("Request"),
        "recipient": _l("To"), "subject": _l("Subject"), "body": _l("Message"),
        "copy_to_opdc": _l("Copy to OPDC"), "emailed": _l("E-mailed"), "letter": _l("Letter"),
    }
    formatters_columns = {"kind": lambda value: str(NOTICE_KINDS.get(value, value)), "letter": _letter_link}

    @expose("/letter/<int:pk>")
    @has_access
    def letter(self, pk: int):
        """A delay notice as a printable A4 letter (ระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ, หนังสือภายนอก)."""
        notice = self.datamodel.get(pk, self._base_filters)
        if notice is None or notice.kind != DELAY:
            abort(404)
        tenant = db.session.get(Tenant, notice.tenant_id)
        matter = None
        if notice.request_id is not None:
            matter = db.session.scalar(select(ServiceRequest).where(ServiceRequest.id == notice.request_id))
        division = None
        if matter is not None:
            division = matter.service_type.responsible_division or matter.division

        def doc(text) -> str:  # Thai digits when the organisation prints them on its documents
            return thai.for_document(text, tenant) if text else ""

        return self.render_template(
            "outbox/letter.html", notice=notice, tenant=tenant, matter=matter, doc=doc,
            # without a book code the clerk writes it in by hand
            book_no=f"{tenant.book_prefix or '..........'}/{notice.id}",
            dated=_letter_date(notice.created_at),
            matter_dated=_letter_date(matter.created_at) if matter is not None else "",
            addressee=_addressee(notice, matter), executive=tenant.executive_signature_th(),
            division=division.name_th if division is not None else "",
        )


NOTICE_KINDS = {
    "delay_notice": _l("Delay notice"), "delay_notice_opdc": _l("Copy of a delay notice to OPDC"), "new_step": _l("Waiting for you"), "status": _l("Progress to applicant"),
    "forwarded": _l("Forwarded to an outside body"), "forward_received": _l("Forwarded to us"),
    "forward_message": _l("Message on a forwarded matter"), "forward_answered": _l("Forwarded matter answered"),
    "forward_withdrawn": _l("Forwarded matter withdrawn"),
}
MY_LIMIT = 100


def unread_count(user) -> int:
    cached = g.get("_unread_prefetch")  # read with the memberships at the start of the request
    session = db.session()
    if (cached and cached[0] == user.id and cached[1] is not None and cached[1] is session.get_transaction()
            and not (session.new or session.dirty or session.deleted)):
        return cached[2]
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


class MyNotificationsView(BaseView):
    """A member of staff's own in-app notifications: newest first, opened once to mark them read."""

    route_base = "/notifications"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        rows = db.session.scalars(select(Notification).where(Notification.user_id == g.user.id)
                                  .order_by(Notification.created_at.desc(), Notification.id.desc())
                                  .limit(MY_LIMIT)).all()
        return self.render_template("notifications/index.html", rows=rows, kinds=NOTICE_KINDS,
                                    appbuilder=self.appbuilder)

    @expose("/<int:pk>/open", methods=["POST"])
    @has_access
    def open(self, pk: int):
        found = db.session.get(Notification, pk)
        if found is None or found.user_id != g.user.id:
            abort(404)
        if found.read_at is None:
            found.read_at = utcnow()
            db.session.commit()
        # only ever a path inside this site
        target = found.link if (found.link or "").startswith("/") and not found.link.startswith("//") else None
        return redirect(target or url_for("MyNotificationsView.index"))

    @expose("/read-all", methods=["POST"])
    @has_access
    def read_all(self):
        db.session.execute(update(Notification).where(
            Notification.user_id == g.user.id, Notification.read_at.is_(None)).values(read_at=utcnow()))
        db.session.commit()
        return redirect(url_for("MyNotificationsView.index"))

"""The one overdue rule, used by every list, queue, inbox and page that shows a matter's due date: a matter
is overdue when it is open, its clock is running (it is not waiting for the applicant's missing documents,
s.8) and today is past the whole matter's due date or the current step's."""
from __future__ import annotations

from datetime import date
from typing import Optional

from flask_babel import gettext as _
from markupsafe import Markup

from app import thai
from app.catalog.models import ServiceRequest
from app.tenancy.interface import TenantInterface


def clock_running(request: ServiceRequest) -> bool:
    """Open and not waiting for the applicant (a returned matter's clock stops until the documents come)."""
    from app.service_requests import engine

    if request.closed_at is not None or engine.state(request)["final"]:
        return False
    return request.status not in engine.returned_states(request)


def is_overdue(request: ServiceRequest, today: Optional[date] = None) -> bool:
    if not clock_running(request):
        return False
    today = today or thai.today_bangkok()
    return any(due is not None and due < today for due in (request.due_on, request.step_due_on))


def flag(request: ServiceRequest) -> Markup:
    """The red "overdue" label, or nothing."""
    if not is_overdue(request):
        return Markup("")
    return Markup('<span class="label label-danger overdue-flag">{}</span>').format(_("Overdue"))


def due_cell(request: ServiceRequest) -> Markup:
    """A list cell: the due date in พ.ศ. with the flag in front when the matter is overdue."""
    if request is None or request.due_on is None:
        return Markup("-")
    return Markup("{} {}").format(flag(request), thai.format_date(request.due_on)).strip()


class DueAwareInterface(TenantInterface):
    """A request list's `due_on` cell gets the whole request, so its formatter can apply the overdue rule
    (which needs the state and the step's due date, not the date alone). Sorting still uses the column."""

    @staticmethod
    def _get_attr_value(item, col):
        if col == "due_on":
            return item
        return TenantInterface._get_attr_value(item, col)


# for templates: {{ overdue_flag(request) }} (passed as extra_args by the views that show matters)
TEMPLATE_ARGS = {"overdue_flag": flag, "is_overdue": is_overdue}

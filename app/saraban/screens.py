"""What the correspondence screens share: the urgency and secrecy badges (the same look on every list and page),
a whole number from a URL or a form that the database can hold, and the per-step permission check."""
from __future__ import annotations

from flask import abort
from markupsafe import Markup

from app.saraban.models import MOST_URGENT, NORMAL, SECRECY_NAMES, URGENCY_NAMES, VERY_URGENT

INT_RANGE = (-2**31, 2**31)  # an integer column: a larger id is "not found", never a database error


def urgency_badge(value) -> Markup:
    if not value or value == NORMAL:
        return Markup("")
    css = "label-danger" if value == MOST_URGENT else "label-warning" if value == VERY_URGENT else "label-info"
    style = ' style="background:#c00"' if value == MOST_URGENT else ""  # ด่วนที่สุด in red, as on paper
    return Markup('<span class="label {}{}"{}>{}</span>').format(
        css, " urgency-most" if value == MOST_URGENT else "", Markup(style), URGENCY_NAMES.get(value, value))


def secrecy_badge(value) -> Markup:
    if not value or value == NORMAL:
        return Markup("")
    return Markup('<span class="label label-default secrecy-badge" style="background:#222">'
                  '<i class="fa fa-lock"></i> {}</span>').format(SECRECY_NAMES.get(value, value))


def int_or_none(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if INT_RANGE[0] <= number < INT_RANGE[1] else None


def int_or_404(value) -> int:
    number = int_or_none(value)
    if number is None:
        abort(404)
    return number


class StepPermissions:
    """For a view whose POST steps each have their own FAB permission (method_permission_name): may the
    signed-in person take this step? The page shows only the forms they may use."""

    def _allowed(self, method: str) -> bool:
        name = self.method_permission_name.get(method, method)
        return self.appbuilder.sm.has_access(f"can_{name}", self.class_permission_name)

"""Errors a person can act on, with a translated message; raised by services, shown by views and APIs."""
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.tenancy.context import CrossTenantWrite, TenantNotSet


class UserError(Exception):
    """A refused write with a message fit to show the user (Thai by default)."""

    status = 422

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message


def translate_write_error(exc: Exception) -> UserError:
    """Turn a database or guard error into a message that reveals nothing about other tenants."""
    if isinstance(exc, UserError):
        return exc
    if isinstance(exc, (CrossTenantWrite, TenantNotSet)):
        return UserError(_("The related record was not found."), status=404)
    if isinstance(exc, IntegrityError):
        text = str(getattr(exc, "orig", exc)).lower()
        if "unique" in text or "duplicate" in text:
            return UserError(_("A record with the same value already exists."))
        if "foreign key" in text:
            return UserError(_("A related record does not exist or is still in use."))
        if "not null" in text or "null value" in text:
            return UserError(_("A required value is missing."))
    if isinstance(exc, SQLAlchemyError):
        return UserError(_("The record could not be saved. Please check the values and try again."))
    raise exc

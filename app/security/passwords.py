"""Password policy for database logins."""
import re

from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_babel import gettext as _

MIN_LENGTH = 10
_COMMON = {"password", "password1", "1234567890", "qwertyuiop", "admin12345", "changeme12"}


def validate_password_policy(password: str) -> None:
    """At least 10 characters with a letter and a digit, and not a well-known password."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        raise PasswordComplexityValidationError(
            _("The password must be at least %(n)d characters long.", n=MIN_LENGTH)
        )
    if not re.search(r"[^\W\d_]", password) or not re.search(r"\d", password):
        raise PasswordComplexityValidationError(
            _("The password must contain both letters and digits.")
        )
    if password.lower() in _COMMON:
        raise PasswordComplexityValidationError(_("This password is too common."))

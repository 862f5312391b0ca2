"""Password policy for database logins."""
import re
import secrets
import string

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


def generate_password(length: int = 14) -> str:
    """A random password that meets the policy, for new accounts and resets (shown once)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate

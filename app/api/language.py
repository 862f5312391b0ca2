"""Every API error carries its message in Thai and in English. Inside an API request gettext returns a
Phrase: the text in the request's language that remembers its message id and values, so the handler can
say it again in the other language, whatever service raised it (the workflow engine, the field checks)."""
from __future__ import annotations

from flask import current_app, g
from flask_babel import Domain, force_locale, get_babel
from flask_babel.speaklater import LazyString

LANGUAGES = ("th", "en")


class Phrase(str):
    """A translated text that can be said again in another language."""

    def __new__(cls, text: str, again):
        obj = super().__new__(cls, text)
        obj.again = again  # callable(locale) -> str
        return obj


class BilingualDomain(Domain):
    """The app's domain, returning Phrases (installed for API requests only, as g.babel_domain)."""

    def __init__(self, inner: Domain):
        self.__dict__.update(inner.__dict__)  # the same catalogues and cache as the app's own domain

    def gettext(self, string, **variables):
        text = super().gettext(string, **variables)
        return Phrase(text, lambda locale: _in(locale, Domain.gettext, self, string, **variables))

    def ngettext(self, singular, plural, num, **variables):
        text = super().ngettext(singular, plural, num, **variables)
        return Phrase(text, lambda locale: _in(locale, Domain.ngettext, self, singular, plural, num, **variables))

    def pgettext(self, context, string, **variables):
        text = super().pgettext(context, string, **variables)
        return Phrase(text, lambda locale: _in(locale, Domain.pgettext, self, context, string, **variables))


def _in(locale: str, method, domain, *args, **variables) -> str:
    with force_locale(locale):
        return str.__str__(method(domain, *args, **variables))


def install() -> None:
    """Call at the start of an API request."""
    domain = BilingualDomain(get_babel(current_app).instance.domain_instance)
    g.babel_domain = domain
    # flask_babel.get_domain() reads the domain from its own per-request namespace (g._flask_babel), not g
    from flask_babel import _get_current_context

    _get_current_context().babel_domain = domain


def both(message) -> tuple[str, str]:
    """(Thai, English) of a Phrase, a lazy string, or plain text (the same text twice: data, not a message)."""
    if isinstance(message, Phrase):
        return message.again("th"), message.again("en")
    if isinstance(message, LazyString):
        with force_locale("th"):
            th = str(message)
        with force_locale("en"):
            en = str(message)
        return th, en
    text = str(message)
    return text, text

"""marshmallow's range, length and choice checks with messages kept lazy, so that an error can be given in
Thai and in English (marshmallow's own format them into one English string). Each message goes in a list:
marshmallow takes a lone non-str message for a collection of messages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import validate


class Range(validate.Range):
    def _format_error(self, value, message):
        if self.min is not None and self.max is not None:
            return [_l("Must be from %(min)s to %(max)s.", min=self.min, max=self.max)]
        if self.min is not None:
            return [_l("Must be at least %(min)s.", min=self.min)]
        return [_l("Must be at most %(max)s.", max=self.max)]


class Length(validate.Length):
    def _format_error(self, value, message):
        if self.min is not None and self.max is not None:
            return [_l("Must be %(min)s to %(max)s characters long.", min=self.min, max=self.max)]
        if self.min is not None:
            return [_l("Must be at least %(min)s characters long.", min=self.min)]
        return [_l("Must be at most %(max)s characters long.", max=self.max)]


class OneOf(validate.OneOf):
    def _format_error(self, value):
        return [_l("Must be one of: %(choices)s.", choices=", ".join(str(c) for c in self.choices))]


class Regexp(validate.Regexp):
    def __init__(self, regex, message, **kwargs):
        super().__init__(regex, **kwargs)
        self.lazy_message = message

    def _format_error(self, value):
        return [self.lazy_message]

"""Form fields for Thai users: a date typed or picked as day/month/พ.ศ. year; WTForms' own messages in
the user's language."""
from __future__ import annotations

from datetime import date

import flask_babel
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import Field
from wtforms.widgets import html_params

from app import thai


class CatalogueTranslations:
    """WTForms' built-in messages ("Not a valid integer value.", "Field cannot be longer than ...") looked up
    in our catalogue, in the language of the moment. Flask-WTF's own i18n reads WTForms' bundled catalogues,
    which have no Thai; ours holds every WTForms message (translations/extract.py, origin "wtforms")."""

    def gettext(self, string):
        return flask_babel.get_translations().ugettext(string)

    def ngettext(self, singular, plural, n):
        # not flask_babel.ngettext: it would %-format with num only and break %(max)d
        return flask_babel.get_translations().ungettext(singular, plural, n)


TRANSLATIONS = CatalogueTranslations()


def install_form_translations() -> None:
    """Every FlaskForm (FAB's forms, the service forms, ours) takes its translations from the form meta."""
    from flask import current_app
    from flask_wtf import FlaskForm
    from wtforms.meta import DefaultMeta

    def get_translations(meta, form):
        if not current_app.config.get("WTF_I18N_ENABLED", True):  # Flask-WTF's switch keeps its meaning
            return DefaultMeta.get_translations(meta, form)
        return TRANSLATIONS

    FlaskForm.Meta.get_translations = get_translations


class DateRequired:
    """Like DataRequired, but keeps a date's own message (DataRequired would replace "looks like a C.E.
    year" with "this field is required")."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        from wtforms.validators import StopValidation

        if field.data is None:
            if field.errors:
                raise StopValidation()
            raise StopValidation(field.gettext("This field is required."))


class ThaiDateWidget:
    """A text box (24/11/2569) that thai-date.js turns into a Thai calendar with พ.ศ. years."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("name", field.name)
        kwargs.setdefault("class", "form-control thai-date")
        kwargs.setdefault("placeholder", str(_l("dd/mm/yyyy (B.E.)")))
        kwargs.setdefault("autocomplete", "off")
        kwargs.setdefault("inputmode", "numeric")
        value = field.raw_text if field.raw_text is not None else thai.format_date_input(field.data)
        months = "|".join(thai.month_names("wide").values())
        return Markup(
            '<div class="input-group thai-date-group">'
            '<span class="input-group-addon"><i class="fa fa-calendar"></i></span>'
            f"<input {html_params(type='text', value=value, data_months=months, **kwargs)}>"
            "</div>"
        )


class ThaiDateField(Field):
    """Shows and accepts dates in พ.ศ.; refuses impossible dates and C.E. years with a Thai message.
    The stored value is a plain date (C.E.), as the REST API and the database expect."""

    widget = ThaiDateWidget()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.raw_text = None

    def _value(self) -> str:
        return thai.format_date_input(self.data)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.raw_text = valuelist[0]
        if not (valuelist[0] or "").strip():
            self.data = None
            return
        try:
            self.data = thai.parse_date(valuelist[0])
        except thai.ThaiDateError as exc:
            self.data = None
            raise ValueError(str(exc)) from None

    def process_data(self, value):
        self.data = value if isinstance(value, date) or value is None else None


def thai_ordered(objects) -> list:
    """Objects in Thai dictionary order of the text a person sees (str of each); ties keep their order."""
    from pythainlp.util import collate

    objects = list(objects)
    labels = [str(o) for o in objects]
    rank = {label: i for i, label in enumerate(collate(sorted(set(labels))))}
    return [o for _label, o in sorted(zip(labels, objects), key=lambda pair: rank[pair[0]])]


def sort_related_choices(views) -> None:
    """The drop-downs of related records (roles, groups, users, permissions) in Thai dictionary order: FAB
    lists them in the database's order. Applies to the add, edit and search forms FAB built for these views."""
    from flask_appbuilder.fields import QuerySelectField, QuerySelectMultipleField

    for view in views:
        for attr in ("add_form", "edit_form", "search_form"):
            form = getattr(view, attr, None)
            for name in dir(form) if form is not None else ():
                unbound = getattr(form, name, None)
                field_class = getattr(unbound, "field_class", None)
                if field_class in (QuerySelectField, QuerySelectMultipleField) and "query_func" in unbound.kwargs:
                    query_func = unbound.kwargs["query_func"]
                    if not getattr(query_func, "thai_ordered", False):
                        unbound.kwargs["query_func"] = _thai_query(query_func)


def _thai_query(query_func):
    def ordered():
        return thai_ordered(query_func())

    ordered.thai_ordered = True
    return ordered

"""The correspondence screens in the menu (สารบรรณ), in the order a clerk uses them."""
from __future__ import annotations

from flask_appbuilder import AppBuilder
from flask_babel import lazy_gettext as _l

CATEGORY = "Correspondence"


def register(appbuilder: AppBuilder) -> None:
    category_label = _l("Correspondence")
    # (each screen's block below: views are imported here so that app/__init__.py stays one line)
    del category_label

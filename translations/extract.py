"""Extract every translatable string of the app and of Flask-AppBuilder into translations/messages.pot.

FAB ships 17 languages and no Thai, and its wheel carries no .pot: its strings are extracted from the
installed package so that our catalogue translates them too (ours is loaded after FAB's, so it wins).
WTForms has no Thai either: its validators' and fields' messages are extracted too and our forms read
them from this catalogue.
Run through `make messages`, which then merges the template into translations/th.
"""
from __future__ import annotations

import os
import sys

import flask_appbuilder
import wtforms
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
KEYWORDS = {
    "_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
    "lazy_formatter_gettext": None,
}
SOURCES = [
    (os.path.join(ROOT, "app"), [("**.py", "python"), ("templates/**.html", "jinja2")]),
    (os.path.dirname(flask_appbuilder.__file__), [("**.py", "python"), ("templates/**.html", "jinja2")]),
    # WTForms' built-in messages, shown through our catalogue (app.thai_forms.CatalogueTranslations)
    (os.path.dirname(wtforms.__file__), [("**.py", "python")]),
]


def messages() -> list[tuple[str | tuple[str, str], str]]:
    found = []
    for directory, method_map in SOURCES:
        for _file, _line, message, _comments, _context in extract_from_dir(
            directory, method_map=method_map, keywords=KEYWORDS,
            options_map={"templates/**.html": {"extensions": "jinja2.ext.do"}},
        ):
            found.append((message, os.path.basename(directory)))
    return found


def main(path: str) -> None:
    catalog = Catalog(project="thongthin-digital", charset="utf-8")
    for message, origin in messages():
        if message and (message if isinstance(message, str) else message[0]):
            catalog.add(message, auto_comments=[origin])
    with open(path, "wb") as fh:
        write_po(fh, catalog, sort_output=True, omit_header=False, width=100)
    print(f"{len(catalog)} messages written to {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "messages.pot"))

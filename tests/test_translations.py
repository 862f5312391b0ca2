"""Every string of the app has a Thai translation that is not fuzzy (FAB's own catalogue: issue #3)."""
import os

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.conftest import ROOT

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def _app_strings() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        os.path.join(ROOT, "app"), method_map=method_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_app_string_is_translated_to_thai():
    with open(os.path.join(ROOT, "translations", "th", "LC_MESSAGES", "messages.po"), "rb") as fh:
        catalog = read_po(fh, locale="th")
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(_app_strings() - translated)
    assert not missing, f"untranslated (run `make messages` and translate): {missing}"


def test_ui_is_thai_by_default_and_english_on_request(client_for):
    client = client_for("a.officer")
    html = client.get("/").get_data(as_text=True)
    assert "กองและบทบาทของคุณ" in html
    client.get("/lang/en")
    html = client.get("/").get_data(as_text=True)
    assert "Your divisions and roles" in html and "Finance Division" in html

"""Every string of the app and of Flask-AppBuilder has a Thai translation that is not fuzzy."""
import importlib.util
import os

from babel.messages.pofile import read_po

from tests.conftest import ROOT, login


def _extractor():
    spec = importlib.util.spec_from_file_location("extract", os.path.join(ROOT, "translations", "extract.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_app_and_fab_string_is_translated_to_thai():
    with open(os.path.join(ROOT, "translations", "th", "LC_MESSAGES", "messages.po"), "rb") as fh:
        catalog = read_po(fh, locale="th")
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy and all(m.string)}
    found = _extractor().messages()
    origins = {origin for _message, origin in found}
    assert origins == {"app", "flask_appbuilder", "wtforms"}
    missing = sorted({m if isinstance(m, str) else m for m, _origin in found} - translated, key=str)
    assert not missing, f"untranslated (run `make messages`, then translate in translations/th): {missing}"
    assert not [m.id for m in catalog if m.id and m.fuzzy]


def test_ui_is_thai_by_default_and_english_on_request(client_for):
    client = client_for("a.officer")
    html = client.get("/").get_data(as_text=True)
    assert "กองและบทบาทของคุณ" in html
    client.get("/lang/en")
    html = client.get("/").get_data(as_text=True)
    assert "Your divisions and roles" in html and "Finance Division" in html
    client.get("/lang/th")


def test_language_choice_is_remembered_per_user(app, client_for):
    first = client_for("a.mayor")
    first.get("/lang/en")
    html = login(app.test_client(), "a.mayor").get("/").get_data(as_text=True)  # a new session
    assert "Your divisions and roles" in html
    first.get("/lang/th")
    html = login(app.test_client(), "a.mayor").get("/").get_data(as_text=True)
    assert "กองและบทบาทของคุณ" in html
    # another user is not affected
    assert "กองและบทบาทของคุณ" in client_for("a.officer").get("/").get_data(as_text=True)

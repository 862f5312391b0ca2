"""Every string of the app and of Flask-AppBuilder has a Thai translation that is not fuzzy."""
import html as html_module
import importlib.util
import json
import os
import re

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


def _visible_text(html: str) -> str:
    """The text a person reads: no scripts, styles or tag attributes."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return html_module.unescape(re.sub(r"<[^>]+>", " ", html))


def test_fab_dialogs_are_thai_and_english_on_request(client_for):
    """FAB hard-codes Cancel/OK in its confirmation and alert dialogs and "No row selected" in its script."""
    admin = client_for("a.admin")
    try:
        for lang, words in (("th", ("ยกเลิก", "ตกลง", "ยังไม่ได้เลือกรายการ")),
                            ("en", ("Cancel", "OK", "No row selected"))):
            admin.get(f"/lang/{lang}")
            html = admin.get("/divisions/list/").get_data(as_text=True)
            confirm = re.search(r'<div class="modal fade" id="modal-confirm".*?</div>\s*</div>\s*</div>\s*</div>',
                                html, re.S).group(0)
            alert = re.search(r'<div class="modal fade" id="modal-alert".*?</div>\s*</div>\s*</div>\s*</div>',
                              html, re.S).group(0)
            cancel, ok, no_row = words
            assert re.search(rf">\s*{cancel}\s*</button>", confirm) and re.search(rf">\s*{ok}\s*</a>", confirm)
            assert re.search(rf">\s*{ok}\s*</button>", alert)
            table = json.loads(re.search(r'<script type="application/json" id="fab-i18n">(.*?)</script>',
                                         html, re.S).group(1))
            assert table["No row selected"].startswith(no_row)
            assert "thongthin/fab-i18n.js" in html
            if lang == "th":
                assert not re.search(r">\s*(Cancel|OK)\s*<", html)
    finally:
        admin.get("/lang/th")


SECURITY_SCREENS = ["/users/list/", "/users/add", "/roles/list/", "/roles/add", "/groups/list/", "/groups/add",
                    "/permissions/list/", "/viewmenus/list/", "/permissionviews/list/", "/userstatschartview/chart/"]


def test_fab_security_screens_have_thai_labels(app, client_for):
    """Every column FAB's security screens list, show, edit or search has a Thai label, and the operator's
    pages show none of the English column names."""
    from flask_babel import force_locale

    with app.test_request_context("/"), force_locale("th"):
        unlabelled = {}
        for view in app.appbuilder.baseviews:
            if not (type(view).__module__.startswith("flask_appbuilder.security")
                    or type(view).__name__ == "UserStatsChartView"):
                continue
            columns = set()
            for attr in ("list_columns", "show_columns", "add_columns", "edit_columns", "search_columns"):
                columns |= set(getattr(view, attr, None) or [])
            english = sorted(c for c in columns if not re.search(r"[\u0e00-\u0e7f]", str(view.label_columns.get(c, c))))
            if english:
                unlabelled[type(view).__name__] = english
            for definition in getattr(view, "definitions", None) or []:
                assert re.search(r"[\u0e00-\u0e7f]", str(definition["label"])), definition
        assert not unlabelled
    ops = client_for("ops")
    english_labels = re.compile(r"\b(Name|Label|Description|Users|Roles|Role|Groups|First Name|Last Name|Email|"
                                r"Last Login|Login Count|Fail Login Count|Active|Created On|Changed On|Permission|"
                                r"View Menu|User Name)\b")
    found = {}
    for path in SECURITY_SCREENS:
        response = ops.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        # column headers, form labels and the search menu's entries (the data are FAB's permission and view
        # names, identifiers rather than interface words)
        labels = re.findall(r"<th\b[^>]*>(.*?)</th>|<label\b[^>]*>(.*?)</label>|<a [^>]*class=\"filter\"[^>]*>(.*?)</a>",
                            html, re.S)
        assert labels, path
        left = sorted(set(english_labels.findall(_visible_text(" | ".join("".join(m) for m in labels)))))
        if left:
            found[path] = left
    assert not found
    text = _visible_text(ops.get("/userstatschartview/chart/").get_data(as_text=True))
    assert "จำนวนครั้งที่เข้าระบบ" in text and "ชื่อผู้ใช้" in text and "อีเมล" in text

"""A person's view: log in with Debian's chromium, open the main screens, find no English words from the
catalogue (Flask-AppBuilder's, WTForms' and ours), and keep screenshots under test-output/browser/.

Two sets of people: the test fixtures' users, and the demo users of the real seed files (seeds/platform,
seeds/services, seeds/tenants, seeds/demo applied to a database of their own, as `make seed` does)."""
import importlib.util
import os
import re
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, ROOT, make_app, seeded_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OUTPUT = os.path.join(ROOT, "test-output", "browser")
DEMO_SEEDS = ["seeds/platform", "seeds/services", "seeds/tenants", "seeds/demo"]  # the Makefile's order

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason="Debian's chromium is not installed (make test installs it when run as root)",
)

# English words a Thai page may show: abbreviations Thai clerks write in Latin letters
NOT_ENGLISH_UI = {"PDF", "QR", "URL", "API", "ID", "IP", "MAC", "UUID", "CSRF", "YAML", "OPDC"}


def _ui_phrases() -> set[str]:
    """Every English interface phrase of the catalogue: FAB's, WTForms' and ours, the short ones ("Add", "No",
    "Edit") included; placeholders (%(name)s) and phrases without letters left out."""
    spec = importlib.util.spec_from_file_location("extract", os.path.join(ROOT, "translations", "extract.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    phrases = set()
    for message, _origin in module.messages():
        for text in ([message] if isinstance(message, str) else message):
            text = (text or "").strip()
            if "%" not in text and re.search(r"[A-Za-z]{2}", text) and text not in NOT_ENGLISH_UI:
                phrases.add(text)
    return phrases


def _english_data() -> list[str]:
    """English names the seed and fixture files give (name_en, title_en...): data a list may show in Thai
    too, not interface words."""
    import glob

    import yaml

    found = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str) and str(key).endswith("_en") and value.strip():
                    found.add(value.strip())
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in glob.glob(os.path.join(ROOT, "seeds", "**", "*.yaml"), recursive=True) + glob.glob(
            os.path.join(ROOT, "tests", "fixtures", "*.yaml")):
        with open(path, encoding="utf-8") as fh:
            for document in yaml.safe_load_all(fh):
                walk(document)
    return sorted(found, key=len, reverse=True)


ENGLISH_DATA = _english_data()


class _Matcher:
    """Whole-word search for many phrases at once ("No" in "Note" is not a hit): only the phrases whose first
    word occurs in the text are tried, so a page costs milliseconds, not a 2,000-way regex at every letter."""

    def __init__(self, phrases: set[str]):
        self.by_first_word: dict[str, list[re.Pattern]] = {}
        for phrase in phrases:
            first = re.search(r"[A-Za-z][A-Za-z'’-]*", phrase).group(0)
            pattern = re.compile(rf"(?<![\w.]){re.escape(phrase)}(?!\w)")
            self.by_first_word.setdefault(first, []).append((phrase, pattern))

    def findall(self, text: str) -> list[str]:
        words = set(re.findall(r"[A-Za-z][A-Za-z'’-]*", text))
        return [phrase for word in words for phrase, pattern in self.by_first_word.get(word, ())
                if pattern.search(text)]


@pytest.fixture(scope="module")
def english():
    return _Matcher(_ui_phrases())


def _serve(application):
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture(scope="module")
def live_server(app, database_url):
    # a real start-up with CSRF on, as a person meets it
    server = _serve(make_app(database_url, WTF_CSRF_ENABLED=True))
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _second_database(database_url: str, tmp_path_factory) -> str:
    if database_url.startswith("sqlite"):
        return "sqlite:///" + str(tmp_path_factory.mktemp("demo") / "demo.db")
    from tests.conftest import new_postgres_database

    return new_postgres_database(database_url, "demo")  # a second database on the same (throwaway) server


@pytest.fixture(scope="module")
def demo_server(database_url, tmp_path_factory):
    """The real seed files on a database of their own, served with CSRF on; yields (url, [(user, password)])."""
    from app.seeds.loader import load

    paths = [os.path.join(ROOT, p) for p in DEMO_SEEDS]
    seeded = seeded_app(_second_database(database_url, tmp_path_factory), paths)
    loaded = load(paths)
    # the organisations' people first, so that each screen is checked inside an organisation; operators last
    users = [(u["username"], u["password"]) for kind in ("tenant", "operators") for seed in loaded.files
             if seed.kind == kind for u in seed.data["users"] if u.get("password")]
    assert len(users) >= 5, users
    seeded.config["WTF_CSRF_ENABLED"] = True  # read per request and per form: served as a person meets it
    server = _serve(seeded)
    yield f"http://127.0.0.1:{server.server_port}", users
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield browser
        browser.close()


def _log_in(page, base, username, password=PASSWORD):
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, f"{username} could not log in"


def _page_text(page) -> str:
    """What a person reads: the visible text, plus the menus, options, tooltips and hints that show on a
    click or a hover (never the HTML's attribute names or classes)."""
    return page.inner_text("body") + "\n" + "\n".join(page.eval_on_selector_all(
        ".dropdown-menu a, option, [title], [placeholder], input[type=submit], button",
        "els => els.map(e => [e.textContent, e.title, e.placeholder, e.type === 'submit' ? e.value : '']"
        ".filter(Boolean).join(' | '))",
    ))


def _english_left(text: str, english: _Matcher) -> list[str]:
    for value in ENGLISH_DATA:
        text = text.replace(value, " ")
    return sorted(set(english.findall(text)))


# The demo run (test_every_demo_user_sees_a_thai_interface) opens every menu screen of every demo user; the
# fixture users open the forms and the screens off the menus, with the fixtures' data.
SCREENS = {
    "a.admin": ["/", "/divisions/add", "/org-users/add", "/memberships/add", "/users/userinfo/",
                "/resetmypassword/form", "/service-requests/list/", "/service-admin/new", "/fee-schedules/list/"],
    "a.officer": ["/", "/service-requests/list/", "/forwardings/", "/notifications/"],
    "ops": ["/", "/tenants/add", "/users/add", "/roles/list/", "/groups/list/", "/groups/add",
            "/userstatschartview/chart/"],
}
# screens whose data are FAB's technical permission and view names (identifiers, not interface words): only
# their headers, labels and menus are checked
DATA_IS_IDENTIFIERS = {"/roles/list/", "/permissions/list/", "/viewmenus/list/", "/permissionviews/list/"}
LABELS_ONLY = "th, label, .dropdown-menu a, .navbar a, h1, h2, h3, h4, .panel-title, button, option"


def _check_screen(page, base, path, name, english) -> list[str]:
    response = page.goto(base + path)
    assert response.status == 200, (path, response.status)
    page.screenshot(path=os.path.join(OUTPUT, f"{name}.png"), full_page=True)
    if path in DATA_IS_IDENTIFIERS:
        text = "\n".join(page.eval_on_selector_all(LABELS_ONLY, "els => els.map(e => e.textContent)"))
    else:
        text = _page_text(page)
    return _english_left(text, english)


@pytest.mark.parametrize("username", sorted(SCREENS))
def test_main_screens_are_thai(live_server, browser, english, username, tenant_a):
    os.makedirs(OUTPUT, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
    page = context.new_page()
    page.goto(f"{live_server}/login/")
    page.screenshot(path=os.path.join(OUTPUT, "login.png"), full_page=True)
    assert not _english_left(_page_text(page), english)
    _log_in(page, live_server, username)
    problems = {}
    for path in SCREENS[username]:
        left = _check_screen(page, live_server, path, f"{username}{path.replace('/', '_')}".strip("_"), english)
        if left:
            problems[path] = left
    context.close()
    assert not problems, problems


def _menu_paths(page) -> list[str]:
    """The screens the menu offers this user (language, logout and the API's pages aside)."""
    hrefs = page.eval_on_selector_all(".navbar a[href]", "els => els.map(e => e.getAttribute('href'))")
    skip = ("/lang/", "/logout", "/swagger", "/api/")
    return sorted({h.split("?")[0] for h in hrefs if h.startswith("/") and not h.startswith(skip)})


def test_every_demo_user_sees_a_thai_interface(demo_server, browser, english):
    """Every demo user of the real seed files logs in; every screen of the menus they get is Thai (each
    screen checked once, by the first user who has it)."""
    base, users = demo_server
    os.makedirs(OUTPUT, exist_ok=True)
    seen, problems = set(), {}
    for username, password in users:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
        page = context.new_page()
        _log_in(page, base, username, password)
        left = _english_left(_page_text(page), english)
        if left:
            problems[(username, "/")] = left
        page.screenshot(path=os.path.join(OUTPUT, f"demo-{username}.png"), full_page=True)
        for path in _menu_paths(page):
            if path in seen or path == "/":
                continue
            seen.add(path)
            left = _check_screen(page, base, path, f"demo-{username}{path.replace('/', '_')}".rstrip("_"), english)
            if left:
                problems[(username, path)] = left
        context.close()
    assert len(seen) >= 10, seen
    assert {"/groups/list/", "/userstatschartview/chart/"} <= seen  # the operator's screens
    assert not problems, problems


def test_fab_dialogs_and_search_menu_are_thai(live_server, browser, english, tenant_a):
    """The delete confirmation, the "no row selected" alert and the search filter menu, opened by a click;
    English when the user chose English."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH").new_page()
    _log_in(page, live_server, "a.admin")
    try:
        for lang, words in (("th", ("กรุณายืนยันการดำเนินการ", "ท่านต้องการลบรายการนี้ใช่หรือไม่?", "ยกเลิก", "ตกลง",
                                    "ยังไม่ได้เลือกรายการ")),
                            ("en", ("User confirmation needed", "Are you sure you want to delete this item?",
                                    "Cancel", "OK", "No row selected"))):
            page.goto(f"{live_server}/lang/{lang}")
            page.goto(f"{live_server}/divisions/list/")
            rows = page.locator("a[id^=btn-delete-]").count()
            page.locator("a[id^=btn-delete-]").first.click()
            dialog = page.locator("#modal-confirm")
            dialog.wait_for(state="visible")
            text = dialog.inner_text()
            title, question, cancel, ok, no_row = words
            assert title in text and question in text, text
            assert dialog.locator("button[data-dismiss=modal]").inner_text().strip() == cancel
            assert dialog.locator("#modal-confirm-ok").inner_text().strip() == ok
            if lang == "th":
                assert not _english_left(text, english), text
            page.screenshot(path=os.path.join(OUTPUT, f"delete-confirmation-{lang}.png"))
            dialog.locator("button[data-dismiss=modal]").click()
            dialog.wait_for(state="hidden")
            page.reload()
            assert page.locator("a[id^=btn-delete-]").count() == rows  # cancelled: nothing deleted
            # an action with no row ticked: FAB's script alerts "No row selected"
            page.locator(".btn-group:has(.deactivate_menu_item) > button.dropdown-toggle").click()
            page.locator(".deactivate_menu_item").click()
            alert = page.locator("#modal-alert")
            alert.wait_for(state="visible")
            assert no_row in alert.inner_text() and alert.locator("button").inner_text().strip() == ok
            if lang == "th":
                assert not _english_left(alert.inner_text(), english)
            page.screenshot(path=os.path.join(OUTPUT, f"no-row-selected-{lang}.png"))
            alert.locator("button").click()
            alert.wait_for(state="hidden")
            # the search filter menu lists the columns by their labels
            page.locator("a.accordion-toggle[href='#accordion1_href']").click()
            page.locator("#filter_form button.dropdown-toggle").click()
            menu = page.locator("#filter_form .dropdown-menu")
            menu.wait_for(state="visible")
            entries = [e.strip() for e in menu.locator("a.filter").all_inner_texts()]
            assert len(entries) >= 3, entries
            if lang == "th":
                assert all(re.search(r"[\u0e00-\u0e7f]", e) for e in entries), entries
                assert not _english_left(menu.inner_text(), english)
            else:
                assert not any(re.search(r"[\u0e00-\u0e7f]", e) for e in entries), entries
            page.screenshot(path=os.path.join(OUTPUT, f"search-menu-{lang}.png"))
    finally:
        page.goto(f"{live_server}/lang/th")


def test_operator_enters_an_organisation_in_the_browser(live_server, browser, tenant_a):
    page = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    _log_in(page, live_server, "ops")
    page.goto(f"{live_server}/tenants/show/{tenant_a.id}")
    page.click("text=เข้าทำงานในองค์กรนี้")
    page.click("button:has-text('เข้าทำงานในองค์กร')")
    page.wait_for_load_state()
    assert "/divisions/list" in page.url
    assert "กองลับเฉพาะเอ" in page.inner_text("body")
    page.screenshot(path=os.path.join(OUTPUT, "ops-inside-tenant-phone.png"), full_page=True)
    page.click("button:has-text('ออกจากองค์กร')")
    page.wait_for_load_state()
    assert "/tenants/list" in page.url


def test_thai_calendar_picks_a_be_date(browser, app):
    """The date box's calendar shows Thai months and พ.ศ. years and fills in dd/mm/พ.ศ."""
    from datetime import date

    from wtforms import Form

    from app.thai_forms import ThaiDateField

    class F(Form):
        when = ThaiDateField("when")

    with app.test_request_context():
        widget = str(F(data={"when": date(2024, 2, 10)}).when())
    with open(os.path.join(ROOT, "app", "static", "thongthin", "thai-date.js"), encoding="utf-8") as fh:
        script = fh.read()
    page = browser.new_page()
    page.set_content(f"<html><body><form>{widget}</form><script>{script}</script></body></html>")
    page.focus("input.thai-date")
    picker = page.locator(".thai-date-picker")
    assert "กุมภาพันธ์ 2567" in picker.inner_text()
    picker.locator("button[data-step='1']").click()
    assert "มีนาคม 2567" in picker.inner_text()
    picker.locator("a[data-day='29']").click()
    assert page.input_value("input.thai-date") == "29/03/2567"


def test_search_by_a_day_picked_from_the_thai_calendar(live_server, browser, tenant_a):
    from app.thai import today_bangkok

    today = today_bangkok()
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _log_in(page, live_server, "a.admin")
    page.goto(f"{live_server}/grant-log/list/")
    page.click("text=ค้นหา")
    page.click("text=เพิ่มตัวกรอง")
    page.locator("a.filter[name=at]").first.click()
    box = page.locator("input.thai-date").last
    box.click()
    page.locator(f".thai-date-picker a[data-day='{today.day}']").first.click()
    assert box.input_value() == f"{today.day:02d}/{today.month:02d}/{today.year + 543}"
    page.click("button:has-text('ค้นหา')")
    page.wait_for_load_state()
    assert "_flt_0_at=" in page.url
    assert page.locator("a[href*='/grant-log/show/']").count() > 0
    page.screenshot(path=os.path.join(OUTPUT, "grant-log-search-by-day.png"), full_page=True)


def test_address_field_offers_subdistricts_for_a_postcode(live_server, browser, app, tenant_a):
    from sqlalchemy import select

    from app.catalog.models import ServiceType
    from app.extensions import db
    from app.tenancy.context import tenant_scope

    with app.app_context(), tenant_scope(tenant_a.id):
        st = db.session.scalar(select(ServiceType.id).where(ServiceType.code == "test_permit"))
    page = browser.new_context(viewport={"width": 1280, "height": 1200}).new_page()
    _log_in(page, live_server, "a.officer")
    page.goto(f"{live_server}/service-requests/new/{st}")
    page.fill("input.thai-postcode", "50100")
    page.wait_for_function("document.querySelectorAll('select.thai-subdistrict option').length > 1")
    options = page.eval_on_selector_all("select.thai-subdistrict option", "els => els.map(e => e.textContent)")
    assert any("เชียงใหม่" in o for o in options)
    page.screenshot(path=os.path.join(OUTPUT, "request-form-address.png"), full_page=True)


def test_executive_approves_on_a_phone(live_server, browser, app, client_for, tenant_a):
    """390 x 844: open the approvals inbox, read the essentials, approve with a comment in two taps."""
    from tests.service_requests.test_inbox import _to_approval
    from tests.service_requests.test_workflow import _state


    _grant_director(app, tenant_a)
    pk = _to_approval(app, client_for, tenant_a)
    page = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    _log_in(page, live_server, "a.mayor")
    page.goto(f"{live_server}/inbox/approvals")
    card = page.locator(".approval-card", has_text=f"#{pk} ")
    assert "สมชาย" in card.inner_text()
    page.screenshot(path=os.path.join(OUTPUT, "phone-approvals.png"), full_page=True)
    card.locator("textarea").fill("อนุมัติตามเสนอ")  # tap 1: comment (optional when approving)
    card.locator("button[value=approve]").click()  # tap 2
    page.wait_for_load_state()
    assert _state(app, pk) == "approved"
    page.screenshot(path=os.path.join(OUTPUT, "phone-approvals-done.png"), full_page=True)


from tests.service_requests.conftest import service  # noqa: E402,F401  (the forwarding service fixture)


def test_a_complaint_is_forwarded_and_answered_in_the_browser(live_server, browser, app, client_for, tenant_a,
                                                              tenant_b, service):
    """The sender forwards from the request's screen; the receiver, on a phone, reads and answers it."""
    from tests.service_requests.conftest import act, file_complaint, status_of

    officer = client_for("a.officer")
    pk = file_complaint(officer, service, what="ไฟกิ่งสาธารณะดับทั้งซอย ถนนสายหลักของ อบต.บี")
    act(officer, pk, "accept")
    page = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="th-TH").new_page()
    _log_in(page, live_server, "a.officer")
    page.goto(f"{live_server}/service-requests/show/{pk}")
    page.select_option("select[name=forward_tenant]", str(tenant_b.id))
    page.fill("textarea[name=note]", "ถนนสายนี้อยู่ในความดูแลของ อบต.บี ขอส่งต่อเพื่อดำเนินการ")
    page.screenshot(path=os.path.join(OUTPUT, "forward-from-request.png"), full_page=True)
    page.click("button[value=forward]")
    page.wait_for_load_state()
    assert status_of(app, pk) == "forwarded"

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    _log_in(phone, live_server, "b.mayor")
    phone.goto(f"{live_server}/forwardings/")
    phone.click("text=ไฟกิ่งสาธารณะดับทั้งซอย")
    phone.wait_for_load_state()
    body = phone.inner_text("body")
    assert "ถนนสายนี้อยู่ในความดูแลของ อบต.บี" in body and "ผู้ร้องเคยร้องเรื่องนี้แล้ว" not in body
    phone.screenshot(path=os.path.join(OUTPUT, "phone-forwarded-to-us.png"), full_page=True)
    phone.fill("textarea[name=body]", "รับทราบ ส่งช่างซ่อมภายใน 3 วัน")
    phone.click("button[value=answer]")
    phone.wait_for_load_state()
    assert "รับทราบ ส่งช่างซ่อมภายใน 3 วัน" in phone.inner_text("#forwarding-thread")
    phone.screenshot(path=os.path.join(OUTPUT, "phone-forwarded-answered.png"), full_page=True)
    page.goto(f"{live_server}/notifications/")
    assert "ได้รับคำตอบแล้ว" in page.inner_text("#my-notifications")
    page.screenshot(path=os.path.join(OUTPUT, "my-notifications.png"), full_page=True)


def _grant_director(app, tenant):
    from flask_appbuilder.security.sqla.models import User
    from sqlalchemy import select

    from app.extensions import db
    from app.security import services as grants
    from app.security.models import Membership, RoleTemplate
    from app.tenancy.context import tenant_scope
    from app.tenancy.models import Division

    with app.app_context(), tenant_scope(tenant.id):
        user = db.session.scalar(select(User).where(User.username == "a.officer"))
        division = db.session.scalar(select(Division).where(Division.code == "engineering"))
        template = db.session.scalar(select(RoleTemplate).where(RoleTemplate.code == "division_director"))
        if db.session.scalar(select(Membership.id).where(Membership.user_id == user.id,
                                                         Membership.division_id == division.id)) is None:
            grants.grant(None, user, division, template)
            db.session.commit()


def test_a_citizen_submits_tracks_and_rates_on_a_phone(live_server, browser, app, client_for, tenant_a, service):
    """390 x 844, no account: the catalogue, the form with consent, the number and code, tracking, rating."""
    from tests.service_requests.conftest import act

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="th-TH").new_page()
    phone.goto(f"{live_server}/t/{tenant_a.dla_code}/")
    phone.screenshot(path=os.path.join(OUTPUT, "portal-phone-catalogue.png"), full_page=True)
    phone.locator(".portal-service", has_text="แจ้งเรื่องร้องเรียนทดสอบส่งต่อ").locator("a.btn-primary").click()
    phone.wait_for_load_state()
    phone.fill("input[name=what]", "ไฟกิ่งดับหน้าโรงเรียนบ้านเอ")
    phone.set_input_files("input[name=photo]", files=[{"name": "lamp.png", "mimeType": "image/png",
                                                         "buffer": b"\x89PNG\r\n\x1a\n" + b"\0" * 64}])
    phone.click("button[type=submit]")  # no consent yet: told so, the photo is kept
    phone.wait_for_load_state()
    assert "ยอมรับประกาศความเป็นส่วนตัว" in phone.inner_text("body") and "lamp.png" in phone.inner_text("#kept-files")
    phone.screenshot(path=os.path.join(OUTPUT, "portal-phone-form-error.png"), full_page=True)
    phone.check("input[name=consent]")
    phone.click("button[type=submit]")
    phone.wait_for_load_state()
    number, secret = phone.inner_text("#tracking-number"), phone.inner_text("#tracking-secret")
    phone.screenshot(path=os.path.join(OUTPUT, "portal-phone-submitted.png"), full_page=True)

    officer = client_for("a.officer")
    act(officer, int(number), "accept", note="รับเรื่องแล้ว ช่างจะเข้าตรวจพรุ่งนี้")
    act(officer, int(number), "close", note="เปลี่ยนหลอดไฟแล้ว")

    other = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    other.goto(f"{live_server}/t/{tenant_a.dla_code}/track")
    other.fill("#number", number)
    other.fill("#secret", secret)
    other.click("button[type=submit]")
    other.wait_for_load_state()
    assert "เปลี่ยนหลอดไฟแล้ว" in other.inner_text("#portal-timeline")
    other.check("input[name=rating][value='5']")
    other.fill("textarea[name=comment]", "รวดเร็วมาก ขอบคุณครับ")
    other.click("#rate-form button[type=submit]")
    other.wait_for_load_state()
    assert "5 / 5" in other.inner_text("#rated")
    other.screenshot(path=os.path.join(OUTPUT, "portal-phone-tracked-rated.png"), full_page=True)


def test_a_location_is_picked_on_the_map_on_a_phone(live_server, browser, tenant_a, service):
    """Leaflet, installed from npm and served by the app, puts a tap on the map into the location box; no tile
    server is reachable here, and the picker works all the same."""
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    assert phone.goto(f"{live_server}/vendor/leaflet/leaflet.js").status == 200
    phone.goto(f"{live_server}/t/{tenant_a.dla_code}/services/fwd_complaint/new")
    box = phone.locator(".thai-map")
    box.wait_for(state="visible")
    box.click(position={"x": 120, "y": 100})
    value = phone.input_value("input[name=where]")
    assert re.match(r"^-?\d+\.\d{6}, -?\d+\.\d{6}$", value), value
    phone.screenshot(path=os.path.join(OUTPUT, "portal-phone-map-picker.png"), full_page=True)

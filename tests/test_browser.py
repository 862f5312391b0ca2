"""A person's view: log in with Debian's chromium, open the main screens, find no English words from
Flask-AppBuilder's catalogue, and keep screenshots under test-output/browser/."""
import importlib.util
import os
import re
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, ROOT, make_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OUTPUT = os.path.join(ROOT, "test-output", "browser")

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason="Debian's chromium is not installed (make test installs it when run as root)",
)


def _fab_phrases() -> set[str]:
    spec = importlib.util.spec_from_file_location("extract", os.path.join(ROOT, "translations", "extract.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    phrases = set()
    for message, origin in module.messages():
        text = message if isinstance(message, str) else message[0]
        if origin == "flask_appbuilder" and "%" not in text and len(text) >= 4:
            phrases.add(text.strip())
    return phrases


@pytest.fixture(scope="module")
def live_server(app, database_url):
    # a real start-up with CSRF on, as a person meets it
    live = make_app(database_url, WTF_CSRF_ENABLED=True)
    server = make_server("127.0.0.1", 0, live, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
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


def _log_in(page, base, username):
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, f"{username} could not log in"


def _english_left(text: str, phrases: set[str]) -> list[str]:
    return sorted(p for p in phrases if re.search(rf"(?<![\w.]){re.escape(p)}(?![\w.])", text))


SCREENS = {
    "a.admin": ["/", "/divisions/list/", "/divisions/add", "/org-users/list/", "/org-users/add",
                "/memberships/list/", "/memberships/add", "/grant-log/list/", "/organisation/list/",
                "/users/userinfo/", "/resetmypassword/form", "/services/", "/service-requests/list/",
                "/service-types/list/", "/service-admin/new", "/fee-schedules/list/"],
    "a.manager": ["/", "/org-users/list/", "/memberships/list/", "/memberships/add", "/grant-log/list/"],
    "a.mayor": ["/", "/divisions/list/", "/org-users/list/", "/memberships/list/", "/grant-log/list/",
                "/inbox/", "/inbox/approvals"],
    "a.officer": ["/", "/divisions/list/", "/users/userinfo/", "/services/", "/service-requests/list/",
                  "/forwardings/", "/notifications/"],
    "ops": ["/", "/tenants/list/", "/tenants/add", "/users/list/", "/roles/list/", "/tenant-switch-log/list/"],
}
# screens whose data are FAB's technical permission and view names (identifiers, not interface words)
DATA_IS_IDENTIFIERS = {"/roles/list/"}


@pytest.mark.parametrize("username", sorted(SCREENS))
def test_main_screens_are_thai(live_server, browser, username, tenant_a):
    os.makedirs(OUTPUT, exist_ok=True)
    phrases = _fab_phrases()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
    page = context.new_page()
    page.goto(f"{live_server}/login/")
    page.screenshot(path=os.path.join(OUTPUT, "login.png"), full_page=True)
    assert not _english_left(page.inner_text("body"), phrases)
    _log_in(page, live_server, username)
    problems = {}
    for path in SCREENS[username]:
        response = page.goto(live_server + path)
        assert response.status == 200, (path, response.status)
        name = f"{username}{path.replace('/', '_')}".strip("_")
        page.screenshot(path=os.path.join(OUTPUT, f"{name}.png"), full_page=True)
        # the visible text plus the labels of buttons and the search/filter menus
        text = page.inner_text("body") + " " + " ".join(
            page.eval_on_selector_all("[title], option, input[type=submit]",
                                      "els => els.map(e => e.title || e.textContent || e.value)")
        )
        left = _english_left(text, phrases) if path not in DATA_IS_IDENTIFIERS else []
        if left:
            problems[path] = left
    context.close()
    assert not problems, problems


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

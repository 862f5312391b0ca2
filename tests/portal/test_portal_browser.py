"""On a phone (390 x 844, Debian's chromium): a citizen opens the food-premises matter with its number and
code, sees the fee and the Thai QR as an image, and once staff record the payment and the official signs,
downloads the certificate PDF. Screenshots under test-output/browser/."""
import io
import os
import re

import pypdfium2
import pytest
import zxingcpp

from tests.conftest import login
from tests.portal.food import CHIEF, food, submit  # noqa: F401  (fixture)
from tests.portal.test_portal import A, _consent
from tests.service_requests.conftest import act
from tests.test_browser import CHROMIUM, OUTPUT, _log_in, browser, live_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "th-TH"}


def test_a_citizen_pays_by_qr_and_downloads_the_certificate_on_a_phone(live_server, browser, app, client_for,
                                                                       tenant_a, food):
    os.makedirs(OUTPUT, exist_ok=True)
    pk, secret = submit(app, app.test_client(), _consent(app, A))
    chief = login(app.test_client(), CHIEF)
    act(chief, pk, "accept")
    act(chief, pk, "request_payment")

    context = browser.new_context(**PHONE, accept_downloads=True)
    phone = context.new_page()
    phone.goto(f"{live_server}/t/{A}/track")
    phone.fill("#number", str(pk))
    phone.fill("#secret", secret)
    phone.click("button[type=submit]")
    phone.wait_for_load_state()
    panel = phone.locator("#portal-payment")
    assert "100.00" in panel.inner_text() and "ANNUALFEE" in panel.inner_text()
    qr = phone.locator("#payment-qr")
    qr.scroll_into_view_if_needed()
    assert qr.is_visible()
    # the image really loaded, and fits the phone's width
    width = phone.evaluate("document.getElementById('payment-qr').naturalWidth")
    box = qr.bounding_box()
    assert width > 100 and 150 <= box["width"] <= 390 and box["x"] >= 0
    phone.screenshot(path=os.path.join(OUTPUT, "portal-phone-pay-qr.png"), full_page=True)
    # the QR on the screen, read back from the screenshot of the image, is the payment the matter asks for
    from PIL import Image

    shot = Image.open(io.BytesIO(qr.screenshot()))
    decoded = zxingcpp.read_barcodes(shot)
    assert decoded and f"02{len(str(pk)):02d}{pk}" in decoded[0].text and "0309ANNUALFEE" in decoded[0].text

    # กองคลัง's officer records it on the request's page, then finds it in the day's payments
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH").new_page()
    _log_in(desk, live_server, "a.officer")
    desk.goto(f"{live_server}/service-requests/show/{pk}")
    fields = desk.locator("#payment-fields")
    assert "100.00" in fields.inner_text() and desk.input_value("input[name=payment_amount]") == "100.00"
    desk.fill("input[name=payment_receipt_no]", f"บร.{pk}/2570")
    desk.select_option("select[name=payment_method]", "promptpay")
    desk.fill("input[name=payment_amount]", "10.00")  # a slip of the finger first: refused, nothing written
    desk.click("button[name=action][value=record_payment]")
    desk.wait_for_load_state()
    assert "ไม่ตรงกับค่าธรรมเนียมที่ต้องชำระ" in desk.inner_text("body")
    desk.fill("input[name=payment_receipt_no]", f"บร.{pk}/2570")
    desk.select_option("select[name=payment_method]", "promptpay")
    desk.fill("input[name=payment_amount]", "100.00")
    desk.screenshot(path=os.path.join(OUTPUT, "staff-record-payment.png"), full_page=True)
    desk.click("button[name=action][value=record_payment]")
    desk.wait_for_load_state()
    assert f"บร.{pk}/2570" in desk.inner_text(".payment-recorded")
    desk.goto(f"{live_server}/payments/list/")
    assert f"บร.{pk}/2570" in desk.inner_text("body")
    desk.screenshot(path=os.path.join(OUTPUT, "staff-payments-list.png"), full_page=True)
    desk.context.close()
    act(client_for("a.mayor"), pk, "approve")
    phone.reload()
    assert f"บร.{pk}/2570" in phone.inner_text(".portal-paid")
    assert phone.locator("#portal-payment").count() == 0
    link = phone.locator(".certificate-issued a.btn-success")
    link.scroll_into_view_if_needed()
    phone.screenshot(path=os.path.join(OUTPUT, "portal-phone-certificate-ready.png"), full_page=True)
    with phone.expect_download() as info:
        link.click()
    download = info.value
    assert re.match(r"certificate-\d+\.pdf$", download.suggested_filename)
    data = open(download.path(), "rb").read()
    assert data.startswith(b"%PDF")
    pdf = pypdfium2.PdfDocument(data)
    assert "ร้านป้าแดงข้าวซอย" in pdf[0].get_textpage().get_text_range()
    pdf[0].render(scale=1.2).to_pil().save(os.path.join(OUTPUT, "portal-phone-certificate.png"))
    context.close()

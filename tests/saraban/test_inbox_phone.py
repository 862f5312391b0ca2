"""The correspondence inbox on a 390 px phone: the section headings stand in from the screen's edge as far as
the cards do (they touched the left edge), and nothing scrolls sideways."""
from __future__ import annotations

import os

import pytest

from app.saraban.models import Endorsement
from tests.saraban.people import saraban  # noqa: F401
from tests.saraban.test_incoming_screens import BASE, CHROMIUM, client, register, rows
from tests.test_browser import browser, live_server  # noqa: F401  (the browser tests' fixtures)

SHOT = os.environ.get("INBOX_SCREENSHOT", "")  # a path to keep the screenshot, to look at it


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
def test_the_inbox_headings_line_up_with_the_cards_at_390px(app, saraban, live_server, browser):  # noqa: F811
    from tests.test_browser import _log_in

    a = saraban["a"]
    clerk = client(app, "a.clerk")
    pk = register(clerk, a, subject="ขอเชิญประชุมคณะกรรมการพัฒนาท้องถิ่นประจำปี")
    clerk.post(f"{BASE}/present/{pk}", data={"executive_ids": str(a.users["mayor"])})
    [asked] = rows(app, a, Endorsement, document_id=pk)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    _log_in(phone, live_server, "a.mayor")
    phone.goto(f"{live_server}/saraban/inbox/")
    if SHOT:
        phone.screenshot(path=SHOT, full_page=False)
    card = phone.locator(f"#inbox-endorsement-{asked.id} .panel-heading strong").bounding_box()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    lefts = phone.eval_on_selector_all(
        "#saraban-inbox h3, #saraban-inbox h4, #saraban-inbox > p.text-muted",
        "els => els.map(e => [e.id || e.tagName, e.getBoundingClientRect().left"
        " + parseFloat(getComputedStyle(e).paddingLeft)])")  # where the text starts
    assert lefts
    for name, left in lefts:
        assert left >= 12, (name, left)  # not against the screen's edge
        assert abs(left - card["x"]) <= 2, (name, left, card["x"])  # where the card's text starts

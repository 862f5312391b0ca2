"""Labels that read right where they stand: the delegation form's kind is the kind of delegation (not the
catalogue's data type), and the notification outbox is not called หนังสือออก (the letters register is
หนังสือส่ง): its menu, page title and columns say การแจ้งเตือน."""
from __future__ import annotations

import re

from tests.conftest import login


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_delegation_form_asks_for_the_kind_of_delegation(app):
    client = login(app.test_client(), "a.admin")
    for url in ("/delegations/add",):
        html = client.get(url).get_data(as_text=True)
        assert "ลักษณะการมอบ" in html and "ชนิดข้อมูล" not in html, url
    form = client.get("/delegations/add").get_data(as_text=True)
    assert "ปฏิบัติราชการแทน" in form and "รักษาราชการแทน" in form


def test_the_catalogue_field_kind_is_still_its_data_type(app):
    html = login(app.test_client(), "a.admin").get("/service-fields/add")
    assert html.status_code == 200 and "ชนิดข้อมูล" in html.get_data(as_text=True)


def test_the_outbox_is_the_notifications_sent_not_the_letters_register(app):
    client = login(app.test_client(), "a.admin")
    html = client.get("/outbox/list/").get_data(as_text=True)
    text = _text(html)
    assert html.count("การแจ้งเตือนที่ส่งออก") >= 2  # the menu and the page title
    assert "หนังสือออก" not in text and "ประเภทการแจ้งเตือน" in text and "ชนิดข้อมูล" not in text
    english = login(app.test_client(), "a.admin")
    english.get("/lang/en")
    try:
        assert "Outbox" in english.get("/outbox/list/").get_data(as_text=True)
    finally:
        english.get("/lang/th")  # the choice is kept on the user: give the other tests their Thai back

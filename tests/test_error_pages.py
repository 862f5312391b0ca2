"""403, 404 and 405 answer in the reader's language: staff keep the menu and a way back, the API gets JSON,
anonymous visitors a plain page. Nothing in them names another organisation's data."""
from tests.conftest import login


def test_staff_404_is_thai_with_the_menu(app):
    client = login(app.test_client(), "a.officer")
    response = client.get("/saraban/incoming/show/999999")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "ไม่พบหน้าที่ต้องการ" in html and 'id="http-error"' in html
    assert "navbar" in html  # the staff layout, with its menu
    assert "Not Found" not in html


def test_staff_404_in_english_when_chosen(app):
    client = login(app.test_client(), "a.officer")
    client.get("/lang/en")
    try:
        response = client.get("/saraban/outgoing/show/999999")
        assert response.status_code == 404
        assert "Not found" in response.get_data(as_text=True)
    finally:
        client.get("/lang/th")  # the choice is kept on the user: give the other tests their Thai back


def test_api_404_is_json(app):
    response = app.test_client().get("/api/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response.is_json and response.get_json()["message"]


def test_anonymous_404_is_a_plain_thai_page(app):
    response = app.test_client().get("/no-such-page")
    assert response.status_code == 404
    assert "ไม่พบหน้าที่ต้องการ" in response.get_data(as_text=True)


def test_403_keeps_its_status(app):
    # a role manager has no correspondence permission at all
    client = login(app.test_client(), "a.manager")
    response = client.get("/saraban/incoming/list/")
    assert response.status_code == 403
    assert "ไม่มีสิทธิ์เข้าถึง" in response.get_data(as_text=True)


def test_staff_404_follows_the_staff_language_not_the_browser_header(app):
    # a browser set to English still sees the Thai staff screens until the user chooses English
    client = login(app.test_client(), "a.officer")
    response = client.get("/saraban/incoming/show/999999", headers={"Accept-Language": "en-US,en;q=0.9"})
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "ไม่พบหน้าที่ต้องการ" in html and "หน้าหลัก" in html

"""Inboxes: the กอง queue and the executives' approvals (two taps), walled per tenant."""
import re

from tests.service_requests.test_workflow import _act, _file, _state


def _to_approval(app, client_for, tenant, officer="a.officer"):
    client = client_for(officer)
    pk = _file(client, app, tenant.id)
    for action in ("accept", "propose"):
        _act(client, pk, action)
    return pk


def test_an_executive_approves_from_the_inbox(app, client_for, tenant_a, tenant_b, director_in_engineering):
    pk = _to_approval(app, client_for, tenant_a)
    assert _state(app, pk) == "awaiting_approval"
    mayor = client_for("a.mayor")
    html = mayor.get("/inbox/approvals").get_data(as_text=True)
    assert f"#{pk} " in html and "สมชาย" in html  # the essentials are on the card
    version = re.search(rf'act/{pk}".*?name="version" value="(\d+)"', html, re.S).group(1)
    response = mayor.post(f"/service-requests/act/{pk}", data={
        "action": "approve", "note": "", "version": version, "next": "/inbox/approvals"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox/approvals")
    assert _state(app, pk) == "approved"
    assert f"#{pk} " not in mayor.get("/inbox/approvals").get_data(as_text=True)
    # an outside address in `next` is never followed
    pk2 = _to_approval(app, client_for, tenant_a)
    html = mayor.get("/inbox/approvals").get_data(as_text=True)
    version = re.search(rf'act/{pk2}".*?name="version" value="(\d+)"', html, re.S).group(1)
    response = mayor.post(f"/service-requests/act/{pk2}", data={
        "action": "reject", "note": "ไม่ผ่านเกณฑ์", "version": version, "next": "https://evil.example/"})
    assert "evil" not in response.headers["Location"] and _state(app, pk2) == "rejected"
    # officers have nothing to approve; B's executive sees none of A's matters
    assert 'id="nothing-waiting"' in client_for("a.officer").get("/inbox/approvals").get_data(as_text=True)
    pk3 = _to_approval(app, client_for, tenant_a)
    assert f"#{pk3} " not in client_for("b.mayor").get("/inbox/approvals").get_data(as_text=True)


def test_division_queue_shows_own_divisions_matters(app, client_for, tenant_a, tenant_b, director_in_engineering):
    pk = _file(client_for("a.officer"), app, tenant_a.id)
    html = client_for("a.officer").get("/inbox/").get_data(as_text=True)
    assert f"/service-requests/show/{pk}" in html
    b_html = client_for("b.officer").get("/inbox/").get_data(as_text=True)
    assert f"/service-requests/show/{pk}\"" not in b_html

"""One overdue rule everywhere: open, clock running (not waiting for the applicant's documents), and past the
matter's or the current step's due date. The request list, the กอง queue, the approvals inbox, the request
page and the forwarding list and page all flag by it; inboxes page through every open matter."""
import re
from datetime import date

from sqlalchemy import select

from app.catalog import services
from app.catalog.models import ServiceRequest, ServiceType
from app.extensions import db
from app.service_requests.models import Forwarding
from app.service_requests.overdue import is_overdue
from app.tenancy.context import platform_scope, tenant_scope
from app.tenancy.models import utcnow

FLAG = "overdue-flag"
PAST, FUTURE = date(2020, 1, 6), date(2999, 1, 6)


def _matter(app, tenant_id, *, status="submitted", due=FUTURE, step_due=None, closed=False, code="water_truck"):
    with app.test_request_context(), tenant_scope(tenant_id):
        st = db.session.scalar(select(ServiceType).where(ServiceType.code == code))
        values = {"requester": "มานะ", "litres": 2000} if code == "water_truck" else {
            "applicant": "มานี", "area": "10", "kind_of_use": "home"}
        request = services.file_request(st, values, None)
        db.session.flush()
        request.status, request.due_on, request.step_due_on = status, due, step_due
        request.closed_at = utcnow() if closed else None
        db.session.commit()
        return request.id


def _row(html, pk) -> str:
    """The table row of the list that links to the request."""
    for row in re.findall(r"<tr.*?</tr>", html, re.S):
        if re.search(rf"/service-requests/show/{pk}\b", row):
            return row
    raise AssertionError(f"request {pk} is not listed")


def test_the_rule(app, tenant_a):
    cases = {
        "past the matter's due date": (dict(due=PAST), True),
        "past only the step's due date": (dict(due=FUTURE, step_due=PAST), True),
        "both ahead": (dict(due=FUTURE, step_due=FUTURE), False),
        "closed after finishing late": (dict(status="completed", due=PAST, step_due=PAST, closed=True), False),
        "rejected late": (dict(status="rejected", due=PAST, closed=True), False),
        "waiting for the applicant's documents": (dict(status="returned", due=PAST, step_due=PAST), False),
    }
    for name, (kwargs, expected) in cases.items():
        pk = _matter(app, tenant_a.id, **kwargs)
        with app.test_request_context(), tenant_scope(tenant_a.id):
            assert is_overdue(db.session.get(ServiceRequest, pk)) is expected, name
    # the day itself is not late; the day after is
    pk = _matter(app, tenant_a.id, due=FUTURE, step_due=date(2030, 5, 10))
    with app.test_request_context(), tenant_scope(tenant_a.id):
        request = db.session.get(ServiceRequest, pk)
        assert not is_overdue(request, today=date(2030, 5, 10)) and is_overdue(request, today=date(2030, 5, 11))


def test_every_list_and_page_flags_by_the_one_rule(app, client_for, tenant_a):
    step_late = _matter(app, tenant_a.id, due=FUTURE, step_due=PAST)
    closed_late = _matter(app, tenant_a.id, status="completed", due=PAST, closed=True)
    returned = _matter(app, tenant_a.id, status="returned", due=PAST)
    on_time = _matter(app, tenant_a.id, due=FUTURE, step_due=FUTURE)
    admin = client_for("a.admin")  # the organisation's administrator sees every กอง

    # the request list (sorted so that all four are on the first page)
    html = admin.get("/service-requests/list/?psize_ServiceRequestView=100&_oc_ServiceRequestView=id"
                     "&_od_ServiceRequestView=desc").get_data(as_text=True)
    assert FLAG in _row(html, step_late)
    for pk in (closed_late, returned, on_time):
        assert FLAG not in _row(html, pk)

    # the request page
    assert FLAG in admin.get(f"/service-requests/show/{step_late}").get_data(as_text=True)
    for pk in (closed_late, returned, on_time):
        assert FLAG not in admin.get(f"/service-requests/show/{pk}").get_data(as_text=True)

    # the กอง queue: the step-late matter is in "overdue", the waiting one is not
    html = admin.get("/inbox/?page=0").get_data(as_text=True)
    overdue = re.search(r'id="inbox-overdue".*?</table>', html, re.S).group(0)
    assert f"/service-requests/show/{step_late}\"" in overdue
    assert f"/service-requests/show/{returned}\"" not in overdue and f"/service-requests/show/{on_time}\"" not in overdue


def test_the_approvals_inbox_flags_late_matters(app, client_for, tenant_a):
    late = _matter(app, tenant_a.id, status="awaiting_approval", due=FUTURE, step_due=PAST)
    fine = _matter(app, tenant_a.id, status="awaiting_approval", due=FUTURE, step_due=FUTURE)
    app.config["INBOX_PAGE_SIZE"] = 10000
    try:
        html = client_for("a.mayor").get("/inbox/approvals").get_data(as_text=True)
    finally:
        app.config.pop("INBOX_PAGE_SIZE")
    cards = {int(m.group(1)): m.group(0) for m in re.finditer(
        r'<strong>#(\d+) .*?</form>', html, re.S)}
    assert FLAG in cards[late] and FLAG not in cards[fine]


def test_the_forwarding_list_and_page_flag_for_both_sides(app, client_for, tenant_a, tenant_b):
    late = _matter(app, tenant_a.id, due=FUTURE, step_due=PAST)
    fine = _matter(app, tenant_a.id, due=FUTURE)
    ids = {}
    with app.app_context(), tenant_scope(tenant_a.id):
        for pk in (late, fine):
            f = Forwarding(tenant_id=tenant_a.id, partner_tenant_id=tenant_b.id, request_id=pk,
                           subject=f"ส่งต่อเรื่อง {pk}", request_note="ขอความอนุเคราะห์", sent_by_name="ก")
            db.session.add(f)
            db.session.flush()
            ids[pk] = f.id
        db.session.commit()
    try:
        for username in ("a.mayor", "b.officer"):
            client = client_for(username)
            html = client.get("/forwardings/").get_data(as_text=True)
            rows = {fid: row for row in re.findall(r"<tr.*?</tr>", html, re.S)
                    for fid in ids.values() if f"/forwardings/{fid}\"" in row}
            assert FLAG in rows[ids[late]] and FLAG not in rows[ids[fine]], username
            assert FLAG in client.get(f"/forwardings/{ids[late]}").get_data(as_text=True)
            assert FLAG not in client.get(f"/forwardings/{ids[fine]}").get_data(as_text=True)
    finally:
        with app.app_context(), platform_scope():
            for fid in ids.values():
                db.session.delete(db.session.get(Forwarding, fid))
            db.session.commit()


def test_inboxes_page_through_every_open_matter(app, client_for, tenant_a, tenant_b):
    for _ in range(3):
        _matter(app, tenant_a.id)
        _matter(app, tenant_a.id, status="awaiting_approval")
    _matter(app, tenant_b.id, code="test_permit")
    from app.service_requests import engine

    with app.test_request_context(), tenant_scope(tenant_a.id):
        rows = db.session.scalars(select(ServiceRequest).where(ServiceRequest.closed_at.is_(None))).all()
        total = len(rows)  # what the inbox counts: every matter not closed
        open_ids = {r.id for r in rows if not engine.state(r)["final"]}
        awaiting = {r.id for r in rows if r.status == "awaiting_approval"}
    with app.app_context(), tenant_scope(tenant_b.id):
        b_ids = set(db.session.scalars(select(ServiceRequest.id)))
    assert len(open_ids) > 4
    admin, mayor = client_for("a.admin"), client_for("a.mayor")
    app.config["INBOX_PAGE_SIZE"] = 2  # the cap, lowered
    try:
        for client, url, expected in ((admin, "/inbox/", open_ids), (mayor, "/inbox/approvals", awaiting)):
            pages = None
            seen, page = set(), 0
            while True:
                html = client.get(f"{url}?page={page}").get_data(as_text=True)
                shown = {int(pk) for pk in re.findall(r'/service-requests/show/(\d+)"', html)}
                assert len(shown) <= 2 and not shown & b_ids
                seen |= shown
                if page == 0:  # says how many in all, and that more follow
                    counted = int(re.search(r"จากทั้งหมด (\d+) เรื่อง", html).group(1))
                    assert "ยังมีอีก" in html and counted >= len(expected)
                    if url == "/inbox/":
                        assert counted == total
                    pages = (counted - 1) // 2
                if 'rel="next"' not in html:
                    break
                assert f"page={page + 1}" in html
                page += 1
            if url == "/inbox/":
                assert seen == expected
            else:  # every matter awaiting an executive, and only matters this executive may decide
                assert expected <= seen <= open_ids
            assert page == pages
    finally:
        app.config.pop("INBOX_PAGE_SIZE")


def test_inbox_count_stops_at_the_cap(app, client_for, tenant_a, monkeypatch):
    """The inbox counts open matters only up to the cap (COUNT_CAP, here lowered to 1 with pages of 1):
    beyond it it says "more than N" and still leads to the next page."""
    from app.service_requests import inbox_views

    for _ in range(4):
        _matter(app, tenant_a.id)
    monkeypatch.setattr(inbox_views, "COUNT_CAP", 1)
    app.config["INBOX_PAGE_SIZE"] = 1
    try:
        client = client_for("a.admin")
        html = client.get("/inbox/?page=0").get_data(as_text=True)
        # cap = max(1, 2 pages) = 2: counted "2+" and "1+ more"
        assert re.search(r"จากทั้งหมด 2\+ เรื่อง", html), html[:2000]
        assert "ยังมีอีก 1+" in html and 'rel="next"' in html
        html = client.get("/inbox/?page=3").get_data(as_text=True)  # deeper: the cap follows the page
        assert re.search(r"จากทั้งหมด (\d+)\+? เรื่อง", html) and 'rel="prev"' in html
    finally:
        app.config.pop("INBOX_PAGE_SIZE")

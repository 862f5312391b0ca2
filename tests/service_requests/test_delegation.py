"""Delegated signing authority: the delegate approves only while the delegation runs (both days included),
the timeline records for whom, and another tenant sees none of it."""
from datetime import timedelta

from sqlalchemy import select

from app import thai
from app.extensions import db
from app.service_requests.models import Delegation, ServiceRequestEvent
from app.tenancy.context import platform_scope, tenant_scope
from tests.conftest import ids_in_links
from tests.service_requests.test_inbox import _to_approval
from tests.service_requests.test_workflow import _state


def _delegate(client, tenant_users, start, end, kind="on_behalf"):
    return client.post("/delegations/add", data={
        "delegator": tenant_users["a.mayor"], "delegate": tenant_users["a.manager"], "role_code": "mayor",
        "kind": kind, "start_on": thai.format_date_input(start), "end_on": thai.format_date_input(end),
        "note": "คำสั่งที่ 1/2569"})


def _clear(app, tenant_id):
    with app.app_context(), tenant_scope(tenant_id):
        for row in db.session.scalars(select(Delegation)).all():
            db.session.delete(row)
        db.session.commit()


def test_delegate_approves_only_within_the_dates(app, client_for, tenant_a, tenant_b, director_in_engineering):
    today = thai.today_bangkok()
    admin, manager = client_for("a.admin"), client_for("a.manager")
    try:
        # ends yesterday, starts tomorrow: not running today
        for start, end in ((today - timedelta(days=5), today - timedelta(days=1)),
                           (today + timedelta(days=1), today + timedelta(days=3))):
            assert _delegate(admin, tenant_a.user_ids, start, end).status_code == 302
        pk = _to_approval(app, client_for, tenant_a)
        assert f"#{pk} " not in manager.get("/inbox/approvals").get_data(as_text=True)
        # starting today and ending today: running (both days included)
        assert _delegate(admin, tenant_a.user_ids, today, today, kind="acting").status_code == 302
        html = manager.get("/inbox/approvals").get_data(as_text=True)
        assert f"#{pk} " in html
        manager.post(f"/service-requests/act/{pk}", data={"action": "approve", "note": "แทน"})
        assert _state(app, pk) == "approved"
        with app.app_context(), platform_scope():
            event = db.session.scalars(select(ServiceRequestEvent).where(
                ServiceRequestEvent.request_id == pk, ServiceRequestEvent.action == "approve")).one()
            assert event.actor_name.startswith("ผู้จัดการ") and event.on_behalf_of_name.startswith("นายก")
            assert event.delegation_kind == "acting"
        assert "นายก เอ" in manager.get(f"/service-requests/show/{pk}").get_data(as_text=True)
        # bad ranges are refused with the input kept
        html = admin.post("/delegations/add", data={
            "delegator": tenant_a.user_ids["a.mayor"], "delegate": tenant_a.user_ids["a.mayor"],
            "role_code": "mayor", "kind": "acting", "start_on": thai.format_date_input(today),
            "end_on": thai.format_date_input(today)}).get_data(as_text=True)
        assert "มอบอำนาจให้ตนเองไม่ได้" in html
        # B sees none of A's delegations
        with app.app_context(), tenant_scope(tenant_a.id):
            ids = set(db.session.scalars(select(Delegation.id)))
        b_admin = client_for("b.admin")
        assert not ids_in_links(b_admin.get("/delegations/list/").get_data(as_text=True), "/delegations") & ids
        for pk_ in ids:
            assert b_admin.get(f"/delegations/edit/{pk_}").status_code == 404
        # B cannot delegate to A's users
        response = b_admin.post("/delegations/add", data={
            "delegator": tenant_b.user_ids["b.mayor"], "delegate": tenant_a.user_ids["a.manager"],
            "role_code": "mayor", "kind": "acting", "start_on": thai.format_date_input(today),
            "end_on": thai.format_date_input(today)})
        assert response.status_code == 200
    finally:
        _clear(app, tenant_a.id)


def test_an_end_before_the_start_is_refused_in_thai(app, client_for, tenant_a):
    today = thai.today_bangkok()
    admin = client_for("a.admin")
    try:
        response = _delegate(admin, tenant_a.user_ids, today, today - timedelta(days=1))
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and "วันสิ้นสุดต้องไม่อยู่ก่อนวันเริ่มต้น" in html
        with app.app_context(), tenant_scope(tenant_a.id):
            assert db.session.scalar(select(Delegation.id)) is None  # nothing written
        # editing an existing one into a reversed range is refused the same way
        assert _delegate(admin, tenant_a.user_ids, today, today + timedelta(days=2)).status_code == 302
        with app.app_context(), tenant_scope(tenant_a.id):
            pk = db.session.scalar(select(Delegation.id))
        html = admin.post(f"/delegations/edit/{pk}", data={
            "delegator": tenant_a.user_ids["a.mayor"], "delegate": tenant_a.user_ids["a.manager"],
            "role_code": "mayor", "kind": "on_behalf", "start_on": thai.format_date_input(today),
            "end_on": thai.format_date_input(today - timedelta(days=3))}).get_data(as_text=True)
        assert "วันสิ้นสุดต้องไม่อยู่ก่อนวันเริ่มต้น" in html
        with app.app_context(), tenant_scope(tenant_a.id):
            assert db.session.get(Delegation, pk).end_on == today + timedelta(days=2)
    finally:
        _clear(app, tenant_a.id)


def test_the_first_and_the_last_day_are_both_included(app, client_for, tenant_a, director_in_engineering):
    """A delegation running from today, and one ending today, both let the delegate decide today; one that
    ended yesterday or starts tomorrow does not."""
    today = thai.today_bangkok()
    admin, manager = client_for("a.admin"), client_for("a.manager")
    pk = _to_approval(app, client_for, tenant_a)
    ranges = {
        "first day": ((today, today + timedelta(days=10)), True),
        "last day": ((today - timedelta(days=10), today), True),
        "ended yesterday": ((today - timedelta(days=10), today - timedelta(days=1)), False),
        "starts tomorrow": ((today + timedelta(days=1), today + timedelta(days=10)), False),
    }
    try:
        for name, ((start, end), runs) in ranges.items():
            assert _delegate(admin, tenant_a.user_ids, start, end).status_code == 302, name
            html = manager.get("/inbox/approvals").get_data(as_text=True)
            assert (f"#{pk} " in html) is runs, name
            page = manager.get(f"/service-requests/show/{pk}").get_data(as_text=True)
            assert ('value="approve"' in page) is runs, name
            _clear(app, tenant_a.id)
        assert _state(app, pk) == "awaiting_approval"
    finally:
        _clear(app, tenant_a.id)

"""Done when: a complaint and a building permit can be walked from submission to completion through the
right กอง and an executive's approval on a phone screen, with the timeline and the clock correct.

The real templates (seeds/services/complaint.yaml and building_permit_small.yaml) are offered by test
tenant A through the seed path a real organisation uses. The staff who walk them are added by A's admin
through the admin screens, one per กอง and role, and taken away again (memberships revoked through the same
screens, accounts closed) when the module is done. Every step is taken over HTTP; at each one the test checks
the state, the กอง that holds the matter, the step's deadline by A's working calendar, the whole matter's
legal clock and the timeline, and that someone of the wrong กอง or role is refused and nothing changes."""
from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import geothai
import pytest
import yaml
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select

from app import thai
from app.billing.models import Payment
from app.catalog.models import ServiceRequest, ServiceType
from app.extensions import db
from app.security.models import Membership, RoleTemplate
from app.seeds.apply import apply_paths
from app.service_requests.clock import WorkingCalendar
from app.service_requests.models import ServiceRequestEvent
from app.tenancy.context import platform_scope, tenant_scope
from tests.conftest import FIXTURES, PASSWORD, ROOT, ids_in_links, login
from tests.service_requests.conftest import act, save_form

SERVICES = os.path.join(ROOT, "seeds", "services")
DONE = "ดำเนินการแล้ว"  # "Done: the request is now ..."
ONLY = "เท่านั้นที่ดำเนินการนี้ได้"  # "Only <roles> of the division <กอง> may do this."
HIDDEN = "404"  # the matter is outside the person's reach: not at, nor passed through, their กอง
NOTE_NEEDED = "กรุณาระบุเหตุผลในบันทึก"  # "Please write the reason in the note."
LIST_NEEDED = "กรุณาเลือกเอกสารที่ยังขาด"  # the deficiency record lists what is missing (s.8)

# the people who walk the matters in tenant A: username -> first name, last name, [(กอง, role)]
STAFF = {
    "a.walk.clerk": ("สมศรี", "สารบรรณ", [("office", "officer")]),
    "a.walk.engineer": ("วิศวะ", "นายช่าง", [("engineering", "officer")]),
    "a.walk.chief": ("ประเสริฐ", "ผอ.กองช่าง", [("engineering", "division_director")]),
    "a.walk.cashier": ("มาลี", "การเงิน", [("finance", "officer")]),
    "a.walk.palad": ("ปลัด", "ทดสอบ", [("office", "permanent_secretary")]),
}
MAYOR = "a.mayor"  # นายก เอ, mayor in สำนักปลัด (tests/fixtures/tenant_a.yaml)


# --- set-up: the real templates in tenant A, and its staff ---------------------------------------------------

def _offer(app, tmp_path, code):
    """Tenant A offers the real template `code`, applied as seeds/tenants/*.yaml apply theirs."""
    with open(os.path.join(FIXTURES, "tenant_a.yaml"), encoding="utf-8") as f:
        fixture = yaml.safe_load(f)
    # A as its fixture states it (users left out: seeding only adds), now also offering the template
    seed = {"kind": "tenant", "tenant": fixture["tenant"], "divisions": fixture.get("divisions") or [],
            "services": [{"template": code}]}
    path = tmp_path / f"tenant_a_{code}.yaml"
    path.write_text(yaml.safe_dump(seed, allow_unicode=True), encoding="utf-8")
    with app.app_context():
        plan = apply_paths([os.path.join(SERVICES, f"{code}.yaml"), str(path)])
        assert not plan.errors, "\n".join(str(e) for e in plan.errors)
        db.session.remove()


def _user_ids(app, tenant_id) -> dict[str, int]:
    with app.app_context(), tenant_scope(tenant_id):
        return {u.username: u.id for u in db.session.scalars(select(User))}


def _staff_memberships(app, tenant_id, user_ids) -> list[int]:
    with app.app_context(), tenant_scope(tenant_id):
        return list(db.session.scalars(select(Membership.id).where(Membership.user_id.in_(user_ids))))


@pytest.fixture(scope="module")
def walkers(app, tenant_a, tmp_path_factory):
    """The real templates offered by A, and A's staff for them, added by A's admin through the screens."""
    tmp = tmp_path_factory.mktemp("walk-seeds")
    for code in ("complaint", "building_permit_small"):
        _offer(app, tmp, code)
    admin = login(app.test_client(), "a.admin")
    with app.app_context():
        roles = {t.code: t.id for t in db.session.scalars(select(RoleTemplate))}
    known = _user_ids(app, tenant_a.id)
    for username, (first, last, grants) in STAFF.items():
        profile = {"first_name": first, "last_name": last, "email": f"{username}@a.test", "active": "y"}
        if username in known:  # a database reused from an earlier run: open the account again
            assert admin.post(f"/org-users/edit/{known[username]}", data=profile).status_code == 302
        else:
            response = admin.post("/org-users/add", data={**profile, "username": username, "password": PASSWORD,
                                                          "conf_password": PASSWORD})
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
    ids = _user_ids(app, tenant_a.id)
    for username, (_first, _last, grants) in STAFF.items():
        for division, role in grants:
            response = admin.post("/memberships/add", data={
                "user": ids[username], "division": tenant_a.division_ids[division], "role": roles[role]})
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
    yield ids
    # leave tenant A as the other tests know it: no one holds these roles any more, the accounts are closed
    staff_ids = [ids[u] for u in STAFF]
    for pk in _staff_memberships(app, tenant_a.id, staff_ids):
        assert admin.post(f"/memberships/delete/{pk}").status_code == 302
    for username, (first, last, _grants) in STAFF.items():
        assert admin.post(f"/org-users/edit/{ids[username]}", data={
            "first_name": first, "last_name": last, "email": f"{username}@a.test"}).status_code == 302
    assert _staff_memberships(app, tenant_a.id, staff_ids) == []
    with app.app_context(), tenant_scope(tenant_a.id):
        assert not any(db.session.scalars(select(User.active).where(User.id.in_(staff_ids))))


# --- helpers -------------------------------------------------------------------------------------------------

def _service_type_id(app, tenant_id, code) -> int:
    with app.app_context(), tenant_scope(tenant_id):
        return db.session.scalar(select(ServiceType.id).where(ServiceType.code == code))


def _due_after(app, tenant_id, days):
    """`days` working days after today by the tenant's own calendar (weekends, holidays and its closures
    skipped); None when the step has no deadline of its own."""
    if days is None:
        return None
    with app.app_context(), tenant_scope(tenant_id):
        return WorkingCalendar.for_current_tenant().add_working_days(thai.today_bangkok(), days)


@dataclass(frozen=True)
class Snapshot:
    status: str
    division: str
    step_due_on: object
    due_on: object
    fee_total: object
    lock_version: int
    events: tuple  # (actor_id, actor_name, action, from, to, กอง, note) per timeline step


def _snap(app, pk) -> Snapshot:
    with app.app_context(), platform_scope():
        request = db.session.get(ServiceRequest, pk)
        events = db.session.scalars(select(ServiceRequestEvent).where(ServiceRequestEvent.request_id == pk)
                                    .order_by(ServiceRequestEvent.at, ServiceRequestEvent.id)).all()
        snap = Snapshot(request.status, request.division.code, request.step_due_on, request.due_on,
                        request.fee_total, request.lock_version,
                        tuple((e.actor_id, e.actor_name, e.action, e.from_state, e.to_state, e.division.code, e.note)
                              for e in events))
        db.session.remove()
        return snap


def _file(client, st, data) -> int:
    response = save_form(client, f"/service-requests/new/{st}", {**data, "intent": "save"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(re.search(r"/service-requests/show/(\d+)", response.headers["Location"]).group(1))


def _page(client, pk) -> str:
    return client.get(f"/service-requests/show/{pk}").get_data(as_text=True)


def _act(client, pk, action, note="") -> str:
    """Take an action from the request's page, as a member of staff does (the page's version included)."""
    version = re.search(r'name="version" value="(\d+)"', _page(client, pk)).group(1)
    return client.post(f"/service-requests/act/{pk}", data={"action": action, "note": note, "version": version},
                       follow_redirects=True).get_data(as_text=True)


class Walk:
    """One matter walked through tenant A: each step is checked against what the workflow promises."""

    def __init__(self, app, client_for, tenant, ids, pk):
        self.app, self.client_for, self.tenant, self.ids, self.pk = app, client_for, tenant, ids, pk
        self.clients = {}

    def client(self, username):
        if username not in self.clients:
            self.clients[username] = self.client_for(username)
        return self.clients[username]

    def name(self, username):
        if username in STAFF:
            return " ".join(STAFF[username][:2])
        return {"a.mayor": "นายก เอ"}[username]

    def at(self, status, division, days):
        """The matter is in `status`, held by `division`, its step due `days` working days from today."""
        snap = _snap(self.app, self.pk)
        assert (snap.status, snap.division) == (status, division)
        assert snap.step_due_on == _due_after(self.app, self.tenant.id, days), status
        return snap

    def step(self, username, action, note="", *, to, division, days, recorded=None, via=None):
        """`username` takes `action` from the matter's page (or `via` another screen: a function that acts and
        returns the page shown next); the matter moves to `to` in `division` with a step deadline of `days`
        working days; the timeline gains exactly one step saying so, with the note (or one `recorded` accepts)."""
        before = _snap(self.app, self.pk)
        html = via() if via is not None else _act(self.client(username), self.pk, action, note)
        assert DONE in html, html[:3000]
        after = self.at(to, division, days)
        assert after.due_on == before.due_on  # the whole matter's legal clock runs on, untouched
        assert after.lock_version == before.lock_version + 1  # one write per step; an older page is now stale
        assert after.events[:-1] == before.events and len(after.events) == len(before.events) + 1
        *event, written = after.events[-1]
        assert tuple(event) == (self.ids[username], self.name(username), action, before.status, to, division)
        if recorded is None:
            assert written == (note.strip() or None)
        else:
            assert recorded(written), written
        return after

    def refused(self, username, action, note="", says=ONLY):
        """`username` may not take `action` now: a clear message, and nothing about the matter changes."""
        before = _snap(self.app, self.pk)
        client = self.client(username)
        if says == HIDDEN:  # not even seen: the page and the step are both "not found"
            assert client.get(f"/service-requests/show/{self.pk}").status_code == 404
            assert client.post(f"/service-requests/act/{self.pk}", data={"action": action, "note": note}
                               ).status_code == 404
            assert _snap(self.app, self.pk) == before
            return ""
        page = _page(client, self.pk)
        if says == ONLY:  # not theirs to take: not even offered
            assert f'value="{action}"' not in page
        html = client.post(f"/service-requests/act/{self.pk}", data={"action": action, "note": note},
                           follow_redirects=True).get_data(as_text=True)
        assert says in html, html[:3000]
        assert DONE not in html
        assert _snap(self.app, self.pk) == before
        return html

    def walled_off(self, action):
        """Tenant B's staff (same กอง codes and roles) can neither see A's matter nor act on it."""
        before = _snap(self.app, self.pk)
        for username in ("b.officer", "b.mayor"):
            client = self.client_for(username)
            assert client.get(f"/service-requests/show/{self.pk}").status_code == 404
            assert client.post(f"/service-requests/act/{self.pk}", data={"action": action, "note": "x"}
                               ).status_code == 404
            listed = client.get("/service-requests/list/").get_data(as_text=True)
            assert self.pk not in ids_in_links(listed, "/service-requests")
            assert f"#{self.pk} " not in client.get("/inbox/approvals").get_data(as_text=True)
        assert _snap(self.app, self.pk) == before

    def in_queue_of(self, username) -> bool:
        """The matter is in the user's กอง inbox."""
        html = self.client(username).get("/inbox/").get_data(as_text=True)
        return f'/service-requests/show/{self.pk}"' in html

    def timeline_shows(self, username):
        """The request's page shows every step: who, from and to which state, which กอง, the note."""
        html = _page(self.client(username), self.pk)
        timeline = html[html.index('id="request-timeline"'):]
        for _actor, name, _action, _from, _to, _division, note in _snap(self.app, self.pk).events:
            assert name in timeline
            if note:
                assert note in timeline
        return timeline


def _from_inbox(client, pk, action, note) -> str:
    """Take `action` on the executive's approvals screen (the phone screen): the card's own form, its comment
    box; the screen comes back afterwards."""
    card = _approval_card(client.get("/inbox/approvals").get_data(as_text=True), pk)
    assert card, f"#{pk} is not on the approvals screen"
    version = re.search(r'name="version" value="(\d+)"', card).group(1)
    response = client.post(f"/service-requests/act/{pk}", data={
        "action": action, "note": note, "version": version, "next": "/inbox/approvals"})
    if response.status_code != 302:  # refused: the matter's page, the reason and the comment typed kept
        html = response.get_data(as_text=True)
        assert f">{note}</textarea>" in html
        return html
    assert response.headers["Location"].endswith("/inbox/approvals")
    return client.get("/inbox/approvals").get_data(as_text=True)


def _approval_card(html, pk) -> str:
    """The card of matter #pk on the executive's approvals screen, or ''."""
    for card in html.split('class="panel panel-default approval-card"')[1:]:
        if f"#{pk} " in card:
            return card
    return ""


def _pdf(name):
    return io.BytesIO(b"%PDF-1.4\n% walk test\n"), name


def _address(prefix):
    return {f"{prefix}-line": "99/1 หมู่ 3 ถนนเชียงใหม่-ฮอด", f"{prefix}-postcode": "50100",
            f"{prefix}-subdistrict": geothai.by_postal_code("50100")[0].code}


def _permit_form():
    return {
        "owner_name": "สมปอง ก่อสร้าง", "national_id": "1101700203450", **_address("owner_address"),
        "phone": "0812345678", **_address("plot_address"), "title_deed_type": "chanote",
        "title_deed_number": "12345", "structure_type": "reinforced_concrete", "building_use": "residence",
        "building_count": "1", "storeys": "2", "floor_area": "120",
        "planned_start": thai.format_date_input(thai.today_bangkok() + timedelta(days=90)),
        "doc_id_card_copy": _pdf("id.pdf"), "doc_house_registration_copy": _pdf("house.pdf"),
        "doc_land_title_copy": _pdf("title.pdf"), "doc_building_plans": _pdf("plans.pdf"),
    }


# --- the walks -------------------------------------------------------------------------------------------------

def test_a_complaint_walks_office_to_engineering_and_back(app, client_for, tenant_a, tenant_b, walkers):
    """A street light out: สำนักปลัด receives and routes it, กองช่าง fixes it, สำนักปลัด closes it."""
    st = _service_type_id(app, tenant_a.id, "complaint")
    pk = _file(client_for("a.walk.clerk"), st, {
        "applicant_name": "บุญมี มีสุข", "contact_phone": "0812345678", "category": "street_light",
        "description": "ไฟฟ้าสาธารณะเสาที่ 12 หน้าวัดดับมา 3 คืน ถนนมืด เสี่ยงอุบัติเหตุ",
        "location": "18.7883, 98.9853"})
    walk = Walk(app, client_for, tenant_a, walkers, pk)
    filed = walk.at("submitted", "office", 1)
    assert filed.due_on == _due_after(app, tenant_a.id, 15) and filed.events == ()
    assert walk.in_queue_of("a.walk.clerk") and not walk.in_queue_of("a.walk.engineer")

    walk.refused("a.walk.engineer", "accept", says=HIDDEN)  # กองช่าง neither sees nor receives it for สำนักปลัด
    walk.walled_off("accept")
    walk.step("a.walk.clerk", "accept", to="triage", division="office", days=2)
    walk.step("a.walk.clerk", "to_engineering", "ไฟฟ้าสาธารณะ ส่งกองช่าง", to="at_engineering",
              division="engineering", days=10)
    assert walk.in_queue_of("a.walk.engineer") and not walk.in_queue_of("a.walk.clerk")

    walk.refused("a.walk.clerk", "resolve", "แก้แล้ว")  # สำนักปลัด no longer holds it
    walk.refused("a.walk.cashier", "resolve", "แก้แล้ว", says=HIDDEN)  # nor does กองคลัง, which never had it
    walk.walled_off("resolve")
    walk.step("a.walk.engineer", "resolve", "เปลี่ยนหลอดไฟ LED เสาที่ 12 แล้ว", to="fixed", division="office",
              days=2)  # the guide's 1 + 2 + 10 + 2 = 15 working days

    walk.refused("a.walk.clerk", "close", says=NOTE_NEEDED)
    walk.step("a.walk.clerk", "close", "โทรแจ้งผู้ร้องเรียนแล้ว", to="completed", division="office", days=None)

    clerk, engineer = walkers["a.walk.clerk"], walkers["a.walk.engineer"]
    assert _snap(app, pk).events == (
        (clerk, "สมศรี สารบรรณ", "accept", "submitted", "triage", "office", None),
        (clerk, "สมศรี สารบรรณ", "to_engineering", "triage", "at_engineering", "engineering",
         "ไฟฟ้าสาธารณะ ส่งกองช่าง"),
        (engineer, "วิศวะ นายช่าง", "resolve", "at_engineering", "fixed", "office", "เปลี่ยนหลอดไฟ LED เสาที่ 12 แล้ว"),
        (clerk, "สมศรี สารบรรณ", "close", "fixed", "completed", "office", "โทรแจ้งผู้ร้องเรียนแล้ว"),
    )
    timeline = walk.timeline_shows("a.walk.clerk")
    for state in ("รับแจ้งแล้ว", "อยู่ระหว่างกองช่างดำเนินการ", "แก้ไขแล้ว รอแจ้งผู้ร้องเรียน", "ปิดเรื่อง"):
        assert state in timeline
    assert 'id="request-actions"' not in _page(walk.client("a.walk.clerk"), pk)  # closed
    walk.refused("a.walk.clerk", "close", "อีกครั้ง", says="คำขอนี้สิ้นสุดแล้ว")
    walk.walled_off("close")


def test_a_building_permit_walks_to_the_handed_over_permit(app, client_for, tenant_a, tenant_b, walkers):
    """กองช่าง checks and reviews, its director asks for the fee, กองคลัง takes it, the mayor signs the permit
    on the approvals screen with a comment, กองช่าง hands it over: 1 + 30 + 4 + 7 + 3 = 45 working days."""
    st = _service_type_id(app, tenant_a.id, "building_permit_small")
    pk = _file(client_for("a.walk.engineer"), st, _permit_form())
    walk = Walk(app, client_for, tenant_a, walkers, pk)
    filed = walk.at("submitted", "engineering", 1)
    # Building Control Act s.25: "ภายใน 45 วัน" counts calendar days (the template's sla_unit: calendar)
    assert filed.due_on == thai.today_bangkok() + timedelta(days=45)

    walk.refused("a.walk.cashier", "accept", says=HIDDEN)  # not at, nor yet through, กองคลัง or สำนักปลัด
    walk.refused("a.walk.clerk", "accept", says=HIDDEN)
    walk.walled_off("accept")
    walk.step("a.walk.engineer", "accept", to="checking", division="engineering", days=30)

    # the one deficiency return: the reason is required, and it is taken once only (s.8)
    walk.refused("a.walk.engineer", "return_for_documents", "ขาดเอกสาร", says=LIST_NEEDED)
    missing = "รายการคำนวณโครงสร้าง\nหนังสือยินยอมของเจ้าของที่ดินข้างเคียง"

    def return_with_the_list():  # the deficiency record: a document of the service's and two other items
        client = walk.client("a.walk.engineer")
        version = re.search(r'name="version" value="(\d+)"', _page(client, pk)).group(1)
        return client.post(f"/service-requests/act/{pk}", data={
            "action": "return_for_documents", "version": version, "missing": "id_card_copy",
            "missing_other": missing}, follow_redirects=True).get_data(as_text=True)

    walk.step("a.walk.engineer", "return_for_documents", to="returned", division="engineering", days=None,
              via=return_with_the_list, recorded=lambda note: note.splitlines()[1:] == [
                  "1. สำเนาบัตรประจำตัวประชาชนผู้ขออนุญาต", "2. รายการคำนวณโครงสร้าง",
                  "3. หนังสือยินยอมของเจ้าของที่ดินข้างเคียง"])
    walk.step("a.walk.engineer", "resubmit", "ได้รับเอกสารครบแล้ว", to="checking", division="engineering", days=30)
    assert 'value="return_for_documents"' not in _page(walk.client("a.walk.engineer"), pk)
    walk.refused("a.walk.engineer", "return_for_documents", "ขาดอีก", says="มาตรา 8")

    # only the director of กองช่าง asks for the fee; the payment request prices the matter
    walk.refused("a.walk.engineer", "request_payment")
    walk.refused("a.walk.cashier", "request_payment", says=HIDDEN)
    with app.app_context(), platform_scope():  # filing quoted it too: clear it to see the payment request do it
        db.session.get(ServiceRequest, pk).fee_total = None
        db.session.commit()
    fee = Decimal("20.00") + Decimal("120") * Decimal("0.50")  # permit 20 บาท + plan check 0.50 บาท/m² (กฎกระทรวง 7)
    reviewed = "ตรวจแบบแปลนแล้ว ถูกต้องตามผังเมืองและระยะร่น"
    snap = walk.step("a.walk.chief", "request_payment", reviewed, to="awaiting_payment", division="finance", days=4,
                     recorded=lambda note: (thai.format_baht(fee) in note and thai.baht_text(fee) in note
                                            and note.endswith(reviewed)))
    assert snap.fee_total == fee
    assert walk.in_queue_of("a.walk.cashier") and not walk.in_queue_of("a.walk.engineer")

    # กองคลัง records the payment: receipt number and amount, checked against the fee asked
    walk.refused("a.walk.engineer", "record_payment", "ใบเสร็จ 1/1")
    walk.refused("a.walk.chief", "record_payment", "ใบเสร็จ 1/1")
    walk.walled_off("record_payment")  # B's กองคลัง officer holds the same role in a กอง of the same code
    walk.refused("a.walk.cashier", "record_payment", says="กรุณากรอกเลขที่ใบเสร็จรับเงิน")
    cashier_page = _page(walk.client("a.walk.cashier"), pk)
    assert 'id="payment-fields"' in cashier_page and f'value="{fee}"' in cashier_page  # the fee asked, prefilled
    receipt = "เล่ม 12 เลขที่ 345/2570"

    def pay(amount):
        return lambda: act(walk.client("a.walk.cashier"), pk, "record_payment", payment_receipt_no=receipt,
                           payment_amount=amount, payment_method="cash", payment_paid_on="")

    def payments():
        with app.app_context(), platform_scope():
            rows = [(p.tenant_id, p.amount, p.receipt_no, p.method, p.recorded_by_id)
                    for p in db.session.scalars(select(Payment).where(Payment.receipt_no == receipt))]
            db.session.remove()
            return rows

    before = _snap(app, pk)
    html = pay("60.00")()  # a slip of the finger: refused, saying what is due, and nothing written
    assert "ไม่ตรงกับค่าธรรมเนียมที่ต้องชำระ" in html and thai.format_baht(fee) in html and DONE not in html
    assert _snap(app, pk) == before and payments() == []
    walk.step("a.walk.cashier", "record_payment", to="awaiting_signature", division="office", days=7,
              via=pay(str(fee)), recorded=lambda note: receipt in note and thai.format_baht(fee) in note)
    assert payments() == [(tenant_a.id, fee, receipt, "cash", walkers["a.walk.cashier"])]
    with app.app_context(), tenant_scope(tenant_b.id):  # B's books do not see A's receipt
        assert db.session.scalar(select(Payment.id).where(Payment.receipt_no == receipt)) is None
        db.session.remove()

    # the local official signs on the phone screen; staff cannot, and B's mayor never sees it
    walk.refused("a.walk.chief", "approve")
    walk.refused("a.walk.clerk", "approve")
    walk.walled_off("approve")
    for username in ("a.walk.chief", "a.walk.cashier", "a.walk.clerk"):
        assert not _approval_card(walk.client(username).get("/inbox/approvals").get_data(as_text=True), pk)
    mayor = walk.client(MAYOR)
    inbox = mayor.get("/inbox/approvals").get_data(as_text=True)
    card = _approval_card(inbox, pk)
    assert card, "the permit is not on the mayor's approvals screen"
    assert re.findall(r'name="action" value="(\w+)"', card) == ["approve", "reject"]
    assert "ลงนามใบอนุญาต (แบบ อ.1)" in card and "มีคำสั่งไม่อนุญาต" in card
    assert "สมปอง ก่อสร้าง" in card and thai.format_baht(fee) in card  # the essentials and the fee on the card
    # the palad (also a local official) sees it too
    assert _approval_card(walk.client("a.walk.palad").get("/inbox/approvals").get_data(as_text=True), pk)
    comment = "อนุญาตตามเสนอ"
    walk.step(MAYOR, "approve", comment, to="permit_signed", division="engineering", days=3,
              via=lambda: _from_inbox(mayor, pk, "approve", comment),
              recorded=lambda note: "ใบอนุญาตก่อสร้างอาคาร (แบบ อ.1)" in note and note.endswith(comment))
    # signing issues the permit: numbered in its series and fiscal year, with a public verification page
    from app.certificates.models import Certificate

    with app.app_context(), platform_scope():
        permit = db.session.scalar(select(Certificate).where(Certificate.request_id == pk))
        assert (permit.series, permit.fiscal_year) == ("อ.1", thai.fiscal_year(thai.today_bangkok()))
        assert permit.holder_name == "สมปอง ก่อสร้าง" and f"{permit.number}/{permit.fiscal_year}" in permit.label
        token = permit.token
    page = app.test_client().get(f"/verify/{token}").get_data(as_text=True)
    assert "สมปอง ก่อสร้าง" in page and "1101700203450" not in page and "0812345678" not in page
    assert not _approval_card(mayor.get("/inbox/approvals").get_data(as_text=True), pk)  # decided: off the screen
    walk.refused("a.walk.cashier", "complete")
    walk.step("a.walk.engineer", "complete", "ผู้ขอรับใบอนุญาตด้วยตนเองแล้ว", to="completed", division="engineering",
              days=None)

    engineer, chief = walkers["a.walk.engineer"], walkers["a.walk.chief"]
    cashier, mayor_id = walkers["a.walk.cashier"], tenant_a.user_ids[MAYOR]
    assert [e[:6] for e in _snap(app, pk).events] == [
        (engineer, "วิศวะ นายช่าง", "accept", "submitted", "checking", "engineering"),
        (engineer, "วิศวะ นายช่าง", "return_for_documents", "checking", "returned", "engineering"),
        (engineer, "วิศวะ นายช่าง", "resubmit", "returned", "checking", "engineering"),
        (chief, "ประเสริฐ ผอ.กองช่าง", "request_payment", "checking", "awaiting_payment", "finance"),
        (cashier, "มาลี การเงิน", "record_payment", "awaiting_payment", "awaiting_signature", "office"),
        (mayor_id, "นายก เอ", "approve", "awaiting_signature", "permit_signed", "engineering"),
        (engineer, "วิศวะ นายช่าง", "complete", "permit_signed", "completed", "engineering"),
    ]
    timeline = walk.timeline_shows("a.walk.engineer")
    for text in (*missing.splitlines(), receipt, comment, "รอเจ้าพนักงานท้องถิ่นลงนามใบอนุญาต (แบบ อ.1)", "ส่งมอบใบอนุญาตแล้ว"):
        assert text in timeline
    assert 'id="request-actions"' not in _page(walk.client("a.walk.engineer"), pk)
    walk.walled_off("complete")


def test_a_refusal_goes_to_the_local_official_who_may_send_it_back(app, client_for, tenant_a, tenant_b, walkers):
    """The director of กองช่าง proposes a refusal (with reasons); the palad sends it back once, then refuses it
    from the approvals screen, where only refusing is offered (there is nothing to sign)."""
    st = _service_type_id(app, tenant_a.id, "building_permit_small")
    pk = _file(client_for("a.walk.engineer"), st, _permit_form())
    walk = Walk(app, client_for, tenant_a, walkers, pk)
    walk.step("a.walk.engineer", "accept", to="checking", division="engineering", days=30)
    walk.refused("a.walk.engineer", "propose_refusal", "ผิดระยะร่น")  # a director's call
    walk.refused("a.walk.chief", "propose_refusal", says=NOTE_NEEDED)
    reasons = "อาคารห่างแนวเขตที่ดินน้อยกว่า 50 ซม. ขัดกฎกระทรวงฉบับที่ 55"
    walk.step("a.walk.chief", "propose_refusal", reasons, to="refusal_proposed", division="office", days=7)

    palad = walk.client("a.walk.palad")
    card = _approval_card(palad.get("/inbox/approvals").get_data(as_text=True), pk)
    assert re.findall(r'name="action" value="(\w+)"', card) == ["reject"]
    walk.refused("a.walk.chief", "send_back", "ทบทวน")
    walk.refused("a.walk.palad", "send_back", says=NOTE_NEEDED)
    walk.step("a.walk.palad", "send_back", "ให้ตรวจระยะร่นจากแบบแก้ไขอีกครั้ง", to="checking", division="engineering",
              days=30)
    walk.step("a.walk.chief", "propose_refusal", reasons, to="refusal_proposed", division="office", days=7)

    walk.walled_off("reject")
    # refusing needs the reasons: refused without them, and nothing changes
    before = _snap(app, pk)
    html = _from_inbox(palad, pk, "reject", "")
    assert NOTE_NEEDED in html and DONE not in html and _snap(app, pk) == before
    order = "ไม่อนุญาต เนื่องจากระยะร่นไม่เป็นไปตามกฎกระทรวงฉบับที่ 55 แจ้งผู้ขอพร้อมเหตุผลและสิทธิอุทธรณ์"
    walk.step("a.walk.palad", "reject", order, to="refused", division="engineering", days=None,
              via=lambda: _from_inbox(palad, pk, "reject", order))
    assert not _approval_card(palad.get("/inbox/approvals").get_data(as_text=True), pk)
    assert [e[2] for e in _snap(app, pk).events] == ["accept", "propose_refusal", "send_back", "propose_refusal",
                                                     "reject"]
    assert 'id="request-actions"' not in _page(walk.client("a.walk.engineer"), pk)  # a final decision


def test_the_permits_steps_add_up_to_the_guide(app, tenant_a, walkers):
    """The workflow's days along the way to the permit are the guide's steps, and their sum is sla_days."""
    from app.catalog import services

    with app.app_context(), tenant_scope(tenant_a.id):
        service_type = db.session.scalar(select(ServiceType).where(ServiceType.code == "building_permit_small"))
        version = services.current_version(service_type)
        days = {t["action"]: t["days"] for t in version.workflow["transitions"]}
        path = [days[a] for a in ("accept", "request_payment", "record_payment", "approve", "complete")]
        assert path == [step["days"] for step in version.guide["steps"]]
        assert sum(path) == version.guide["total_days"] == service_type.sla_days == 45

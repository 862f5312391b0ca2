"""Every list screen in the menu, within the statement budget (DESIGN.md speed rules: at most 6 SQL statements
per list page whatever the page size; on PostgreSQL the row-level-security set_config counts too): the menu is
walked, each list requested at 25 and at 100 rows as the organisation's admin (who may see them all).

The walk runs in an organisation of its own (DLA 1000067, with a partner 1000068 that forwards matters to it),
made here from seed YAML (in a province no other test uses, so no partner list or province filter
meets them) with rows in every list the admin opens: per-row and "only when there are rows"
lookups show their real cost, and the count is the same whatever other tests left behind. Nothing of it is
in tenants A or B, and the rows are deleted again after the module."""
from __future__ import annotations

import os
import re
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, update

from app.extensions import db
from app.tenancy.context import platform_scope, tenant_scope
from tests.conftest import PASSWORD, login, record_count
from tests.billing.waste import install_waste_service
from tests.tenancy.statements import page_statements

MAX_STATEMENTS = 6
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")
# List screens of our own (not FAB ModelViews) in the menu: one page size each (their own paging)
LIST_SCREENS = {"/inbox/", "/inbox/approvals", "/forwardings/", "/notifications/", "/waste/invoices/",
                "/saraban/inbox/", "/waste/bank-imports/", "/waste/runs/"}
# Known to cost more; each is the budget it must not exceed, until brought within MAX_STATEMENTS.
OVER_BUDGET: dict[str, int] = {}
# The platform operators' lists: refused to an organisation's admin (every other list is walked)
PLATFORM_SCREENS = {"/users/list/", "/roles/list/", "/groups/list/", "/permissions/list/", "/viewmenus/list/",
                    "/permissionviews/list/", "/tenants/list/", "/tenant-switch-log/list/"}
# The organisation's own settings: one row (the organisation itself)
ONE_ROW = {"/organisation/list/"}

TENANT_CODE, PARTNER_CODE = "1000067", "1000068"
BILLER_ID = "099400000000677"
TENANT_D = """kind: tenant
tenant: {dla_code: "%(code)s", type: sao, name_th: องค์การบริหารส่วนตำบลงบคำสั่ง, name_en: SAO Budget,
         province: พะเยา}
divisions:
  - {code: finance, name_th: กองคลัง, name_en: Finance Division}
  - {code: health, name_th: กองสาธารณสุขและสิ่งแวดล้อม, name_en: Public Health and Environment Division}
users:
  - {username: d.admin, first_name: แอดมิน, last_name: ดี, email: admin@d.test, password: %(password)s,
     memberships: [{division: office, role: tenant_admin}, {division: office, role: mayor}]}
  - {username: d.palad, first_name: ปลัด, last_name: ดี, email: palad@d.test, password: %(password)s,
     memberships: [{division: office, role: permanent_secretary}]}
  - {username: d.clerk, first_name: สารบรรณ, last_name: ดี, email: clerk@d.test, password: %(password)s,
     memberships: [{division: office, role: officer}]}
  - {username: d.officer, first_name: เจ้าหน้าที่, last_name: ดี, email: officer@d.test, password: %(password)s,
     memberships: [{division: finance, role: officer}]}
services:
  - template: test_permit
""" % {"code": TENANT_CODE, "password": PASSWORD}
PARTNER_E = """kind: tenant
tenant: {dla_code: "%(code)s", type: sao, name_th: องค์การบริหารส่วนตำบลคู่ส่งต่อ, name_en: SAO Partner,
         province: พะเยา}
divisions:
  - {code: finance, name_th: กองคลัง, name_en: Finance Division}
users:
  - {username: e.admin, first_name: แอดมิน, last_name: อี, email: admin@e.test, password: %(password)s,
     memberships: [{division: office, role: tenant_admin}]}
services:
  - template: test_permit
""" % {"code": PARTNER_CODE, "password": PASSWORD}

# The rows made here as the screens that are not FAB lists show them (at least two distinct each)
MARKERS = {
    "/inbox/": r"งบ-ยื่นใหม่-\d",
    "/inbox/approvals": r"งบ-รออนุมัติ-\d",
    "/forwardings/": r"งบ-ส่งต่อ-(?:รับ|ส่ง)-\d",
    "/notifications/": r"งบ-แจ้งเตือน-\d",
    "/saraban/inbox/": r"งบ-หนังสือ-(?:รับ|ส่ง)-\d",
    "/waste/invoices/": r"/waste/invoices/\d+\b",
    "/waste/bank-imports/": r"budget-bank-\d",
    "/waste/runs/": r"/waste/runs/\d+\b",
}


def _requests(tenant_id: int, division_code: str, rows: list[tuple[str, str]]) -> list[int]:
    """Matters of the current tenant's first service, one per (title, status)."""
    from app.catalog.models import ServiceRequest, ServiceType, ServiceTypeVersion
    from app.tenancy.models import Division

    service = db.session.scalars(select(ServiceType).where(ServiceType.code == "test_permit")).first()
    version_id = db.session.scalar(select(ServiceTypeVersion.id).where(
        ServiceTypeVersion.service_type_id == service.id).order_by(ServiceTypeVersion.version.desc()))
    division_id = db.session.scalar(select(Division.id).where(Division.code == division_code))
    made = []
    now = datetime(2026, 11, 20, 9, 0)
    for i, (title, status) in enumerate(rows):
        row = ServiceRequest(tenant_id=tenant_id, service_type_id=service.id, version_id=version_id,
                             division_id=division_id, title=title, status=status, channel="staff",
                             data={"applicant": f"นายงบ ทดสอบ{i}", "area": "20", "kind_of_use": "home"},
                             fee_total=Decimal("40.00"), due_on=date(2030, 1, 1), created_at=now + timedelta(hours=i),
                             updated_at=now, reopened_count=0, lock_version=1)
        db.session.add(row)
        made.append(row)
    db.session.flush()
    return [r.id for r in made]


def _fill(tenant_id: int, partner_id: int) -> None:
    """Two rows or more in every list of the admin's menu, made as the app's services leave them."""
    from flask_appbuilder.security.sqla.models import User

    from app.api import keys, webhooks
    from app.api.models import REQUEST_CREATED, WebhookDelivery, WebhookSubscription
    from app.billing import accounts, receipts
    from app.billing.models import BankImport, BillingRun, Payment, WasteAccount, WasteInvoice
    from app.saraban import registry
    from app.saraban.models import (CONFIDENTIAL, INCOMING, IN_REVIEW, NORMAL, OUTGOING, PENDING, REVIEW,
                                    Endorsement, ReviewStep, Routing)
    from app.service_requests.models import Delegation, Forwarding, Notification, TenantClosure
    from app.tenancy.models import Division
    from tests.billing.waste import account_input
    from tests.saraban.documents import make, register_of

    with tenant_scope(partner_id):
        theirs = _requests(partner_id, "office", [(f"เรื่องคู่ {i}", "submitted") for i in range(2)])
        db.session.add_all(Forwarding(tenant_id=partner_id, partner_tenant_id=tenant_id, request_id=pk,
                                      subject=f"งบ-ส่งต่อ-รับ-{i}", request_note="โปรดพิจารณา",
                                      sent_by_name="แอดมิน อี") for i, pk in enumerate(theirs))
        db.session.commit()
    install_waste_service(tenant_id, "", biller_id=BILLER_ID)  # the real template, two routes
    with tenant_scope(tenant_id):
        users = {u.username: u for u in db.session.scalars(select(User).where(User.tenant_id == tenant_id))}
        admin = users["d.admin"]
        new = _requests(tenant_id, "engineering", [(f"งบ-ยื่นใหม่-{i}", "submitted") for i in range(2)])
        _requests(tenant_id, "engineering", [(f"งบ-รออนุมัติ-{i}", "awaiting_approval") for i in range(2)])
        db.session.add_all(Payment(tenant_id=tenant_id, request_id=pk, amount=Decimal("40.00"),
                                   paid_on=date(2026, 11, 21), receipt_no=f"BG-{pk}", method="cash",
                                   recorded_by_name="สารบรรณ ดี") for pk in new)
        db.session.add_all(Forwarding(tenant_id=tenant_id, partner_tenant_id=partner_id, request_id=pk,
                                      subject=f"งบ-ส่งต่อ-ส่ง-{i}", request_note="ส่งให้พิจารณา",
                                      sent_by_name="แอดมิน ดี") for i, pk in enumerate(new))
        db.session.add_all(Notification(tenant_id=tenant_id, request_id=pk, user_id=admin.id, kind="new_step",
                                        recipient=admin.email, subject=f"งบ-แจ้งเตือน-{i}", body="มีเรื่องรอ",
                                        link=f"/service-requests/show/{pk}") for i, pk in enumerate(new))
        db.session.add_all([
            Delegation(tenant_id=tenant_id, delegator_id=users["d.palad"].id, delegate_id=users["d.clerk"].id,
                       role_code="permanent_secretary", start_on=date(2027, 1, 5), end_on=date(2027, 1, 9)),
            Delegation(tenant_id=tenant_id, delegator_id=users["d.officer"].id, delegate_id=users["d.clerk"].id,
                       role_code="officer", start_on=date(2027, 2, 1), end_on=date(2027, 2, 3)),
            TenantClosure(tenant_id=tenant_id, day=date(2027, 1, 2), name_th="วันหยุดงบ 1"),
            TenantClosure(tenant_id=tenant_id, day=date(2027, 1, 3), name_th="วันหยุดงบ 2"),
        ])
        for i in range(2):
            keys.issue(tenant_id, name=f"budget-key-{i}", scopes=["read"], acting_user=admin,
                       created_by_name="แอดมิน ดี")
            hook = WebhookSubscription(name=f"budget-hook-{i}", url=f"https://hooks.example.org/{i}",
                                       events=[REQUEST_CREATED], active=True, created_by_name="แอดมิน ดี",
                                       secret_sealed=webhooks.seal(webhooks.new_secret()))
            db.session.add(hook)
            db.session.flush()
            db.session.add_all(WebhookDelivery(subscription_id=hook.id, event_id=uuid.uuid4().hex,
                                               event_type=REQUEST_CREATED, payload={"id": pk}, status="delivered",
                                               attempts=1, delivered_at=datetime(2026, 11, 21, 10, 0))
                               for pk in new)
        # correspondence: letters presented to the admin (endorse) and routed to the office, and outgoing letters
        # whose review step is the admin's turn
        registry.ensure_central(tenant_id)
        db.session.flush()
        office = db.session.scalar(select(Division.id).where(Division.code == "office"))
        for i in range(2):
            # the second is confidential (named people only): the inbox then also offers the staff to route to
            letter = make(register_of(INCOMING), f"งบ-หนังสือ-รับ-{i}", kind="external", sender="ศาลากลางจังหวัด",
                          addressee="นายก", created_by_id=users["d.clerk"].id, created_by_name="สารบรรณ ดี",
                          secrecy=CONFIDENTIAL if i else NORMAL, named=(admin.id, users["d.clerk"].id) if i else ())
            db.session.add(Endorsement(tenant_id=tenant_id, document_id=letter.id, requested_of_id=admin.id,
                                       requested_by_name="สารบรรณ ดี", presentation="เสนอเพื่อโปรดทราบ"))
            db.session.add(Routing(tenant_id=tenant_id, document_id=letter.id, division_id=office,
                                   sent_by_name="สารบรรณ ดี", instruction="ดำเนินการ",
                                   recipient_id=admin.id if i else None))
            draft = make(register_of(OUTGOING), f"งบ-หนังสือ-ส่ง-{i}", number=False, status=IN_REVIEW,
                         kind="external", addressee="ผู้ว่าราชการจังหวัด", created_by_id=users["d.clerk"].id,
                         created_by_name="สารบรรณ ดี")
            db.session.add(ReviewStep(tenant_id=tenant_id, document_id=draft.id, round=1, seq=1, kind=REVIEW,
                                      user_id=admin.id, status=PENDING))
        db.session.commit()
        # waste fees: two accounts, a bill each paid at the counter and one unpaid, two runs, two bank files
        made = []
        for i, route in enumerate(("R1", "R2")):
            made.append(accounts.open_account(account_input(holder_name=f"นายงบ ขยะ{i}", route_code=route),
                                              "แอดมิน ดี").id)
        db.session.add_all(BillingRun(tenant_id=tenant_id, period_start=date(2026, m, 1),
                                      period_end=date(2026, m, 28), due_date=date(2026, m, 28), status="done",
                                      started_by_name=f"budget-run-{m}", finished_at=datetime(2026, m, 2))
                           for m in (10, 11))
        db.session.add_all(BankImport(tenant_id=tenant_id, filename=f"budget-bank-{i}.csv", sha256=f"{i:064d}",
                                      status="done", uploaded_by_name="แอดมิน ดี", finished_at=datetime(2026, 11, 2))
                           for i in range(2))
        db.session.flush()
        for account_id in made:
            account = db.session.get(WasteAccount, account_id)
            for month in (10, 11):
                db.session.add(WasteInvoice(
                    tenant_id=tenant_id, account_id=account_id, period_start=date(2026, month, 1),
                    period_end=date(2026, month, 30 if month == 11 else 31), due_date=date(2026, month + 1, 15),
                    premises_kind=account.premises_kind, litres_per_day=account.litres_per_day,
                    fee_code="household", amount=Decimal("20.00")))
            db.session.flush()
            first = db.session.scalars(select(WasteInvoice).where(WasteInvoice.account_id == account_id)
                                       .order_by(WasteInvoice.period_start)).first()
            receipts.issue(account, [first], paid_on=date(2026, 11, 20), method="cash", channel="counter",
                           actor_id=admin.id, actor_name="แอดมิน ดี")
        db.session.commit()
        db.session.remove()


@pytest.fixture(scope="module")
def budget_tenant(app, tmp_path_factory):
    """The walk's organisation, filled (its id); its rows and its partner's deleted after the module."""
    from app.seeds.apply import apply_paths
    from app.tenancy.models import Tenant

    folder = tmp_path_factory.mktemp("budget")
    (folder / "tenant_d.yaml").write_text(TENANT_D, encoding="utf-8")
    (folder / "tenant_e.yaml").write_text(PARTNER_E, encoding="utf-8")
    with app.app_context():
        plan = apply_paths([str(folder / "tenant_d.yaml"), str(folder / "tenant_e.yaml")])
        assert not plan.errors, [str(e) for e in plan.errors]
        with platform_scope():
            ids = dict(db.session.execute(select(Tenant.dla_code, Tenant.id).where(
                Tenant.dla_code.in_([TENANT_CODE, PARTNER_CODE]))).all())
        _empty(ids[TENANT_CODE], ids[PARTNER_CODE])  # a run stopped half-way left rows
        _fill(ids[TENANT_CODE], ids[PARTNER_CODE])
    yield ids[TENANT_CODE]
    with app.app_context():
        _empty(ids[TENANT_CODE], ids[PARTNER_CODE])


def _empty(tenant_id: int, partner_id: int) -> None:
    """Every row _fill made (the seed's organisation, people and services stay, as the seeds made them)."""
    from app.api.models import IntegrationKey, WebhookDelivery, WebhookSubscription
    from app.billing.models import (BankImport, BankImportLine, BillingRun, Payment, WasteAccount, WasteAccountTier,
                                    WasteInvoice, WasteReceipt, WasteReceiptLine, WasteRoute)
    from app.catalog.models import ServiceRequest, ServiceType
    from app.saraban import models as saraban
    from app.service_requests.models import Delegation, Forwarding, Notification, TenantClosure

    order = (WebhookDelivery, WebhookSubscription, IntegrationKey, WasteReceipt, WasteInvoice,
             BillingRun, BankImportLine, BankImport, WasteAccountTier, WasteAccount, WasteRoute,
             saraban.ReviewStep, saraban.Routing, saraban.Endorsement, saraban.DocumentAccess, saraban.Document,
             Notification, Delegation, TenantClosure, Payment, Forwarding, ServiceRequest)
    for tenant in (partner_id, tenant_id):
        with tenant_scope(tenant):
            db.session.execute(delete(WasteReceiptLine))
            db.session.execute(update(WasteInvoice).values(receipt_id=None))
            for model in order:
                db.session.execute(delete(model))
            db.session.execute(delete(ServiceType).where(ServiceType.code == "waste_collection_registration"))
            db.session.commit()
    db.session.remove()


def _menu_lists(app):
    """(url, view name) of every menu entry that is a list screen of this app."""
    from flask_appbuilder import ModelView

    with app.test_request_context():
        appbuilder = app.appbuilder
        found = []

        def walk(items):
            for item in items:
                if item.childs:
                    walk(item.childs)
                    continue
                if not item.name or item.name == "-":
                    continue
                try:
                    url = item.get_url()
                except Exception:  # a menu entry whose endpoint is missing
                    continue
                if not url or url.startswith("http"):
                    continue
                view = item.baseview
                if isinstance(view, ModelView) and url.rstrip("/").endswith("/list"):
                    found.append((url, type(view).__name__))
                elif url in LIST_SCREENS:
                    found.append((url, None))

        walk(appbuilder.menu.get_list())
    return sorted(set(found))


def test_menu_has_lists(app):
    lists = _menu_lists(app)
    assert len(lists) > 15, lists
    assert ("/memberships/list/", "MembershipView") in lists
    assert {url for url, _view in lists} >= LIST_SCREENS


def _rows_shown(url: str, view, html: str) -> int:
    if view:
        return record_count(html)
    return len(set(re.findall(MARKERS[url], html)))


def test_every_menu_list_within_budget(app, budget_tenant):
    client = login(app.test_client(), "d.admin")
    lists = _menu_lists(app)
    report, over, empty, refused = [], [], [], []
    for url, view in lists:
        sizes = (25, 100) if view else (None,)
        counts = []
        for size in sizes:
            target = f"{url}{'&' if '?' in url else '?'}psize_{view}={size}" if size else url
            seen, response = page_statements(app, client, target)
            if response.status_code in (302, 403, 404):  # not this admin's screen (platform operators')
                counts = None
                refused.append(url)
                break
            assert response.status_code == 200, (target, response.status_code)
            counts.append(len(seen))
            shown = _rows_shown(url, view, response.get_data(as_text=True))
            if shown < (1 if url in ONE_ROW else 2):
                empty.append((target, shown))
        if counts is None:
            continue
        report.append((url, counts))
        budget = OVER_BUDGET.get(url, MAX_STATEMENTS)
        if max(counts) > budget or len(set(counts)) != 1:
            over.append((url, counts, seen))
    for url, counts in report:
        print(f"{url}: {counts}")
    # every list is walked: only the platform operators' screens are refused to the organisation's admin
    assert set(refused) == PLATFORM_SCREENS, refused
    assert len(report) == len(lists) - len(refused) and len(report) > 25, report
    assert not empty, empty
    assert not over, [(u, c, [" ".join(s.split())[:120] for s in seen]) for u, c, seen in over]


def test_memberships_search_offers_this_organisations_choices(app, budget_tenant):
    """The search drop-downs, now read in one statement, still offer exactly this organisation's people and
    กอง (and the roles), as FAB's own queries did."""
    from flask_appbuilder.security.sqla.models import User

    from app.security.models import RoleTemplate
    from app.tenancy.models import Division
    from tests.conftest import search_options

    html = login(app.test_client(), "d.admin").get("/memberships/list/").get_data(as_text=True)
    options = search_options(html)
    with app.app_context(), tenant_scope(budget_tenant):
        users = {str(u.id): str(u) for u in db.session.scalars(select(User))}
        divisions = {str(d.id): str(d) for d in db.session.scalars(select(Division))}
        roles = {str(r.id) for r in db.session.scalars(select(RoleTemplate))}
        db.session.remove()
    assert options["user"] == users and options["division"] == divisions
    assert set(options["role"]) == roles


def test_tenant_a_sees_none_of_the_walks_rows(app, budget_tenant, tenant_a):
    client = login(app.test_client(), "a.admin")
    for url in ("/inbox/", "/inbox/approvals", "/forwardings/", "/notifications/", "/saraban/inbox/",
                "/service-requests/list/", "/saraban/incoming/list/", "/saraban/outgoing/list/"):
        html = client.get(url).get_data(as_text=True)
        assert "งบ-" not in html, url


def test_saraban_inbox_offers_the_same_choices(app, budget_tenant):
    """With a confidential letter waiting, the endorse forms offer the staff (recipients by name) and the กอง
    exactly as the letter's own page does (SarabanIncomingView._staff, _divisions), from one statement."""
    from flask_appbuilder.security.sqla.models import User

    from app.saraban.incoming_views import SarabanIncomingView, _divisions

    html = login(app.test_client(), "d.admin").get("/saraban/inbox/").get_data(as_text=True)
    with app.app_context(), tenant_scope(budget_tenant):
        staff, divisions = SarabanIncomingView._staff(), _divisions()
        people = db.session.scalar(select(func.count()).select_from(User).where(User.tenant_id == budget_tenant))
        db.session.remove()
    assert len(staff) == people and len(divisions) > 3
    select_html = re.search(r'<select name="recipient_ids"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert re.findall(r'<option value="(\d+)">([^<]*)</option>', select_html) == [
        (value, name.replace("&", "&amp;")) for value, name in staff]
    boxes = re.findall(r'name="division_ids" value="(\d+)"', html)
    assert boxes[:len(divisions)] == [value for value, _name in divisions]

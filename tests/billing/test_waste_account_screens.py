"""The clerk's screens for waste-fee accounts, routes and settings: every step goes through accounts.py (Thai
messages by field, nothing written on a mistake, what was typed kept), and tenant B's accounts and routes are
invisible and untouchable for A in lists, pages, searches, drop-downs and posts."""
import re
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import event, func, select

from app import thai
from app.billing.models import WasteAccount, WasteAccountTier, WasteInvoice, WasteRoute, WasteSettings
from app.extensions import db
from app.tenancy.context import platform_scope, tenant_scope
from tests.billing.waste import POSTCODE, SUBDISTRICT, open_account, waste  # noqa: F401
from tests.conftest import ids_in_links, search_options, select_options


def _form(**overrides) -> dict:
    data = {"premises_kind": "household", "holder_name": "นายสมปอง ทดสอบ", "litres_per_day": "20",
            "phone": "0812345678", "address-line": "12 หมู่ 4", "address-postcode": POSTCODE,
            "address-subdistrict": SUBDISTRICT, "start_date": "01/10/2569", "route_id": "", "route_seq": "3"}
    data.update(overrides)
    return data


def _count(app, model, tenant_id, **where):
    with app.app_context(), tenant_scope(tenant_id):
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return db.session.scalar(stmt)


def _get(app, model, pk):
    with app.app_context(), platform_scope():
        found = db.session.get(model, pk)
        db.session.expunge_all()
        return found


def _errors(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", e).strip() for e in re.findall(r'class="alert alert-danger field-error"[^>]*>(.*?)</div>',
                                                               html, re.S)]


@contextmanager
def _statements(app):
    with app.app_context():
        engine = db.engine
    seen = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


# --- routes -------------------------------------------------------------------------------------------------

def test_routes_add_with_thai_days_and_a_duplicate_code_is_refused(app, client_for, waste):
    a = waste["a"]
    admin = client_for("a.admin")
    response = admin.post("/waste/routes/add", data={"code": "RT-NEW", "name_th": "สายทดสอบใหม่",
                                                     "collection_days": ["mon", "thu"], "active": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    with app.app_context(), tenant_scope(a.tenant_id):
        route = db.session.scalar(select(WasteRoute).where(WasteRoute.code == "RT-NEW"))
        assert route.collection_days == "mon,thu" and route.active
        route_id = route.id
    html = admin.get("/waste/routes/list/").get_data(as_text=True)
    assert "RT-NEW" in html and "จันทร์, พฤหัสบดี" in html
    # the same code again: a Thai message under the field, the form kept, no second row, no 500
    before = _count(app, WasteRoute, a.tenant_id)
    response = admin.post("/waste/routes/add", data={"code": "RT-NEW", "name_th": "สายซ้ำ", "collection_days": ["tue"]})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "ถูกใช้แล้ว" in html and "สายซ้ำ" in html
    assert _count(app, WasteRoute, a.tenant_id) == before
    # a code with a space is refused in Thai too
    html = admin.post("/waste/routes/add", data={"code": "R 9", "name_th": "สายเว้นวรรค"}).get_data(as_text=True)
    assert "ตัวอักษร" in html and _count(app, WasteRoute, a.tenant_id) == before
    # editing keeps its own code, and may not take another route's
    response = admin.post(f"/waste/routes/edit/{route_id}", data={"code": "RT-NEW", "name_th": "สายทดสอบแก้ไข",
                                                                  "collection_days": ["sat"]})
    assert response.status_code == 302
    assert _get(app, WasteRoute, route_id).collection_days == "sat"
    html = admin.post(f"/waste/routes/edit/{route_id}", data={"code": "R1", "name_th": "ชนสายเดิม"}).get_data(as_text=True)
    assert "ถูกใช้แล้ว" in html and _get(app, WasteRoute, route_id).code == "RT-NEW"


def test_route_codes_of_another_organisation_are_neither_refused_nor_shown(app, client_for, waste):
    a, b = waste["a"], waste["b"]
    with app.app_context(), tenant_scope(b.tenant_id):
        secret = WasteRoute(code="B-SECRET", name_th="สายลับของบี")
        db.session.add(secret)
        db.session.commit()
        secret_id = secret.id
    admin = client_for("a.admin")
    html = admin.get("/waste/routes/list/").get_data(as_text=True)
    assert "B-SECRET" not in html and "สายลับของบี" not in html
    assert secret_id not in ids_in_links(html, "/waste/routes")
    assert admin.get(f"/waste/routes/show/{secret_id}").status_code == 404
    assert admin.post(f"/waste/routes/edit/{secret_id}", data={"code": "HACK", "name_th": "x"}).status_code == 404
    assert _get(app, WasteRoute, secret_id).code == "B-SECRET"
    found = admin.get("/waste/routes/list/?_flt_0_code=B-SECRET").get_data(as_text=True)
    assert "สายลับของบี" not in found
    # A may use the same code: B's code is not revealed by a refusal
    response = admin.post("/waste/routes/add", data={"code": "B-SECRET", "name_th": "สายของเอเอง"})
    assert response.status_code == 302
    assert _count(app, WasteRoute, a.tenant_id, code="B-SECRET") == 1


def test_route_list_counts_accounts_in_one_query_for_the_page(app, client_for, waste):
    a = waste["a"]
    with app.app_context(), tenant_scope(a.tenant_id):
        route = WasteRoute(code="CNT1", name_th="สายนับ")
        db.session.add(route)
        db.session.commit()
        route_id = route.id
    with app.app_context():
        for _i in range(2):
            open_account(a.tenant_id, route_id=route_id)
        open_account(a.tenant_id, route_id=route_id, end_date="2026-10-31")  # closed: not counted
        open_account(waste["b"].tenant_id, route_id=waste["b"].route_id)
    admin = client_for("a.admin")
    url = "/waste/routes/list/?_flt_0_code=CNT"
    html = admin.get(url).get_data(as_text=True)
    row = re.search(r"CNT1.*?</tr>", html, re.S).group(0)
    assert re.search(r">\s*2\s*<", row), row
    shown = admin.get(f"/waste/routes/show/{route_id}").get_data(as_text=True)
    assert "จำนวนผู้ใช้บริการ" in shown and re.search(r">\s*2\s*</span>", shown), shown[-3000:]
    with _statements(app) as few:
        admin.get("/waste/routes/list/")
    with app.app_context(), tenant_scope(a.tenant_id):
        for n in range(5):
            db.session.add(WasteRoute(code=f"CNTX{n}", name_th=f"สายเพิ่ม {n}"))
        db.session.commit()
    with _statements(app) as many:
        admin.get("/waste/routes/list/")
    assert len(many) == len(few), (len(few), len(many))


# --- accounts: add, edit ------------------------------------------------------------------------------------

def test_a_bad_account_is_refused_by_field_in_thai_and_nothing_is_written(app, client_for, waste):
    a = waste["a"]
    officer = client_for("a.officer")
    page = officer.get("/waste/accounts/add").get_data(as_text=True)
    assert 'name="address-postcode"' in page and "thai-date" in page
    before = _count(app, WasteAccount, a.tenant_id)
    tiers_before = _count(app, WasteAccountTier, a.tenant_id)
    response = officer.post("/waste/accounts/add", data=_form(
        premises_kind="business", business_name="", holder_name="ก", litres_per_day="-5", national_id="1234567890123",
        start_date="31/02/2569", **{"address-postcode": "10200"}, end_date="2026-01-01"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    errors = _errors(html)
    assert len(errors) >= 6, errors
    for row in ("holder_name", "business_name", "national_id", "litres_per_day", "start_date", "address", "end_date"):
        assert f'class="has-error" id="row-{row}"' in html, row
    assert "ไม่มีอยู่จริง" in html  # 31 February
    assert "พุทธศักราช" in html or "พ.ศ." in html  # a C.E.-looking date
    # what was typed is kept
    assert 'value="-5"' in html and 'value="1234567890123"' in html and "31/02/2569" in html
    assert _count(app, WasteAccount, a.tenant_id) == before
    assert _count(app, WasteAccountTier, a.tenant_id) == tiers_before


def test_a_good_account_is_opened_with_its_first_tier_and_check_code(app, client_for, waste):
    a = waste["a"]
    officer = client_for("a.officer")
    response = officer.post("/waste/accounts/add", data=_form(holder_name="นางบัวผัน เปิดบัญชี",
                                                              route_id=str(a.route2_id)))
    assert response.status_code == 302, _errors(response.get_data(as_text=True))
    pk = int(re.search(r"/waste/accounts/show/(\d+)", response.headers["Location"]).group(1))
    with app.app_context(), tenant_scope(a.tenant_id):
        account = db.session.get(WasteAccount, pk)
        assert account.holder_name == "นางบัวผัน เปิดบัญชี" and account.route_id == a.route2_id
        assert account.start_date == date(2026, 10, 1) and account.route_seq == 3
        assert account.subdistrict_code == SUBDISTRICT and account.litres_per_day == Decimal("20")
        assert db.session.scalar(select(func.count()).select_from(WasteAccountTier)
                                 .where(WasteAccountTier.account_id == pk)) == 1
        check_code, number = account.check_code, account.account_no
    page = officer.get(f"/waste/accounts/show/{pk}").get_data(as_text=True)
    assert check_code in page and number in page and "บ้านเรือน" in page and "1 ต.ค. 2569" in page.replace("ตุลาคม", "ต.ค.")
    # edit: contact and route through update_contact; a mistake keeps the rest
    html = officer.post(f"/waste/accounts/edit/{pk}", data={
        "holder_name": "นางบัวผัน แก้ชื่อ", "phone": "123", "address-line": "12 หมู่ 4", "address-postcode": POSTCODE,
        "address-subdistrict": SUBDISTRICT, "route_id": str(a.route_id), "route_seq": "1"}).get_data(as_text=True)
    assert "นางบัวผัน แก้ชื่อ" in html and _errors(html)
    assert _get(app, WasteAccount, pk).holder_name == "นางบัวผัน เปิดบัญชี"
    response = officer.post(f"/waste/accounts/edit/{pk}", data={
        "holder_name": "นางบัวผัน แก้ชื่อ", "phone": "0899999999", "address-line": "12 หมู่ 4",
        "address-postcode": POSTCODE, "address-subdistrict": SUBDISTRICT, "route_id": str(a.route_id),
        "route_seq": "1"})
    assert response.status_code == 302
    saved = _get(app, WasteAccount, pk)
    assert saved.holder_name == "นางบัวผัน แก้ชื่อ" and saved.route_id == a.route_id and saved.route_seq == 1


def test_tier_change_and_closing_from_the_account_page(app, client_for, waste):
    a = waste["a"]
    with app.app_context():
        pk = open_account(a.tenant_id, holder_name="นายเปลี่ยน อัตรา")
    officer = client_for("a.officer")
    html = officer.post(f"/waste/accounts/tier/{pk}", data={"premises_kind": "household", "litres_per_day": "abc",
                                                            "effective_from": "01/09/2569"}).get_data(as_text=True)
    assert _errors(html) and 'value="abc"' in html
    assert _count(app, WasteAccountTier, a.tenant_id, account_id=pk) == 1
    response = officer.post(f"/waste/accounts/tier/{pk}", data={"premises_kind": "household", "litres_per_day": "30",
                                                                "effective_from": "01/12/2569"})
    assert response.status_code == 302
    assert _count(app, WasteAccountTier, a.tenant_id, account_id=pk) == 2
    assert _get(app, WasteAccount, pk).litres_per_day == Decimal("30")
    page = officer.get(f"/waste/accounts/show/{pk}").get_data(as_text=True)
    assert page.count('class="tier"') == 2
    html = officer.post(f"/waste/accounts/close/{pk}", data={"end_date": "01/01/2560"}).get_data(as_text=True)
    assert _errors(html) and _get(app, WasteAccount, pk).end_date is None
    assert officer.post(f"/waste/accounts/close/{pk}", data={"end_date": "31/12/2569"}).status_code == 302
    assert _get(app, WasteAccount, pk).end_date == date(2026, 12, 31)


def test_the_account_page_shows_bills_receipts_and_arrears(app, client_for, waste):
    from app.billing import receipts

    a = waste["a"]
    with app.app_context():
        pk = open_account(a.tenant_id, holder_name="นายค้าง ชำระ")
        with tenant_scope(a.tenant_id):
            today = thai.today_bangkok()
            old = WasteInvoice(account_id=pk, period_start=date(2026, 10, 1), period_end=date(2026, 10, 31),
                               due_date=today - timedelta(days=5), premises_kind="household",
                               litres_per_day=Decimal("20"), fee_code="collection_household", amount=Decimal("40.00"))
            paid = WasteInvoice(account_id=pk, period_start=date(2026, 11, 1), period_end=date(2026, 11, 30),
                                due_date=today + timedelta(days=10), premises_kind="household",
                                litres_per_day=Decimal("20"), fee_code="collection_household", amount=Decimal("40.00"))
            current = WasteInvoice(account_id=pk, period_start=date(2026, 12, 1), period_end=date(2026, 12, 31),
                                   due_date=today + timedelta(days=20), premises_kind="household",
                                   litres_per_day=Decimal("20"), fee_code="collection_household",
                                   amount=Decimal("40.00"))
            db.session.add_all([old, paid, current])
            db.session.flush()
            account = db.session.get(WasteAccount, pk)
            receipt = receipts.issue(account, [paid], paid_on=today, method="cash", channel="counter",
                                     actor_id=None, actor_name="ผู้ทดสอบ")
            db.session.commit()
            label = receipt.label
    page = client_for("a.officer").get(f"/waste/accounts/show/{pk}").get_data(as_text=True)
    assert page.count('class="bill') == 3 and label in page
    arrears = re.search(r'id="arrears">(.*?)</td>', page, re.S).group(1)
    assert "48.00" in arrears  # the overdue bill with its 20 % surcharge; the bill not yet due is not arrears
    assert "ตุลาคม 2569" in page and "ยังไม่ชำระ" in page and "เกินกำหนด" in page
    with app.app_context(), platform_scope():
        receipt_id = db.session.scalar(select(WasteInvoice.receipt_id).where(WasteInvoice.account_id == pk,
                                                                             WasteInvoice.receipt_id.is_not(None)))
    assert f"/waste/receipts/{receipt_id}/pdf" in page  # the receipt's PDF, for those who may print it
    mayor_page = client_for("a.mayor").get(f"/waste/accounts/show/{pk}").get_data(as_text=True)
    assert label in mayor_page and "48.00" in mayor_page


def test_another_organisations_accounts_are_invisible_and_untouchable(app, client_for, waste):
    a, b = waste["a"], waste["b"]
    with app.app_context():
        b_pk = open_account(b.tenant_id, holder_name="นายบี ลับเฉพาะ", route_id=b.route_id)
        a_pk = open_account(a.tenant_id, holder_name="นายเอ ของเรา", route_id=a.route_id)
    b_account = _get(app, WasteAccount, b_pk)
    officer = client_for("a.officer")
    html = officer.get("/waste/accounts/list/").get_data(as_text=True)
    assert "นายบี ลับเฉพาะ" not in html and b_pk not in ids_in_links(html, "/waste/accounts")
    assert a_pk in ids_in_links(officer.get("/waste/accounts/list/?_flt_0_holder_name=นายเอ").get_data(as_text=True),
                                "/waste/accounts")
    for query in ("_flt_0_holder_name=นายบี", f"_flt_0_account_no={b_account.account_no}"):
        found = officer.get(f"/waste/accounts/list/?{query}").get_data(as_text=True)
        assert "นายบี ลับเฉพาะ" not in found and b_pk not in ids_in_links(found, "/waste/accounts")
    found = officer.get(f"/waste/accounts/list/?_flt_0_route={b.route_id}").get_data(as_text=True)
    assert "นายบี ลับเฉพาะ" not in found
    found = officer.get(f"/waste/accounts/list/?_flt_0_route={a.route_id}&_flt_0_holder_name=นายเอ ของ"
                        ).get_data(as_text=True)
    assert a_pk in ids_in_links(found, "/waste/accounts") and "นายบี ลับเฉพาะ" not in found
    # the kind of premises is chosen by its Thai name; a list page's statements do not grow with its rows
    listed = officer.get("/waste/accounts/list/?_flt_0_premises_kind=household&_flt_0_holder_name=นายเอ ของ"
                         ).get_data(as_text=True)
    assert a_pk in ids_in_links(listed, "/waste/accounts") and "บ้านเรือน" in listed
    assert search_options(listed)["premises_kind"] == {"household": "บ้านเรือน", "business": "ร้านค้า/สถานประกอบการ"}
    with app.app_context():
        for n in range(6):
            open_account(a.tenant_id, holder_name=f"นายหน้า ที่{n}", route_id=a.route2_id)
    with _statements(app) as few:
        officer.get("/waste/accounts/list/?psize_WasteAccountView=5")
    with _statements(app) as many:
        page = officer.get("/waste/accounts/list/?psize_WasteAccountView=50").get_data(as_text=True)
    assert len(ids_in_links(page, "/waste/accounts")) > 5
    assert len(many) == len(few), (len(few), len(many))
    # the route drop-downs (add form, search) hold A's routes only
    with app.app_context(), tenant_scope(a.tenant_id):
        a_routes = {str(i) for i in db.session.scalars(select(WasteRoute.id).where(WasteRoute.active.is_(True)))}
    with app.app_context(), tenant_scope(b.tenant_id):
        b_routes = {str(i) for i in db.session.scalars(select(WasteRoute.id))}
    assert select_options(officer.get("/waste/accounts/add").get_data(as_text=True), "route_id") == a_routes
    assert not set(search_options(html)["route"]) & b_routes
    # pages and posts of B's account: not found, nothing changed
    assert officer.get(f"/waste/accounts/show/{b_pk}").status_code == 404
    assert officer.get(f"/waste/accounts/edit/{b_pk}").status_code == 404
    assert officer.post(f"/waste/accounts/edit/{b_pk}", data={"holder_name": "แฮก"}).status_code == 404
    assert officer.post(f"/waste/accounts/tier/{b_pk}", data={"litres_per_day": "500",
                                                              "effective_from": "01/12/2569"}).status_code == 404
    assert officer.post(f"/waste/accounts/close/{b_pk}", data={"end_date": "31/12/2569"}).status_code == 404
    assert officer.post(f"/waste/accounts/delete/{b_pk}").status_code in (403, 404, 405)
    after = _get(app, WasteAccount, b_pk)
    assert (after.holder_name, after.end_date, after.litres_per_day) == ("นายบี ลับเฉพาะ", None, Decimal("20"))
    # B's route given to A's account (add or edit): refused, nothing written
    before = _count(app, WasteAccount, a.tenant_id)
    html = officer.post("/waste/accounts/add", data=_form(route_id=str(b.route_id))).get_data(as_text=True)
    assert "สายเก็บขน" in " ".join(_errors(html)) and _count(app, WasteAccount, a.tenant_id) == before
    html = officer.post(f"/waste/accounts/edit/{a_pk}", data={
        "holder_name": "นายเอ ของเรา", "address-line": "1", "address-postcode": POSTCODE,
        "address-subdistrict": SUBDISTRICT, "route_id": str(b.route_id)}).get_data(as_text=True)
    assert _errors(html) and _get(app, WasteAccount, a_pk).route_id == a.route_id


def test_who_may_see_and_change_accounts(app, client_for, waste):
    a = waste["a"]
    with app.app_context():
        pk = open_account(a.tenant_id, holder_name="นายสิทธิ์ ทดสอบ")
    mayor = client_for("a.mayor")
    assert mayor.get("/waste/accounts/list/").status_code == 200
    page = mayor.get(f"/waste/accounts/show/{pk}").get_data(as_text=True)
    assert "นายสิทธิ์ ทดสอบ" in page and 'id="tier-form"' not in page and 'id="close-form"' not in page
    assert mayor.get("/waste/accounts/add").status_code == 403
    assert mayor.post(f"/waste/accounts/close/{pk}", data={"end_date": "31/12/2569"}).status_code == 403
    assert mayor.get("/waste/routes/list/").status_code == 200
    assert mayor.post("/waste/routes/add", data={"code": "MAYOR", "name_th": "x"}).status_code == 403
    assert client_for("a.manager").get("/waste/accounts/list/").status_code == 403
    assert app.test_client().get("/waste/accounts/list/").status_code in (302, 401)
    assert _get(app, WasteAccount, pk).end_date is None


def test_english_on_request(app, client_for, waste):
    with app.app_context():
        pk = open_account(waste["a"].tenant_id, holder_name="Mr English")
    officer = client_for("a.officer")
    officer.get("/lang/en")
    try:
        html = officer.get("/waste/accounts/list/").get_data(as_text=True)
        assert "Service accounts" in html and "Household, 20 litres a day" in html
        html = officer.post("/waste/accounts/add", data=_form(holder_name="", litres_per_day="x")).get_data(as_text=True)
        assert "This field is required." in " ".join(_errors(html)) and "Service address" in html
        page = officer.get(f"/waste/accounts/show/{pk}").get_data(as_text=True)
        assert "Check code" in page and "Tier history" in page
        assert "Monday" in officer.get("/waste/routes/list/").get_data(as_text=True)
    finally:
        officer.get("/lang/th")


# --- settings -----------------------------------------------------------------------------------------------

def test_settings_are_checked_saved_per_organisation_and_show_the_schedule(app, client_for, waste):
    a, b = waste["a"], waste["b"]
    admin = client_for("a.admin")
    page = admin.get("/waste/settings/").get_data(as_text=True)
    assert 'id="price-examples"' in page and "40.00" in page and "80.00" in page  # 20 and 40 litres
    assert select_options(page, "period_months") == {"1", "2", "3", "4", "6", "12"}
    assert "waste_collection_registration" in select_options(page, "service_code")
    with app.app_context(), tenant_scope(a.tenant_id):
        before = db.session.scalar(select(WasteSettings))
        before = (before.period_months, before.due_days, before.service_code) if before else None
    html = admin.post("/waste/settings/", data={"period_months": "5", "due_days": "100",
                                                "service_code": "no_such_service"}).get_data(as_text=True)
    assert len(_errors(html)) == 3 and 'value="100"' in html
    try:
        response = admin.post("/waste/settings/", data={"period_months": "3", "due_days": "30",
                                                        "service_code": "waste_collection_registration"})
        assert response.status_code == 302
        with app.app_context(), tenant_scope(a.tenant_id):
            saved = db.session.scalar(select(WasteSettings))
            assert (saved.period_months, saved.due_days) == (3, 30)
        with app.app_context(), tenant_scope(b.tenant_id):
            other = db.session.scalar(select(WasteSettings))
            assert other is None or (other.period_months, other.due_days) != (3, 30)
        page = admin.get("/waste/settings/").get_data(as_text=True)
        assert "120.00" in page  # a 3-month period of the 40-baht tier
    finally:
        with app.app_context(), tenant_scope(a.tenant_id):
            saved = db.session.scalar(select(WasteSettings))
            if before is None:
                db.session.delete(saved)
            else:
                saved.period_months, saved.due_days, saved.service_code = before
            db.session.commit()
    assert client_for("a.officer").get("/waste/settings/").status_code == 403
    assert client_for("a.officer").post("/waste/settings/", data={"period_months": "12"}).status_code == 403

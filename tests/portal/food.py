"""The food-premises notification (seeds/services/food_premises_notification.yaml) offered by tenant A, with a
director of its กองสาธารณสุขฯ, for the portal's walk, bad-input and browser tests."""
import io
import re

import geothai
import pytest
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select

from app.extensions import db
from app.security.models import Membership, RoleTemplate
from app.tenancy.context import platform_scope, tenant_scope
from tests.conftest import PASSWORD, login

CODE = "food_premises_notification"
BILLER = "099400016550100"
CHIEF = "a.food.chief"  # ผอ.กองสาธารณสุขฯ: accepts, asks for the fee, hands over
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SUBDISTRICT = geothai.by_postal_code("50100")[0].code


def valid_form(consent: str, **changes) -> dict:
    """Every field of the notification filled in as a citizen would, with the two required documents."""
    data = {
        "operator_name": "นางแดง ใจดี", "national_id": "1101700203450",
        "operator_address-line": "99/1 หมู่ 3 ถนนเชียงใหม่-ลำพูน", "operator_address-subdistrict": SUBDISTRICT,
        "operator_address-postcode": "50100", "phone": "081-234-5678", "email": "daeng@example.com",
        "premises_name": "ร้านป้าแดงข้าวซอย", "premises_address-line": "12 หมู่ 1",
        "premises_address-subdistrict": SUBDISTRICT, "premises_address-postcode": "50100",
        "premises_location": "18.7883, 98.9853", "premises_type": "food_sale", "food_kinds": ["cooked", "drinks"],
        "area": "40", "staff_count": "3", "seats": "20", "opening_hours": "07.00-15.00 น.",
        "food_safety_training": "yes", "start_date": "01/12/2569",
        "filing_kind": "new",  # (a field of later versions of the template; ignored where it is not)
        "doc_id_card_copy": (io.BytesIO(PDF), "id-card.pdf"),
        "doc_house_registration_copy": (io.BytesIO(PDF), "house.pdf"),
        "consent": consent, "contact_email": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def submit(app, client, consent, **changes):
    response = client.post(f"/t/1000001/services/{CODE}/new", data=valid_form(consent, **changes),
                           content_type="multipart/form-data")
    assert response.status_code == 302, re.findall(r'(?:help-block|text-danger)[^>]*>([^<]+)<',
                                                   response.get_data(as_text=True))
    pk = int(re.search(r"/submitted/(\d+)", response.headers["Location"]).group(1))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    return pk, re.search(r'id="tracking-secret">([A-Z0-9-]+)<', html).group(1)


@pytest.fixture(scope="module")
def food(app, tenant_a, tmp_path_factory):
    """A offers the real template, has a health director (added through the admin screens) and a biller ID;
    all of it undone afterwards."""
    from app.tenancy.models import Tenant
    from tests.service_requests.test_walks import _offer

    _offer(app, tmp_path_factory.mktemp("food-seed"), CODE)
    admin = login(app.test_client(), "a.admin")
    with app.app_context(), tenant_scope(tenant_a.id):
        known = db.session.scalar(select(User.id).where(User.username == CHIEF))
        role = db.session.scalar(select(RoleTemplate.id).where(RoleTemplate.code == "division_director"))
    profile = {"first_name": "ประภา", "last_name": "สาธารณสุข", "email": "chief@a.test", "active": "y"}
    if known:
        assert admin.post(f"/org-users/edit/{known}", data=profile).status_code == 302
    else:
        assert admin.post("/org-users/add", data={**profile, "username": CHIEF, "password": PASSWORD,
                                                  "conf_password": PASSWORD}).status_code == 302
    with app.app_context(), tenant_scope(tenant_a.id):
        user_id = db.session.scalar(select(User.id).where(User.username == CHIEF))
    assert admin.post("/memberships/add", data={"user": user_id, "division": tenant_a.division_ids["health"],
                                                "role": role}).status_code == 302
    with app.app_context(), platform_scope():
        tenant = db.session.get(Tenant, tenant_a.id)
        old_biller, tenant.promptpay_biller_id = tenant.promptpay_biller_id, BILLER
        db.session.commit()
    yield {"user_id": user_id}
    with app.app_context(), tenant_scope(tenant_a.id):
        held = list(db.session.scalars(select(Membership.id).where(Membership.user_id == user_id)))
    for pk in held:
        assert admin.post(f"/memberships/delete/{pk}").status_code == 302
    assert admin.post(f"/org-users/edit/{user_id}", data={k: v for k, v in profile.items()
                                                          if k != "active"}).status_code == 302
    with app.app_context(), platform_scope():
        db.session.get(Tenant, tenant_a.id).promptpay_biller_id = old_biller
        db.session.commit()

"""Certificate numbers: one series per organisation and fiscal year, without gaps even when a step is rolled
back or two are issued at once; the public verification page shows only what the certificate says."""
import threading
from datetime import date, timedelta

from sqlalchemy import select

from app.numbering import next_number
from app.certificates.models import Certificate
from app.extensions import db
from app.tenancy.context import platform_scope, tenant_scope
from app.tenancy.models import utcnow


def test_numbers_have_no_gaps_and_each_organisation_its_own(app, tenant_a, tenant_b):
    with app.app_context(), tenant_scope(tenant_a.id):
        first = next_number("T1", 2570)
        db.session.commit()
        next_number("T1", 2570)
        db.session.rollback()  # the step failed: its number is not used up
        assert next_number("T1", 2570) == first + 1
        assert next_number("T1", 2571) == 1 and next_number("T2", 2570) == 1
        db.session.commit()
    with app.app_context(), tenant_scope(tenant_b.id):
        assert next_number("T1", 2570) == 1
        db.session.commit()


def test_numbers_issued_at_once_never_repeat(app, tenant_a):
    taken, errors = [], []

    def worker():
        try:
            for _ in range(10):
                with app.app_context(), tenant_scope(tenant_a.id):
                    taken.append(next_number("T3", 2570))
                    db.session.commit()
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sorted(taken) == list(range(1, 31))


def _certificate(app, tenant_id, request_id, **values):
    with app.app_context(), tenant_scope(tenant_id):
        c = Certificate(request_id=request_id, series="T9", fiscal_year=2570, number=next_number("T9", 2570),
                        token=values.pop("token"), title_th="หนังสือรับรองทดสอบ", holder_name="ร้านป้าแดง",
                        issued_on=date.today(), **values)
        db.session.add(c)
        db.session.commit()


def test_the_verification_page(app, client_for, tenant_a, service):
    from tests.service_requests.conftest import file_complaint

    pk = file_complaint(client_for("a.officer"), service)
    good, old, gone = "g" * 32, "o" * 32, "r" * 32
    _certificate(app, tenant_a.id, pk, token=good, expires_on=date.today() + timedelta(days=365))
    with app.app_context(), tenant_scope(tenant_a.id):
        db.session.query(Certificate).filter(Certificate.token == good).one()
    client = app.test_client()
    page = client.get(f"/verify/{good}").get_data(as_text=True)
    assert "ถูกต้องและยังมีผลใช้บังคับ" in page and "ร้านป้าแดง" in page and "องค์การบริหารส่วนตำบลเอ" in page
    assert "somsri" not in page and "ไฟทางดับ" not in page  # nothing of the request beyond the certificate
    with app.app_context(), platform_scope():
        c = db.session.scalar(select(Certificate).where(Certificate.token == good))
        c.expires_on, c.token = date.today() - timedelta(days=1), old
        db.session.commit()
    assert "หมดอายุ" in client.get(f"/verify/{old}").get_data(as_text=True)
    with app.app_context(), platform_scope():
        c = db.session.scalar(select(Certificate).where(Certificate.token == old))
        c.revoked_at, c.token = utcnow(), gone
        db.session.commit()
    assert "เพิกถอน" in client.get(f"/verify/{gone}").get_data(as_text=True)
    response = client.get(f"/verify/{'x' * 32}")
    assert response.status_code == 404 and "ไม่พบหนังสือรับรอง" in response.get_data(as_text=True)
    assert client.get("/verify/short").status_code == 404

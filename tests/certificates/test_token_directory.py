"""The platform directory of verification tokens (certificate_tokens) follows the certificates whatever writes them:
a new certificate is listed under its organisation, a changed token moves, a rolled-back or deleted certificate
leaves nothing; the verification page finds a certificate through it, in the right organisation."""
from datetime import date

from sqlalchemy import select

from app.certificates.models import Certificate, CertificateToken
from app.extensions import db
from app.numbering import next_number
from app.tenancy.context import platform_scope, tenant_scope


def _entries(app) -> dict[str, tuple[int, int]]:
    with app.app_context(), platform_scope():
        rows = db.session.scalars(select(CertificateToken).where(CertificateToken.token.like("dir-%"))).all()
        return {r.token: (r.organisation_id, r.certificate_id) for r in rows}


def _issue(app, tenant_id: int, request_id: int, token: str, *, series: str = "DIR", commit: bool = True) -> int:
    with app.app_context(), tenant_scope(tenant_id):
        c = Certificate(request_id=request_id, series=series, fiscal_year=2570, number=next_number(series, 2570),
                        token=token, title_th="หนังสือรับรองทดสอบ", holder_name="ร้านป้าแดง", issued_on=date.today())
        db.session.add(c)
        db.session.flush()
        pk = c.id
        db.session.commit() if commit else db.session.rollback()
        return pk


def test_the_directory_follows_the_certificates(app, client_for, tenant_a, tenant_b, service):
    from tests.service_requests.conftest import file_complaint

    request_id = file_complaint(client_for("a.officer"), service)
    pk = _issue(app, tenant_a.id, request_id, "dir-" + "a" * 28)
    assert _entries(app) == {"dir-" + "a" * 28: (tenant_a.id, pk)}

    _issue(app, tenant_a.id, request_id, "dir-" + "r" * 28, series="DIR2", commit=False)  # rolled back: no entry either
    assert set(_entries(app)) == {"dir-" + "a" * 28}

    with app.app_context(), tenant_scope(tenant_a.id):
        db.session.get(Certificate, pk).token = "dir-" + "b" * 28
        db.session.commit()
    assert _entries(app) == {"dir-" + "b" * 28: (tenant_a.id, pk)}
    page = app.test_client().get("/verify/dir-" + "b" * 28)
    assert page.status_code == 200 and "ร้านป้าแดง" in page.get_data(as_text=True)
    assert app.test_client().get("/verify/dir-" + "a" * 28).status_code == 404

    # an entry that names the wrong organisation finds nothing: the certificate is read inside the one it names
    with app.app_context(), platform_scope():
        db.session.get(CertificateToken, "dir-" + "b" * 28).organisation_id = tenant_b.id
        db.session.commit()
    assert app.test_client().get("/verify/dir-" + "b" * 28).status_code == 404
    with app.app_context(), platform_scope():
        db.session.get(CertificateToken, "dir-" + "b" * 28).organisation_id = tenant_a.id
        db.session.commit()

    with app.app_context(), tenant_scope(tenant_a.id):
        db.session.delete(db.session.get(Certificate, pk))
        db.session.commit()
    assert _entries(app) == {}

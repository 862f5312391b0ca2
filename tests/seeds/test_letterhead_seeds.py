"""Tenant seed files give the letterhead: address_th (under the organisation's name on its letters) and phone
(โทร. at the foot); idempotent; a value too long names its path and writes nothing."""
from sqlalchemy import func, select

from app.extensions import db
from app.tenancy.context import platform_scope
from app.tenancy.models import Tenant
from tests.seeds.test_seeds import NEW_TENANT, run, write

ADDRESS = "เลขที่ 9 ถนนทดลอง ตำบลทดลอง อำเภอเมืองลำปาง จังหวัดลำปาง 52000"
LETTERHEAD = NEW_TENANT.replace("1000077", "1000094").replace("trial", "lh-trial").replace(
    "province: ลำปาง}", f"province: ลำปาง, address_th: {ADDRESS}, phone: '0 5400 0000'}}")


def _letterhead(dla_code: str):
    with platform_scope():
        row = db.session.execute(select(Tenant.address_th, Tenant.phone).where(Tenant.dla_code == dla_code)).one()
        db.session.remove()
    return tuple(row)


def test_address_and_phone_from_the_seed_file(app, tmp_path):
    path = write(tmp_path, "letterhead.yaml", LETTERHEAD)
    code, output = run(app, path)
    assert code == 0, output
    with app.app_context():
        assert _letterhead("1000094") == (ADDRESS, "0 5400 0000")
    code, output = run(app, path)
    assert code == 0 and "create" not in output and "update" not in output, output
    code, output = run(app, write(tmp_path, "letterhead2.yaml", LETTERHEAD.replace("0 5400 0000", "0 5400 0001")))
    assert code == 0 and "1000094 (phone)" in output, output
    with app.app_context():
        assert _letterhead("1000094") == (ADDRESS, "0 5400 0001")


def test_a_too_long_phone_names_its_path_and_writes_nothing(app, tmp_path):
    text = LETTERHEAD.replace("1000094", "1000095").replace("lh-trial", "lh-bad").replace("0 5400 0000", "0" * 61)
    code, output = run(app, write(tmp_path, "letterhead-bad.yaml", text))
    assert code != 0 and "tenant.phone" in output, output
    with app.app_context(), platform_scope():
        assert db.session.scalar(select(func.count()).select_from(Tenant).where(Tenant.dla_code == "1000095")) == 0
        db.session.remove()


def test_the_demo_organisations_have_a_letterhead():
    import yaml

    from app.seeds.schemas import TenantSpec

    for name in ("01-chiangmai-pao", "02-maehia", "03-donkaeo"):
        with open(f"seeds/tenants/{name}.yaml", encoding="utf-8") as handle:
            spec = TenantSpec().load(yaml.safe_load(handle)["tenant"])
        assert spec["address_th"] and spec["phone"], name

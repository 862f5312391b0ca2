"""Tenant seed files and correspondence: book_prefix, the saraban section's registers, the central registers
every organisation gets even without it; idempotent; a mistake names its path and writes nothing."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.tenancy.context import platform_scope
from app.tenancy.models import Division, Tenant
from tests.seeds.test_seeds import NEW_TENANT, run, write


def _registers(dla_code: str) -> dict[tuple[str, str], tuple]:
    from app.saraban.models import Register

    with platform_scope():
        tenant = db.session.scalar(select(Tenant).where(Tenant.dla_code == dla_code))
        rows = db.session.execute(select(Register.direction, Division.code, Register.book_code, Register.year_basis)
                                  .join(Division, Division.id == Register.division_id)
                                  .where(Register.tenant_id == tenant.id)).all()
        db.session.remove()
    return {(d, c): (b, y) for d, c, b, y in rows}


def test_every_organisation_gets_its_central_registers(app, tmp_path):
    path = write(tmp_path, "plain.yaml", NEW_TENANT.replace("1000077", "1000091").replace("trial", "sb-plain"))
    code, output = run(app, path)
    assert code == 0, output
    assert "create    saraban_register 1000091/office/incoming" in output
    with app.app_context():
        assert _registers("1000091") == {("incoming", "office"): (None, "calendar"),
                                         ("outgoing", "office"): (None, "calendar")}
    code, output = run(app, path)
    assert code == 0 and "create" not in output and "update" not in output, output


SARABAN_TENANT = NEW_TENANT.replace("1000077", "1000092").replace("trial", "sb-trial").replace(
    "province: ลำปาง}", "province: ลำปาง, book_prefix: ลป 72001}") + """\
    saraban:
      registers:
        - {direction: outgoing, division: engineering, book_code: ลป 72001.3}
        - {direction: incoming, division: welfare, year_basis: fiscal}
"""


def test_book_prefix_and_division_registers(app, tmp_path):
    path = write(tmp_path, "saraban.yaml", SARABAN_TENANT)
    code, output = run(app, path)
    assert code == 0, output
    assert "create    saraban_register 1000092/engineering/outgoing" in output
    with app.app_context():
        with platform_scope():
            assert db.session.scalar(select(Tenant.book_prefix).where(Tenant.dla_code == "1000092")) == "ลป 72001"
            db.session.remove()
        registers = _registers("1000092")
        assert registers[("outgoing", "engineering")] == ("ลป 72001.3", "calendar")
        assert registers[("incoming", "welfare")] == (None, "fiscal")
        assert ("incoming", "office") in registers and len(registers) == 4
    code, output = run(app, path)
    assert code == 0 and "create" not in output and "update" not in output, output
    changed = write(tmp_path, "saraban2.yaml", SARABAN_TENANT.replace("ลป 72001.3", "ลป 72001.4"))
    code, output = run(app, changed)
    assert code == 0 and "update    saraban_register 1000092/engineering/outgoing" in output, output


@pytest.mark.parametrize("bad, where", [
    ("registers: [{direction: sideways, division: office}]", "saraban.registers[0].direction"),
    ("registers: [{direction: outgoing, division: nowhere}]", "saraban.registers[0].division"),
    ("registers: [{direction: outgoing, division: office, book_code: '<b>'}]", "saraban.registers[0].book_code"),
    ("registers: [{direction: outgoing, division: office, year_basis: lunar}]", "saraban.registers[0].year_basis"),
    ("registers: [{direction: outgoing, division: welfare}, {direction: outgoing, division: welfare}]",
     "saraban.registers[1].division"),
])
def test_bad_saraban_section_names_its_path_and_writes_nothing(app, tmp_path, bad, where):
    text = NEW_TENANT.replace("1000077", "1000093").replace("trial", "sb-bad") + f"    saraban:\n      {bad}\n"
    code, output = run(app, write(tmp_path, "saraban-bad.yaml", text))
    assert code != 0 and where in output, output
    with app.app_context(), platform_scope():
        assert db.session.scalar(select(func.count()).select_from(Tenant).where(Tenant.dla_code == "1000093")) == 0
        db.session.remove()


def test_a_bad_book_prefix_names_its_path(app, tmp_path):
    text = NEW_TENANT.replace("1000077", "1000094").replace("trial", "sb-prefix").replace(
        "province: ลำปาง}", "province: ลำปาง, book_prefix: 'ABC/12'}")
    code, output = run(app, write(tmp_path, "prefix-bad.yaml", text))
    assert code != 0 and "tenant.book_prefix" in output, output


def test_mae_hia_demo_has_its_book_code_and_engineering_register(app):
    import os

    from tests.conftest import ROOT

    code, output = run(app, os.path.join(ROOT, "seeds", "platform"), os.path.join(ROOT, "seeds", "services"),
                       os.path.join(ROOT, "seeds", "tenants"))
    assert code == 0, output
    with app.app_context():
        with platform_scope():
            assert db.session.scalar(select(Tenant.book_prefix).where(Tenant.dla_code == "6500101")) == "ชม 52101"
            from flask_appbuilder.security.sqla.models import User

            names = set(db.session.scalars(select(User.username).where(User.username.like("maehia.%"))))
            db.session.remove()
        assert {"maehia.saraban", "maehia.engineer", "maehia.mayor", "maehia.permanentsecretary",
                "maehia.divisiondirector"} <= names
        assert _registers("6500101")[("outgoing", "engineering")] == ("ชม 52101.3", "calendar")

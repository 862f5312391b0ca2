"""flask seed apply: dry-run writes nothing, apply is idempotent, every invalid file is refused whole."""
import os
import textwrap

import pytest
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import func, select

from app.extensions import db
from app.security.models import GrantLog, Membership, RoleTemplate
from app.tenancy.context import platform_scope
from app.tenancy.models import Division, Tenant, TenantType
from tests.conftest import FIXTURES, ROOT

MODELS = (Tenant, TenantType, Division, User, Membership, GrantLog, RoleTemplate)
PLATFORM = os.path.join(ROOT, "seeds", "platform")


def snapshot(app):
    with app.app_context(), platform_scope():
        counts = {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in MODELS}
        names = tuple(db.session.scalars(select(Division.name_th).order_by(Division.id)))
        db.session.remove()
        return counts, names


def run(app, *args, lang="en"):
    result = app.test_cli_runner().invoke(args=["seed", "apply", *args, "--lang", lang])
    return result.exit_code, result.output


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


NEW_TENANT = """\
    kind: tenant
    tenant: {dla_code: "1000077", type: sao, name_th: อบต.ทดลอง, name_en: Trial SAO, province: ลำปาง}
    divisions:
      - {code: welfare, name_th: กองสวัสดิการสังคม, name_en: Social Welfare}
    users:
      - username: trial.admin
        first_name: ทด
        last_name: ลอง
        email: admin@trial.test
        memberships: [{division: office, role: tenant_admin}, {division: welfare, role: officer}]
"""


def test_dry_run_writes_nothing_and_apply_is_idempotent(app, tmp_path):
    path = write(tmp_path, "trial.yaml", NEW_TENANT)
    before = snapshot(app)
    code, output = run(app, path, "--dry-run")
    assert code == 0, output
    assert "create    tenant       1000077" in output and "Nothing was written" in output
    assert "New password" not in output
    assert snapshot(app) == before

    code, output = run(app, PLATFORM, path)
    assert code == 0, output
    assert "Applied:" in output
    assert "New password for trial.admin:" in output  # generated, shown once
    after = snapshot(app)
    assert after[0]["Tenant"] == before[0]["Tenant"] + 1
    assert after[0]["Division"] == before[0]["Division"] + 5  # 4 standard + welfare
    assert after[0]["Membership"] == before[0]["Membership"] + 2

    code, output = run(app, PLATFORM, path, "--dry-run")
    assert "unchanged tenant       1000077" in output and "Nothing to change" in output
    code, output = run(app, PLATFORM, path)
    assert code == 0, output
    assert output.startswith("Nothing to change")
    assert "New password" not in output
    assert snapshot(app) == after


def test_update_is_reported_per_field(app, tmp_path):
    path = write(tmp_path, "trial2.yaml", NEW_TENANT.replace("1000077", "1000078").replace("trial", "trial2"))
    assert run(app, PLATFORM, path)[0] == 0
    changed = write(tmp_path, "trial2b.yaml", NEW_TENANT.replace("1000077", "1000078").replace("trial", "trial2")
                    .replace("กองสวัสดิการสังคม", "กองสวัสดิการ"))
    code, output = run(app, PLATFORM, changed, "--dry-run")
    assert code == 0
    assert "update    division     1000078/welfare (name_th)" in output
    assert "1 to update" in output


INVALID = {
    "yaml syntax": ("kind: tenant\ntenant: [unclosed\n", "line"),
    "unknown kind": ("kind: planet\n", "kind: Must be one of"),
    "missing field": (
        'kind: tenant\ntenant: {dla_code: "1000080", type: sao, name_en: X, province: P}\n',
        "tenant.name_th: Missing: this value is required.",
    ),
    "unknown field": (
        'kind: tenant\ntenant: {dla_code: "1000080", type: sao, name_th: X, name_en: X, province: P, mayor: x}\n',
        "tenant.mayor: Unknown field: a typo, or not used here.",
    ),
    "bad division code": (
        'kind: tenant\ntenant: {dla_code: "1000080", type: sao, name_th: X, name_en: X, province: P}\n'
        "divisions:\n  - {code: ok, name_th: ก}\n  - {code: ok2, name_th: ข}\n  - {code: ok3, name_th: ค}\n"
        "  - {code: Bad Code!, name_th: ง}\n",
        "divisions[3].code: Must be lower-case",
    ),
    "bad dla code": (
        'kind: tenant\ntenant: {dla_code: "12", type: sao, name_th: X, name_en: X, province: P}\n',
        "tenant.dla_code: Must be the 7-digit DLA code.",
    ),
    "wrong type": (
        'kind: tenant\ntenant: {dla_code: "1000080", type: sao, name_th: X, name_en: X, province: P, active: maybe}\n',
        "tenant.active: Must be true or false.",
    ),
    "unknown tenant type": (
        'kind: tenant\ntenant: {dla_code: "1000080", type: county, name_th: X, name_en: X, province: P}\n',
        "tenant.type: Unknown organisation type 'county'.",
    ),
    "unknown parent": (
        'kind: tenant\ntenant: {dla_code: "1000080", type: sao, name_th: X, name_en: X, province: P, parent: "9999999"}\n',
        "tenant.parent: No organisation has DLA code '9999999'.",
    ),
    "duplicate division": (
        'kind: tenant\ntenant: {dla_code: "1000080", type: sao, name_th: X, name_en: X, province: P}\n'
        "divisions:\n  - {code: dup, name_th: ก}\n  - {code: dup, name_th: ข}\n",
        "divisions[1].code: Duplicate division code 'dup'.",
    ),
    "unknown membership division": (
        'kind: tenant\ntenant: {dla_code: "1000080", type: sao, name_th: X, name_en: X, province: P}\n'
        "users:\n  - {username: x.user, first_name: ก, last_name: ข, email: x@x.test,\n"
        "     memberships: [{division: nowhere, role: officer}]}\n",
        "users[0].memberships[0].division: Unknown division 'nowhere'.",
    ),
    "unknown role": (
        'kind: tenant\ntenant: {dla_code: "1000080", type: sao, name_th: X, name_en: X, province: P}\n'
        "users:\n  - {username: x.user, first_name: ก, last_name: ข, email: x@x.test,\n"
        "     memberships: [{division: office, role: king}]}\n",
        "users[0].memberships[0].role: Unknown role 'king'.",
    ),
    "platform role in tenant": (
        'kind: tenant\ntenant: {dla_code: "1000080", type: sao, name_th: X, name_en: X, province: P}\n'
        "users:\n  - {username: x.user, first_name: ก, last_name: ข, email: x@x.test,\n"
        "     memberships: [{division: office, role: platform_operator}]}\n",
        "users[0].memberships[0].role: 'platform_operator' is a platform role",
    ),
    "weak password": (
        'kind: tenant\ntenant: {dla_code: "1000080", type: sao, name_th: X, name_en: X, province: P}\n'
        "users:\n  - {username: x.user, first_name: ก, last_name: ข, email: x@x.test, password: abc}\n",
        "users[0].password:",
    ),
    "username of another tenant": (
        'kind: tenant\ntenant: {dla_code: "1000080", type: sao, name_th: X, name_en: X, province: P}\n'
        "users:\n  - {username: b.officer, first_name: ก, last_name: ข, email: x@x.test}\n",
        "users[0].username: 'b.officer' already belongs to another organisation.",
    ),
    "unknown permission": (
        "kind: roles\nroles:\n  - {code: clerk, name_th: ก, name_en: C, level: 5, permissions: {DivisionView: [can_fly]}}\n",
        "roles[0].permissions.DivisionView: Unknown permission 'can_fly'",
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_file_names_file_path_and_problem_and_writes_nothing(app, tmp_path, case):
    text, expected = INVALID[case]
    good = write(tmp_path, "good.yaml", NEW_TENANT.replace("1000077", "1000081").replace("trial", "good"))
    bad = write(tmp_path, "bad.yaml", text)
    before = snapshot(app)
    code, output = run(app, good, bad)
    assert code != 0
    assert bad in output and expected in output, output
    assert "nothing was written" in output
    assert snapshot(app) == before  # not even the valid file's changes


def test_demo_seeds_apply_cleanly(app):
    paths = [os.path.join(ROOT, "seeds", p) for p in ("platform", "services", "tenants", "demo")]
    code, output = run(app, *paths, "--dry-run")
    assert code == 0, output
    result = app.test_cli_runner().invoke(args=["demo-logins"])
    assert "maehia.mayor" in result.output and "thongthin2569" in result.output


def test_errors_and_plan_speak_thai_by_default(app, tmp_path):
    bad = write(tmp_path, "bad-th.yaml", INVALID["unknown membership division"][0])
    code, output = run(app, PLATFORM, bad, lang="th")
    assert code != 0
    assert "users[0].memberships[0].division: ไม่รู้จักกอง 'nowhere'" in output
    assert "ไม่ได้บันทึกสิ่งใด" in output
    missing = write(tmp_path, "missing-th.yaml", INVALID["missing field"][0])
    assert "tenant.name_th: ขาดข้อมูล" in run(app, missing, lang="th")[1]
    result = app.test_cli_runner().invoke(args=["seed", "apply", PLATFORM, "--dry-run"])
    assert "ไม่มีสิ่งใดต้องเปลี่ยนแปลง" in result.output  # the platform's default language


SERVICE_TENANT = 'kind: tenant\ntenant: {dla_code: "1000090", type: sao, name_th: X, name_en: X, province: P}\n'
INVALID_SERVICES = {
    "unknown template": (SERVICE_TENANT + "services:\n  - template: nothing_like_it\n",
                         "services[0].template: Unknown service template 'nothing_like_it'."),
    "unknown division": (SERVICE_TENANT + "services:\n  - {template: test_permit, responsible_division: health}\n",
                         "services[0].responsible_division: Unknown division 'health'."),
    "local fee above the national cap": (
        SERVICE_TENANT + "services:\n  - template: test_permit\n    fees:\n      - effective_from: 2026-10-01\n"
        "        legal_source_th: ข้อบัญญัติ\n        rules:\n"
        "          - {kind: flat, code: permit_fee, label_th: ค่าใบอนุญาต, amount: \"25.00\"}\n",
        "services[0].fees[0].rules[0]"),
    "fee on an unknown field": (
        SERVICE_TENANT + "services:\n  - template: test_permit\n    fees:\n      - effective_from: 2026-10-01\n"
        "        legal_source_th: ข้อบัญญัติ\n        rules:\n"
        "          - {kind: per_unit, code: x, label_th: x, field: height, rate: \"1.00\"}\n",
        "No number field with code height"),
    "float money": (
        SERVICE_TENANT + "services:\n  - template: test_permit\n    fees:\n      - effective_from: 2026-10-01\n"
        "        legal_source_th: ข้อบัญญัติ\n        rules:\n"
        "          - {kind: flat, code: permit_fee, label_th: x, amount: 20.5}\n",
        "services[0].fees[0].rules[0].amount"),
    "bad field kind in an own service": (
        SERVICE_TENANT + "services:\n  - code: own\n    name_th: บริการเอง\n    responsible_division: office\n"
        "    sla_days: 3\n    fields:\n      - {code: a, kind: hologram, label_th: ก}\n",
        "services[0].fields[0].kind"),
    "choice without choices": (
        SERVICE_TENANT + "services:\n  - code: own\n    name_th: บริการเอง\n    responsible_division: office\n"
        "    sla_days: 3\n    fields:\n      - {code: a, kind: choice, label_th: ก}\n",
        "services[0].fields[0].choices"),
    "extra field reusing a template field's code": (
        SERVICE_TENANT + "services:\n  - template: test_permit\n    extra_fields:\n"
        "      - {code: area, kind: text, label_th: พื้นที่อื่น}\n",
        "services[0].extra_fields[0].code: The template already has a field with the code area"),
    "a fee renamed to slip past its cap": (
        SERVICE_TENANT + "services:\n  - template: test_permit\n    fees:\n      - effective_from: 2026-10-01\n"
        "        legal_source_th: ข้อบัญญัติ\n        rules:\n"
        "          - {kind: flat, code: licence_fee, label_th: ค่าใบอนุญาต, amount: \"25.00\"}\n",
        "services[0].fees[0].rules[0].code: The template has no fee licence_fee"),
    "a guide override with a step too long": (
        SERVICE_TENANT + "services:\n  - template: test_permit\n    guide:\n"
        "      steps: [{name_th: ตรวจ, days: 400}]\n",
        "services[0].guide.steps[0].days"),
    "template with a bad tier": (
        "kind: service_template\ncode: bad_tiers\nname_th: ก\ncategory: other\nresponsible_division: office\n"
        "sla_days: 3\nfields:\n  - {code: litres, kind: decimal, label_th: ลิตร}\nfees:\n"
        "  effective_from: 2025-10-01\n  legal_source_th: ก\n  rules:\n"
        "    - {kind: tiered, code: t, label_th: ก, field: litres, brackets: [{up_to: \"20\", amount: \"40.00\"},"
        " {up_to: \"10\", amount: \"50.00\"}]}\n",
        "fees.rules[0].brackets[1].up_to"),
}


@pytest.mark.parametrize("case", sorted(INVALID_SERVICES))
def test_invalid_service_and_fee_seeds_are_refused_whole(app, tmp_path, case):
    text, expected = INVALID_SERVICES[case]
    bad = write(tmp_path, "bad-service.yaml", text)
    fixture = os.path.join(FIXTURES, "service_template.yaml")
    before = snapshot(app)
    code, output = run(app, PLATFORM, fixture, bad)
    assert code != 0 and expected in output, output
    assert snapshot(app) == before


def test_passwords_in_a_seed_file_are_flagged_as_demo_only(app, tmp_path):
    with_password = NEW_TENANT.replace("1000077", "1000079").replace("trial", "trial3").replace(
        "        email: admin@trial3.test\n", "        email: admin@trial3.test\n        password: demopass2569\n")
    assert "password: demopass2569" in with_password
    path = write(tmp_path, "trial3.yaml", with_password)
    for args in ((path, "--dry-run"), (PLATFORM, path)):
        result = app.test_cli_runner().invoke(args=["seed", "apply", *args, "--lang", "en"])
        assert result.exit_code == 0, result.output
        assert f"warning: {path} gives the passwords of trial3.admin." in result.stderr
        assert "for demo only" in result.stderr and "demopass2569" not in result.output
    # in Thai by default
    result = app.test_cli_runner().invoke(args=["seed", "apply", PLATFORM, path])
    assert "ใช้สำหรับการสาธิตเท่านั้น" in result.stderr and "trial3.admin" in result.stderr
    # a file without passwords gets no warning (the generated one is shown once instead)
    plain = write(tmp_path, "trial4.yaml", NEW_TENANT.replace("1000077", "1000080").replace("trial", "trial4"))
    result = app.test_cli_runner().invoke(args=["seed", "apply", PLATFORM, plain, "--lang", "en"])
    assert result.exit_code == 0 and "warning" not in result.output
    assert "New password for trial4.admin:" in result.output


WASTE_TENANT = NEW_TENANT.replace("1000077", "1000083").replace("trial", "waste-trial") + """\
    waste:
      period_months: 2
      due_days: 20
      routes:
        - {code: R1, name_th: สายหนึ่ง, collection_days: [mon, thu]}
        - {code: R2, name_th: สายสอง}
"""


def test_waste_settings_and_routes_from_the_tenant_file(app, tmp_path):
    from app.billing.models import WasteRoute, WasteSettings

    path = write(tmp_path, "waste.yaml", WASTE_TENANT.replace(
        'province: ลำปาง}', 'province: ลำปาง, promptpay_biller_id: "099400000000301"}'))
    code, output = run(app, path)
    assert code == 0, output
    assert "create    waste_route  1000083/R1" in output
    with app.app_context(), platform_scope():
        tenant = db.session.scalar(select(Tenant).where(Tenant.dla_code == "1000083"))
        assert tenant.promptpay_biller_id == "099400000000301"
        conf = db.session.scalar(select(WasteSettings).where(WasteSettings.tenant_id == tenant.id))
        assert (conf.period_months, conf.due_days) == (2, 20)
        routes = {r.code: r.collection_days for r in db.session.scalars(
            select(WasteRoute).where(WasteRoute.tenant_id == tenant.id))}
        assert routes == {"R1": "mon,thu", "R2": None}
        db.session.remove()
    code, output = run(app, path)
    assert code == 0 and "create" not in output and "update" not in output, output


@pytest.mark.parametrize("bad, where", [
    ("period_months: 5", "waste.period_months"),
    ("due_days: 200", "waste.due_days"),
    ("routes: [{code: R1, name_th: ก}, {code: R1, name_th: ข}]", "waste.routes[1].code"),
    ("routes: [{code: R1, name_th: ก, collection_days: [someday]}]", "waste.routes[0].collection_days"),
])
def test_bad_waste_section_names_its_path_and_writes_nothing(app, tmp_path, bad, where):
    from app.billing.models import WasteRoute

    text = NEW_TENANT.replace("1000077", "1000084").replace("trial", "waste-bad") + f"    waste:\n      {bad}\n"
    path = write(tmp_path, "waste-bad.yaml", text)
    code, output = run(app, path)
    assert code != 0 and where in output, output
    with app.app_context(), platform_scope():
        assert db.session.scalar(select(func.count()).select_from(Tenant).where(Tenant.dla_code == "1000084")) == 0
        assert db.session.scalar(select(func.count()).select_from(WasteRoute).where(WasteRoute.code == "R1")
                                 .join(Tenant, Tenant.id == WasteRoute.tenant_id)
                                 .where(Tenant.dla_code == "1000084")) == 0
        db.session.remove()


def test_seed_passwords_hashed_together_then_checked_on_reapply(app, tmp_path):
    """Several users with passwords (hashed at once in threads): each can sign in with its own password, a
    second apply changes no password, a changed password in the file is the only change recorded."""
    from werkzeug.security import check_password_hash

    people = "".join(
        f"  - {{username: pw{i}.user, first_name: ผู้ใช้, last_name: ที่{i}, email: pw{i}@pw.test, "
        f"password: Seed-pass-{i}-2569, memberships: [{{division: office, role: officer}}]}}\n" for i in range(4))
    text = ('kind: tenant\ntenant: {dla_code: "1000086", type: sao, name_th: อบต.รหัสผ่าน, name_en: Password SAO,'
            ' province: น่าน}\nusers:\n' + people)
    path = tmp_path / "pw.yaml"
    path.write_text(text, encoding="utf-8")
    code, output = run(app, PLATFORM, str(path))
    assert code == 0, output

    def stored():
        with app.app_context(), platform_scope():
            rows = dict(db.session.execute(select(User.username, User.password)
                                           .where(User.username.like("pw%.user"))).all())
            db.session.remove()
            return rows

    first = stored()
    assert len(first) == 4 and len(set(first.values())) == 4
    assert all(check_password_hash(first[f"pw{i}.user"], f"Seed-pass-{i}-2569") for i in range(4))
    code, output = run(app, PLATFORM, str(path))
    assert code == 0 and stored() == first, output
    path.write_text(text.replace("Seed-pass-2-2569", "Seed-pass-2-2570"), encoding="utf-8")
    code, output = run(app, PLATFORM, str(path))
    assert code == 0, output
    after = stored()
    assert check_password_hash(after["pw2.user"], "Seed-pass-2-2570")
    assert {k: v for k, v in after.items() if k != "pw2.user"} == {k: v for k, v in first.items() if k != "pw2.user"}

"""flask api keys: create prints the token once, list never shows it, rotate and revoke work by prefix."""
from sqlalchemy import select

from tests.api.open.conftest import API, KeyClient


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["api", "keys", *args])


def test_create_list_rotate_revoke(app, tenant_a, db_session):
    made = _run(app, "create", "--tenant", "1000001", "--name", "ระบบทดสอบ CLI", "--user", "a.officer",
                "--scopes", "read", "--lang", "en")
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[0]
    assert token.startswith("ttk_")
    assert KeyClient(app, token).get(f"{API}/service-types").status_code == 200
    listed = _run(app, "list", "--tenant", "1000001")
    assert token[:16] in listed.output and token not in listed.output
    rotated = _run(app, "rotate", "--tenant", "1000001", token[:16])
    assert rotated.exit_code == 0, rotated.output
    new_token = rotated.stdout.strip().splitlines()[0]
    assert new_token != token and KeyClient(app, new_token).get(f"{API}/service-types").status_code == 200
    assert _run(app, "revoke", "--tenant", "1000001", new_token[:16]).exit_code == 0
    assert KeyClient(app, new_token).get(f"{API}/service-types").get_json()["code"] == "key_revoked"


def test_refusals_name_the_problem(app, tenant_a, tenant_b):
    # a user of another organisation cannot be the acting user
    other = _run(app, "create", "--tenant", "1000001", "--name", "x", "--user", "b.admin", "--lang", "en")
    assert other.exit_code == 1 and "no user b.admin" in other.output
    bad = _run(app, "create", "--tenant", "1000001", "--name", "x", "--user", "a.admin", "--scopes", "root",
               "--lang", "en")
    assert bad.exit_code == 1 and "Unknown scope: root" in bad.output
    # B's key prefix is unknown inside A
    made = _run(app, "create", "--tenant", "1000002", "--name", "B CLI", "--user", "b.admin")
    token_b = made.stdout.strip().splitlines()[0]
    assert _run(app, "revoke", "--tenant", "1000001", token_b[:16]).exit_code == 1
    assert KeyClient(app, token_b).get(f"{API}/service-types").status_code == 200

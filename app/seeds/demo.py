"""flask demo-logins: print the demo accounts of the seed files (passwords given in the files)."""
from __future__ import annotations

import os

import click
from flask_babel import gettext as _

from app.seeds.loader import load

DEFAULT_PATHS = ("seeds/platform", "seeds/tenants", "seeds/demo")


@click.command("demo-logins")
@click.argument("paths", nargs=-1, type=click.Path())
def demo_logins(paths: tuple[str, ...]) -> None:
    """Print username, password, organisation and roles of every demo user in the seed files."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    targets = list(paths) or [os.path.join(root, p) for p in DEFAULT_PATHS]
    loaded = load(targets)
    click.echo(_("Demo logins (http://127.0.0.1:8080):"))
    username, password, where = _("username"), _("password"), _("organisation / roles")
    operator = _("platform operator")
    click.echo(f"  {username:<28} {password:<16} {where}")
    for seed in loaded.files:
        if seed.kind == "operators":
            for u in seed.data["users"]:
                if u.get("password"):
                    click.echo(f"  {u['username']:<28} {u['password']:<16} {operator}")
        if seed.kind == "tenant":
            name = seed.data["tenant"]["name_th"]
            for u in seed.data["users"]:
                if u.get("password"):
                    roles = ", ".join(f"{m['role']}@{m['division']}" for m in u["memberships"])
                    click.echo(f"  {u['username']:<28} {u['password']:<16} {name} / {roles}")

"""Registers every domain's CLI commands."""
from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    from app.billing.cli import waste_cli
    from app.seeds.cli import seed_cli
    from app.seeds.demo import demo_logins

    app.cli.add_command(seed_cli)
    app.cli.add_command(waste_cli)
    from app.saraban.cli import saraban_cli

    app.cli.add_command(saraban_cli)
    app.cli.add_command(demo_logins)
    from app.api.cli import api_cli

    app.cli.add_command(api_cli)
    from app.tenancy.rls_cli import rls_cli

    app.cli.add_command(rls_cli)

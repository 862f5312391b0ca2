"""flask seed apply PATH... [--dry-run]"""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.seeds.apply import apply_paths

seed_cli = AppGroup("seed", help="Configuration seeds (YAML): tenant types, roles, organisations.")


@seed_cli.command("apply")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--dry-run", is_flag=True, help="Print the plan and write nothing.")
def apply_command(paths: tuple[str, ...], dry_run: bool) -> None:
    """Apply seed files or folders. Idempotent; one transaction; nothing is written on any error."""
    plan = apply_paths(list(paths), dry_run=dry_run)
    if plan.errors:
        for error in plan.errors:
            click.echo(f"error: {error}", err=True)
        click.echo(f"{len(plan.errors)} error(s); nothing was written.", err=True)
        sys.exit(1)
    for change in plan.changes:
        # a dry run shows the whole plan; a real run shows what it changed
        if dry_run or change.action != "unchanged":
            click.echo(str(change))
    summary = (
        f"{plan.count('create')} to create, {plan.count('update')} to update, "
        f"{plan.count('unchanged')} unchanged"
    )
    if not plan.has_changes:
        click.echo(f"Nothing to change ({plan.count('unchanged')} objects unchanged).")
    elif dry_run:
        click.echo(f"Dry run: {summary}. Nothing was written.")
    else:
        click.echo(f"Applied: {summary}.")
    for username, password in plan.new_passwords.items():
        click.echo(f"new password for {username}: {password}  (shown once; ask the user to change it)")

"""flask seed apply PATH... [--dry-run] [--lang th|en]"""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_babel import gettext as _

from app.seeds.apply import apply_paths
from app.seeds.loader import load, passwords_given

seed_cli = AppGroup("seed", help="Configuration seeds (YAML): tenant types, roles, organisations.")


@seed_cli.command("apply")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--dry-run", is_flag=True, help="Print the plan and write nothing.")
@click.option("--lang", type=click.Choice(["th", "en"]), default=None,
              help="Language of the messages (default: the platform's, Thai).")
def apply_command(paths: tuple[str, ...], dry_run: bool, lang: str | None) -> None:
    """Apply seed files or folders. Idempotent; one transaction; nothing is written on any error."""
    with force_locale(lang or current_app.config.get("BABEL_DEFAULT_LOCALE", "th")):
        _warn_passwords(list(paths))
        code = _report(apply_paths(list(paths), dry_run=dry_run), dry_run)
    sys.exit(code)


def _warn_passwords(paths: list[str]) -> None:
    """A password written in a seed file is known to everyone who can read the file: say so, every time."""
    for seed in load(paths).files:
        users = passwords_given(seed)
        if users:
            click.echo(_(
                "warning: %(file)s gives the passwords of %(users)s. Passwords in a seed file are for demo "
                "only: anyone who can read the file can log in as these users. For a real organisation leave "
                "them out; each is then generated and shown once.", file=seed.path, users=", ".join(users),
            ), err=True)


def _report(plan, dry_run: bool) -> int:
    if plan.errors:
        for error in plan.errors:
            click.echo(_("error: %(error)s", error=error), err=True)
        click.echo(_("%(n)d error(s); nothing was written.", n=len(plan.errors)), err=True)
        return 1
    for change in plan.changes:
        # a dry run shows the whole plan; a real run shows what it changed
        if dry_run or change.action != "unchanged":
            click.echo(str(change))
    counts = dict(created=plan.count("create"), updated=plan.count("update"), unchanged=plan.count("unchanged"))
    if not plan.has_changes:
        click.echo(_("Nothing to change (%(unchanged)d objects unchanged).", unchanged=counts["unchanged"]))
    elif dry_run:
        click.echo(_("Dry run: %(created)d to create, %(updated)d to update, %(unchanged)d unchanged. "
                     "Nothing was written.", **counts))
    else:
        click.echo(_("Applied: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.", **counts))
    for username, password in plan.new_passwords.items():
        click.echo(_("New password for %(user)s: %(password)s (shown once; the user should change it).",
                     user=username, password=password))
    return 0

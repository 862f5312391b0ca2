"""flask waste bill --tenant DLA --period 2569-12 [--wait] and flask waste runs --tenant DLA: a billing run
from the command line, queued for the worker or run here with its progress printed."""
from __future__ import annotations

import getpass
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app import thai
from app.extensions import db
from app.tenancy.context import platform_scope, tenant_scope
from app.tenancy.errors import UserError

# other waste-fee commands join this group
waste_cli = AppGroup("waste", help="Waste-collection fees: billing runs.")

LANG = click.option("--lang", type=click.Choice(["th", "en"]), default=None,
                    help="Language of the messages (default: the platform's, Thai).")
TENANT = click.option("--tenant", "dla_code", required=True, help="The organisation's DLA code (รหัส อปท.).")


def _locale(lang: str | None):
    return force_locale(lang or current_app.config.get("BABEL_DEFAULT_LOCALE", "th"))


def _tenant_id(dla_code: str) -> int:
    from app.tenancy.models import Tenant

    with platform_scope():
        found = db.session.scalar(select(Tenant.id).where(Tenant.dla_code == dla_code.strip()))
        db.session.remove()
    if found is None:
        _fail(_("No organisation on the platform has the code %(code)s.", code=dla_code))
    return found


def _fail(message: str) -> None:
    click.echo(_("error: %(error)s", error=message), err=True)
    sys.exit(1)


def _line(run) -> str:
    from app.billing import runs

    info = runs.progress(run)
    return _("Run %(id)d, %(period)s: %(status)s, %(processed)s of %(total)s accounts, %(created)s bills "
             "created, %(amount)s", id=run.id, period=info["period"], status=info["status_name"],
             processed=f"{info['processed']:,}", total=f"{info['total']:,}", created=f"{info['created']:,}",
             amount=info["amount_text"])


def _skipped(run) -> None:
    from app.billing import runs

    if not run.skipped_count:
        return
    click.echo(_("%(n)s accounts were not billed: the fee schedule cannot price their tier.",
                 n=f"{run.skipped_count:,}"), err=True)
    for entry in run.skipped or []:
        shown = ", ".join(entry["accounts"][:20])
        more = entry["count"] - min(len(entry["accounts"]), 20)
        click.echo(f"  {runs.tier_label(entry['kind'], entry['litres'])}: {entry['reason']} ({entry['count']:,}) {shown}"
                   + (f" +{more:,}" if more > 0 else ""), err=True)


@waste_cli.command("bill")
@TENANT
@click.option("--period", required=True, help="The period: Buddhist-era year and month, e.g. 2569-12.")
@click.option("--wait", is_flag=True, help="Run here and print the progress instead of queueing for the worker.")
@click.option("--chunk", type=click.IntRange(1, 50_000), default=None, help="Accounts per chunk (default 5,000).")
@LANG
def bill_command(dla_code: str, period: str, wait: bool, chunk: int | None, lang: str | None) -> None:
    """Bill a period. Idempotent: a period billed before gets bills only for accounts not yet billed; an
    unfinished run of the period is resumed rather than started again."""
    from app.billing import runs, tasks

    with _locale(lang):
        tenant_id = _tenant_id(dla_code)
        with tenant_scope(tenant_id):
            try:
                actor = _("command line (%(user)s)", user=getpass.getuser())
                if wait:  # this process does the work: no task, an unfinished run goes on from its cursor
                    run = runs.start(period, actor)
                    existing = run.status != runs.QUEUED or run.processed > 0
                else:
                    run, existing, queue = runs.launch(period, actor)
                    if queue:
                        tasks.queue(run)
                db.session.commit()
            except UserError as exc:
                db.session.rollback()
                _fail(exc.message)
            if existing:
                click.echo(_("The period has an unfinished run: resuming it."))
            if not wait:
                click.echo(_("Run %(id)d queued for the background worker. Follow it with: flask waste runs "
                             "--tenant %(code)s", id=run.id, code=dla_code))
                db.session.remove()
                return
            click.echo(_line(run))
            try:
                run = runs.execute(run.id, chunk_size=chunk, on_progress=lambda r: click.echo(_line(r)))
            except UserError as exc:
                _fail(exc.message)
            except Exception as exc:  # recorded on the run (failed, resumable): say so and stop
                _fail(_("The run stopped: %(error)s. Run the same command again to resume it.", error=exc))
            click.echo(_line(run))
            _skipped(run)
            db.session.remove()


@waste_cli.command("runs")
@TENANT
@click.option("--limit", type=click.IntRange(1, 1000), default=20, help="How many of the newest runs.")
@LANG
def runs_command(dla_code: str, limit: int, lang: str | None) -> None:
    """List the organisation's billing runs, newest first."""
    from app.billing import runs

    with _locale(lang):
        tenant_id = _tenant_id(dla_code)
        with tenant_scope(tenant_id):
            found, total = runs.recent(limit)
            if not found:
                click.echo(_("No billing runs yet."))
            for run in found:
                click.echo(_line(run) + " | " + _("by %(who)s, %(when)s", who=run.started_by_name,
                                                      when=thai.format_datetime(run.created_at)))
                if run.error:
                    click.echo("    " + _("error: %(error)s", error=run.error))
            if total > len(found):
                click.echo(_("The newest %(shown)s of %(total)s are listed.", shown=len(found), total=total))
            db.session.remove()

"""flask saraban retention --tenant DLA [--year 2569]: the yearly retention survey of one organisation from the
command line (the same work as the 2 January task), with what it found printed."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from app.billing.cli import LANG, TENANT, _fail, _locale, _tenant_id
from app.extensions import db
from app.tenancy.context import tenant_scope
from app.tenancy.errors import UserError

saraban_cli = AppGroup("saraban", help="Electronic correspondence: the yearly retention survey.")


@saraban_cli.command("retention")
@TENANT
@click.option("--year", type=int, default=None, help="The Buddhist-era year that ended (default: last year).")
@LANG
def retention_command(dla_code: str, year: int | None, lang: str | None) -> None:
    """Make or top up the destruction list and the National Archives list of the year. Idempotent."""
    from app.saraban.tasks import run_survey

    with _locale(lang):
        tenant_id = _tenant_id(dla_code)
        with tenant_scope(tenant_id):
            try:
                done = run_survey(year)
            except UserError as exc:
                db.session.rollback()
                _fail(exc.message)
            click.echo(_("Year %(year)s: %(added)s documents added to the destruction list, %(handed)s to the "
                         "National Archives list.", year=done["year"], added=f"{done['destruction_added']:,}",
                         handed=f"{done['archives_added']:,}"))
            click.echo(_("Review them at /saraban/retention."))
            db.session.remove()

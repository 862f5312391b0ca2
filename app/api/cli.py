"""flask api keys create|list|rotate|revoke: integration keys from the command line (the platform operator
setting up an integration for an organisation without IT staff; the same service as the admin screen)."""
from __future__ import annotations

from datetime import datetime, time

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import select

from app.api import keys
from app.api.models import SCOPES, IntegrationKey
from app.billing.cli import LANG, TENANT, _fail, _locale, _tenant_id
from app.extensions import db
from app.tenancy.context import tenant_scope
from app.tenancy.errors import UserError

api_cli = AppGroup("api", help="The open API: integration keys.")
keys_cli = AppGroup("keys", help="Integration keys of one organisation.")
api_cli.add_command(keys_cli)

CLI_ACTOR = "flask api keys (command line)"


def _key(prefix: str) -> IntegrationKey:
    key = db.session.scalar(select(IntegrationKey).where(IntegrationKey.prefix == prefix.removeprefix("ttk_")[:12]))
    if key is None:
        _fail(_("This organisation has no key %(prefix)s.", prefix=prefix))
    return key


def _show_token(token: str) -> None:
    click.echo(token)
    click.echo(_("Keep it now: it is not stored and cannot be shown again."), err=True)


@keys_cli.command("create")
@TENANT
@click.option("--name", required=True, help="Which system uses the key.")
@click.option("--user", "username", required=True, help="The organisation's user the key acts as.")
@click.option("--scopes", default="read", show_default=True, help="Comma-separated: read, submit, manage.")
@click.option("--expires", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day (C.E. YYYY-MM-DD, UTC).")
@click.option("--per-minute", type=int, default=120, show_default=True, help="Calls allowed per minute.")
@LANG
def create_command(dla_code, name, username, scopes, expires, per_minute, lang):
    """Make a key and print its token once."""
    from flask_appbuilder.security.sqla.models import User

    with _locale(lang):
        tenant_id = _tenant_id(dla_code)
        with tenant_scope(tenant_id):
            user = db.session.scalar(select(User).where(User.username == username))
            if user is None:
                _fail(_("This organisation has no user %(username)s.", username=username))
            wanted = [s.strip() for s in scopes.split(",") if s.strip()]
            unknown = set(wanted) - set(SCOPES)
            if unknown:
                _fail(_("Unknown scope: %(scopes)s.", scopes=", ".join(sorted(unknown))))
            try:
                _key_row, token = keys.issue(tenant_id, name=name, scopes=wanted, acting_user=user,
                                      expires_at=datetime.combine(expires.date(), time.max) if expires else None,
                                      rate_limit_per_minute=per_minute, created_by_name=CLI_ACTOR)
                db.session.commit()
            except UserError as exc:
                db.session.rollback()
                _fail(str(exc))
            _show_token(token)
            db.session.remove()


@keys_cli.command("list")
@TENANT
@LANG
def list_command(dla_code, lang):
    """The organisation's keys with their state and last use (never their tokens)."""
    with _locale(lang):
        with tenant_scope(_tenant_id(dla_code)):
            for key in db.session.scalars(select(IntegrationKey).order_by(IntegrationKey.id)):
                used = key.last_used_at.strftime("%Y-%m-%d %H:%M UTC") if key.last_used_at else "-"
                click.echo(f"ttk_{key.prefix}…\t{key.name}\t{','.join(key.scopes)}\t"
                           f"{key.acting_user.username if key.acting_user else '-'}\t{keys.STATUS_NAMES[keys.status(key)]}"
                           f"\t{used}")
            db.session.remove()


@keys_cli.command("rotate")
@TENANT
@click.argument("prefix")
@LANG
def rotate_command(dla_code, prefix, lang):
    """A new token for the key PREFIX (ttk_xxxxxxxxxxxx); the old one works 24 hours more."""
    with _locale(lang):
        with tenant_scope(_tenant_id(dla_code)):
            try:
                _key_row, token = keys.rotate(_key(prefix), by_name=CLI_ACTOR)
                db.session.commit()
            except UserError as exc:
                db.session.rollback()
                _fail(str(exc))
            _show_token(token)
            db.session.remove()


@keys_cli.command("revoke")
@TENANT
@click.argument("prefix")
@LANG
def revoke_command(dla_code, prefix, lang):
    """Stop the key PREFIX now."""
    with _locale(lang):
        with tenant_scope(_tenant_id(dla_code)):
            keys.revoke(_key(prefix), by_name=CLI_ACTOR)
            db.session.commit()
            click.echo(_("Revoked."))
            db.session.remove()

"""``ninerstatus reencrypt-secrets``: every stored check secret encrypted again under the current SECRET_KEY.

After a new ``SECRET_KEY``, with the old one in ``SECRET_KEY_FALLBACKS``,
secrets still read; this command encrypts them under the new key (and
encrypts any still stored in clear), after which the old key can be
dropped from the fallbacks. See docs/check-settings.md.
"""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..extensions import db
from ..plugins import get_plugins
from .models import Check
from .secrets import is_sealed, readable_settings, seal_settings, site_cipher


@click.command("reencrypt-secrets")
@with_appcontext
def reencrypt_secrets_command() -> None:
    """Encrypt every check's secret settings again under the current SECRET_KEY (exit 1 if any cannot be read)."""
    cipher, check_types = site_cipher(), get_plugins().check_types
    rewritten, unreadable = 0, []
    for check in db.session.scalars(select(Check).order_by(Check.id)):
        if not isinstance(check.settings, dict):
            continue  # not named values: the dashboard reports it, nothing here to encrypt
        opened, lost = readable_settings(check.settings, cipher)
        if lost:
            unreadable.append(f"check {check.id} ({check.title} of {check.server.code}): {', '.join(lost)}")
            continue
        declared = check_types[check.type_name].secret_names if check.type_name in check_types else frozenset()
        names = declared | {name for name, value in check.settings.items() if is_sealed(value)}
        check.settings = seal_settings(opened, names, cipher)
        rewritten += 1
    db.session.commit()
    click.echo(f"Encrypted the secret settings of {rewritten} check{'' if rewritten == 1 else 's'} "
               "under the current SECRET_KEY.")
    if unreadable:
        for line in unreadable:
            click.echo(f"cannot decrypt {line}: type it again in the check's form", err=True)
        raise SystemExit(1)

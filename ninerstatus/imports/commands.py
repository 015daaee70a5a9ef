"""``ninerstatus import wordpress``: bring a WordPress status blog in from its export file."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from .wordpress import ImportConflict, ImportOptions, ImportRefused, UnknownAuthor, import_wordpress


@click.group("import", cls=AppGroup)
def import_group() -> None:
    """Bring posts in from another site."""


@import_group.command("wordpress")
@click.argument("export", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Read the whole file and tell what would happen; change nothing.")
@click.option("--author", "author_email", metavar="EMAIL",
              help="Give every post to this existing account instead of matching authors by e-mail.")
@click.option("--uploads", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="DIR",
              help="A copy of the old site's wp-content/uploads: its images are copied into the site's store.")
def wordpress_command(export: Path, dry_run: bool, author_email: str | None, uploads: Path | None) -> None:
    """Import the posts, tags and authors of a WordPress export (Tools → Export), then print a summary."""
    try:
        summary = import_wordpress(export, ImportOptions(dry_run=dry_run, author_email=author_email, uploads=uploads))
    except UnknownAuthor as error:
        raise click.BadParameter(f"{error}; create it first (ninerstatus create-user)", param_hint="--author") from None
    except ImportRefused as refusal:
        raise click.ClickException(f"{export}: {refusal}") from None
    except ImportConflict as conflict:
        raise click.ClickException(str(conflict)) from None
    for line in summary.lines():
        click.echo(line)

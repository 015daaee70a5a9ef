"""``ninerstatus config export [FILE]`` and ``ninerstatus config apply FILE [--dry-run] [--prune]``.

Exit codes of ``apply``: 0 when the site matches the file (changed or not,
and after ``--dry-run``); 1 when the file cannot be used (unreadable, not
YAML, or any field refused: each problem is printed as ``FILE:LINE: field:
message``) or the site holds something the file cannot be applied to; 2 for
a command line click refuses; 3 when the site changed between the
printed changes and their transaction. In every case but 0, nothing changed.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click
from flask.cli import with_appcontext

#: ``apply``'s exit code when the site changed under it (see the module docstring).
SITE_CHANGED = 3


@click.group("config")
def config_group() -> None:
    """Keep servers, checks, probe locations and notifier settings in a YAML file (config as code)."""


@config_group.command("export")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def export_command(file: Path | None) -> None:
    """Write the site's servers, checks, locations and notifier settings as YAML (to standard output without FILE)."""
    from .export import export_site

    written = export_site()
    for warning in written.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if file is None:
        click.echo(written.text, nl=False)
        return
    # Written beside it and renamed over it: a file half written is never left in place of a good one.
    folder = file.resolve().parent
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{file.name}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(written.text)
        os.replace(temporary, file)
    except OSError as error:
        raise click.ClickException(f"cannot write {file}: {error.strerror or error}") from None
    click.echo(f"Wrote {file}" + (f"; its secrets come from {len(written.variables)} environment variables"
                                  if written.variables else "") + ".", err=True)


@config_group.command("apply", epilog="Exit status: 0 when the site matches FILE (after --dry-run too); 1 when FILE "
                      "cannot be read or has problems (each printed as FILE:LINE: field: message); 3 when the site "
                      "changed between the printed changes and their transaction. Unless 0, nothing changed.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print what would change, change nothing.")
@click.option("--prune", is_flag=True,
              help="Also remove servers, checks, locations and notifier settings the file leaves out.")
@with_appcontext
def apply_command(file: Path, dry_run: bool, prune: bool) -> None:
    """Make the site's servers, checks, locations and notifier settings match FILE, printing the changes first."""
    from .apply import Refused, SiteChanged, apply_document, reconcile
    from .document import read_document
    from .yamlfile import InvalidFile, load

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as error:
        raise click.ClickException(f"cannot read {file}: {getattr(error, 'strerror', None) or error}") from None
    try:
        document = read_document(load(text), prune=prune)
        plan = reconcile(document, prune=prune)
    except InvalidFile as error:
        for problem in error.problems:
            click.echo(problem.told(str(file)), err=True)
        raise click.ClickException(f"{file} is not applied: {len(error.problems)} problem(s); nothing changed.") \
            from None
    except Refused as error:
        raise click.ClickException(f"{file} is not applied: {error}; nothing changed.") from None
    for line in plan.lines():
        click.echo(line)
    click.echo(plan.summary())
    if dry_run or not plan.changes:
        if dry_run and plan.changes:
            click.echo("Dry run: nothing changed.")
        return
    try:
        apply_document(document, plan, prune=prune)
    except SiteChanged as error:
        click.echo(f"Error: not applied: {error}. Nothing changed: run the command again to see the changes "
                   "as they now stand.", err=True)
        sys.exit(SITE_CHANGED)
    except Refused as error:
        raise click.ClickException(f"{file} is not applied: {error}; nothing changed.") from None
    click.echo(f"Applied {file}.")

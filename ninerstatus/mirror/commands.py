"""``ninerstatus export-static`` and ``ninerstatus mirror``: the static mirror from the command line."""
from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .export import MirrorSite
from .publish import MirrorFolderError
from .rendering import BaseUrl, mirror_app
from .service import MirrorService

#: Where the mirror is served when --base-url is not given: links work from any host's root,
#: but the feeds' absolute links then name this host.
DEFAULT_BASE_URL = "http://localhost/"

folder_argument = click.argument("folder", type=click.Path(path_type=Path, file_okay=True, dir_okay=True))
base_url_option = click.option(
    "--base-url", default=DEFAULT_BASE_URL, show_default=True,
    help="Where the mirror is served, e.g. https://mirror.example.net/status/ (its links and feeds use it).")


def mirror_site(base_url: str) -> MirrorSite:
    """The site drawn for a mirror at ``base_url``; a bad address is a usage error."""
    try:
        base = BaseUrl.parse(base_url)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--base-url") from None
    site = current_app._get_current_object()
    return MirrorSite(mirror_app(site, base), base, site.config.get("SITE_URL") or "")


@click.command("export-static")
@folder_argument
@base_url_option
@with_appcontext
def export_static_command(folder: Path, base_url: str) -> None:
    """Write the public site as static files; FOLDER becomes a link swapped atomically to each new copy."""
    site = mirror_site(base_url)
    try:
        result = site.export(folder.absolute())
    except MirrorFolderError as error:
        raise click.ClickException(str(error)) from None
    finally:
        site.close()
    click.echo(f"Wrote {result.files} files into {result.generation}; {folder} now serves it.")
    if result.skipped:
        click.echo(f"Left out {len(result.skipped)} that the site could not draw: {', '.join(result.skipped)}",
                   err=True)
    if result.dead_forms:
        click.echo(f"{len(result.dead_forms)} pages have forms the mirror cannot answer (give them form_action), "
                   f"e.g. {next(iter(result.dead_forms))}", err=True)


@click.command("mirror")
@folder_argument
@base_url_option
@click.option("--every", default=30.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds at least between two refreshes.")
@click.option("--refresh-after", default=3600.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds after which the mirror is refreshed even if nothing changed.")
@click.option("--rsync", "rsync_to", metavar="USER@HOST:PATH", help="Push each new copy there with rsync over ssh.")
@with_appcontext
def mirror_command(folder: Path, base_url: str, every: float, refresh_after: float, rsync_to: str | None) -> None:
    """Keep a static mirror in FOLDER refreshed after every change, and pushed with rsync if asked."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    site = mirror_site(base_url)
    service = MirrorService(site, folder.absolute(), every, refresh_after, push_to=rsync_to)
    try:
        service.step()  # a folder that cannot be used is said at once, not logged forever
        stop = threading.Event()
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, lambda *_: stop.set())
        click.echo(f"Mirroring into {folder} every {every:g} s at most; stop with Ctrl-C.")
        service.run(stop)
    except MirrorFolderError as error:
        raise click.ClickException(str(error)) from None
    finally:
        site.close()

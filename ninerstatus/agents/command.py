"""The ``ninerstatus agent`` command: run a probe location's agent on this machine.

It needs no site here: no web server, no database server, no Flask. The
plugins are loaded as ``ninerstatus check`` loads them (installed ones, and
local ones from this machine's instance folder), so a third-party plugin
installed beside the agent probes too.
"""
from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

import click

from ..config import ConfigError
from ..instance import instance_path, site_settings
from ..plugins import load_plugins


def _default_spool() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(state) / "ninerstatus" / "agent-spool.sqlite"


@click.command("agent")
@click.option("--site", "site_url", required=True, metavar="URL",
              help="The status site's address, e.g. https://status.example.net/")
@click.option("--token-file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The file holding this location's token (shown once when staff added the location).")
@click.option("--spool", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where results wait while the site cannot be reached "
                   "[default: ~/.local/state/ninerstatus/agent-spool.sqlite].")
@click.option("--max-spool", default=100_000, show_default=True, type=click.IntRange(min=100),
              help="The most results kept waiting; beyond it the oldest are dropped (and counted).")
@click.option("--workers", default=16, show_default=True, type=click.IntRange(1, 512),
              help="Probes run at the same time.")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="CA certificates to verify the site with, when its certificate is not from a public CA.")
@click.option("--verbose", "-v", is_flag=True,
              help="Log every fetch, every result kept and every batch the site took (by the spool's numbers).")
def agent_command(site_url: str, token_file: Path, spool: Path | None, max_spool: int, workers: int,
                  ca_file: str | None, verbose: bool) -> None:
    """Probe this location's checks on schedule and report to the site (stops on SIGTERM or Ctrl-C, keeping the
    results of the probes in flight)."""
    from .agent import Agent
    from .client import SiteClient
    from .signing import parse_token
    from .spool import Spool

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    token = parse_token(token_file.read_text(encoding="utf-8", errors="replace"))
    if token is None:
        raise click.BadParameter("the file does not hold a location token (nsa1.<id>.<secret>)",
                                 param_hint="--token-file")
    try:
        client = SiteClient(site_url, str(token), ca_file)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--site") from None
    try:
        folder = instance_path()
        check_types = load_plugins(site_settings(folder), folder).check_types
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    spool_path = spool or _default_spool()
    agent = Agent(client, Spool(spool_path, max_spool), check_types, spool_path.parent, workers=workers)
    signal.signal(signal.SIGTERM, lambda *_: agent.stop.set())
    click.echo(f"ninerstatus agent {agent.version}: reporting to {client.base}, spool {spool_path}", err=True)
    try:
        agent.run()
    except KeyboardInterrupt:
        agent.stop.set()
    finally:
        agent.spool.close()

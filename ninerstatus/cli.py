"""Command-line tools: the ``ninerstatus`` script and the same commands under ``flask``."""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import func, select

from .extensions import db


def register_commands(app: Flask) -> None:
    """Attach the site's commands to ``app.cli``."""
    from .check_commands import check_command, plugins_command
    from .runner.command import runner_command

    for command in (init_command, demo_command, create_user_command, serve_command, plugins_command,
                    check_command, runner_command):
        app.cli.add_command(command)


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Write instance/config.py with a fresh secret key, unless it exists."""
    path = Path(current_app.instance_path) / "config.py"
    if path.exists():
        click.echo(f"{path} exists; leaving it as it is.")
        return
    path.write_text(
        '"""This site\'s own settings; see config.example.py beside it for the others."""\n'
        f"SECRET_KEY = {secrets.token_hex(32)!r}\n",
        encoding="utf-8",
    )
    path.chmod(0o600)
    click.echo(f"Wrote {path} with a new secret key.")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Only load when the site has no servers and no posts.")
@click.option("--site-url", default="http://127.0.0.1:8000/", show_default=True,
              help="Where this site is served: NC042's demo check probes it.")
@with_appcontext
def demo_command(if_empty: bool, site_url: str) -> None:
    """Load the demo servers, sample posts and a check of this site itself."""
    from .demo import add_site_check, is_empty, load_demo

    if if_empty and not is_empty():
        click.echo("The site already has content; demo data not loaded.")
        return
    servers, posts = load_demo()
    click.echo(f"Demo data loaded: {servers} servers and {posts} posts added.")
    if add_site_check(site_url):
        click.echo(f"NC042 checks this site at {site_url} (run `ninerstatus runner` to probe it).")


@click.command("create-user")
@click.argument("email")
@click.option("--name", default="", help="Name shown to other staff.")
@click.option("--admin", is_flag=True, help="Make the account an admin (default: editor).")
@click.password_option(prompt="Password", help="Prompted for when not given.")
@with_appcontext
def create_user_command(email: str, name: str, admin: bool, password: str) -> None:
    """Create a staff account (editor, or admin with --admin)."""
    from .models import Role, User

    email = email.strip()
    if "@" not in email or any(c.isspace() for c in email):
        raise click.BadParameter(f"{email!r} is not an e-mail address.", param_hint="EMAIL")
    if db.session.scalar(select(func.count()).where(func.lower(User.email) == email.lower())):
        raise click.ClickException(f"An account for {email} already exists.")
    if len(password) < 10:
        raise click.BadParameter("use at least 10 characters.", param_hint="password")
    user = User(email=email, name=name.strip(), role=Role.ADMIN if admin else Role.EDITOR)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {user.role.value} account {email}.")


# Granian holds one of a worker's connection permits ("backpressure") for as long as a
# connection stays open, busy or idle; with as few permits as threads, a handful of
# idle keep-alive connections stalled every new visitor. So permits get granian's own
# default (the listen backlog shared out between the workers), never fewer than a few per
# thread, and an idle or slow connection gives its permit back after the keep-alive time.
LISTEN_BACKLOG = 1024
MIN_CONNECTIONS_PER_THREAD = 4
# The pages benchmark served most pages a second with 8 threads per worker, even on 2 CPUs.
DEFAULT_THREADS = 8


def _connections_per_worker(workers: int, threads: int) -> int:
    """How many connections, busy or idle, each worker keeps open at most."""
    return max(LISTEN_BACKLOG // workers, MIN_CONNECTIONS_PER_THREAD * threads)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--workers", default=lambda: os.cpu_count() or 1, type=click.IntRange(1, 64),
              show_default="one per CPU", help="Worker processes.")
@click.option("--threads", default=DEFAULT_THREADS, show_default=True, type=click.IntRange(1, 256),
              help="Threads per worker that run requests, one request each at a time.")
@click.option("--keep-alive", default=5, show_default=True, type=click.IntRange(1, 60), metavar="SECONDS",
              help="Close a connection idle this long, or one that takes longer to send a request's headers.")
@with_appcontext
def serve_command(host: str, port: int, workers: int, threads: int, keep_alive: int) -> None:
    """Serve the site with the production WSGI server (granian).

    Each worker keeps at most max(1024 / workers, 4 x threads) connections open;
    further clients wait in the listen backlog. HTTP/1.1 only: browsers speak
    HTTP/2 only over TLS, which a reverse proxy in front of the site provides.
    """
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings

    from . import ConfigError, ensure_production_secret

    # Each worker builds its own app from the same environment; check here first so a
    # missing secret key is one clear message, not a crash in every worker.
    try:
        ensure_production_secret(current_app)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Serving ninerstatus on http://{host}:{port}/ with {workers} worker(s) of {threads} thread(s); "
               "Ctrl-C stops.")
    # Cleartext HTTP/2 is off: granian never times out an idle HTTP/2 connection, and its
    # streams would let one connection queue hundreds of requests past the permits.
    server = Granian("ninerstatus.wsgi:app", address=host, port=port, interface=Interfaces.WSGI,
                     http=HTTPModes.http1, workers=workers, blocking_threads=threads, backlog=LISTEN_BACKLOG,
                     backpressure=_connections_per_worker(workers, threads),
                     http1_settings=HTTP1Settings(header_read_timeout=keep_alive * 1000), log_access=False)
    if threads <= DEFAULT_THREADS:
        # Granian warns of "quite high" thread counts above 2 x CPUs + 1, which our measured
        # default is on small machines: a warning on every start that asks for no change.
        logging.getLogger("_granian").addFilter(lambda record: "Python threads" not in record.getMessage())
    server.serve()


def _create_cli_app() -> Flask:
    from . import create_app

    return create_app(check_secret=False)


@click.group(cls=FlaskGroup, create_app=_create_cli_app, add_version_option=False,
             load_dotenv=False, set_debug_flag=False)
def main() -> None:
    """ninerstatus: a status site for hosting companies."""

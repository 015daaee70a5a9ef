"""The ``ninerstatus`` script, and the site's commands under ``flask --app ninerstatus``.

``ninerstatus check`` and ``ninerstatus plugins`` need the plugins only, so
the script runs them without building the site (no Flask, SQLAlchemy or
Alembic): a check run every minute by Nagios costs little more than the probe.
Every other command is the site's, and the script builds the application
for it as ``flask --app ninerstatus`` does. A configuration that cannot work
is told in one line that says what to fix, never a traceback.
"""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from .agents.command import agent_command
from .check_commands import CommandLine, check_command, plugins_command
from .config import ConfigError

if TYPE_CHECKING:
    from flask import Flask

LIGHT_COMMANDS = (check_command, plugins_command, agent_command)


def register_commands(app: Flask) -> None:
    """Attach the site's commands to ``app.cli``."""
    from .checks.commands import reencrypt_secrets_command
    from .imports.commands import import_group
    from .mirror.commands import export_static_command, mirror_command
    from .runner.command import runner_command
    from .serving import serve_command
    from .site_commands import create_user_command, demo_command, init_command
    from .siteconfig.commands import config_group

    for command in (init_command, demo_command, create_user_command, serve_command, *LIGHT_COMMANDS,
                    runner_command, reencrypt_secrets_command, config_group, import_group, export_static_command,
                    mirror_command):
        app.cli.add_command(command)


def _create_cli_app() -> Flask:
    from . import create_app

    return create_app(check_secret=False)


def _database_problem(error: Exception) -> str | None:
    """One line for a database that cannot be reached or opened; None for any other error."""
    if "sqlalchemy" not in sys.modules:  # no database was used (and importing SQLAlchemy costs)
        return None
    from flask import current_app, has_app_context
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    if not isinstance(error, OperationalError):
        return None
    reason = str(error.orig or error).strip().splitlines()[0]
    if not has_app_context():
        return f"cannot use the database ({reason}): check DATABASE_URL"
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    fix = "check DATABASE_URL"
    if url.get_backend_name() == "sqlite" and not current_app.config.get("DATABASE_URL"):
        fix = f"check that the instance folder {current_app.instance_path} is writable, or set DATABASE_URL"
    return f"cannot use the database {url.render_as_string(hide_password=True)} ({reason}): {fix}"


class NinerstatusGroup(click.Group):
    """``check`` and ``plugins`` on the plugins alone; every other command is Flask's group of the site's."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(commands=LIGHT_COMMANDS, **kwargs)
        self._site_group: click.Group | None = None

    def main(self, args: list[str] | None = None, *rest: Any, **extra: Any) -> Any:
        if args is None:
            # This process runs the command line it was started with (a test passes args):
            # so `check --timeout` can count the start of the process too.
            extra.setdefault("obj", CommandLine())
        return super().main(args, *rest, **extra)

    def _site(self, ctx: click.Context) -> click.Group:
        """Flask's group of the site's commands, with what builds the site on ``ctx``."""
        from flask.cli import FlaskGroup, ScriptInfo

        if self._site_group is None:
            self._site_group = FlaskGroup(create_app=_create_cli_app, add_version_option=False,
                                          load_dotenv=False, set_debug_flag=False)
        if not isinstance(ctx.obj, ScriptInfo):
            ctx.obj = ScriptInfo(create_app=_create_cli_app, set_debug_flag=False, load_dotenv_defaults=False)
        return self._site_group

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            site = self._site(ctx)
            ctx.obj.load_app()  # here, so a configuration problem is one line (see invoke)
            command = site.get_command(ctx, cmd_name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx))
        site = self._site(ctx)
        try:
            ctx.obj.load_app()
        except ConfigError as error:
            click.echo(f"Error: {error}", err=True)
        else:
            names.update(site.list_commands(ctx))
        return sorted(names)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            raise click.ClickException(str(error)) from None
        except Exception as error:
            problem = _database_problem(error)
            if problem is None:
                raise
            raise click.ClickException(problem) from None


@click.group(cls=NinerstatusGroup)
def main() -> None:
    """ninerstatus: a status site for hosting companies."""

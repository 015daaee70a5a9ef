"""Commands for plugins and probes: ``ninerstatus plugins`` and ``ninerstatus check``.

Neither needs the site: run by the ``ninerstatus`` script they load the
plugins from the settings alone, never importing Flask or SQLAlchemy (a
Nagios-style check costs little more than its probe). Under ``flask --app
ninerstatus`` they use the plugins of the site Flask built.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import click

from .checktypes import CheckType, CheckTypeError
from .config import ConfigError
from .instance import instance_path, site_settings
from .plugins import Plugins, get_plugins, load_plugins
from .probing import Family, InvalidTarget, ProbeResult, Status, Target, TlsMode, TlsPolicy, run_probe
from .reporting import nagios_line, readable_report


def _loaded_plugins() -> Plugins:
    """The plugins of the site this command runs for."""
    # Flask hands its commands a ScriptInfo, which builds (or has built) the site.
    load_app = getattr(click.get_current_context().find_root().obj, "load_app", None)
    if load_app is not None:
        return get_plugins(load_app())
    folder = instance_path()
    return load_plugins(site_settings(folder), folder)


def _seconds_since_start() -> float:
    """How long this process has been running (0 where the system does not say, as off Linux)."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22, starttime: ticks after boot
        return max(0.0, time.clock_gettime(time.CLOCK_BOOTTIME) - started)
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0


@dataclass(frozen=True)
class CommandLine:
    """This process was started to run one command line (not a test or a shell calling a command)."""

    #: When the process started, on the ``time.monotonic()`` clock.
    started: float = field(default_factory=lambda: time.monotonic() - _seconds_since_start())


def _refuse(type_name: str, output: str | None, error: Exception | str, otherwise: click.ClickException) -> NoReturn:
    """Stop before probing: an UNKNOWN line for Nagios (exit 3), else ``otherwise``."""
    if output == "nagios":
        click.echo(f"{type_name.upper()} UNKNOWN - {error}")
        raise SystemExit(Status.UNKNOWN.value)
    raise otherwise


@click.command("plugins")
def plugins_command() -> None:
    """List the loaded plugins, where they came from, and their check types."""
    plugins = _loaded_plugins()
    for info in plugins.loaded:
        click.echo(f"{info.name}  ({info.source}: {info.origin})")
        click.echo(f"    hooks: {', '.join(info.hooks) or 'none'}")
    for path, reason in plugins.skipped.items():
        click.echo(f"skipped {path}: {reason}")
    click.echo("check types: " + (", ".join(plugins.check_types) or "none"))


def _parse_options(options: tuple[str, ...]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for option in options:
        name, sep, value = option.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{option!r} is not NAME=VALUE", param_hint="--option")
        parsed[name.strip()] = value
    return parsed


def _kind(field) -> str:
    """What a setting takes, in a few words: its type, its choices, its bounds."""
    import wtforms

    if isinstance(field, wtforms.PasswordField):
        kind = "secret text"
    elif isinstance(field, wtforms.BooleanField):
        kind = "yes or no"
    elif isinstance(field, wtforms.SelectFieldBase):
        kind = "one of " + ", ".join(_shown(value, label) for value, label, *_ in field.iter_choices())
    elif isinstance(field, wtforms.IntegerField):
        kind = "whole number"
    elif isinstance(field, (wtforms.DecimalField, wtforms.FloatField)):
        kind = "number"
    elif isinstance(field, wtforms.TextAreaField):
        kind = "text, items on lines of their own"
    else:
        kind = "text"
    for check in field.validators:
        if isinstance(check, wtforms.validators.NumberRange):
            kind += f" from {check.min} to {check.max}" if check.max is not None else f" from {check.min}"
        elif isinstance(check, wtforms.validators.Length) and check.max not in (None, -1):
            kind += f", at most {check.max} characters"
    return kind


def _shown(value, label) -> str:
    """A choice as it is typed on the command line: its label where its value is true/false (yes/no settings)."""
    return str(label) if isinstance(value, bool) else str(value)


def _default(field, secret: bool) -> str | None:
    """A setting's default as it would be typed, or None when it has none worth saying (never a secret's)."""
    import wtforms

    value = field.data
    if secret or value is None or value == "":
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(field, wtforms.SelectFieldBase):
        return next((_shown(choice, label) for choice, label, *_ in field.iter_choices()
                     if field.coerce(choice) == value), str(value))
    return str(value)


def settings_help(check_type: CheckType) -> list[tuple[str, str]]:
    """Each setting of ``check_type`` as (name, what it is and takes), from its declared WTForms fields."""
    form = check_type.form_class()
    rows = []
    for name, field in form._fields.items():
        secret = name in check_type.secret_names
        words = f"{field.label.text}: {_kind(field)}"
        if field.flags.required:
            words += ", required"
        words += "."
        if field.description:
            words += f" {str(field.description).rstrip('.')}."
        if secret:
            words += " Stored encrypted."
        default = _default(field, secret)
        if default is not None:
            words += f" Default: {default}."
        rows.append((name, words))
    return rows


def tls_help(check_type: CheckType) -> str:
    """The TLS modes of ``check_type`` and which one each port uses."""
    modes = ", ".join(mode.value for mode in check_type.tls_modes)
    by_port = "; ".join(f"{port}: {mode.value}" for port, mode in check_type.tls_by_port.items())
    usual = f" (by port: {by_port}; other ports: {check_type.default_tls(0).value})" if by_port else ""
    return f"{modes}{usual}"


class CheckCommand(click.Command):
    """``ninerstatus check``, whose ``--help`` also lists the check types, or the settings of the type named."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # --help is handled before the arguments are read: keep them to find the type named beside it.
        ctx.meta["ninerstatus.check.args"] = list(args)
        return super().parse_args(ctx, args)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        try:
            types = _loaded_plugins().check_types
        except ConfigError as error:
            formatter.write_paragraph()
            formatter.write_text(f"Check types cannot be listed: {error}")
            return
        type_name = self._named_type(ctx)
        if type_name in types:
            self._format_type(types[type_name], formatter)
            return
        with formatter.section("Check types"):
            formatter.write_dl([(name, check_type.label) for name, check_type in types.items()] or [("none", "")])
        formatter.write_paragraph()
        unknown = f"There is no check type {type_name!r}. " if type_name else ""
        formatter.write_text(f"{unknown}`ninerstatus check TYPE --help` lists the settings of a type.")

    def _named_type(self, ctx: click.Context) -> str | None:
        """The TYPE given on the command line with --help, if any."""
        try:
            values, _, _ = self.make_parser(ctx).parse_args(list(ctx.meta.get("ninerstatus.check.args", ())))
        except click.UsageError:
            return None
        named = values.get("type_name")
        return named if isinstance(named, str) else None  # click marks a missing argument with a sentinel

    @staticmethod
    def _format_type(check_type: CheckType, formatter: click.HelpFormatter) -> None:
        ports = ", ".join(f"{name} {port}" for name, port in check_type.ports.items())
        with formatter.section(f"{check_type.label} ({check_type.name})"):
            if check_type.description:
                formatter.write_text(check_type.description)
                formatter.write_paragraph()
            formatter.write_dl([("port", f"{check_type.default_port}" + (f" (usual ports: {ports})" if ports else "")),
                                ("--tls", tls_help(check_type))])
        with formatter.section(f"Settings of {check_type.name}, given as --option NAME=VALUE"):
            formatter.write_dl(settings_help(check_type) or [("none", "this check type has no settings")])


@click.command("check", cls=CheckCommand)
@click.argument("type_name", metavar="TYPE")
@click.option("--host", "-H", required=True, help="Host name or IP address to probe.")
@click.option("--port", "-p", type=click.IntRange(1, 65535), help="Port (default: the check type's).")
@click.option("--tls", "tls_mode", type=click.Choice([m.value for m in TlsMode]),
              help="How to reach TLS (default: what the check type uses on that port).")
@click.option("--family", type=click.Choice([f.value for f in Family]), default=Family.ANY.value,
              show_default=True, help="IP version to use.")
@click.option("--tls-name", help="Name to send as SNI and verify the certificate against (default: host).")
@click.option("--insecure", is_flag=True, help="Do not verify the certificate chain and name.")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False), help="Trust only these CAs (PEM).")
@click.option("--warn-days", type=click.IntRange(0), default=21, show_default=True,
              help="WARNING when the certificate has fewer days left.")
@click.option("--crit-days", type=click.IntRange(0), default=7, show_default=True,
              help="CRITICAL when the certificate has fewer days left.")
@click.option("--timeout", "-t", type=click.FloatRange(0.1, 300), default=10.0, show_default=True,
              help="Seconds the whole run may take, starting included; the probe gets what is left.")
@click.option("--option", "-o", "options", multiple=True, metavar="NAME=VALUE",
              help="A setting of the check type; repeat for more.")
@click.option("--nagios", "output", flag_value="nagios", help="Print one Nagios plugin line; exit 0..3.")
@click.option("--json", "output", flag_value="json", help="Print the result as JSON.")
def check_command(type_name: str, host: str, port: int | None, tls_mode: str | None, family: str,
                  tls_name: str | None, insecure: bool, ca_file: str | None, warn_days: int, crit_days: int,
                  timeout: float, options: tuple[str, ...], output: str | None) -> None:
    """Run one probe now and print what it saw (exit status as Nagios plugins: 0..3)."""
    command_line = click.get_current_context().find_object(CommandLine)
    deadline = (command_line.started if command_line else time.monotonic()) + timeout
    try:
        types = _loaded_plugins().check_types
    except ConfigError as error:
        _refuse(type_name, output, error, click.ClickException(str(error)))
    if type_name not in types:
        message = f"no check type {type_name!r}; known: {', '.join(types) or 'none'}"
        _refuse(type_name, output, message, click.BadParameter(message, param_hint="TYPE"))
    check_type = types[type_name]
    try:
        settings = check_type.parse_settings(_parse_options(options))
        port = port or check_type.default_port
        tls = check_type.tls_for(port, TlsMode(tls_mode) if tls_mode else None)
        target = Target(host, port, Family(family), tls, tls_name)
        policy = TlsPolicy(verify=not insecure, ca_file=ca_file, warn_days=warn_days, crit_days=crit_days)
    except (CheckTypeError, InvalidTarget, ValueError) as error:
        _refuse(type_name, output, error, click.UsageError(str(error)))
    left = deadline - time.monotonic()
    if left > 0:
        result = run_probe(check_type.probe, target, settings, left, tls_policy=policy)
    else:
        result = ProbeResult.unknown(f"no time left to probe: starting took the whole {timeout:g} s timeout")
    if output == "nagios":
        click.echo(nagios_line(type_name, result, policy))
    elif output == "json":
        click.echo(json.dumps({"type": type_name, "host": target.host, "port": target.port,
                               "result": result.to_dict()}, indent=2))
    else:
        click.echo(readable_report(f"{check_type.label} {target.host}:{target.port}", result))
    raise SystemExit(result.status.value)

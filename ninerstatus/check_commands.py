"""Commands for plugins and probes: ``ninerstatus plugins`` and ``ninerstatus check``."""
from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from .checktypes import CheckTypeError
from .plugins import get_plugins
from .probing import Family, InvalidTarget, Status, Target, TlsMode, TlsPolicy, run_probe
from .reporting import nagios_line, readable_report


@click.command("plugins")
@with_appcontext
def plugins_command() -> None:
    """List the loaded plugins, where they came from, and their check types."""
    plugins = get_plugins(current_app)
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


@click.command("check")
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
              help="Seconds the whole probe may take.")
@click.option("--option", "-o", "options", multiple=True, metavar="NAME=VALUE",
              help="A setting of the check type; repeat for more.")
@click.option("--nagios", "output", flag_value="nagios", help="Print one Nagios plugin line; exit 0..3.")
@click.option("--json", "output", flag_value="json", help="Print the result as JSON.")
@with_appcontext
def check_command(type_name: str, host: str, port: int | None, tls_mode: str | None, family: str,
                  tls_name: str | None, insecure: bool, ca_file: str | None, warn_days: int, crit_days: int,
                  timeout: float, options: tuple[str, ...], output: str | None) -> None:
    """Run one probe now and print what it saw (exit status as Nagios plugins: 0..3)."""
    types = get_plugins(current_app).check_types
    if type_name not in types:
        raise click.BadParameter(f"no check type {type_name!r}; known: {', '.join(types) or 'none'}",
                                 param_hint="TYPE")
    check_type = types[type_name]
    try:
        settings = check_type.parse_settings(_parse_options(options))
        port = port or check_type.default_port
        tls = check_type.tls_for(port, TlsMode(tls_mode) if tls_mode else None)
        target = Target(host, port, Family(family), tls, tls_name)
        policy = TlsPolicy(verify=not insecure, ca_file=ca_file, warn_days=warn_days, crit_days=crit_days)
    except (CheckTypeError, InvalidTarget, ValueError) as error:
        if output == "nagios":
            click.echo(f"{type_name.upper()} UNKNOWN - {error}")
            raise SystemExit(Status.UNKNOWN.value)
        raise click.UsageError(str(error)) from None
    result = run_probe(check_type.probe, target, settings, timeout, tls_policy=policy)
    if output == "nagios":
        click.echo(nagios_line(type_name, result, policy))
    elif output == "json":
        click.echo(json.dumps({"type": type_name, "host": target.host, "port": target.port,
                               "result": result.to_dict()}, indent=2))
    else:
        click.echo(readable_report(f"{check_type.label} {target.host}:{target.port}", result))
    raise SystemExit(result.status.value)

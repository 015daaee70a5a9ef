"""Writing the site as a configuration file: servers, their checks, probe locations, notifier settings, with comments.

The file reads like a commented Gatus configuration: a header says what it
is, how to apply it and which environment variables its secrets come from;
each section starts with a comment, and each field is followed by the label
staff know it by in the admin (taken from the admin's own forms). Secrets
are written as ``${VARIABLE}`` references, never in clear.

Every stored row is untrusted: a check that could not be applied back as
it stands (its plugin is not loaded, its TLS mode or settings are not
readable) is left out with a warning, so the file always applies; so is a
location's assignment of a check left out. Locations' tokens are never
written: an agent keeps its token, and staff give one to a new location.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..admin.check_forms import MAX_QUORUM, check_form_class
from ..admin.forms import LocationForm, ServerForm
from ..agents.locations import unsaved_site_location
from ..agents.models import CheckLocation, Location
from ..check_commands import settings_help, tls_help
from ..checks.models import Check
from ..checks.secrets import UnreadableSecret
from ..checks.validity import check_problem
from ..checktypes import CheckType
from ..extensions import db
from ..models import Server
from ..plugins import get_plugins
from ..site_settings import stored_settings
from .document import (CHECK_KEYS, LOCATION_KEYS, SERVER_KEYS, TOP_KEYS, VERSION, Key, check_reference,
                       notifier_settings, secret_variable)
from .yamlfile import dump_scalar

HEADER = """\
# ninerstatus site configuration: the servers listed under "Systems at a Glance",
# their checks, the probe locations, and where the notifiers send.
#
# Written by `ninerstatus config export`. Keep it in version control, edit it,
# and make the site match it with:
#     ninerstatus config apply FILE --dry-run   # shows what would change; changes nothing
#     ninerstatus config apply FILE             # creates and updates what the file says
#     ninerstatus config apply FILE --prune     # and removes what the file no longer has
#
# A server is known by its code; a check by its server's code and its name;
# a location by its name, except the site's own runner (site: true).
# Locations' tokens are never written here: a location this file creates has
# no token until an admin gives it one on the Locations page (New token).
# Keys left out take the admin form's defaults; unknown keys are refused.
# Secrets are never written here: each is a ${VARIABLE} reference to an
# environment variable that must be set when the file is applied, named
# NINERSTATUS_SECRET_ then the server code, check name and setting in capitals.
"""
#: Where a line's comment starts, so the comments of a block line up.
COMMENT_COLUMN = 44


@dataclass
class Export:
    """The file's text, the environment variables its secrets refer to, and what was left out and why."""

    text: str
    variables: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _Writer:
    """Writes the file's lines section by section, noting the variables, check types and warnings met."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.variables: list[str] = []
        self.warnings: list[str] = []
        self.types_used: dict[str, CheckType] = {}
        # How each written check is named in a location's list, by its id.
        self.references: dict[int, str] = {}

    def variable(self, *parts: str) -> str:
        """A fresh variable name for a secret (``_2``, ``_3``... when two names would read the same)."""
        name = base = secret_variable(*parts)
        count = 1
        while name in self.variables:
            count += 1
            name = f"{base}_{count}"
        self.variables.append(name)
        return "${" + name + "}"

    def mapping(self, indent: int, rows: list[tuple[str, Any, str]], listed: bool) -> None:
        """``rows`` of (key, YAML text, comment) as one mapping, the first line starting a list item if ``listed``."""
        for index, (key, value, comment) in enumerate(rows):
            prefix = ("- " if index == 0 else "  ") if listed else ""
            text = f"{' ' * indent}{prefix}{key}: {value}"
            self.lines.append(f"{text.ljust(COMMENT_COLUMN)}  # {comment}" if comment else text)

    def servers(self, servers: list[Server]) -> None:
        self.lines += ["", f"# {TOP_KEYS['servers'].help[:1].upper()}{TOP_KEYS['servers'].help[1:]}, in order."]
        if not servers:
            self.lines.append("servers: []")
            return
        self.lines.append("servers:")
        labels = _labels(ServerForm(formdata=None, meta={"csrf": False}), SERVER_KEYS)
        for server in servers:
            rows = [(key, dump_scalar(_server_value(server, key)), labels[key])
                    for key, spec in SERVER_KEYS.items() if spec.field]
            self.mapping(2, rows, listed=True)
            checks = [check for check in server.checks if self.exportable(check)]
            titles = [check.title for check in checks]
            self.warnings += [f"server {server.code} has several checks named {title!r}: rename all but one in "
                              "the admin, or the file will not apply" for title in sorted(set(titles))
                              if titles.count(title) > 1]
            if not checks:
                self.lines.append("    checks: []")
                continue
            self.lines.append("    checks:")
            for check in checks:
                self.references[check.id] = check_reference(server.code, check.title)
                self.check(server, check)

    def locations(self, locations: list[Location], probed: dict[int, list[int]]) -> None:
        """The probe locations, the site's own runner first, each with the checks it probes (never a token)."""
        self.lines += ["", f"# {TOP_KEYS['locations'].help[:1].upper()}{TOP_KEYS['locations'].help[1:]}, the site's "
                           "own runner first;", "# without --prune, the site's other locations are left as they are.",
                       "locations:"]
        labels = _labels(LocationForm(formdata=None, meta={"csrf": False}), LOCATION_KEYS)
        for location in locations:
            rows = [(key, dump_scalar(getattr(location, spec.field)), labels[key])
                    for key, spec in LOCATION_KEYS.items() if spec.field]
            if location.is_site:
                rows.insert(1, ("site", "true", "the site's own runner: it probes every enabled check"))
                self.mapping(2, rows, listed=True)
                continue
            self.mapping(2, rows, listed=True)
            # A check left out of the file above cannot be named here: the warning about it says why.
            references = [self.references[check_id] for check_id in probed.get(location.id, ())
                          if check_id in self.references]
            self.lines.append("    checks: []" if not references else "    checks:")
            self.lines += [f"      - {dump_scalar(reference)}" for reference in references]

    def exportable(self, check: Check) -> bool:
        """True when ``check`` can be written so that it applies back; a warning says why not otherwise."""
        problem = check_problem(check, get_plugins().check_types)
        if problem is None:
            return True
        if isinstance(check.settings, Mapping):
            unreadable = check.readable_settings()[1]
            if unreadable and problem == str(UnreadableSecret(unreadable)):
                return True  # written as a reference: the variable gives the secret again
        self.warnings.append(f"check {check.server.code} / {check.title} left out: {problem} "
                             "(`config apply --prune` would remove it)")
        return False

    def check(self, server: Server, check: Check) -> None:
        check_type = get_plugins().check_types[check.type_name]
        self.types_used[check_type.name] = check_type
        form = check_form_class(check_type)(formdata=None, meta={"csrf": False})
        labels = _labels(form, CHECK_KEYS)
        rows = []
        for key, spec in CHECK_KEYS.items():
            if key == "settings" or (spec.field and spec.field not in form):  # no TLS keys on a type without TLS
                continue
            value = _check_value(check, key)
            if key == "quorum" and value is not None and not (isinstance(value, int) and 1 <= value <= MAX_QUORUM):
                self.warnings.append(f"check {server.code} / {check.title}: its stored quorum {value} is not one the "
                                     "check form takes, so it is written as null (a majority)")
                value = None
            rows.append((key, dump_scalar(value), labels[key]))
        self.mapping(6, rows, listed=True)
        settings, unreadable = check.readable_settings()
        fields = check_type.form_class()
        if not fields._fields:
            self.lines.append("        settings: {}")
            return
        self.lines.append("        settings:")
        for name, setting in fields._fields.items():
            if name in check_type.secret_names:
                has_secret = name in unreadable or bool(settings.get(name))
                value = self.variable(server.code, check.title, name) if has_secret else '""'
            else:
                value = dump_scalar(settings.get(name, setting.data))
            self.mapping(10, [(name, value, setting.label.text)], listed=False)

    def notifications(self) -> None:
        stored = stored_settings()
        self.lines += ["", f"# {TOP_KEYS['notifications'].help[:1].upper()}{TOP_KEYS['notifications'].help[1:]}: "
                           "these values override the configuration's (config.py, NINERSTATUS_* variables);",
                       "# with --prune, a setting left out goes back to the configuration's value.",
                       "notifications:"]
        for key, spec in notifier_settings().items():
            value = stored[spec.name] if spec.name in stored else current_app.config.get(spec.name)
            if spec.secret:
                shown = self.variable(spec.name) if value else '""'
            else:
                shown = dump_scalar(value)
            self.mapping(2, [(key, shown, f"{spec.name}: {spec.kind.value}" + (", secret" if spec.secret else ""))],
                         listed=False)

    def reference(self) -> list[str]:
        """The header's list of the variables the file refers to, and of the check types' settings."""
        lines = []
        if self.variables:
            lines += ["#", "# This file refers to these environment variables:"]
            lines += [f"#     {name}" for name in self.variables]
        lines += ["#", *_key_reference("Server keys:", SERVER_KEYS), *_key_reference("Check keys:", CHECK_KEYS),
                  *_key_reference("Location keys:", LOCATION_KEYS)]
        for check_type in self.types_used.values():
            lines += ["#", f"# {check_type.name} checks ({check_type.label}): TLS {tls_help(check_type)}; "
                           f"usual port {check_type.default_port}."]
            lines += [f"#     settings.{name}: {words}" for name, words in settings_help(check_type)]
        return lines


def _labels(form: Any, keys: dict[str, Key]) -> dict[str, str]:
    """Each key's comment: the label of the form field it feeds, else what it holds."""
    return {key: form[spec.field].label.text if spec.field and spec.field in form else spec.help
            for key, spec in keys.items()}


def _key_reference(title: str, keys: dict[str, Key]) -> list[str]:
    """The header's lines on what some keys take, where the label alone does not say it."""
    return [f"# {title}"] + [f"#     {key}: {spec.help}" for key, spec in keys.items() if spec.help]


def _server_value(server: Server, key: str) -> Any:
    return getattr(server, SERVER_KEYS[key].field)


def _check_value(check: Check, key: str) -> Any:
    if key == "type":
        return check.type_name
    if key == "order":
        return check.display_order
    if key == "name":
        return check.title
    return getattr(check, CHECK_KEYS[key].field)


def _locations() -> list[Location]:
    """The site's own location (as it will be made if it is not yet), then the agents' by name."""
    locations = list(db.session.scalars(select(Location).order_by(Location.is_site.desc(), Location.id)))
    site = [location for location in locations if location.is_site][:1] or [unsaved_site_location()]
    agents = sorted((location for location in locations if not location.is_site), key=lambda row: row.name.lower())
    return site + agents


def _probed() -> dict[int, list[int]]:
    """The ids of the checks each location probes, by location id, in check order."""
    probed: dict[int, list[int]] = {}
    for location_id, check_id in db.session.execute(select(CheckLocation.location_id, CheckLocation.check_id)
                                                    .order_by(CheckLocation.check_id)):
        probed.setdefault(location_id, []).append(check_id)
    return probed


def export_site() -> Export:
    """The site as a configuration file (needs an application context)."""
    writer = _Writer()
    writer.lines.append(f"version: {VERSION}")
    writer.servers(list(db.session.scalars(select(Server).options(selectinload(Server.checks))
                                           .order_by(Server.display_order, Server.code))))
    writer.locations(_locations(), _probed())
    writer.notifications()
    header = HEADER.rstrip("\n").split("\n") + writer.reference()
    return Export("\n".join(header + [""] + writer.lines) + "\n", writer.variables, writer.warnings)


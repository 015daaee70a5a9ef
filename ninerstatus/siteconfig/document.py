"""What the configuration file may hold, and reading it into a ``Document`` the site can apply.

The file has four top-level keys: ``version`` (1), ``servers`` (each with
its ``checks``), ``notifications`` and ``locations`` (the probe locations
and the checks each probes). Any other key, at any level, is an error: a
typo must never be silently ignored.

Nothing here decides what a valid server or check is: each entry is fed,
as text, to the very form staff fill in on the admin pages (``ServerForm``,
the check form with the check type's own settings form inside), with CSRF
off, and the form's errors become the file's errors, each with its line.
Notifier settings are checked by ``site_settings.EDITABLE``, as the site
checks them when it stores them.

Servers are keyed by their code (ignoring case, as the admin does); a check
by its server's code and its ``name``, the name visitors see (left out, it
is the check type and port, "SMTP 587", as in the admin). A location is
keyed by its name (ignoring case, as the admin does), except the site's own
runner, marked ``site: true``, which is the one such location whatever its
name and probes every enabled check (it takes no ``checks``); the checks an
agent location probes are written ``"SERVER-CODE: check name"`` and must
name a check of the file, or, without ``--prune``, one the site has. Secrets (check
passwords, the SMTP password, the webhook secret) are never written in the
file: a secret is ``""`` (none) or a ``${VARIABLE}`` reference to an
environment variable, read when the file is applied.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import BooleanField, DecimalField, FloatField, IntegerField, SelectChoice, SelectFieldBase

from ..admin.check_forms import check_form_class
from ..admin.forms import LocationForm, ServerForm
from ..checks.models import Check
from ..extensions import db
from ..check_urls import looks_like_url
from ..checktypes import CheckType
from ..plugins import get_plugins
from ..site_settings import EDITABLE, Editable
from .yamlfile import InvalidFile, Located, Problem

#: The version of the file's format this site reads and writes.
VERSION = 1
#: The prefix of the environment variables export names for secrets (see ``secret_variable``).
SECRET_PREFIX = "NINERSTATUS_SECRET_"
SECRET_REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
#: Notifier settings are the site settings named so; the file names them without the prefix, in lower case.
NOTIFY_PREFIX = "NOTIFY_"


@dataclass(frozen=True)
class Shape:
    """The YAML values a key takes (Python types), and how they are named in an error."""

    types: tuple[type, ...]
    words: str

    def refuses(self, value: Any) -> bool:
        """True when ``value`` is not of this shape (``true`` is no number here, though Python says it is)."""
        if isinstance(value, bool):
            return bool not in self.types
        return not isinstance(value, self.types)


TEXT = Shape((str,), "text")
TEXT_OR_NULL = Shape((str, type(None)), "text or null")
WHOLE = Shape((int,), "a whole number")
WHOLE_OR_NULL = Shape((int, type(None)), "a whole number or null")
NUMBER = Shape((int, float), "a number")
YES_NO = Shape((bool,), "true or false")
MAPPING = Shape((dict,), "a mapping of names to values")
LIST = Shape((list,), "a list")
SCALAR = Shape((str, int, float, bool, type(None)), "a single value")
SCALAR_OR_LIST = Shape((*SCALAR.types, list), "a single value or a list")


@dataclass(frozen=True)
class Key:
    """One key of a section of the file: the form field it feeds (None: read here), its shape, what it says."""

    field: str | None
    shape: Shape
    help: str = ""


#: A server's keys, in the order export writes them; the form field each feeds.
SERVER_KEYS: dict[str, Key] = {
    "code": Key("code", TEXT), "role": Key("role", TEXT), "city": Key("city", TEXT),
    "country": Key("country", TEXT), "visibility": Key("visibility", TEXT, "public or internal"),
    "order": Key("display_order", WHOLE, "place in the listing, lowest first (left out: its place in this file)"),
    "notes": Key("notes", TEXT),
    "checks": Key(None, LIST, "the server's checks"),
}
#: A check's keys, in the order export writes them.
CHECK_KEYS: dict[str, Key] = {
    "name": Key("label", TEXT, "the check's key within its server, shown to visitors (left out: type and port)"),
    "type": Key(None, TEXT, "the check type, from a loaded plugin (`ninerstatus plugins` lists them)"),
    "host": Key("host", TEXT),
    "port": Key("port", WHOLE_OR_NULL),
    "tls": Key("tls_mode", TEXT_OR_NULL, "none, starttls or implicit (left out: the port's usual one)"),
    "family": Key("family", TEXT, "any, ipv4 or ipv6"),
    "tls_name": Key("tls_name", TEXT_OR_NULL),
    "tls_verify": Key("tls_verify", YES_NO),
    "ca_file": Key("ca_file", TEXT_OR_NULL),
    "warn_days": Key("warn_days", WHOLE),
    "crit_days": Key("crit_days", WHOLE),
    "interval": Key("interval_seconds", WHOLE),
    "timeout": Key("timeout_seconds", NUMBER),
    "failures_before_down": Key("failures_before_down", WHOLE),
    "successes_before_up": Key("successes_before_up", WHOLE),
    "quorum": Key("quorum", WHOLE_OR_NULL, "locations that must see the check failing for it to be down, from 1 "
                                           "(null: a majority of those with a recent result)"),
    "visibility": Key("visibility", TEXT, "public or internal"),
    "enabled": Key("enabled", YES_NO),
    "order": Key(None, WHOLE, "place among the server's checks, lowest first (left out: its place in this file)"),
    "settings": Key(None, MAPPING, "the check type's own settings"),
}
#: Keys of the checks of types that never speak TLS: their form has no such fields.
TLS_KEYS = ("tls_name", "tls_verify", "ca_file", "warn_days", "crit_days")
#: A location's keys, in the order export writes them.
LOCATION_KEYS: dict[str, Key] = {
    "name": Key("name", TEXT, "the location's key in this file (ignoring case), as visitors read it"),
    "site": Key(None, YES_NO, "true for the site's own runner: one location, never created or removed by apply"),
    "city": Key("city", TEXT), "country": Key("country", TEXT), "network": Key("network", TEXT),
    "checks": Key(None, LIST, 'the checks probed from here, each written "SERVER-CODE: check name" (none for '
                              "the site's own runner: it probes every enabled check)"),
}
#: The top-level sections.
TOP_KEYS: dict[str, Key] = {
    "version": Key(None, WHOLE, f"the version of this file's format ({VERSION})"),
    "servers": Key(None, LIST, "the servers listed under Systems at a Glance, with their checks"),
    "notifications": Key(None, MAPPING, "where the notifiers send"),
    "locations": Key(None, LIST, "the probe locations and the checks each probes"),
}


def notifier_settings() -> dict[str, Editable]:
    """The notifier settings the file holds, by their key in the file (``smtp_host``)."""
    return {name[len(NOTIFY_PREFIX):].lower(): spec for name, spec in EDITABLE.items()
            if name.startswith(NOTIFY_PREFIX)}


def secret_variable(*parts: str) -> str:
    """The environment variable named after ``parts`` (``NC036``, ``Submission (587)``, ``password``).

    ``NINERSTATUS_SECRET_`` then each part in capitals, every run of other
    characters than letters and digits as one ``_``:
    ``NINERSTATUS_SECRET_NC036_SUBMISSION_587_PASSWORD``.
    """
    words = (re.sub(r"[^A-Z0-9]+", "_", part.upper()).strip("_") for part in parts)
    return SECRET_PREFIX + "_".join(word for word in words if word)


@dataclass
class CheckEntry:
    """A check as the file wants it: its columns, its settings in clear, and where it is in the file."""

    name: str
    check_type: CheckType
    values: dict[str, Any]
    settings: dict[str, Any]
    display_order: int
    line: int


@dataclass
class ServerEntry:
    """A server as the file wants it, with its checks."""

    code: str
    values: dict[str, Any]
    checks: list[CheckEntry]
    line: int


CheckKey = tuple[str, str]


def check_key(code: str, name: str) -> CheckKey:
    """How a check is matched: its server's code ignoring case, and its name."""
    return code.lower(), name


def check_reference(code: str, name: str) -> str:
    """A check as a location's ``checks`` name it: ``NC036: IMAP 993``."""
    return f"{code}: {name}"


@dataclass
class LocationEntry:
    """A location as the file wants it: its columns, the checks it probes (by key, with their text), its line."""

    name: str
    site: bool
    values: dict[str, str]
    checks: dict[CheckKey, str]
    line: int


@dataclass
class Document:
    """The file, checked: its servers, the notifier settings it gives (by setting name, ``NOTIFY_SMTP_HOST``)
    and its locations (None when it has no ``locations`` section: the site's are then left as they are)."""

    servers: list[ServerEntry]
    notifications: dict[str, Any]
    locations: list[LocationEntry] | None = None


def _shape_of(value: Any) -> str:
    for types, words in (((bool,), "true or false"), ((dict,), "a mapping"), ((list,), "a list"),
                         ((str,), "text"), ((int, float), "a number"), ((type(None),), "null")):
        if isinstance(value, types):
            return words
    return type(value).__name__


def _form_text(field: Any, value: Any) -> list[str]:
    """A YAML value as a browser would send it for ``field``."""
    if value is None:
        return [""]
    if isinstance(value, bool):
        if isinstance(field, BooleanField):
            return ["y"] if value else []
        return ["true" if value else "false"]  # a yes/no choice
    return [str(value)]


def _shown_default(field: Any) -> list[str]:
    """What a browser sends back for ``field`` shown with its default and left as it is."""
    if isinstance(field, BooleanField):
        return ["y"] if field.data else []
    if hasattr(field, "_value"):
        return [field._value()]
    return [] if field.data is None else [str(field.data)]


def _fill(form: Any, given: Mapping[str, Any]) -> None:
    """Give ``form`` the values in ``given`` (by field name) as a browser would send them.

    A left-out field is sent as the admin page shows it, with its default.
    ``null`` is no value: the field's default when that is none (what a
    setting never typed holds, as ``parse_settings`` stores it), else what
    an empty box gives.
    """
    form.process(None)
    formdata = MultiDict()
    for name, field in _named_fields(form):
        formdata.setlist(name, _form_text(field, given[name]) if name in given else _shown_default(field))
    form.process(formdata)
    for name, field in _named_fields(form):  # anew: processing made a new settings sub-form
        if name in given and given[name] is None and field.default is None:
            field.process(None)
            field.raw_data = [""]


def _named_fields(form: Any) -> list[tuple[str, Any]]:
    """Each field of ``form`` by the name it is sent under, the check type's settings (``settings-NAME``) included."""
    fields = [(name, field) for name, field in form._fields.items() if name != "settings"]
    if "settings" in form:
        fields += [(f"settings-{name}", field) for name, field in form.settings.form._fields.items()]
    return fields


class DocumentReader:
    """Turns a located document into a ``Document``, gathering every problem rather than stopping at the first."""

    def __init__(self, environ: Mapping[str, str], prune: bool) -> None:
        self.environ, self.prune = environ, prune
        self.problems: list[Problem] = []
        # The codes of the file's servers that have problems of their own: checks named on them are not judged.
        self.refused_servers: set[str] = set()
        # The checks a location may name: the file's, and without prune the site's (which all stay).
        self.nameable: set[CheckKey] = set()
        self.site_line = 0  # the line of the location marked as the site's own runner

    def problem(self, line: int, path: str, message: str) -> None:
        self.problems.append(Problem(line, path, message))

    def section(self, node: Located, keys: Mapping[str, Key], path: str) -> dict[str, Located] | None:
        """The keys of mapping ``node`` that have the right shape; unknown keys and wrong shapes are problems."""
        if not isinstance(node.value, dict):
            self.problem(node.line, path, f"must be a mapping of names to values, not {_shape_of(node.value)}")
            return None
        kept = {}
        for key, item in node.value.items():
            where = f"{path}.{key}" if path else key
            spec = keys.get(key)
            if spec is None:
                self.problem(node.key_lines[key], where, f"unknown key (known: {', '.join(keys)})")
            elif spec.shape.refuses(item.value):
                self.problem(item.line, where, f"must be {spec.shape.words}, not {_shape_of(item.value)}")
            else:
                kept[key] = item
        return kept

    def secret(self, node: Located, path: str) -> str | None:
        """The clear value of a secret written as ``""`` or ``${VARIABLE}``; None (and a problem) otherwise."""
        value = node.value
        if value is None or value == "":
            return ""
        match = SECRET_REFERENCE.match(value) if isinstance(value, str) else None
        if match is None:
            self.problem(node.line, path, "a secret is written as ${ENVIRONMENT_VARIABLE} (or \"\" for none), "
                                          "never in clear")
            return None
        if match[1] not in self.environ:
            self.problem(node.line, path, f"the environment variable {match[1]} is not set")
            return None
        return self.environ[match[1]]

    def form_errors(self, errors: Mapping[str, Any], lines: Mapping[str, int], fallback: int, path: str,
                    field_keys: Mapping[str, str]) -> None:
        """A form's errors as problems, each on its key's line (the entry's when the key was left out)."""
        for field, messages in errors.items():
            if isinstance(messages, Mapping):  # a sub-form: the check type's settings
                self.form_errors(messages, lines, fallback, path, {name: f"settings.{name}" for name in messages})
                continue
            key = field_keys.get(field, field)
            for message in messages:
                self.problem(lines.get(key, fallback), f"{path}.{key}", message)

    def read(self, root: Located) -> Document:
        top = self.section(root, TOP_KEYS, "") or {}
        if "version" in top and top["version"].value != VERSION:
            self.problem(top["version"].line, "version", f"this site reads version {VERSION} of the file")
        servers = self.servers(top["servers"]) if "servers" in top else []
        notifications = self.notifications(top["notifications"]) if "notifications" in top else {}
        locations = self.locations(top["locations"], servers) if "locations" in top else None
        if self.problems:
            raise InvalidFile(self.problems)
        return Document(servers, notifications, locations)

    def unique(self, node: Located, path: str, read: Callable[[Located, int, str], Any],
               key: Callable[[Any], str], key_name: str, twice: Callable[[Any, int], str]) -> list[Any]:
        """Each item of the list ``node`` read by ``read``; one whose ``key`` an earlier item has is a problem."""
        entries, seen = [], {}
        for index, item in enumerate(node.value):
            where = f"{path}[{index}]"
            entry = read(item, index, where)
            if entry is None:
                continue
            if key(entry) in seen:
                self.problem(item.key_lines.get(key_name, item.line), f"{where}.{key_name}",
                             twice(entry, seen[key(entry)]))
                continue
            seen[key(entry)] = item.line
            entries.append(entry)
        return entries

    def servers(self, node: Located) -> list[ServerEntry]:
        return self.unique(node, "servers", self.server, lambda entry: entry.code.lower(), "code",
                           lambda entry, line: f"the code {entry.code} is already given to the server on line {line}")

    def server(self, node: Located, index: int, path: str) -> ServerEntry | None:
        keys = self.section(node, SERVER_KEYS, path)
        if keys is None:
            return None
        form = ServerForm(formdata=None, meta={"csrf": False})
        given = {SERVER_KEYS[key].field: item.value for key, item in keys.items() if SERVER_KEYS[key].field}
        given.setdefault("display_order", (index + 1) * 10)
        _fill(form, given)
        before = len(self.problems)
        if not form.validate():
            self.form_errors(form.errors, node.key_lines, node.line, path,
                             {key.field: name for name, key in SERVER_KEYS.items() if key.field})
        checks = self.checks(keys["checks"], path) if "checks" in keys else []
        if len(self.problems) > before:
            self.refused_servers.add(str(form.code.data).lower())
            return None
        return ServerEntry(form.code.data, form.server_values(), checks, node.line)

    def checks(self, node: Located, server_path: str) -> list[CheckEntry]:
        return self.unique(node, f"{server_path}.checks", self.check, lambda entry: entry.name, "name",
                           lambda entry, line: f"the server already has a check named {entry.name!r} (line {line})")

    def check(self, node: Located, index: int, path: str) -> CheckEntry | None:
        keys = self.section(node, CHECK_KEYS, path)
        if keys is None:
            return None
        if "type" not in keys:
            self.problem(node.line, f"{path}.type", "missing: every check names its check type")
            return None
        check_types = get_plugins().check_types
        check_type = check_types.get(keys["type"].value)
        if check_type is None:
            self.problem(keys["type"].line, f"{path}.type", f"no loaded plugin provides the check type "
                         f"{keys['type'].value!r} (loaded: {', '.join(check_types) or 'none'})")
            return None
        before = len(self.problems)
        form = check_form_class(check_type)(formdata=None, meta={"csrf": False})
        for key in TLS_KEYS:
            if key in keys and key not in form:
                self.problem(node.key_lines[key], f"{path}.{key}",
                             f"{check_type.label} checks never speak TLS: leave {key} out")
        if "host" in keys and looks_like_url(keys["host"].value):
            self.problem(keys["host"].line, f"{path}.host", "a host name or IP address, not a URL: give the "
                         "port, TLS and settings the URL says with their own keys")
        given = {CHECK_KEYS[key].field: item.value for key, item in keys.items()
                 if CHECK_KEYS[key].field and CHECK_KEYS[key].field in form}
        given["server_id"] = 0
        given.update((f"settings-{name}", value) for name, value in self.settings(keys.get("settings"), check_type,
                                                                                    f"{path}.settings").items())
        if len(self.problems) > before:
            return None
        form.server_id.choices = [SelectChoice(0, "the server of this entry")]
        _fill(form, given)
        if not form.validate():
            lines = {**node.key_lines, **{f"settings.{name}": line for name, line in
                                          (keys["settings"].key_lines.items() if "settings" in keys else ())}}
            self.form_errors(form.errors, lines, node.line, path,
                             {key.field: name for name, key in CHECK_KEYS.items() if key.field})
            return None
        values = form.check_values()
        name = values["label"] or f"{check_type.name.upper()} {values['port']}"
        order = keys["order"].value if "order" in keys else (index + 1) * 10
        return CheckEntry(name, check_type, values, form.settings_to_store(), order, node.line)

    def settings(self, node: Located | None, check_type: CheckType, path: str) -> dict[str, Any]:
        """The check type's settings given in the file, secrets read from the environment."""
        if node is None:
            return {}
        given = {}
        known = check_type.form_class()
        for name, item in node.value.items():
            where = f"{path}.{name}"
            if name not in known:
                self.problem(node.key_lines[name], where, f"{check_type.label} checks have no such setting "
                             f"(settings: {', '.join(known._fields) or 'none'})")
                continue
            shape = _setting_shape(known[name])
            if shape.refuses(item.value):
                self.problem(item.line, where, f"must be {shape.words}, not {_shape_of(item.value)}")
            elif name in check_type.secret_names:
                clear = self.secret(item, where)
                if clear is not None:
                    given[name] = clear
            else:
                given[name] = item.value
        return given

    def locations(self, node: Located, servers: list[ServerEntry]) -> list[LocationEntry]:
        """The file's locations; the checks they name must be in the file or, without prune, on the site."""
        self.nameable = {check_key(server.code, check.name) for server in servers for check in server.checks}
        if not self.prune:  # the site's checks all stay
            site_checks = db.session.scalars(select(Check).options(joinedload(Check.server)))
            self.nameable |= {check_key(check.server.code, check.title) for check in site_checks}
        return self.unique(node, "locations", self.location, lambda entry: entry.name.lower(), "name",
                           lambda entry, line: f"the name {entry.name} is already given to the location on line {line}")

    def location(self, node: Located, index: int, path: str) -> LocationEntry | None:
        keys = self.section(node, LOCATION_KEYS, path)
        if keys is None:
            return None
        before = len(self.problems)
        form = LocationForm(formdata=None, meta={"csrf": False})
        form.checks.choices = []  # checks are named here, not by id: see location_checks
        _fill(form, {LOCATION_KEYS[key].field: item.value for key, item in keys.items() if LOCATION_KEYS[key].field})
        if not form.validate():
            self.form_errors(form.errors, node.key_lines, node.line, path,
                             {key.field: name for name, key in LOCATION_KEYS.items() if key.field})
        site = "site" in keys and keys["site"].value
        if site and self.site_line:
            self.problem(keys["site"].line, f"{path}.site", f"only one location is the site's own runner (the one "
                                                            f"on line {self.site_line} is): leave this key out")
            site = False  # its checks are judged as an agent location's
        elif site:
            self.site_line = node.line
        checks = {}
        if site and "checks" in keys:
            self.problem(keys["checks"].line, f"{path}.checks", "the site's own runner probes every enabled check: "
                                                                "leave checks out")
        elif "checks" in keys:
            checks = self.location_checks(keys["checks"], f"{path}.checks")
        if len(self.problems) > before:
            return None
        return LocationEntry(form.location_values()["name"], site, form.location_values(), checks, node.line)

    def location_checks(self, node: Located, path: str) -> dict[CheckKey, str]:
        """The checks a location names, by key, each with the text it is named by."""
        checks: dict[CheckKey, str] = {}
        lines: dict[CheckKey, int] = {}
        for index, item in enumerate(node.value):
            where = f"{path}[{index}]"
            if not isinstance(item.value, str):
                self.problem(item.line, where, f"must be text, not {_shape_of(item.value)}")
                continue
            code, colon, name = (part.strip() for part in item.value.partition(":"))
            if not (colon and code and name):
                self.problem(item.line, where, f'a check is named "SERVER-CODE: check name" (as "NC036: IMAP 993"), '
                                               f"not {item.value!r}")
                continue
            key = check_key(code, name)
            if key in lines:
                self.problem(item.line, where, f"the location already names this check (line {lines[key]})")
            elif code.lower() in self.refused_servers:
                continue  # its server has problems of its own, told already
            elif key not in self.nameable:
                where_from = "in this file" if self.prune else "in this file or on the site"
                pruned = " (with --prune, the site's checks the file leaves out are removed)" if self.prune else ""
                self.problem(item.line, where, f"no check {check_reference(code, name)} {where_from}{pruned}")
            else:
                lines[key], checks[key] = item.line, check_reference(code, name)
        return checks

    def notifications(self, node: Located) -> dict[str, Any]:
        known = notifier_settings()
        keys = self.section(node, {key: Key(None, SCALAR_OR_LIST) for key in known}, "notifications") or {}
        chosen = {}
        for key, item in keys.items():
            spec, where = known[key], f"notifications.{key}"
            value = item.plain
            if spec.secret:
                value = self.secret(item, where)
                if value is None:
                    continue
            try:
                chosen[spec.name] = spec.checked(value)
            except ValueError as error:
                self.problem(item.line, where, str(error).replace(spec.name, key, 1))
        return chosen


def _setting_shape(field: Any) -> Shape:
    """The YAML values a check type's setting takes, from its WTForms field (the form judges the value)."""
    if isinstance(field, BooleanField):
        return YES_NO
    if isinstance(field, IntegerField):
        return WHOLE_OR_NULL
    if isinstance(field, (FloatField, DecimalField)):
        return Shape((int, float, type(None)), "a number or null")
    if isinstance(field, SelectFieldBase):
        return SCALAR
    # Text; a number is taken as the text it is written with ("status: 200").
    return Shape((str, int, float, type(None)), "text")


def read_document(root: Located, environ: Mapping[str, str] | None = None, *, prune: bool = False) -> Document:
    """The checked document of ``root``, to be applied with ``prune`` or not; ``InvalidFile`` with every problem
    found (needs an app context)."""
    return DocumentReader(os.environ if environ is None else environ, prune).read(root)

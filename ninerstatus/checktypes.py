"""Check types: what plugins register so the core can probe, configure and show a service.

The core dispatches by type name; it never calls every plugin for every check.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from wtforms import Form, PasswordField
from wtforms.fields import Field

from .probing import ErrorKind, ProbeFailure, ProbeFunction, Status, TlsMode

DEFAULT_WIDGET = "checks/widget.html"


class CheckTypeError(ValueError):
    """A check type that cannot be registered, or settings that do not validate."""


class _TextSettings(dict[str, list[str]]):
    """Settings given as text, shaped as WTForms reads form data (a list of values per name).

    Werkzeug's MultiDict would do, but importing it costs ``ninerstatus check``
    more than the whole probe.
    """

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> _TextSettings:
        """One text value per setting name."""
        return cls((name, [str(value)]) for name, value in raw.items())

    def getlist(self, name: str) -> list[str]:
        """The values given for ``name`` (none: an empty list)."""
        return self.get(name, [])


@dataclass(frozen=True)
class CheckType:
    """One kind of check, as a plugin registers it.

    :param name: short unique identifier used in the database and on the command line (``smtp``).
    :param label: what staff and visitors read (``SMTP submission``).
    :param probe: ``probe(target, settings, ctx) -> ProbeResult``; see ``ninerstatus.probing``.
    :param default_port: port used when a check does not name one.
    :param ports: well-known ports by name, offered as presets (``{"submission": 587, "smtps": 465}``).
    :param tls_by_port: how TLS is reached on well-known ports (``{587: TlsMode.STARTTLS,
        465: TlsMode.IMPLICIT}``); other ports default to no TLS.
    :param tls_modes: the TLS modes the probe can use; the admin form offers only these and
        the form and ``ninerstatus check --tls`` refuse the others. Default: no TLS and implicit
        TLS (``ctx.session`` speaks TLS from the first byte for any protocol), plus the modes
        named in ``tls_by_port``; a protocol with its own STARTTLS-style upgrade declares it.
    :param tls_conflict: ``tls_conflict(settings, tls) -> TlsConflict | None``: why these settings
        (as ``parse_settings`` returns them) cannot go with TLS mode ``tls``, e.g. a login that
        would send a password in the clear, or None. The admin form refuses such a check at save,
        next to its TLS field; the probe should refuse it too (``raise conflict.failure()``), so
        ``ninerstatus check`` and stored rows get the same reason. Default: nothing conflicts.
    :param transports: what the check can run over (``("tcp",)``, or ``("udp", "tcp", "tls")`` for SIP).
    :param settings: unbound WTForms fields by setting name; the admin form and the
        command line's ``--option name=value`` are both built from them.
    :param secret_settings: settings that hold secrets besides those typed as ``PasswordField``
        (always secret), e.g. an API token: stored encrypted, never shown back in a form, and
        masked in ``ninerstatus check --help`` defaults. See docs/check-settings.md.
    :param url_schemes: URL schemes staff may paste into the host field of the admin form, each with
        the port it stands for (``{"http": 80, "https": 443}``): the URL's host, port and scheme fill
        in the host, port and TLS mode (the mode this type uses on the scheme's port).
    :param url_path_setting: the setting a pasted URL's path and query go to (HTTP's ``path``);
        without one, a URL's path is left out and the form says so.
    :param widget_template: the Jinja template that shows a result in the sidebar.
    :param description: one paragraph for the admin page and ``ninerstatus plugins``.
    """

    name: str
    label: str
    probe: ProbeFunction
    default_port: int
    ports: Mapping[str, int] = field(default_factory=dict)
    tls_by_port: Mapping[int, TlsMode] = field(default_factory=dict)
    tls_modes: Collection[TlsMode] | None = None
    tls_conflict: Callable[[Mapping[str, Any], TlsMode], TlsConflict | None] = lambda settings, tls: None
    transports: tuple[str, ...] = ("tcp",)
    settings: Mapping[str, Field] = field(default_factory=dict)
    secret_settings: Collection[str] = ()
    url_schemes: Mapping[str, int] = field(default_factory=dict)
    url_path_setting: str | None = None
    widget_template: str = DEFAULT_WIDGET
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or self.name != self.name.lower():
            raise CheckTypeError(f"check type name {self.name!r} must be a lower-case identifier")
        if not callable(self.probe):
            raise CheckTypeError(f"check type {self.name!r}: probe is not callable")
        declared = self.tls_modes
        if declared is None:
            declared = {TlsMode.NONE, TlsMode.IMPLICIT, *self.tls_by_port.values()}
        # Always a tuple in TlsMode order, so forms and messages list the modes the same way.
        modes = tuple(mode for mode in TlsMode if mode in {TlsMode(m) for m in declared})
        if not modes:
            raise CheckTypeError(f"check type {self.name!r}: tls_modes is empty")
        unsupported = sorted({m.value for m in self.tls_by_port.values()} - {m.value for m in modes})
        if unsupported:
            raise CheckTypeError(f"check type {self.name!r}: tls_by_port uses {', '.join(unsupported)}, "
                                 f"which tls_modes leaves out")
        object.__setattr__(self, "tls_modes", modes)
        undeclared = sorted({*self.secret_settings, self.url_path_setting or ""} - {"", *self.settings})
        if undeclared:
            raise CheckTypeError(f"check type {self.name!r}: {', '.join(undeclared)} is not one of its settings")
        object.__setattr__(self, "url_schemes", {scheme.lower(): port for scheme, port in self.url_schemes.items()})

    @cached_property
    def secret_names(self) -> frozenset[str]:
        """The settings that hold secrets: every ``PasswordField`` and those named in ``secret_settings``."""
        typed = {name for name, unbound in self.settings.items() if issubclass(unbound.field_class, PasswordField)}
        return frozenset(typed | set(self.secret_settings))

    def default_tls(self, port: int) -> TlsMode:
        """The TLS mode a check on ``port`` uses unless told otherwise."""
        return self.tls_by_port.get(port, TlsMode.NONE if TlsMode.NONE in self.tls_modes else self.tls_modes[0])

    def tls_for(self, port: int, mode: TlsMode | None = None) -> TlsMode:
        """The TLS mode of a check on ``port``: ``mode`` if given, else the port's usual one.

        Raises ``CheckTypeError`` when this type cannot use ``mode``.
        """
        if mode is None:
            return self.default_tls(port)
        if mode not in self.tls_modes:
            supported = ", ".join(m.value for m in self.tls_modes)
            raise CheckTypeError(f"{self.name} cannot use TLS mode {mode.value} (it supports {supported})")
        return mode

    @cached_property
    def form_class(self) -> type[Form]:
        """A WTForms form class holding this type's settings fields."""
        return type(f"{self.name.title()}SettingsForm", (Form,), dict(self.settings))

    def settings_form(self, data: Mapping[str, Any] | None = None, **kwargs: Any) -> Form:
        """Return a WTForms form of this type's settings, filled from ``data``.

        ``data`` is form data (anything with ``getlist``, as ``request.form``) or
        a plain mapping of one value per setting.
        """
        formdata = data if data is None or hasattr(data, "getlist") else _TextSettings.of(data)
        return self.form_class(formdata=formdata, **kwargs)

    def parse_settings(self, raw: Mapping[str, str]) -> dict[str, Any]:
        """Validate text settings (from ``--option`` or stored text) into typed values.

        Settings not named in ``raw`` keep their defaults (unlike an HTML form,
        where an unticked checkbox is simply absent). Unknown names and invalid
        values raise ``CheckTypeError`` naming each problem.
        """
        unknown = sorted(set(raw) - set(self.settings))
        if unknown:
            known = ", ".join(sorted(self.settings)) or "none"
            raise CheckTypeError(f"{self.name} has no setting {', '.join(unknown)} (settings: {known})")
        form = self.settings_form(raw)
        for name in set(self.settings) - set(raw):
            form[name].process(None)
        if not form.validate():
            problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
            raise CheckTypeError(f"invalid {self.name} settings: {problems}")
        return {name: form[name].data for name in self.settings}


class CheckTypeRegistry(Mapping[str, CheckType]):
    """The check types of one application, by name, in registration order."""

    def __init__(self, types: Iterable[CheckType]) -> None:
        self._types: dict[str, CheckType] = {}
        for check_type in types:
            if check_type.name in self._types:
                raise CheckTypeError(f"two plugins register a check type named {check_type.name!r}")
            self._types[check_type.name] = check_type

    def __getitem__(self, name: str) -> CheckType:
        return self._types[name]

    def __iter__(self):
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)


@dataclass(frozen=True)
class TlsConflict:
    """Settings that cannot go with a check's TLS mode, as a check type's ``tls_conflict`` finds them.

    The admin form and the command line say the same thing in their own words
    for the TLS modes (the form's labels, ``--tls`` values).

    :param reason: what is wrong, in lower case ("a login test without TLS would send the password
        in the clear").
    :param modes: the TLS modes these settings would work with.
    :param otherwise: the other way out, if any ("leave the test account empty").
    """

    reason: str
    modes: tuple[TlsMode, ...]
    otherwise: str = ""

    def __str__(self) -> str:
        remedy = f"use TLS mode {' or '.join(mode.value for mode in self.modes)}"
        return f"{self.reason}: {remedy}" + (f", or {self.otherwise}" if self.otherwise else "")

    def failure(self) -> ProbeFailure:
        """The probe's refusal: UNKNOWN ``config_error`` with the reason, before a byte is sent."""
        return ProbeFailure(ErrorKind.CONFIG_ERROR, str(self), Status.UNKNOWN)

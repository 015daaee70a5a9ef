"""The result of one probe: a frozen dataclass family that plugins return.

Everything here is plain data that survives a JSON round trip
(``ProbeResult.to_dict`` / ``ProbeResult.from_dict``), so the same object is
stored in history, served by the API and printed by ``--json``.

Text that came from a server is capped at 1 KB on the way in (``cap_text``):
a hostile banner must not bloat the database or the page.
"""
from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum, IntEnum
from types import MappingProxyType
from typing import Any

#: Server-supplied text is cut to this many UTF-8 bytes.
MAX_TEXT_BYTES = 1024

_ELLIPSIS = "…"


def utc_now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def cap_text(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """Return ``text`` cut to at most ``limit`` UTF-8 bytes, marked with "…" when cut.

    The cut never splits a character, so the result is always valid text.
    """
    if len(text) * 4 <= limit:  # no character takes more than four bytes: short text needs no encoding
        return text
    encoded = text.encode("utf-8", errors="replace")
    if len(encoded) <= limit:
        return text
    room = max(limit - len(_ELLIPSIS.encode("utf-8")), 0)
    # errors="ignore" drops the partial character the byte cut may leave at the end.
    return encoded[:room].decode("utf-8", errors="ignore") + _ELLIPSIS


class Status(IntEnum):
    """How a check went; the values are the Nagios plugin exit codes."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3

    @property
    def label(self) -> str:
        """The word the public site shows for this status."""
        return _LABELS[self]

    @property
    def severity(self) -> int:
        """Rank for picking the worst status: OK < UNKNOWN < WARNING < CRITICAL.

        UNKNOWN means the probe could not decide, which is never downtime, so
        any real finding outranks it; it still outranks OK because "we could
        not tell" must not be shown as "all fine".
        """
        return _SEVERITY[self]

    @classmethod
    def worst(cls, statuses: Iterable[Status]) -> Status:
        """Return the most severe of ``statuses``; UNKNOWN when there are none (no evidence, no verdict)."""
        return max(statuses, key=lambda status: status.severity, default=cls.UNKNOWN)


_LABELS = {Status.OK: "operational", Status.WARNING: "degraded",
           Status.CRITICAL: "outage", Status.UNKNOWN: "unknown"}
_SEVERITY = {Status.OK: 0, Status.UNKNOWN: 1, Status.WARNING: 2, Status.CRITICAL: 3}


class ErrorKind(str, Enum):
    """Why a probe did not come back clean; stable strings for storage and filters."""

    RESOLVE_FAILED = "resolve_failed"
    CONNECT_REFUSED = "connect_refused"
    CONNECT_TIMEOUT = "connect_timeout"
    TLS_HANDSHAKE = "tls_handshake"
    CERT_UNTRUSTED = "cert_untrusted"
    CERT_HOSTNAME = "cert_hostname"
    CERT_EXPIRING = "cert_expiring"
    CERT_EXPIRED = "cert_expired"
    STARTTLS_UNAVAILABLE = "starttls_unavailable"
    PROTOCOL_ERROR = "protocol_error"
    UNEXPECTED_REPLY = "unexpected_reply"
    EXPECTATION_FAILED = "expectation_failed"
    READ_TIMEOUT = "read_timeout"
    AUTH_FAILED = "auth_failed"
    CONFIG_ERROR = "config_error"
    INTERNAL = "internal"


#: What a phase may be called: a short lower-case identifier, so it is safe as a
#: perfdata label, a JSON key and a word on a page.
PHASE_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")

#: The phase the runner measures around the whole probe.
TOTAL = "total"

#: Most phases one result carries: a probe that times a phase per loop turn
#: must not bloat the stored result.
MAX_PHASES = 24


def phase_name_problem(name: object) -> str | None:
    """Why ``name`` cannot name a phase, or None when it can."""
    if name.__class__ is str and name in _GOOD_PHASE_NAMES:
        return None
    if not isinstance(name, str) or not PHASE_NAME.fullmatch(name):
        return (f"phase name {name!r} is not a short identifier: use 1 to 32 lower-case letters, "
                "digits and underscores, starting with a letter (e.g. 'handshake')")
    if name.__class__ is str and len(_GOOD_PHASE_NAMES) < _GOOD_PHASE_NAMES_KEPT:
        _GOOD_PHASE_NAMES.add(name)
    return None


# Names found good, so that the few every probe uses are checked once, not at each phase and result.
_GOOD_PHASE_NAMES: set[str] = set()
_GOOD_PHASE_NAMES_KEPT = 1024


def _phase_attribute(name: str) -> property:
    return property(lambda self: self._phases.get(name), doc=f"Seconds spent in phase {name!r}, or None.")


class Timings(Mapping[str, float]):
    """Seconds spent in each phase of a probe, by phase name, in the order the phases were first timed.

    A mapping of phase name to seconds holding only the phases that happened;
    ``timings.get("handshake")`` reads any phase, and the common ones are
    attributes too (``timings.banner`` is None when there was no banner phase).
    ``total`` is the whole probe, measured by the runner. Build one from keyword
    arguments (``Timings(connect=0.01, total=0.2)``); None values are left out.
    """

    __slots__ = ("_phases",)

    def __init__(self, **phases: float | None) -> None:
        checked: dict[str, float] = {}
        for name, seconds in phases.items():
            problem = phase_name_problem(name)
            if problem is not None:
                raise ValueError(problem)
            if seconds is None:
                continue
            seconds = float(seconds)
            if not math.isfinite(seconds) or seconds < 0:
                raise ValueError(f"phase {name!r} took {seconds!r} seconds, which is not a duration")
            checked[name] = seconds
        if len(checked) > MAX_PHASES:
            raise ValueError(f"{len(checked)} phases timed, more than the {MAX_PHASES} a result may carry")
        if TOTAL in checked:  # the whole probe reads best after its parts
            checked[TOTAL] = checked.pop(TOTAL)
        self._phases = checked

    # The phases the session times and the bundled checks name, as attributes.
    resolve = _phase_attribute("resolve")
    connect = _phase_attribute("connect")
    banner = _phase_attribute("banner")
    starttls = _phase_attribute("starttls")
    tls = _phase_attribute("tls")
    first_byte = _phase_attribute("first_byte")
    total = _phase_attribute(TOTAL)

    def __getitem__(self, name: str) -> float:
        return self._phases[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._phases)

    def __len__(self) -> int:
        return len(self._phases)

    def __repr__(self) -> str:
        return "Timings(" + ", ".join(f"{name}={seconds!r}" for name, seconds in self._phases.items()) + ")"

    def replace(self, **phases: float | None) -> Timings:
        """A copy with ``phases`` set (or, given None, left out)."""
        return Timings(**{**self._phases, **phases})

    @classmethod
    def from_dict(cls, data: Any) -> Timings:
        """Build from ``to_dict`` output, however it was stored.

        Stored results are untrusted (older releases wrote every phase, None
        where it did not happen; a row may be edited by hand): a phase whose
        name or value ``Timings`` would refuse is left out, and anything but
        an object reads as no timings, rather than making the whole result
        unreadable.
        """
        if not isinstance(data, Mapping):
            return cls()
        kept: dict[str, float] = {}
        for name, value in data.items():
            if len(kept) == MAX_PHASES:
                break
            if phase_name_problem(name) is None and _is_duration(value):
                kept[name] = float(value)
        return cls(**kept)

    def to_dict(self) -> dict[str, float]:
        """Return the phases that happened as a JSON-ready dict."""
        return dict(self._phases)


def _is_duration(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0)


@dataclass(frozen=True)
class TlsInfo:
    """What the TLS handshake showed about the server and its leaf certificate.

    ``verified`` is True only when the chain and the host name were checked and
    passed. ``verify_error`` holds the reason verification failed; it is None
    both when verification passed and when the check turned it off (then
    ``verified`` is False). The certificate fields are None when the server
    sent no certificate we could read.
    """

    version: str | None = None
    cipher: str | None = None
    subject: str | None = None
    issuer: str | None = None
    sans: tuple[str, ...] = ()
    not_after: datetime | None = None
    days_left: int | None = None
    verified: bool = False
    hostname_ok: bool | None = None
    verify_error: str | None = None

    def __post_init__(self) -> None:
        for name in ("subject", "issuer", "verify_error"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, cap_text(value))
        object.__setattr__(self, "sans", tuple(cap_text(san) for san in self.sans))
        if self.not_after is not None:
            object.__setattr__(self, "not_after", _aware_utc(self.not_after, "not_after"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TlsInfo:
        """Build from ``to_dict`` output."""
        values = dict(data)
        values["sans"] = tuple(values.get("sans", ()))
        if values.get("not_after") is not None:
            values["not_after"] = datetime.fromisoformat(values["not_after"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (``not_after`` as ISO 8601)."""
        # Field by field rather than dataclasses.asdict, which deep-copies every value: the
        # runner turns every result of a TLS check into a dict.
        data = {name: getattr(self, name) for name in _TLS_FIELDS}
        data["sans"] = list(self.sans)
        data["not_after"] = self.not_after.isoformat() if self.not_after else None
        return data


_TLS_FIELDS = tuple(item.name for item in dataclasses.fields(TlsInfo))


@dataclass(frozen=True)
class SubCheck:
    """One named part of a check, e.g. "certificate" or "auth", with its own verdict."""

    name: str
    status: Status
    summary: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))
        object.__setattr__(self, "summary", cap_text(self.summary))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"name": self.name, "status": self.status.name, "summary": self.summary}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SubCheck:
        """Build from ``to_dict`` output."""
        return cls(data["name"], Status[data["status"]], data["summary"])


@dataclass(frozen=True)
class ProbeResult:
    """Everything one run of a probe found out.

    ``summary`` is one short line with the protocol's key fact ("STARTTLS ok,
    certificate 62 days"). ``details`` holds JSON values only (banner,
    capabilities, AUTH mechanisms, HTTP status ...); it and ``metrics`` are
    read-only after construction. ``transcript`` is the conversation as
    ``C: ...`` / ``S: ...`` lines, passwords already redacted.
    """

    status: Status
    summary: str
    error_kind: ErrorKind | None = None
    timings: Timings = field(default_factory=Timings)
    tls: TlsInfo | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    subchecks: tuple[SubCheck, ...] = ()
    metrics: Mapping[str, float] = field(default_factory=dict)
    transcript: tuple[str, ...] = ()
    checked_at: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))
        if self.error_kind is not None:
            object.__setattr__(self, "error_kind", ErrorKind(self.error_kind))
        object.__setattr__(self, "summary", cap_text(self.summary))
        object.__setattr__(self, "details", _freeze(self.details, "details"))
        object.__setattr__(self, "subchecks", tuple(self.subchecks))
        object.__setattr__(self, "metrics", MappingProxyType(
            {str(name): _freeze(float(value), f"metrics[{name!r}]") for name, value in self.metrics.items()}))
        object.__setattr__(self, "transcript", tuple(cap_text(line) for line in self.transcript))
        object.__setattr__(self, "checked_at", _aware_utc(self.checked_at, "checked_at"))

    def timed(self, total: float, checked_at: datetime) -> ProbeResult:
        """This result with the whole probe's time ``total`` (seconds) and the moment it started."""
        # The other fields are checked already: dataclasses.replace would check them all again.
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        object.__setattr__(copy, "timings", self.timings.replace(total=total))
        object.__setattr__(copy, "checked_at", _aware_utc(checked_at, "checked_at"))
        return copy

    @classmethod
    def unknown(cls, reason: str, kind: ErrorKind = ErrorKind.INTERNAL, **fields: Any) -> ProbeResult:
        """A result for "the probe could not decide", e.g. a plugin error or bad settings."""
        return cls(Status.UNKNOWN, reason, error_kind=kind, **fields)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict; ``from_dict`` turns it back into an equal result."""
        return {
            "status": self.status.name,
            "summary": self.summary,
            "error_kind": self.error_kind.value if self.error_kind else None,
            "timings": self.timings.to_dict(),
            "tls": self.tls.to_dict() if self.tls else None,
            "details": _thaw(self.details),
            "subchecks": [subcheck.to_dict() for subcheck in self.subchecks],
            "metrics": dict(self.metrics),
            "transcript": list(self.transcript),
            "checked_at": self.checked_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProbeResult:
        """Build from ``to_dict`` output (e.g. after ``json.loads``)."""
        return cls(
            status=Status[data["status"]],
            summary=data["summary"],
            error_kind=ErrorKind(data["error_kind"]) if data.get("error_kind") else None,
            timings=Timings.from_dict(data.get("timings") or {}),
            tls=TlsInfo.from_dict(data["tls"]) if data.get("tls") else None,
            details=data.get("details") or {},
            subchecks=tuple(SubCheck.from_dict(item) for item in data.get("subchecks") or ()),
            metrics=data.get("metrics") or {},
            transcript=tuple(data.get("transcript") or ()),
            checked_at=datetime.fromisoformat(data["checked_at"]),
        )


def _aware_utc(moment: datetime, name: str) -> datetime:
    # A naive time would be read as local time somewhere down the line; refuse it here.
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {moment!r}")
    return moment.astimezone(timezone.utc)


def _freeze(value: Any, where: str) -> Any:
    """Return ``value`` as immutable JSON data: text capped, lists as tuples, dicts read-only."""
    if isinstance(value, str):
        return cap_text(value)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} holds {value!r}, which JSON cannot carry")
        return value
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(item, where) for item in value)
    if isinstance(value, Mapping):
        frozen = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} keys must be strings, got {key!r}")
            frozen[key] = _freeze(item, f"{where}[{key!r}]")
        return MappingProxyType(frozen)
    raise TypeError(f"{where} must hold JSON values only, got {type(value).__name__}")


def _thaw(value: Any) -> Any:
    """Inverse of ``_freeze``: plain dicts and lists for ``json.dumps``."""
    if isinstance(value, tuple):
        return [_thaw(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    return value

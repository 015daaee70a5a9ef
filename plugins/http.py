"""The HTTP(S) check: one request, the status judged against an accepted set, the body optionally matched.

HTTP/1.1 is spoken by hand over the engine's deadline socket (see
``_http_wire``), so the total deadline holds and the phases resolve,
connect, tls, first_byte are timed for every hop. Redirects are followed up
to a cap, http and https only, and never into a network the probe was not
pointed at: a public site that redirects to 169.254.169.254 (the cloud
metadata service) or to 127.0.0.1 does not get the probe to fetch it.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from wtforms import Form, IntegerField, SelectField, StringField, ValidationError, validators
from wtforms.fields import Field

from ninerstatus import CheckType, ErrorKind, ProbeFailure, ProbeResult, Status, Target, TlsMode, hookimpl
from ninerstatus.probing import Conversation, InvalidTarget, ProbeContext, ProbeSession, cap_text, validate_host
from ninerstatus.probing.deadline import DeadlineSocket, open_connection, resolve

from . import _http_wire as wire
from ._settings import checked_by

METHODS = ("GET", "HEAD", "POST", "OPTIONS")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}
DEFAULT_MAX_BODY = 1024 * 1024
MAX_BODY_LIMIT = 64 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 5
MAX_REDIRECTS_LIMIT = 20

_STATUS_ITEM = re.compile(r"([1-5])xx|([1-5]\d\d)(?:-([1-5]\d\d))?", re.IGNORECASE)


# ---------------------------------------------------------------- settings

@dataclass(frozen=True)
class StatusSet:
    """Accepted HTTP statuses, written like ``200-299,301,401`` (``2xx`` works too)."""

    text: str
    ranges: tuple[tuple[int, int], ...]

    def __contains__(self, status: int) -> bool:
        return any(low <= status <= high for low, high in self.ranges)

    @classmethod
    def parse(cls, text: str) -> StatusSet:
        """Parse ``text``; ``ValueError`` says what is wrong with it."""
        ranges = []
        for item in (part.strip() for part in text.split(",")):
            match = _STATUS_ITEM.fullmatch(item)
            if match is None:
                raise ValueError(f"{item!r} is not a status, a range like 200-299, or a class like 2xx")
            if match[1]:
                low = high = int(match[1]) * 100
                high += 99
            else:
                low = int(match[2])
                high = int(match[3] or match[2])
            if low > high:
                raise ValueError(f"range {item} runs backwards")
            ranges.append((low, high))
        return cls(",".join(part.strip() for part in text.split(",")), tuple(ranges))


def validate_path(path: str) -> str:
    """Return ``path`` if it is an absolute request path (query allowed); ``ValueError`` otherwise."""
    if not path.startswith("/"):
        raise ValueError(f"path {path!r} must start with '/'")
    if any(char.isspace() or not char.isprintable() for char in path):
        raise ValueError("path must not contain spaces, line breaks or control characters (percent-encode them)")
    if "#" in path:
        raise ValueError("path must not contain a fragment ('#'): it is never sent to the server")
    return path


def validate_host_header(value: str) -> str:
    """Return ``value`` if it is ``host`` or ``host:port`` (IPv6 in brackets); ``ValueError`` otherwise."""
    if any(char.isspace() or not char.isprintable() for char in value):
        raise ValueError("host header must not contain spaces or control characters")
    try:
        parts = urlsplit(f"//{value}")
        port = parts.port
        if parts.hostname is None or parts.username is not None or parts.path or parts.query:
            raise ValueError(f"{value!r} is not host or host:port")
        validate_host(f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname)
    except (ValueError, InvalidTarget) as error:
        raise ValueError(f"host header {value!r}: {error}") from None
    if port == 0:
        raise ValueError(f"host header {value!r} has port 0")
    return value


def validate_regex(pattern: str) -> re.Pattern[str]:
    """Compile ``pattern``; ``ValueError`` says why it does not compile."""
    try:
        return re.compile(pattern)
    except re.error as error:
        raise ValueError(f"invalid regular expression: {error}") from None


def _body_to_match(form: Form, field: Field) -> None:
    """Form validator: a body expectation needs a method whose response has a body."""
    if field.data and form.method.data == "HEAD":
        raise ValidationError("a HEAD response has no body to match")


SETTINGS = {
    "method": SelectField("Method", choices=list(METHODS), default="GET"),
    "path": StringField("Path", default="/", validators=[validators.DataRequired(), checked_by(validate_path)],
                        description="Request path and query, e.g. /health?full=1"),
    "host_header": StringField("Host header", validators=[validators.Optional(),
                                                          checked_by(validate_host_header)],
                               description="Sent instead of the checked host, e.g. when probing one node by IP"),
    "status": StringField("Accepted statuses", default="200-299",
                          validators=[validators.DataRequired(), checked_by(StatusSet.parse)],
                          description="Statuses that count as up, e.g. 200-299,301,401"),
    "expect_body": StringField("Body contains", validators=[validators.Optional(), _body_to_match],
                               description="Text the body must contain"),
    "expect_regex": StringField("Body matches", validators=[validators.Optional(), _body_to_match,
                                                            checked_by(validate_regex)],
                                description="Regular expression the body must match"),
    "max_body": IntegerField("Body bytes read", default=DEFAULT_MAX_BODY,
                             validators=[validators.NumberRange(1, MAX_BODY_LIMIT)],
                             description="At most this many bytes of the body are read and matched"),
    "max_redirects": IntegerField("Redirects followed", default=DEFAULT_MAX_REDIRECTS,
                                  validators=[validators.NumberRange(0, MAX_REDIRECTS_LIMIT)],
                                  description="0 judges a redirect status itself"),
}


@dataclass(frozen=True)
class HttpOptions:
    """The check's settings, validated and typed."""

    method: str = "GET"
    path: str = "/"
    host_header: str | None = None
    statuses: StatusSet = StatusSet("200-299", ((200, 299),))
    expect_body: str | None = None
    expect_regex: re.Pattern[str] | None = None
    max_body: int = DEFAULT_MAX_BODY
    max_redirects: int = DEFAULT_MAX_REDIRECTS

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> HttpOptions:
        """Build from ``parse_settings`` output (missing names take their defaults).

        Raises ``ProbeFailure(CONFIG_ERROR)`` (UNKNOWN) for settings no form would have let through.
        """
        try:
            method = str(settings.get("method") or "GET").upper()
            if method not in METHODS:
                raise ValueError(f"method {method!r} is not one of {', '.join(METHODS)}")
            options = cls(
                method=method,
                path=validate_path(settings.get("path") or "/"),
                host_header=validate_host_header(settings["host_header"]) if settings.get("host_header") else None,
                statuses=StatusSet.parse(settings.get("status") or "200-299"),
                expect_body=settings.get("expect_body") or None,
                expect_regex=validate_regex(settings["expect_regex"]) if settings.get("expect_regex") else None,
                max_body=_bounded(settings.get("max_body"), DEFAULT_MAX_BODY, 1, MAX_BODY_LIMIT, "max_body"),
                max_redirects=_bounded(settings.get("max_redirects"), DEFAULT_MAX_REDIRECTS, 0,
                                       MAX_REDIRECTS_LIMIT, "max_redirects"),
            )
        except ValueError as error:
            raise ProbeFailure(ErrorKind.CONFIG_ERROR, str(error), Status.UNKNOWN) from None
        if options.method == "HEAD" and (options.expect_body or options.expect_regex):
            raise ProbeFailure(ErrorKind.CONFIG_ERROR, "a HEAD response has no body to match", Status.UNKNOWN)
        return options


def _bounded(value: Any, default: int, low: int, high: int, name: str) -> int:
    number = default if value is None else int(value)
    if not low <= number <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {number}")
    return number


# ---------------------------------------------------------------- where a request goes

@dataclass(frozen=True)
class Hop:
    """One request of the chain: where it goes and the name its certificate must carry."""

    scheme: str
    host: str
    port: int
    path: str
    server_name: str

    @property
    def authority(self) -> str:
        """``host[:port]`` as the Host header and URLs write it (port left out when it is the default)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if DEFAULT_PORTS[self.scheme] == self.port else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        """The hop as a URL, the way redirect chains are reported."""
        return f"{self.scheme}://{self.authority}{self.path}"


def first_hop(target: Target, path: str) -> Hop:
    """The hop the check starts with: the target itself."""
    if target.tls is TlsMode.STARTTLS:
        raise ProbeFailure(ErrorKind.CONFIG_ERROR, "HTTP has no STARTTLS: use implicit TLS (https) or none",
                           Status.UNKNOWN)
    scheme = "https" if target.tls is TlsMode.IMPLICIT else "http"
    return Hop(scheme, target.host, target.port, path, target.server_name)


def redirect_hop(current: Hop, location: str, target: Target) -> Hop:
    """Where a ``Location`` header sends the probe; UNEXPECTED_REPLY for a URL it must not follow."""
    url = urljoin(current.url, location)
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise ValueError(f"scheme {scheme or 'none'!r} is not http or https")
        if not parts.hostname:
            raise ValueError("no host")
        host = validate_host(f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname)
        port = parts.port or DEFAULT_PORTS[scheme]
        path = validate_path((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
    except (ValueError, InvalidTarget) as error:
        raise ProbeFailure(ErrorKind.UNEXPECTED_REPLY,
                           f"redirect to {cap_text(location, 200)!r} not followed: {error}") from None
    # On the checked host the configured TLS name still applies; elsewhere the certificate names the new host.
    server_name = target.server_name if host == target.host else host.rstrip(".")
    return Hop(scheme, host, port, path, server_name)


# Redirects may lead from a more private network to a more public one, never the other way.
_PUBLIC, _PRIVATE, _LOOPBACK = 0, 1, 2


def network_rank(address: str) -> int | None:
    """How private ``address`` is (public 0, private 1, loopback 2); None if no redirect may lead there.

    None covers link-local (169.254.169.254 is the cloud metadata service),
    multicast, unspecified, reserved and shared (100.64/10) addresses.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:  # before is_reserved, which ::1 also is
        return _LOOPBACK
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return None
    if ip.is_private:
        return _PRIVATE
    return _PUBLIC if ip.is_global else None


def may_redirect(origin: str, destination: str) -> bool:
    """Whether a site at address ``origin`` may redirect the probe to address ``destination``.

    Only towards networks no more private than the origin's: a public site
    cannot send the probe into the private network it runs in.
    """
    reach, start = network_rank(destination), network_rank(origin)
    return reach is not None and reach <= (_PUBLIC if start is None else start)


# ---------------------------------------------------------------- the probe

@dataclass(frozen=True)
class _Exchange:
    """What one hop brought back."""

    head: wire.Head
    body: wire.Body


def probe(target: Target, settings: Mapping[str, Any], ctx: ProbeContext) -> ProbeResult:
    """Request the page, follow redirects within the rules, and judge status and body."""
    options = HttpOptions.from_settings(settings)
    started = ctx.monotonic()
    with ctx.session(target) as s:
        hop = first_hop(target, options.path)
        request = wire.Request(options.method, hop.path, options.host_header or hop.authority)
        seen = {hop.url}
        redirects: list[str] = []
        origin: str | None = None  # the address of the first hop, which goes where staff pointed it
        while True:
            s.details["url"] = hop.url
            exchange, address = _fetch(s, hop, request, options.max_body, origin)
            origin = origin or address
            status, location = exchange.head.status, exchange.head.header("Location")
            if options.max_redirects == 0 or status not in REDIRECT_STATUSES or location is None:
                break
            hop = redirect_hop(hop, location, target)
            redirects.append(hop.url)
            s.details["redirects"] = list(redirects)
            if hop.url in seen:
                raise ProbeFailure(ErrorKind.UNEXPECTED_REPLY, f"redirect loop: {hop.url} again")
            if len(redirects) > options.max_redirects:
                raise ProbeFailure(ErrorKind.UNEXPECTED_REPLY, f"more than {options.max_redirects} redirects")
            seen.add(hop.url)
            method = request.method
            if status == 303 or (status in (301, 302) and method == "POST"):
                method = "GET"  # as every browser does (RFC 9110 section 15.4)
            request = wire.Request(method, hop.path, hop.authority)
        _judge(exchange, options)
        head = exchange.head
        summary = f"{head.status} {cap_text(head.reason, 60)}".rstrip()
        summary += f" in {round((ctx.monotonic() - started) * 1000)} ms"
        if redirects:
            summary += f" after {len(redirects)} redirect{'s' if len(redirects) > 1 else ''}"
        if s.tls is not None and s.tls.days_left is not None:
            summary += f", certificate {s.tls.days_left} days"
        return s.ok(summary, metrics={"size": len(exchange.body.data), "redirects": len(redirects)})


def _fetch(s: ProbeSession, hop: Hop, request: wire.Request, max_body: int,
           origin: str | None) -> tuple[_Exchange, str]:
    """Connect for ``hop``, send ``request``, read the response; return it and the address used.

    ``origin`` is None for the first hop (staff chose that target), else the
    first hop's address: a redirect to another host is followed only if
    ``may_redirect`` allows every address that host resolves to, and
    otherwise none of them is contacted.
    """
    with s.phase("resolve"):
        addresses = resolve(hop.host, hop.port, s.target.family, s.deadline)
    if origin is not None and hop.host != s.target.host:
        for _, sockaddr in addresses:
            if not may_redirect(origin, sockaddr[0]):
                where = hop.host if hop.host == sockaddr[0] else f"{hop.host} ({sockaddr[0]})"
                raise ProbeFailure(ErrorKind.UNEXPECTED_REPLY,
                                   f"redirect to {where} not followed: address not allowed for a redirect")
    with s.phase("connect"):
        sock = open_connection(addresses, s.deadline)
    address = sock.getpeername()[0]
    s.details.setdefault("address", address)
    conv = Conversation(DeadlineSocket(sock, s.deadline), s.transcript, max_line=wire.MAX_LINE)
    try:
        if hop.scheme == "https":
            with s.phase("tls"):
                s.tls = conv.starttls(hop.server_name, s.ctx.tls_policy, now=s.ctx.clock())
        with s.phase("first_byte"):
            wire.send(conv, request)
            head = wire.read_head(conv)
        s.details.update(status=head.status, reason=head.reason, http_version=head.version,
                         server=head.header("Server"), content_type=head.header("Content-Type"))
        body = wire.read_body(conv, head, request.method, max_body)
        s.details.update(bytes_read=len(body.data), body_truncated=body.truncated)
        s.transcript.note(f"body: {len(body.data)} bytes ({body.framing}"
                          f"{', more not read' if body.truncated else ''})")
    finally:
        # "Connection: close" was sent: hanging up is the polite end of the exchange.
        conv.close()
    return _Exchange(head, body), address


def _judge(exchange: _Exchange, options: HttpOptions) -> None:
    """Raise the failure for a status outside the accepted set or a body that does not match."""
    head, body = exchange.head, exchange.body
    if head.status not in options.statuses:
        raise ProbeFailure(ErrorKind.UNEXPECTED_REPLY,
                           f"{head.status} {cap_text(head.reason, 60)}".rstrip()
                           + f", expected {options.statuses.text}")
    if options.expect_body is None and options.expect_regex is None:
        return
    text = body.text(head.header("Content-Type"))
    where = f" (first {len(body.data)} bytes read)" if body.truncated else ""
    if options.expect_body is not None and options.expect_body not in text:
        raise ProbeFailure(ErrorKind.EXPECTATION_FAILED,
                           f"body does not contain {cap_text(options.expect_body, 100)!r}{where}")
    if options.expect_regex is not None and options.expect_regex.search(text) is None:
        raise ProbeFailure(ErrorKind.EXPECTATION_FAILED,
                           f"body does not match {cap_text(options.expect_regex.pattern, 100)!r}{where}")


@hookimpl
def ninerstatus_check_types() -> list[CheckType]:
    """The HTTP(S) check type."""
    return [CheckType(
        name="http",
        label="HTTP(S)",
        probe=probe,
        default_port=443,
        ports={"https": 443, "http": 80},
        tls_by_port={443: TlsMode.IMPLICIT, 80: TlsMode.NONE},
        tls_modes=(TlsMode.NONE, TlsMode.IMPLICIT),  # HTTP has no STARTTLS
        settings=SETTINGS,
        url_schemes={"http": 80, "https": 443},
        url_path_setting="path",
        description="Requests a page over HTTP/1.1 (TLS verified), follows redirects within limits, "
                    "and checks the status against an accepted set and optionally the body.",
    )]

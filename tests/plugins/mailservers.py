"""Mail servers on loopback for the SMTP, IMAP and POP3 plugin tests.

- ``SmtpServer``: aiosmtpd (a real SMTP server) on an ephemeral port, with
  STARTTLS or implicit TLS, AUTH, and switches for misbehaviour.
- ``imap_server`` and ``pop_server``: scripts for the engine's
  ``LoopbackServer`` that speak enough IMAP4rev1 / POP3 for a probe, with
  switches (STARTTLS on/off/refused, LOGINDISABLED, BYE or -ERR greeting,
  PREAUTH, literals huge and small). Each records what it received and
  whether TLS was up at the time, so a test can prove no password travelled
  in plaintext.
- ``dialogue``: a server that plays fixed replies, for one-off refusals and
  for handing over to a hostile script at the worst moment.

Plus what the three test modules share: ``check`` (run a probe as the core
does and assert it kept its deadline), ``closed_port``, and the parameter
lists ``HOSTILE_PEERS`` and ``CERTIFICATES`` with the verdict each must get.
"""
from __future__ import annotations

import shlex
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult

from ninerstatus.probing import ErrorKind, ProbeFunction, ProbeResult, Status, Target, TlsMode, TlsPolicy, run_probe

from ..probing.conftest import server_tls
from ..probing.servers import Peer, Script
from ..probing.test_hostile_peers import closes_at_once, drip, endless_line, garbage, silent, tls_hello_then_close

USER, PASSWORD = "alice", "c0rrect horse"
#: Budget for probes of well-behaved servers, and for hostile ones (kept short: they use all of it).
TIMEOUT, HOSTILE_TIMEOUT = 3.0, 1.0


def check(probe: ProbeFunction, port: int, tls: TlsMode = TlsMode.NONE, settings: Mapping[str, Any] | None = None,
          *, ca_file: str | None = None, timeout: float = TIMEOUT) -> ProbeResult:
    """Run ``probe`` against 127.0.0.1:``port`` as the core would, trusting ``ca_file``; assert it kept time.

    Kept time: the verdict is the probe's own, given within its timeout and the watchdog's
    grace; a probe abandoned by the watchdog (or one that raised) gets UNKNOWN with INTERNAL.
    """
    result = run_probe(probe, Target("127.0.0.1", port, tls=tls), settings or {}, timeout,
                       tls_policy=TlsPolicy(ca_file=ca_file))
    assert (result.status, result.error_kind) != (Status.UNKNOWN, ErrorKind.INTERNAL), result
    return result


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: Hostile servers (from the engine's own tests) and what each must be reported as.
HOSTILE_PEERS = [
    pytest.param(silent, TlsMode.NONE, ErrorKind.READ_TIMEOUT, id="silent-after-accept"),
    pytest.param(drip, TlsMode.NONE, ErrorKind.READ_TIMEOUT, id="one-byte-drip"),
    pytest.param(endless_line, TlsMode.NONE, ErrorKind.PROTOCOL_ERROR, id="endless-line"),
    pytest.param(garbage, TlsMode.NONE, ErrorKind.PROTOCOL_ERROR, id="garbage"),
    pytest.param(closes_at_once, TlsMode.NONE, ErrorKind.PROTOCOL_ERROR, id="closes-at-once"),
    pytest.param(silent, TlsMode.IMPLICIT, ErrorKind.READ_TIMEOUT, id="silent-during-implicit-tls"),
    pytest.param(tls_hello_then_close, TlsMode.IMPLICIT, ErrorKind.TLS_HANDSHAKE, id="closed-mid-handshake"),
]

#: Server certificates (built from the trusted CA and a stranger CA) and the verdict each must get.
CERTIFICATES = [
    pytest.param(lambda ca, stranger: server_tls(ca, "127.0.0.1", days=62.5), Status.OK, None, id="valid"),
    pytest.param(lambda ca, stranger: server_tls(ca, "127.0.0.1", days=15.5), Status.WARNING,
                 ErrorKind.CERT_EXPIRING, id="expiring-in-15-days"),
    pytest.param(lambda ca, stranger: server_tls(ca, "127.0.0.1", days=5.5), Status.CRITICAL,
                 ErrorKind.CERT_EXPIRING, id="expiring-in-5-days"),
    pytest.param(lambda ca, stranger: server_tls(ca, "127.0.0.1", expired=True), Status.CRITICAL,
                 ErrorKind.CERT_EXPIRED, id="expired"),
    pytest.param(lambda ca, stranger: server_tls(ca, "elsewhere.example.test"), Status.CRITICAL,
                 ErrorKind.CERT_HOSTNAME, id="wrong-name"),
    pytest.param(lambda ca, stranger: server_tls(stranger, "127.0.0.1"), Status.CRITICAL,
                 ErrorKind.CERT_UNTRUSTED, id="unknown-ca"),
]


@dataclass
class Received:
    """One command line a server received, and whether it came over TLS."""

    line: str
    over_tls: bool


def _over_tls(peer: Peer) -> bool:
    return isinstance(peer.conn, ssl.SSLSocket)


def _receive(peer: Peer, log: list[Received]) -> str:
    line = peer.read_line().decode("utf-8", errors="replace")
    log.append(Received(line, _over_tls(peer)))
    return line


# ------------------------------------------------------------------ SMTP (aiosmtpd)

class _RefusingStarttls(SMTP):
    """Advertises STARTTLS but answers it with 454, as a server whose TLS setup broke does."""

    async def smtp_STARTTLS(self, arg: str) -> None:
        await self.push("454 4.7.0 TLS not available due to temporary reason")


class _RefusingEhlo(SMTP):
    """A pre-ESMTP server: EHLO is an unknown command, HELO works."""

    async def smtp_EHLO(self, hostname: str) -> None:
        await self.push("502 5.5.2 Error: command not recognized")


class SmtpServer(Controller):
    """aiosmtpd in a thread on 127.0.0.1 and an ephemeral port.

    :param tls_context: offered through STARTTLS.
    :param implicit_tls: wrap every connection in TLS from the first byte (SMTPS).
    :param refuse_starttls: advertise STARTTLS but refuse it.
    :param refuse_ehlo: answer EHLO with 502 (HELO still works).
    :param options: passed on to aiosmtpd's ``SMTP`` (``auth_require_tls``, ``auth_exclude_mechanism``...).
    """

    def __init__(self, *, tls_context: ssl.SSLContext | None = None, implicit_tls: ssl.SSLContext | None = None,
                 refuse_starttls: bool = False, refuse_ehlo: bool = False, **options: Any) -> None:
        super().__init__(object(), hostname="127.0.0.1", port=0, ssl_context=implicit_tls,
                         server_hostname="mail.example.test", tls_context=tls_context,
                         authenticator=self._authenticate, **options)
        self._smtp_class = _RefusingStarttls if refuse_starttls else _RefusingEhlo if refuse_ehlo else SMTP
        self.start()

    @staticmethod
    def _authenticate(*args: Any) -> AuthResult:
        return AuthResult(success=True)

    def factory(self) -> SMTP:
        return self._smtp_class(self.handler, **self.SMTP_kwargs)

    def _create_server(self) -> Any:
        # Bind first so the port is known before aiosmtpd pokes the server to check it is up.
        sock = socket.create_server((self.hostname, 0))
        self.port = sock.getsockname()[1]
        return self.loop.create_server(self._factory_invoker, sock=sock, ssl=self.ssl_context)


# ------------------------------------------------------------------ IMAP

@dataclass
class ImapBehaviour:
    """How ``imap_server`` behaves; the defaults are a well-configured Dovecot on 143."""

    greeting: str = "OK"
    capability_in_greeting: bool = False
    starttls: bool = True
    refuse_starttls: bool = False
    login_disabled_before_tls: bool = True
    login_disabled_after_tls: bool = False
    chatter: bytes = b""
    huge_literal: bool = False
    echo_login: bool = False
    users: Mapping[str, str] = field(default_factory=lambda: {USER: PASSWORD})

    def capabilities(self, over_tls: bool) -> str:
        words = ["IMAP4rev1", "SASL-IR", "AUTH=PLAIN"]
        if self.starttls and not over_tls:
            words.append("STARTTLS")
        if self.login_disabled_after_tls if over_tls else self.login_disabled_before_tls:
            words.append("LOGINDISABLED")
        return " ".join(words)


def imap_server(behaviour: ImapBehaviour, log: list[Received], tls: ssl.SSLContext | None = None) -> Script:
    """An IMAP server script; ``tls`` is what STARTTLS switches to."""

    def script(peer: Peer) -> None:
        code = f"[CAPABILITY {behaviour.capabilities(_over_tls(peer))}] " if behaviour.capability_in_greeting else ""
        peer.send(f"* {behaviour.greeting} {code}imap.example.test ready\r\n".encode())
        if behaviour.greeting == "BYE":
            return
        while True:
            tag, _, rest = _receive(peer, log).partition(" ")
            command, _, arguments = rest.partition(" ")
            command = command.upper()
            if command == "CAPABILITY":
                peer.send(behaviour.chatter)
                if behaviour.huge_literal:
                    peer.send(b"* CAPABILITY {999999999}\r\n")
                    while not peer.stop.is_set():
                        peer.send(b"A" * 65536)
                peer.send(f"* CAPABILITY {behaviour.capabilities(_over_tls(peer))}\r\n{tag} OK done\r\n".encode())
            elif command == "STARTTLS" and behaviour.starttls and not behaviour.refuse_starttls:
                peer.send(f"{tag} OK Begin TLS negotiation now\r\n".encode())
                peer.start_tls(tls)
            elif command == "LOGIN":
                username, password = shlex.split(arguments)
                verdict = "OK Logged in" if behaviour.users.get(username) == password else "NO [AUTHENTICATIONFAILED]"
                # A careless server echoes what it got, raw and as sent: neither may reach the transcript.
                echo = f" ({arguments} = {password})" if behaviour.echo_login else ""
                peer.send(f"{tag} {verdict}{echo}\r\n".encode())
            elif command == "LOGOUT":
                peer.send(f"* BYE see you\r\n{tag} OK Logout completed\r\n".encode())
                return
            else:
                peer.send(f"{tag} NO {command} not available\r\n".encode())

    return script


# ------------------------------------------------------------------ POP3

@dataclass
class PopBehaviour:
    """How ``pop_server`` behaves; the defaults are a well-configured Dovecot on 110."""

    greeting_ok: bool = True
    capa: bool = True
    stls: bool = True
    refuse_stls: bool = False
    echo_login: bool = False
    users: Mapping[str, str] = field(default_factory=lambda: {USER: PASSWORD})

    def capabilities(self, over_tls: bool) -> bytes:
        lines = ["TOP", "UIDL", "USER", "SASL PLAIN"]
        if self.stls and not over_tls:
            lines.append("STLS")
        return "".join(f"{line}\r\n" for line in lines).encode()


def pop_server(behaviour: PopBehaviour, log: list[Received], tls: ssl.SSLContext | None = None) -> Script:
    """A POP3 server script; ``tls`` is what STLS switches to."""

    def script(peer: Peer) -> None:
        peer.send(b"+OK pop.example.test ready\r\n" if behaviour.greeting_ok else b"-ERR go away\r\n")
        username = None
        while True:
            command, _, argument = _receive(peer, log).partition(" ")
            command = command.upper()
            if command == "CAPA" and behaviour.capa:
                peer.send(b"+OK Capability list follows\r\n" + behaviour.capabilities(_over_tls(peer)) + b".\r\n")
            elif command == "STLS" and behaviour.stls and not behaviour.refuse_stls:
                peer.send(b"+OK Begin TLS negotiation\r\n")
                peer.start_tls(tls)
            elif command == "USER":
                username = argument
                peer.send(b"+OK\r\n")
            elif command == "PASS":
                good = username is not None and behaviour.users.get(username) == argument
                echo = f" ({argument})" if behaviour.echo_login else ""
                verdict = "+OK Logged in." if good else "-ERR [AUTH] Authentication failed."
                peer.send(f"{verdict}{echo}\r\n".encode())
            elif command == "QUIT":
                peer.send(b"+OK Logging out.\r\n")
                return
            else:
                peer.send(b"-ERR Unknown command\r\n")

    return script


# ------------------------------------------------------------------ fixed replies

def dialogue(greeting: bytes, replies: Mapping[str, bytes], log: list[Received], *,
             then: Callable[[Peer], None] | None = None, after: str | None = None) -> Script:
    """A server that greets, then answers each command by its first word (IMAP: its second).

    Replies may hold ``{tag}``, replaced by the command's IMAP tag. After
    answering the command ``after`` the script hands the connection to ``then``
    (a hostile script). Unknown commands get "500 unknown".
    """

    def script(peer: Peer) -> None:
        peer.send(greeting)
        while True:
            words = _receive(peer, log).split()
            tagged = len(words) > 1 and words[1].upper() in replies
            tag, command = (words[0], words[1].upper()) if tagged else ("", words[0].upper() if words else "")
            peer.send(replies.get(command, b"500 unknown\r\n").replace(b"{tag}", tag.encode()))
            if command == after and then is not None:
                then(peer)
                return
            if command in ("QUIT", "LOGOUT"):
                return

    return script


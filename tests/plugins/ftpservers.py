"""pyftpdlib servers on loopback for the FTP check's tests: plain FTP, explicit and implicit FTPS.

``FtpServer`` runs a (possibly misbehaving) handler class in a thread with
the test account ``USER``/``PASSWORD`` and the anonymous account, recording
every command it receives so a test can prove what was, and was not, sent.
``certfile`` makes the PEM file pyftpdlib's TLS handlers take.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import trustme
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
from pyftpdlib.servers import ThreadedFTPServer

USER, PASSWORD = "probe", "s3cret-Pa55"


class FtpServer:
    """A pyftpdlib server on a loopback address in a thread, recording every command it receives."""

    def __init__(self, handler: type[FTPHandler], tmp_path: Any, host: str, **attributes: Any) -> None:
        authorizer = DummyAuthorizer()
        authorizer.add_user(USER, PASSWORD, str(tmp_path), perm="elr")
        authorizer.add_anonymous(str(tmp_path))
        self.commands: list[str] = []
        commands = self.commands

        class Recording(handler):  # type: ignore[misc, valid-type]
            def pre_process_command(self, line: str, cmd: str, arg: str) -> None:
                commands.append(cmd)
                super().pre_process_command(line, cmd, arg)

        Recording.authorizer = authorizer
        Recording.auth_failed_timeout = 0  # pyftpdlib stalls a failed login 3 s by default
        for name, value in attributes.items():
            setattr(Recording, name, value)
        server_class = type("FastThreadedFTPServer", (ThreadedFTPServer,), {"poll_timeout": 0.05})
        self._server = server_class((host, 0), Recording)
        self.port: int = self._server.address[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            self._server.serve_forever(timeout=0.05, blocking=False, handle_exit=False)
        self._server.close_all()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


class ImplicitTlsHandler(TLS_FTPHandler):
    """FTPS on its own port: the TLS handshake comes before the greeting."""

    def handle(self) -> None:
        self.secure_connection(self.ssl_context)

    def handle_ssl_established(self) -> None:
        super().handle()  # the greeting, now over TLS


class NoPassivePorts(TLS_FTPHandler):
    """Has no passive data port left to offer."""

    def ftp_PASV(self, line: str) -> None:
        self.respond("425 Can't open data connection.")


class RefusesAuthTls(TLS_FTPHandler):
    """Lists AUTH TLS in FEAT but will not do it."""

    def ftp_AUTH(self, line: str) -> None:
        self.respond("431 Unable to accept security mechanism.")


class StrippedAuthTls(TLS_FTPHandler):
    """What a man in the middle makes of an FTPS server: AUTH TLS gone from FEAT and refused."""

    def ftp_FEAT(self, line: str) -> None:
        self.push("211-Features supported:\r\n MDTM\r\n SIZE\r\n211 End FEAT.\r\n")

    def ftp_AUTH(self, line: str) -> None:
        self.respond("500 Command not understood.")


class OlderThanFeat(FTPHandler):
    """An FTP server from before RFC 2389: FEAT is an unknown command, SYST works."""

    def ftp_FEAT(self, line: str) -> None:
        self.respond("500 Command \"FEAT\" not understood.")


class TlsOlderThanFeat(TLS_FTPHandler):
    """AUTH TLS, but FEAT is an unknown command."""

    ftp_FEAT = OlderThanFeat.ftp_FEAT


def certfile(ca: trustme.CA, tmp_path: Any, *names: str, expired: bool = False, days: float = 62.5) -> str:
    """A PEM file with a key and a certificate chain from ``ca``, for pyftpdlib."""
    now = datetime.now(timezone.utc)
    if expired:
        leaf = ca.issue_cert(*names, not_before=now - timedelta(days=60), not_after=now - timedelta(days=2))
    else:
        leaf = ca.issue_cert(*names, not_before=now - timedelta(days=1), not_after=now + timedelta(days=days))
    path = tmp_path / f"leaf-{len(list(tmp_path.glob('leaf-*')))}.pem"
    leaf.private_key_and_cert_chain_pem.write_to_path(str(path))
    return str(path)

"""The other end of a notification, on 127.0.0.1: a staff mailbox (aiosmtpd) and a webhook receiver."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult

from ..plugins.mailservers import SmtpServer


@dataclass
class Delivered:
    """One message the mailbox accepted, and whether TLS was up when it came."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    over_tls: bool


class _Keeper:
    """aiosmtpd handler that keeps every message."""

    def __init__(self, box: StaffMailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        self.box.messages.append(Delivered(envelope.mail_from, list(envelope.rcpt_tos),
                                           message_from_bytes(envelope.content, policy=policy.default),
                                           session.ssl is not None))
        return "250 2.0.0 Kept"


class StaffMailbox(SmtpServer):
    """aiosmtpd on an ephemeral port that keeps the messages and logins it receives.

    Without ``tls_context`` it offers no STARTTLS; aiosmtpd refuses AUTH
    before TLS either way.
    """

    def __init__(self, **options: Any) -> None:
        self.messages: list[Delivered] = []
        self.logins: list[tuple[str, str, bool]] = []
        super().__init__(**options)

    def factory(self) -> SMTP:
        return SMTP(_Keeper(self), **self.SMTP_kwargs)

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        self.logins.append((auth_data.login.decode(), auth_data.password.decode(), session.ssl is not None))
        return AuthResult(success=True)

    def close(self) -> None:
        self.stop()


@dataclass
class Hook:
    """One POST the webhook receiver got."""

    headers: dict[str, str]
    body: bytes

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.body)


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that records each POST.

    :param answers: status codes for the first requests, in order; 204 after them.
    :param delay: seconds to wait before answering (a hanging receiver).
    :param on_request: called as each request arrives, before the answer (a test moves its clock).
    """

    def __init__(self, answers: tuple[int, ...] = (), delay: float = 0.0,
                 on_request: Callable[[], None] = lambda: None) -> None:
        self.requests: list[Hook] = []
        self.answers = list(answers)
        self.delay = delay
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(Hook(dict(self.headers), body))
                on_request()
                time.sleep(receiver.delay)
                code = receiver.answers.pop(0) if receiver.answers else 204
                self.send_response(code)
                if code in (301, 302, 307, 308):
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A hanging handler must not hold up the end of the test.
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/status"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

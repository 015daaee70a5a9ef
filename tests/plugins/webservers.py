"""A small real web site for the HTTP check's tests: ``http.server`` on loopback, plain or TLS.

Routes (GET, HEAD and POST):

- ``/`` a welcome page; ``/echo`` the method, Host header and path it was asked with;
- ``/status/NNN`` answers with that status;
- ``/redirect/N`` redirects N times before arriving; ``/loop`` and ``/loop2`` redirect to each other;
- ``/to?url=U&code=C`` redirects to any URL U (status C, default 302); ``/see-other`` answers 303 to ``/echo``;
- ``/chunked`` a chunked body; ``/big?size=N`` N bytes of filler.
"""
from __future__ import annotations

import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

WELCOME = "<html><body><h1>Welcome to example.test</h1><p>build 4711</p></body></html>"


class Site(BaseHTTPRequestHandler):
    """The routes above; every response has a definite length or is chunked (HTTP/1.1)."""

    protocol_version = "HTTP/1.1"
    server_version = "ninertest/1.0"
    sys_version = ""

    def do_GET(self) -> None:
        self._route()

    def do_HEAD(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""

    def _route(self) -> None:
        url = urlsplit(self.path)
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        parts = url.path.strip("/").split("/")
        if url.path == "/":
            self._reply(200, WELCOME, content_type="text/html; charset=utf-8")
        elif url.path == "/echo":
            self._reply(200, f"method={self.command} host={self.headers['Host']} path={self.path}")
        elif parts[0] == "status" and len(parts) == 2:
            self._reply(int(parts[1]), f"status {parts[1]}")
        elif parts[0] == "redirect" and len(parts) == 2:
            left = int(parts[1])
            if left:
                self._redirect(302, f"/redirect/{left - 1}")
            else:
                self._reply(200, "arrived")
        elif url.path == "/loop":
            self._redirect(302, "/loop2")
        elif url.path == "/loop2":
            self._redirect(301, "/loop")
        elif url.path == "/to":
            self._redirect(int(query.get("code", 302)), query["url"])
        elif url.path == "/see-other":
            self._redirect(303, "/echo")
        elif url.path == "/chunked":
            self._chunked([b"<html>", b"<p>chunk one</p>", b"<p>the needle</p>", b"</html>"])
        elif url.path == "/big":
            self._reply(200, "x" * int(query["size"]))
        else:
            self._reply(404, "not found")

    def _reply(self, status: int, body: str, *, content_type: str = "text/plain; charset=utf-8") -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _redirect(self, status: int, location: str) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _chunked(self, chunks: list[bytes]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\nX-Trailer: done\r\n\r\n")


class WebServer(ThreadingHTTPServer):
    """The site on ``host`` (IPv4 or IPv6 loopback), with implicit TLS when given a server context.

    The TLS handshake runs in the connection's own thread, so a client that
    stalls mid-handshake cannot block the accept loop.
    """

    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, 0), Site)
        self.host = host
        self.port: int = self.server_address[1]
        self.tls = tls
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        """This server's URL for ``path``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}{path}"

    def finish_request(self, request: socket.socket, client_address: tuple) -> None:
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        with self.tls.wrap_socket(request, server_side=True) as tls_request:
            super().finish_request(tls_request, client_address)

    def handle_error(self, request: object, client_address: tuple) -> None:
        """Clients that refuse our certificate are part of the tests; no tracebacks."""

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=3)

"""The agent's side of the agent API: signed requests to the site, and what each answer means for the agent.

HTTPS with the certificate verified; plain HTTP only to a loopback address
(a site and an agent on one machine, or a test). When the site says the
agent's clock is off, the client takes the site's time for the requests'
timestamps from then on (the results keep the agent's own time: the site
corrects those itself).
"""
from __future__ import annotations

import ipaddress
import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from .signing import signed_headers

API_PATH = "api/agent/v1/"
#: How long one request may take.
REQUEST_TIMEOUT = 30.0
#: The most of an answer read (the assignments of a thousand checks are far less).
MAX_ANSWER_BYTES = 16 * 1024 * 1024


class SiteUnreachable(Exception):
    """The site did not answer (network, TLS, 5xx, an answer that is not the API's): try again later."""


@dataclass(frozen=True)
class Answer:
    """The site's answer to one request: its status and JSON body."""

    status: int
    body: dict[str, Any]

    @property
    def error(self) -> str | None:
        """The API's error code (``duplicate_batch``, ``clock``...), or None for a success."""
        return None if self.status < 400 else str(self.body.get("error", ""))


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def site_base(url: str) -> str:
    """The site's address, checked: https, or http to a loopback address only; ``ValueError`` says why not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not the address of a site (https://status.example.net/)")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError("the token would travel in clear: use the site's https:// address "
                         "(plain http is only for a site on this machine)")
    return url if url.endswith("/") else url + "/"


class SiteClient:
    """Signed requests from one agent to its site."""

    def __init__(self, site_url: str, token: str, ca_file: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.base = site_base(site_url)
        self.token, self.clock = token, clock
        self.context = ssl.create_default_context(cafile=ca_file)
        # The site's clock minus ours, once the site has said ours is off.
        self.offset = 0.0

    def _send(self, method: str, path: str, body: bytes) -> Answer:
        url = urljoin(self.base, API_PATH + path)
        signed_path = urlsplit(url).path
        headers = signed_headers(self.token, method, signed_path, body, self.clock() + self.offset)
        if body:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=body or None, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT, context=self.context) as response:
                return Answer(response.status, self._json(response.read(MAX_ANSWER_BYTES + 1)))
        except urllib.error.HTTPError as error:
            if error.code >= 500:
                raise SiteUnreachable(f"the site answered {error.code}") from None
            try:
                return Answer(error.code, self._json(error.read(MAX_ANSWER_BYTES + 1)))
            finally:
                error.close()
        except (OSError, ssl.SSLError) as error:  # URLError, refused, reset, timed out, certificate
            raise SiteUnreachable(f"cannot reach the site: {getattr(error, 'reason', error)}") from None

    @staticmethod
    def _json(data: bytes) -> dict[str, Any]:
        if len(data) > MAX_ANSWER_BYTES:
            raise SiteUnreachable("the site's answer is larger than any the API gives")
        try:
            body = json.loads(data)
        except ValueError:
            raise SiteUnreachable("the site's answer is not JSON (a proxy's error page?)") from None
        if not isinstance(body, dict):
            raise SiteUnreachable("the site's answer is not a JSON object")
        return body

    def call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Answer:
        """Send one request; if the site says our clock is off, take its time and send once more."""
        body = b"" if payload is None else json.dumps(payload).encode()
        answer = self._send(method, path, body)
        if answer.error == "clock" and isinstance(answer.body.get("server_time"), (int, float)):
            self.offset = float(answer.body["server_time"]) - self.clock()
            answer = self._send(method, path, body)
        return answer

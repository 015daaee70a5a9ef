"""The site served for real on 127.0.0.1 in threads, and staff who use it over HTTP at the same moment.

Concurrency tests need requests that truly overlap inside the app: the test
client runs one request at a time, so these go through a threaded werkzeug
server and plain ``http.client`` connections, one cookie jar per staff member.
"""
from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from flask import Flask
from werkzeug.serving import make_server

from .accounts import PASSWORD, csrf_token_in

# Generous: on a loaded machine eight overlapping saves may each wait their turn for the write lock.
REQUEST_TIMEOUT = 120


@dataclass
class Answer:
    """What the site answered: status, Location header and page."""

    status: int
    location: str | None
    text: str


@dataclass
class StaffClient:
    """One member of staff in a browser of their own: a cookie jar and the site's address."""

    port: int
    host: str
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None) -> Answer:
        """Send one request on a fresh connection, keeping the cookies the site sets."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        headers = {"Host": self.host, **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return Answer(response.status, response.headers.get("Location"), text)
        finally:
            connection.close()

    def token(self, path: str) -> str:
        """The CSRF token of the form on ``path``."""
        page = self.request("GET", path)
        assert page.status == 200, f"GET {path} answered {page.status}"
        return csrf_token_in(page.text)

    def sign_in(self, email: str) -> None:
        """Sign in through the sign-in form."""
        answer = self.request("POST", "/admin/login", {"email": email, "password": PASSWORD,
                                                       "csrf_token": self.token("/admin/login")})
        assert answer.status == 302, f"signing in {email} answered {answer.status}"

    def post_form(self, path: str, form: dict, token: str) -> Answer:
        """Send ``form`` to ``path`` with ``token``, as pressing the form's button does."""
        return self.request("POST", path, {**form, "csrf_token": token})


@contextmanager
def served(app: Flask) -> Iterator[Callable[[], StaffClient]]:
    """Serve ``app`` on a free loopback port in threads; yield a maker of clients for it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield lambda: StaffClient(server.server_port, app.config["SERVER_NAME"])
    finally:
        server.shutdown()
        thread.join(timeout=30)
        server.server_close()


def all_at_once(calls: list[Callable[[], Answer]]) -> list[Answer]:
    """Run every call in a thread of its own, released together; return their answers in order."""
    barrier = threading.Barrier(len(calls))
    answers: list[Answer | BaseException | None] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait()
            answers[index] = calls[index]()
        except BaseException as error:  # reported below, in the test's own thread
            answers[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(REQUEST_TIMEOUT * 2)
    for answer in answers:
        if isinstance(answer, BaseException):
            raise answer
        assert answer is not None, "a client never got an answer"
    return answers

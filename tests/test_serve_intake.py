"""Through the real server (`ninerstatus serve`, granian, on loopback): a chunked body over the size
limit is refused like one with a length, one within it is read whole, and a forged Host gets 400."""
from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest

from .test_serve import BIN, _free_port, _started, site_env  # noqa: F401  (site_env is a fixture)

LIMIT = 2 * 1024 * 1024


@pytest.fixture(scope="module")
def port(site_env) -> Iterator[int]:  # noqa: F811
    """`ninerstatus serve` with one worker on a fresh site; yields its port."""
    port = _free_port()
    with _started([BIN / "ninerstatus", "serve", "--port", port, "--workers", 1, "--threads", 2], site_env, port):
        yield port


def exchange(port: int, head: str, chunks: list[bytes] = ()) -> tuple[int, bytes]:
    """Send a request (its head, then ``chunks`` in chunked encoding) and return the status and answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode("latin-1"))
        try:
            for chunk in chunks:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the whole body was sent: the answer is already there
        answer = b""
        while data := sock.recv(65536):
            answer += data
    return int(answer.split(b" ", 2)[1]), answer


def chunked_sign_in(port: int, body_size: int) -> tuple[int, bytes]:
    """A sign-in of ``body_size`` bytes with a wrong password, sent chunked (64 KiB a chunk), its form
    token last: only a body read whole gets as far as checking the password."""
    status, page = exchange(port, "GET /admin/login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    cookie = re.search(rb"set-cookie: (session=[^;]+)", page, re.I).group(1).decode()
    token = re.search(rb'name="csrf_token"[^>]*?value="([^"]+)"', page).group(1)
    start, end = b"email=someone%40example.net&password=wrong&padding=", b"&csrf_token=" + token
    form = start + b"x" * (body_size - len(start) - len(end)) + end
    head = ("POST /admin/login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            f"Cookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            "Transfer-Encoding: chunked\r\n\r\n")
    return exchange(port, head, [form[i:i + 65536] for i in range(0, len(form), 65536)])


def test_a_chunked_body_over_the_limit_gets_413_from_the_real_server(port):
    status, answer = chunked_sign_in(port, LIMIT + 100_000)
    assert status == 413 and b"That upload is too large" in answer


def test_a_chunked_body_within_the_limit_reaches_the_form_whole(port):
    status, answer = chunked_sign_in(port, LIMIT - 1000)
    assert status == 200 and b"That e-mail address and password do not match an account." in answer


def test_a_forged_host_gets_400_from_the_real_server(port):
    status, answer = exchange(port, "GET /feed.atom HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
    assert status == 400 and b"evil.example" not in answer
    status, answer = exchange(port, "GET /feed.atom HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert status == 200 and b"http://127.0.0.1/" in answer

"""The servers the runner benchmark probes: a banner, an HTTP and an SMTP-with-STARTTLS responder.

They run in a process of their own on 127.0.0.1 (one asyncio loop), so the
CPU they spend is nobody's figure: the benchmark measures the probers only.
Each answers the way a quick real server would, and the SMTP one makes a
prober do everything a submission server asks for: read a multi-line EHLO
reply, STARTTLS, a TLS handshake with a certificate from a local CA (trustme),
EHLO again, QUIT.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import trustme
from flask import Flask

from _common import ROOT, Site

GREETING = b"220 bench.localhost ESMTP ready\r\n"
HTTP_REPLY = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
              b"Connection: close\r\n\r\nok\n")
EHLO_PLAIN = b"250-bench.localhost\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250 8BITMIME\r\n"
EHLO_TLS = b"250-bench.localhost\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"
#: Seconds a connection may stay silent before the responder hangs up.
IDLE_SECONDS = 15
MAX_REQUEST = 8192


@dataclass(frozen=True)
class Ports:
    """Where the responders listen, and the CA that signed the SMTP server's certificate."""

    banner: int
    http: int
    smtp: int
    ca_file: str


async def _banner(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(GREETING)
    try:
        await writer.drain()
        await asyncio.wait_for(reader.read(MAX_REQUEST), IDLE_SECONDS)  # until the prober hangs up
    except (OSError, asyncio.TimeoutError):
        pass
    writer.close()


async def _http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_SECONDS)
        writer.write(HTTP_REPLY)
        await writer.drain()
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    writer.close()


def _smtp(context: ssl.SSLContext):
    async def converse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        secure = False
        try:
            writer.write(GREETING)
            while True:
                line = await asyncio.wait_for(reader.readline(), IDLE_SECONDS)
                verb = line[:8].split(b" ")[0].strip().upper()
                if not line or verb == b"QUIT":
                    writer.write(b"221 2.0.0 bye\r\n")
                    await writer.drain()
                    break
                if verb == b"EHLO":
                    writer.write(EHLO_TLS if secure else EHLO_PLAIN)
                elif verb == b"STARTTLS" and not secure:
                    writer.write(b"220 2.0.0 ready to start TLS\r\n")
                    await writer.drain()
                    await writer.start_tls(context)
                    secure = True
                else:
                    writer.write(b"502 5.5.2 not here\r\n")
                await writer.drain()
        except (OSError, ssl.SSLError, asyncio.TimeoutError, ConnectionError):
            pass
        writer.close()
    return converse


def _serve(folder: Path, ready) -> None:
    """The child process: issue the certificate, listen, report the ports, serve until killed."""
    authority = trustme.CA()
    ca_file = folder / "bench-ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)

    async def main() -> None:
        servers = [await asyncio.start_server(handler, "127.0.0.1", 0, backlog=1024)
                   for handler in (_banner, _http, _smtp(context))]
        ports = [server.sockets[0].getsockname()[1] for server in servers]
        ready.send(Ports(*ports, ca_file=str(ca_file)))
        await asyncio.Event().wait()

    asyncio.run(main())


def start_targets(folder: Path) -> tuple[multiprocessing.Process, Ports]:
    """Start the responders in a child process; return it and where they listen."""
    receive, send = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.get_context("spawn").Process(target=_serve, args=(folder, send), daemon=True,
                                                           name="bench targets")
    process.start()
    if not receive.poll(30):
        process.kill()
        raise RuntimeError("the benchmark's loopback servers did not start")
    return process, receive.recv()


@contextmanager
def site_with_targets(database_url: str | None) -> Iterator[tuple[Site, Flask, Ports]]:
    """A fresh site that loads the test suite's "banner" check type, and the responders to probe.

    Both are gone afterwards, whatever happened.
    """
    logging.disable(logging.WARNING)
    site = Site(database_url, plugins_folder=ROOT / "tests" / "local_plugins")
    process, ports = start_targets(site.folder)
    try:
        yield site, site.create_schema(), ports
    finally:
        process.kill()
        site.remove()

"""Small probes written against the public API, the way a plugin author would."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ninerstatus.probing import ErrorKind, ProbeContext, ProbeFailure, ProbeResult, Target


def banner_probe(target: Target, settings: Mapping[str, Any], ctx: ProbeContext) -> ProbeResult:
    """Read an SMTP-style greeting and say goodbye."""
    with ctx.session(target) as s:
        conv = s.connect()
        with s.phase("banner"):
            greeting = conv.read_reply().expect(220)
        s.details["banner"] = greeting.text
        conv.command("QUIT")
        return s.ok(f"banner {greeting.code}")


def smtp_starttls_probe(target: Target, settings: Mapping[str, Any], ctx: ProbeContext) -> ProbeResult:
    """Greeting, EHLO, STARTTLS, handshake, EHLO again (capabilities before TLS are void), QUIT."""
    with ctx.session(target) as s:
        conv = s.connect()
        with s.phase("banner"):
            s.details["banner"] = conv.read_reply().expect(220).text
        if "STARTTLS" not in conv.command("EHLO probe.test").expect(250).lines:
            raise ProbeFailure(ErrorKind.STARTTLS_UNAVAILABLE, "STARTTLS not offered")
        with s.phase("starttls"):
            conv.command("STARTTLS").expect(220)
        tls = s.handshake(conv)
        capabilities = conv.command("EHLO probe.test").expect(250).lines[1:]
        conv.command("QUIT")
        return s.ok(f"STARTTLS ok, certificate {tls.days_left} days",
                    details={"capabilities": list(capabilities)})


def frame_probe(target: Target, settings: Mapping[str, Any], ctx: ProbeContext) -> ProbeResult:
    """A length-prefixed exchange: send a 4-byte big-endian length and "PING", read a frame back the same way."""
    with ctx.session(target) as s:
        conv = s.connect()
        with s.phase("exchange"):
            conv.send_bytes(len(b"PING").to_bytes(4, "big") + b"PING")
            size = int.from_bytes(conv.read_exact(4), "big")
            body = conv.read_exact(size)
        s.details["body"] = body.decode("utf-8", errors="replace")
        return s.ok(f"{size} bytes back")

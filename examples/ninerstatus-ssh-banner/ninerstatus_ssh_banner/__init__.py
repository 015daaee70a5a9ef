"""ninerstatus check type ``ssh_banner``: is an SSH server there, and which software is it?

An SSH server speaks first (RFC 4253 section 4.2): it may send a few lines of
text, then its identification string ``SSH-protoversion-softwareversion
[comments]``, at most 255 characters with its CRLF. The probe reads up to that
line, checks the protocol version, optionally the software, sends its own
identification and leaves: it never starts a key exchange, so it never logs
in and never needs a credential.
"""
from __future__ import annotations

import re

from wtforms import StringField, validators

from ninerstatus import CheckType, ErrorKind, ProbeFailure, hookimpl

#: RFC 4253: the identification line is at most 255 characters including CRLF.
MAX_IDENTIFICATION = 255
#: Lines a server may send before its identification; more is not an SSH server.
MAX_PREAMBLE_LINES = 20
#: What the probe says about itself, so server logs show who knocked.
CLIENT_IDENTIFICATION = "SSH-2.0-ninerstatus_probe"

# "SSH-2.0-OpenSSH_9.2p1 Debian-2". RFC 4253 forbids dashes in the software
# part, but Cisco sends "SSH-1.99-Cisco-1.25": be lenient and stop at a space.
_IDENTIFICATION = re.compile(r"SSH-(?P<proto>[^-\s]+)-(?P<software>\S+)(?: (?P<comments>.*))?")
# 1.99 announces a server that also speaks 2.0 (RFC 4253 section 5.1).
_SUPPORTED = {"2.0", "1.99"}


def read_identification(conv) -> tuple[str, list[str]]:
    """Read the lines before the identification string and the string itself."""
    preamble = []
    while True:
        line = conv.read_line()
        if line.startswith("SSH-"):
            return line, preamble
        preamble.append(line)
        if len(preamble) >= MAX_PREAMBLE_LINES:
            raise ProbeFailure(ErrorKind.PROTOCOL_ERROR,
                               f"no SSH identification within {MAX_PREAMBLE_LINES} lines")


def probe(target, settings, ctx):
    """Read the SSH identification string and check its protocol version and software."""
    with ctx.session(target) as s:
        conv = s.connect()
        conv.max_line = MAX_IDENTIFICATION - 2  # the limit counts the CRLF, read_line does not
        with s.phase("banner"):
            line, preamble = read_identification(conv)
        s.details["banner"] = line
        if preamble:
            s.details["preamble"] = preamble
        parsed = _IDENTIFICATION.fullmatch(line)
        if parsed is None:
            raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"malformed SSH identification {line[:80]!r}")
        proto, software = parsed["proto"], parsed["software"]
        s.details.update(protocol=proto, software=software, comments=parsed["comments"] or "")
        # Saying who we are before leaving is the SSH way of hanging up politely:
        # servers log a bare disconnect as "did not receive identification string".
        conv.send(CLIENT_IDENTIFICATION)
        if proto not in _SUPPORTED:
            raise ProbeFailure(ErrorKind.UNEXPECTED_REPLY, f"server speaks SSH-{proto} only, not SSH-2.0")
        wanted = settings.get("software") or ""
        if wanted and not software.startswith(wanted):
            raise ProbeFailure(ErrorKind.EXPECTATION_FAILED, f"software is {software}, expected {wanted}…")
        return s.ok(f"{software} (SSH-{proto})")


@hookimpl
def ninerstatus_check_types():
    """Register the ``ssh_banner`` check type."""
    return [CheckType(
        name="ssh_banner",
        label="SSH server",
        probe=probe,
        default_port=22,
        ports={"ssh": 22},
        settings={
            "software": StringField(
                "Software starts with", [validators.Optional(), validators.Length(max=100)],
                description="e.g. OpenSSH_9: anything else is CRITICAL"),
        },
        description="Reads the SSH identification string (RFC 4253), checks it announces SSH 2.0 "
                    "and optionally which software answers. Never logs in.",
    )]

"""The line-conversation helper: replies read whole and bounded, transcripts without secrets."""
from __future__ import annotations

import socket

import pytest

from ninerstatus.probing import Conversation, Deadline, ErrorKind, ProbeFailure, Reply, Status
from ninerstatus.probing.deadline import DeadlineSocket
from ninerstatus.probing.transcript import Transcript


@pytest.fixture
def wire():
    """A Conversation with a 1 s budget, and the raw socket playing the server."""
    ours, theirs = socket.socketpair()
    theirs.settimeout(1)
    conv = Conversation(DeadlineSocket(ours, Deadline(1.0)), max_reply_lines=10, max_reply_bytes=2000)
    yield conv, theirs
    ours.close()
    theirs.close()


def test_read_reply_collects_a_multi_line_smtp_reply(wire):
    conv, server = wire
    server.sendall(b"250-mail.example.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
    assert conv.read_reply() == Reply(250, ("mail.example.test", "PIPELINING", "STARTTLS"))


def test_read_reply_stops_at_the_last_line_and_leaves_the_rest(wire):
    conv, server = wire
    server.sendall(b"220-first\r\n220 last\r\n250 next reply\r\n")
    assert conv.read_reply().lines == ("first", "last")
    assert conv.read_reply() == Reply(250, ("next reply",))


def test_read_reply_accepts_a_bare_code(wire):
    conv, server = wire
    server.sendall(b"250\r\n")
    assert conv.read_reply() == Reply(250, ("",))


def test_read_reply_refuses_a_code_change_mid_reply(wire):
    conv, server = wire
    server.sendall(b"250-mail.example.test\r\n251 other\r\n")
    with pytest.raises(ProbeFailure, match="changed from 250 to 251") as caught:
        conv.read_reply()
    assert caught.value.kind is ErrorKind.PROTOCOL_ERROR


def test_read_reply_refuses_a_malformed_line(wire):
    conv, server = wire
    server.sendall(b"HTTP/1.1 400 Bad Request\r\n")
    with pytest.raises(ProbeFailure, match="malformed") as caught:
        conv.read_reply()
    assert caught.value.kind is ErrorKind.PROTOCOL_ERROR


FTP_FEAT = b"211-Features:\r\n MDTM\r\n AUTH TLS\r\n211 End\r\n"


def test_read_reply_in_smtp_mode_refuses_lines_without_the_code(wire):
    conv, server = wire
    server.sendall(FTP_FEAT)
    with pytest.raises(ProbeFailure, match="malformed line in a 211 reply"):
        conv.read_reply()


def test_read_reply_in_ftp_mode_allows_free_text_between_first_and_last_line(wire):
    conv, server = wire
    server.sendall(FTP_FEAT)
    assert conv.read_reply(strict=False) == Reply(211, ("Features:", " MDTM", " AUTH TLS", "End"))


def test_read_reply_is_bounded_in_lines(wire):
    conv, server = wire
    server.sendall(b"250-x\r\n" * 50)
    with pytest.raises(ProbeFailure, match="longer than 10 lines"):
        conv.read_reply()


def test_read_reply_is_bounded_in_bytes(wire):
    conv, server = wire
    server.sendall((b"250-" + b"x" * 600 + b"\r\n") * 5)
    with pytest.raises(ProbeFailure, match="larger than 2000 bytes"):
        conv.read_reply()


def test_reply_expect_fails_with_unexpected_reply():
    reply = Reply(554, ("5.7.1 go away",))
    assert Reply(220, ("hi",)).expect(220, 250).code == 220
    with pytest.raises(ProbeFailure, match="expected 220/250, got 554 '5.7.1 go away'") as caught:
        reply.expect(220, 250)
    assert caught.value.kind is ErrorKind.UNEXPECTED_REPLY


def test_command_sends_crlf_and_reads_the_reply(wire):
    conv, server = wire
    server.sendall(b"221 bye\r\n")
    assert conv.command("QUIT").code == 221
    assert server.recv(100) == b"QUIT\r\n"
    assert conv.transcript.lines == ("C: QUIT", "S: 221 bye")


def test_send_refuses_a_line_break_that_would_smuggle_a_command(wire):
    conv, server = wire
    with pytest.raises(ProbeFailure) as caught:
        conv.send("EHLO probe.test\r\nRCPT TO:<victim@example.test>")
    assert (caught.value.kind, caught.value.status) == (ErrorKind.CONFIG_ERROR, Status.UNKNOWN)
    server.settimeout(0.05)
    with pytest.raises(TimeoutError):
        server.recv(100)


def test_passwords_never_reach_the_transcript(wire):
    conv, server = wire
    conv.transcript.add_secret("hunter2")
    conv.send("AUTH PLAIN AGFsaWNlAGh1bnRlcjI=", shown="AUTH PLAIN ***")
    conv.send("PASS hunter2")
    server.sendall(b"-ERR password hunter2 is wrong\r\n")
    conv.read_line()
    assert server.recv(100).startswith(b"AUTH PLAIN AGFsaWNl")  # the real line went out
    assert conv.transcript.lines == ("C: AUTH PLAIN ***", "C: PASS ***", "S: -ERR password *** is wrong")


def test_server_bytes_that_are_not_utf8_are_read_with_replacement(wire):
    conv, server = wire
    server.sendall(b"220 caf\xe9\r\n")
    assert conv.read_line() == "220 caf\ufffd"


def test_transcript_lines_are_capped_and_counted(wire):
    _, server = wire
    conv = Conversation(wire[0].stream, Transcript(max_lines=3))
    server.sendall(b"x" * 3000 + b"\r\n" + b"y\r\n" * 4)
    for _ in range(5):
        conv.read_line()
    lines = conv.transcript.lines
    assert len(lines) == 4
    assert len(lines[0].encode()) <= 1024
    assert lines[-1] == "-- 2 more lines not recorded"


def test_read_dot_block_reads_a_pop3_multi_line_response(wire):
    conv, server = wire
    server.sendall(b"TOP\r\nUSER\r\n..dot-stuffed\r\n.\r\n+OK next\r\n")
    assert conv.read_dot_block() == ("TOP", "USER", ".dot-stuffed")
    assert conv.read_line() == "+OK next"


def test_read_tagged_reads_imap_responses_up_to_the_tagged_one(wire):
    conv, server = wire
    server.sendall(b"* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\n")
    assert conv.read_tagged("a1") == (("* CAPABILITY IMAP4rev1 STARTTLS",), "OK done")


def test_read_tagged_is_bounded_too(wire):
    conv, server = wire
    server.sendall(b"* 1 EXISTS\r\n" * 20)
    with pytest.raises(ProbeFailure, match="longer than 10 lines"):
        conv.read_tagged("a1")


def test_read_exact_takes_bytes_already_buffered_after_a_line(wire):
    conv, server = wire
    server.sendall(b"+OK 5\r\nhello+OK\r\n")
    assert conv.read_line() == "+OK 5"
    assert conv.read_exact(5) == b"hello"
    assert conv.read_line() == "+OK"
    assert conv.transcript.lines == ("S: +OK 5", "S: [5 bytes] hello", "S: +OK")


@pytest.mark.parametrize("count", [-1, 2001])
def test_read_exact_refuses_counts_outside_zero_to_max_reply_bytes(wire, count):
    conv, server = wire
    server.sendall(b"x" * 2040)
    with pytest.raises(ProbeFailure, match=f"refusing to read {count} bytes: one read takes 0 to 2000 bytes"):
        conv.read_exact(count)
    assert conv.read_exact(2000) == b"x" * 2000  # nothing was consumed by the refused read
    assert conv.read_exact(0) == b""
    assert conv.transcript.lines == ("S: [2000 bytes] " + "x" * 256 + " … (1744 more bytes)", "S: [0 bytes]")


def test_send_bytes_sends_as_is_and_records_the_stand_in_for_secrets(wire):
    conv, server = wire
    conv.transcript.add_secret("hunter2")
    conv.send_bytes(b"\x01hunter2", shown="[8 bytes] login ***")
    conv.send_bytes(b"\x02hunter2")
    assert server.recv(100) == b"\x01hunter2\x02hunter2"
    server.sendall(b"\x00hunter2")
    conv.read_exact(8)
    assert conv.transcript.lines == ("C: [8 bytes] login ***", "C: [8 bytes] \\x02***", "S: [8 bytes] \\x00***")

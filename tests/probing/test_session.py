"""Sessions and the runner: timings, failures with context, and plugins that misbehave."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest

from ninerstatus.probing import ErrorKind, Family, ProbeContext, ProbeFailure, ProbeResult, Status, Target, run_probe

from ninerstatus.probing.execute import HungProbes, abandon, probe_here
from ninerstatus.probing.result import MAX_PHASES
from ninerstatus.probing.workers import WorkerCall, start_in_worker

from ..waiting import PATIENCE
from .probes import banner_probe
from .servers import Peer


def greet(peer: Peer) -> None:
    peer.send(b"220-mail.example.test ESMTP\r\n220 ready\r\n")
    peer.read_line()
    peer.send(b"221 bye\r\n")


def test_probe_result_carries_phases_details_transcript_and_address(serve):
    server = serve(greet)
    result = run_probe(banner_probe, Target("127.0.0.1", server.port), {}, timeout=2)
    assert (result.status, result.summary) == (Status.OK, "banner 220")
    assert result.details == {"address": "127.0.0.1", "banner": "mail.example.test ESMTP\nready"}
    assert result.transcript == ("S: 220-mail.example.test ESMTP", "S: 220 ready", "C: QUIT", "S: 221 bye")
    timings = result.timings
    assert all(value is not None for value in (timings.resolve, timings.connect, timings.banner, timings.total))
    assert (timings.starttls, timings.tls, timings.first_byte) == (None, None, None)
    assert timings.total >= timings.connect + timings.banner


def test_probe_over_ipv6_when_asked(serve):
    try:
        server = serve(greet, host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    result = run_probe(banner_probe, Target("::1", server.port, family=Family.IPV6), {}, timeout=2)
    assert result.status is Status.OK
    assert result.details["address"] == "::1"


def test_failure_mid_conversation_keeps_what_was_gathered(serve):
    def greet_then_hang(peer: Peer) -> None:
        peer.send(b"220 mail.example.test ESMTP\r\n")
        peer.idle()

    server = serve(greet_then_hang)
    result = run_probe(banner_probe, Target("127.0.0.1", server.port), {}, timeout=0.5)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.READ_TIMEOUT)
    assert result.summary == "timed out waiting for the server (limit 0.5 s)"
    assert result.transcript == ("S: 220 mail.example.test ESMTP", "C: QUIT")
    assert result.details["banner"] == "mail.example.test ESMTP"
    assert result.timings.banner is not None


def test_unexpected_reply_is_reported_with_the_server_words(serve):
    def refuse(peer: Peer) -> None:
        peer.send(b"554 5.7.1 no probes please\r\n")
        peer.idle()

    server = serve(refuse)
    result = run_probe(banner_probe, Target("127.0.0.1", server.port), {}, timeout=1)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.UNEXPECTED_REPLY)
    assert result.summary == "expected 220, got 554 '5.7.1 no probes please'"


def test_a_plugin_that_raises_gets_unknown_internal_without_a_traceback(caplog):
    def broken(target, settings, ctx):
        raise ValueError("settings['port'] is not a number")

    result = run_probe(broken, Target("127.0.0.1", 25), {}, timeout=1)
    assert (result.status, result.error_kind) == (Status.UNKNOWN, ErrorKind.INTERNAL)
    assert result.summary == "probe error: ValueError: settings['port'] is not a number"
    assert "Traceback" not in str(result.to_dict())
    assert "Traceback" in caplog.text  # staff still get it in the log


def test_a_plugin_that_hangs_is_abandoned_after_timeout_plus_grace():
    release = threading.Event()

    def hangs(target, settings, ctx):
        release.wait(PATIENCE)
        return ProbeResult(Status.OK, "too late")

    started = time.monotonic()
    try:
        result = run_probe(hangs, Target("127.0.0.1", 25), {}, timeout=0.3, grace=0.2)
    finally:
        release.set()
    assert time.monotonic() - started < PATIENCE / 2  # abandoned: not waited for
    assert (result.status, result.error_kind) == (Status.UNKNOWN, ErrorKind.INTERNAL)
    assert "did not finish within 0.5 s" in result.summary
    assert 0.49 < result.timings.total < PATIENCE / 2  # the time it was waited for


def test_a_plugin_that_returns_something_else_gets_unknown():
    result = run_probe(lambda target, settings, ctx: None, Target("127.0.0.1", 25), {}, timeout=1)
    assert result.status is Status.UNKNOWN
    assert result.summary == "probe returned NoneType, not a ProbeResult"


def test_probe_failure_raised_outside_a_session_becomes_the_result():
    def needs_password(target, settings, ctx):
        raise ProbeFailure(ErrorKind.CONFIG_ERROR, "no password set", Status.UNKNOWN)

    result = run_probe(needs_password, Target("127.0.0.1", 25), {}, timeout=1)
    assert (result.status, result.error_kind, result.summary) == (
        Status.UNKNOWN, ErrorKind.CONFIG_ERROR, "no password set")


def test_run_probe_sets_total_and_checked_at_from_its_clock():
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    result = run_probe(lambda target, settings, ctx: ProbeResult(Status.OK, "fine"), Target("127.0.0.1", 25),
                       {}, timeout=1, clock=lambda: moment)
    assert result.checked_at == moment
    assert result.timings.total is not None and result.timings.total >= 0


def test_run_probe_hands_settings_and_a_running_deadline_to_the_probe():
    seen = {}

    def inspect(target, settings, ctx):
        seen.update(settings=settings, timeout=ctx.timeout, remaining=ctx.deadline.remaining())
        return ProbeResult(Status.OK, "fine")

    run_probe(inspect, Target("127.0.0.1", 25), {"user": "probe"}, timeout=3)
    assert seen["settings"] == {"user": "probe"} and seen["timeout"] == 3
    assert 2.5 < seen["remaining"] <= 3


def test_a_phase_the_probe_names_itself_is_timed_and_kept_in_the_order_it_ran():
    ticks = iter(range(100))
    session = ProbeContext(timeout=1000, monotonic=lambda: float(next(ticks))).session(Target("127.0.0.1", 25))
    with session.phase("handshake"):
        pass
    with session.phase("key_exchange_2"):
        pass
    timings = session.result(Status.OK, "fine").timings
    assert dict(timings) == {"handshake": 1.0, "key_exchange_2": 1.0}
    assert timings.to_dict() == {"handshake": 1.0, "key_exchange_2": 1.0}


@pytest.mark.parametrize("name", ["Banner", "1st", "first byte", "first-byte", "", "é", "a" * 33, "handshake\n"])
def test_session_refuses_a_phase_name_that_is_not_a_short_identifier(name):
    session = ProbeContext(timeout=1).session(Target("127.0.0.1", 25))
    with pytest.raises(ValueError, match=r"is not a short identifier: use 1 to 32 lower-case letters"), \
            session.phase(name):
        pass


def test_session_refuses_total_and_says_the_runner_times_it():
    session = ProbeContext(timeout=1).session(Target("127.0.0.1", 25))
    with pytest.raises(ValueError, match="phase 'total' is reserved for the whole probe, which the runner times"), \
            session.phase("total"):
        pass


def test_a_probe_timing_total_itself_gets_unknown_with_the_reason():
    def times_total(target, settings, ctx):
        with ctx.session(target) as s, s.phase("total"):
            return s.ok("never")

    result = run_probe(times_total, Target("127.0.0.1", 25), {}, timeout=1)
    assert (result.status, result.error_kind) == (Status.UNKNOWN, ErrorKind.INTERNAL)
    assert result.summary.startswith("probe error: ValueError: phase 'total' is reserved for the whole probe")


def test_session_refuses_more_phases_than_a_result_may_carry():
    session = ProbeContext(timeout=1).session(Target("127.0.0.1", 25))
    for number in range(MAX_PHASES - 1):  # room is left for the runner's "total"
        with session.phase(f"step_{number}"):
            pass
    with session.phase("step_0"):  # timing a phase again is no new phase
        pass
    with pytest.raises(ValueError, match=f"would be one too many: a result carries at most {MAX_PHASES - 1}"), \
            session.phase("one_more"):
        pass
    assert len(session.result(Status.OK, "fine").timings) == MAX_PHASES - 1


def test_session_phases_add_up_with_the_injected_clock():
    ticks = iter(range(100))
    session = ProbeContext(timeout=1000, monotonic=lambda: float(next(ticks))).session(Target("127.0.0.1", 25))
    for _ in range(2):
        with session.phase("banner"):
            pass
    assert session.result(Status.OK, "fine").timings.banner == 2.0


def test_session_closes_its_connections_on_the_way_out(serve):
    server = serve(greet)
    with ProbeContext(timeout=2).session(Target("127.0.0.1", server.port)) as session:
        conv = session.connect()
    assert conv.stream.sock.fileno() == -1


def test_session_lets_programming_errors_through_to_the_runner():
    with pytest.raises(KeyError), ProbeContext(timeout=1).session(Target("127.0.0.1", 25)):
        raise KeyError("bug")


def test_session_turns_socket_errors_into_failures_with_results():
    with pytest.raises(ProbeFailure) as caught, ProbeContext(timeout=1).session(Target("127.0.0.1", 25)):
        raise ConnectionResetError(104, "Connection reset by peer")
    assert caught.value.kind is ErrorKind.PROTOCOL_ERROR
    assert caught.value.result.summary == "connection error: Connection reset by peer"


def test_connection_refused_on_a_udp_style_read_is_connect_refused():
    with pytest.raises(ProbeFailure) as caught, ProbeContext(timeout=1).session(Target("127.0.0.1", 5060)):
        raise ConnectionRefusedError(111, "Connection refused")
    assert caught.value.result.error_kind is ErrorKind.CONNECT_REFUSED



def test_a_password_echoed_by_the_server_is_masked_in_summary_details_and_transcript(serve):
    def echo_password(peer: Peer) -> None:
        peer.send(b"220 ready\r\n")
        line = peer.read_line()
        peer.send(b"535 bad password " + line.split(b" ", 1)[1].strip() + b"\r\n")

    def login_probe(target, settings, ctx):
        with ctx.session(target) as s:
            conv = s.connect()
            conv.read_reply().expect(220)
            s.transcript.add_secret(settings["password"])
            conv.send(f"PASS {settings['password']}")
            reply = conv.read_reply()
            s.details["reply"] = reply.text
            raise ProbeFailure(ErrorKind.AUTH_FAILED, f"refused: {reply.text}")

    server = serve(echo_password)
    result = run_probe(login_probe, Target("127.0.0.1", server.port), {"password": "hunter2-secret"}, timeout=2)
    assert result.error_kind is ErrorKind.AUTH_FAILED
    assert "hunter2-secret" not in repr(result.to_dict())
    assert result.summary == "refused: bad password ***"
    assert result.details["reply"] == "bad password ***"


def test_probe_here_runs_the_probe_on_the_calling_thread_and_times_it_as_run_probe_does():
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    threads = []

    def where(target, settings, ctx):
        threads.append(threading.get_ident())
        raise ValueError("plugin bug")

    result = probe_here(where, Target("127.0.0.1", 25), {}, timeout=1, clock=lambda: moment)
    assert threads == [threading.get_ident()]
    assert (result.status, result.summary, result.checked_at) == (Status.UNKNOWN, "probe error: ValueError: plugin bug",
                                                                  moment)
    assert result.timings.total is not None and result.timings.total >= 0


def test_a_probe_its_caller_abandoned_keeps_its_key_out_until_it_returns():
    began, release, hung = threading.Event(), threading.Event(), HungProbes()
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)

    def hangs(target, settings, ctx):
        began.set()
        release.wait(PATIENCE)
        return ProbeResult(Status.OK, "too late")

    call = WorkerCall(lambda: probe_here(hangs, Target("127.0.0.1", 25), {}, timeout=0.1, hung=hung, key="c1"),
                      "hangs")
    start_in_worker(call)
    assert began.wait(PATIENCE)
    try:
        given_up = abandon(call, hangs, Target("127.0.0.1", 25), 0.6, hung, "c1", started=time.monotonic() - 0.6,
                           checked_at=moment)
        assert (given_up.status, given_up.checked_at) == (Status.UNKNOWN, moment)
        assert given_up.summary == ("the probe did not finish within 0.6 s; it still runs, and this check is not "
                                    "probed again until it returns")
        assert 0.6 <= given_up.timings.total < PATIENCE / 2
        again = probe_here(hangs, Target("127.0.0.1", 25), {}, timeout=0.1, hung=hung, key="c1")
        assert again.status is Status.UNKNOWN and "still runs past its deadline" in again.summary
    finally:
        release.set()
    assert call.done.wait(PATIENCE) and call.result.summary == "too late"
    assert hung.count() == 0 and not hung.holds("c1")

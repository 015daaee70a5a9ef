"""The result model: statuses, JSON round trip, and the 1 KB cap on server text."""
from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone

import pytest

from ninerstatus.probing import ErrorKind, ProbeResult, Status, SubCheck, Timings, TlsInfo, cap_text
from ninerstatus.probing.result import MAX_PHASES

WHEN = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=timezone.utc)


def full_result() -> ProbeResult:
    return ProbeResult(
        status=Status.WARNING,
        summary="STARTTLS ok, certificate 15 days",
        error_kind=ErrorKind.CERT_EXPIRING,
        timings=Timings(resolve=0.001, connect=0.0123, banner=0.2, starttls=0.01, tls=0.05, total=0.31),
        tls=TlsInfo(version="TLSv1.3", cipher="TLS_AES_256_GCM_SHA384", subject="CN=mail.example.test",
                    issuer="O=Example CA", sans=("mail.example.test", "192.0.2.1"),
                    not_after=WHEN + timedelta(days=15), days_left=15, verified=True, hostname_ok=True),
        details={"banner": "mail.example.test ESMTP", "capabilities": ["PIPELINING", "AUTH PLAIN"],
                 "nested": {"size": 10240000, "utf8": True, "none": None}},
        subchecks=(SubCheck("certificate", Status.WARNING, "certificate expires in 15 days"),),
        metrics={"cert_days_left": 15},
        transcript=("S: 220 mail.example.test ESMTP", "C: EHLO probe.test"),
        checked_at=WHEN,
    )


def test_result_survives_a_json_round_trip():
    result = full_result()
    restored = ProbeResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert restored == result
    assert restored.tls.not_after == WHEN + timedelta(days=15)
    assert restored.details["capabilities"] == ("PIPELINING", "AUTH PLAIN")
    assert restored.metrics["cert_days_left"] == 15.0


def test_result_json_uses_readable_names():
    data = full_result().to_dict()
    assert data["status"] == "WARNING"
    assert data["error_kind"] == "cert_expiring"
    assert data["checked_at"] == "2024-05-01T12:30:15.123456+00:00"
    assert data["timings"] == {"resolve": 0.001, "connect": 0.0123, "banner": 0.2, "starttls": 0.01, "tls": 0.05,
                               "total": 0.31}



def test_phases_a_probe_named_itself_survive_a_json_round_trip_in_their_order():
    result = ProbeResult(Status.OK, "fine", timings=Timings(connect=0.01, handshake=0.2, key_exchange=0.03, total=0.3))
    restored = ProbeResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert list(restored.timings.items()) == [("connect", 0.01), ("handshake", 0.2), ("key_exchange", 0.03),
                                              ("total", 0.3)]
    assert (restored.timings.connect, restored.timings.banner) == (0.01, None)


def test_total_is_listed_last_however_the_phases_were_given():
    assert list(Timings(total=1.0, banner=0.5, handshake=0.1)) == ["banner", "handshake", "total"]


# What releases before free phase names stored: every phase of the fixed set, None where it did not happen.
OLDER_RELEASE_TIMINGS = {"resolve": 0.001, "connect": 0.0123, "banner": 0.2, "starttls": None, "tls": None,
                         "first_byte": None, "total": 0.31}


def test_timings_stored_by_an_older_release_still_read():
    data = {**full_result().to_dict(), "timings": OLDER_RELEASE_TIMINGS}
    timings = ProbeResult.from_dict(data).timings
    assert timings == Timings(resolve=0.001, connect=0.0123, banner=0.2, total=0.31)
    assert timings.starttls is None and "starttls" not in timings


@pytest.mark.parametrize("bad", [
    {"<script>alert(1)</script>": 1.0}, {"Banner": 1.0}, {"a" * 33: 1.0}, {"": 1.0}, {"hand shake": 1.0},
    {"handshake": "slow"}, {"handshake": True}, {"handshake": -1.0}, {"handshake": [1.0]}, {"handshake": {"s": 1}},
    {"handshake": 1e400},
], ids=repr)
def test_stored_timings_with_a_malformed_phase_keep_every_good_one(bad):
    data = {**full_result().to_dict(), "timings": {"connect": 0.0123, **bad, "total": 0.31}}
    restored = ProbeResult.from_dict(data)
    assert restored.timings == Timings(connect=0.0123, total=0.31)
    assert restored.summary == full_result().summary  # the rest of the result is untouched


@pytest.mark.parametrize("stored", [["connect", 0.1], "connect=0.1", 3, None])
def test_stored_timings_that_are_not_an_object_read_as_no_timings(stored):
    data = {**full_result().to_dict(), "timings": stored}
    assert ProbeResult.from_dict(data).timings == Timings()


def test_stored_timings_are_bounded_in_number():
    data = {**full_result().to_dict(), "timings": {f"step_{n}": 0.1 for n in range(1000)}}
    assert len(ProbeResult.from_dict(data).timings) == MAX_PHASES


@pytest.mark.parametrize(("phases", "message"), [
    ({"Handshake": 1.0}, "is not a short identifier"),
    ({"handshake": -0.5}, "which is not a duration"),
    ({"handshake": float("nan")}, "which is not a duration"),
    ({f"step_{n}": 0.1 for n in range(MAX_PHASES + 1)}, f"more than the {MAX_PHASES} a result may carry"),
])
def test_timings_refuse_what_they_could_not_store(phases, message):
    with pytest.raises(ValueError, match=message):
        Timings(**phases)


@pytest.mark.parametrize(("statuses", "worst"), [
    ([Status.OK, Status.OK], Status.OK),
    ([Status.OK, Status.UNKNOWN], Status.UNKNOWN),
    ([Status.UNKNOWN, Status.WARNING], Status.WARNING),
    ([Status.WARNING, Status.UNKNOWN, Status.CRITICAL, Status.OK], Status.CRITICAL),
    ([], Status.UNKNOWN),
])
def test_worst_ranks_critical_over_warning_over_unknown_over_ok(statuses, worst):
    assert Status.worst(statuses) is worst


def test_status_values_are_nagios_exit_codes_and_labels_are_the_site_wording():
    assert [(int(s), s.label) for s in Status] == [
        (0, "operational"), (1, "degraded"), (2, "outage"), (3, "unknown")]


def test_error_kinds_are_stable_strings():
    assert ErrorKind("cert_hostname") is ErrorKind.CERT_HOSTNAME
    assert len(ErrorKind) == 16


def test_cap_text_leaves_short_text_alone():
    assert cap_text("220 hello") == "220 hello"


def test_cap_text_cuts_to_the_byte_limit_and_marks_the_cut():
    capped = cap_text("x" * 5000)
    assert len(capped.encode()) <= 1024
    assert capped.endswith("…")


def test_cap_text_never_splits_a_multibyte_character():
    capped = cap_text("é" * 1000, limit=101)
    capped.encode("utf-8")  # would fail on a lone surrogate; a split byte would have been dropped
    assert len(capped.encode()) <= 101
    assert set(capped[:-1]) == {"é"}


def test_result_caps_every_text_that_came_from_a_server():
    huge = "A" * 4000
    result = ProbeResult(Status.OK, huge, details={"banner": huge, "lines": [huge]},
                         transcript=(huge,), tls=TlsInfo(subject=huge, sans=(huge,)),
                         subchecks=(SubCheck("x", Status.OK, huge),))
    texts = [result.summary, result.details["banner"], result.details["lines"][0], result.transcript[0],
             result.tls.subject, result.tls.sans[0], result.subchecks[0].summary]
    assert all(len(text.encode()) <= 1024 for text in texts)


def test_result_details_are_read_only():
    result = ProbeResult(Status.OK, "ok", details={"banner": "x"})
    with pytest.raises(TypeError):
        result.details["banner"] = "changed"  # type: ignore[index]


def test_result_refuses_details_that_json_cannot_carry():
    with pytest.raises(TypeError, match="JSON"):
        ProbeResult(Status.OK, "ok", details={"raw": b"bytes"})
    with pytest.raises(ValueError, match="JSON"):
        ProbeResult(Status.OK, "ok", metrics={"rtt": float("nan")})


def test_result_refuses_a_naive_checked_at():
    with pytest.raises(ValueError, match="aware"):
        ProbeResult(Status.OK, "ok", checked_at=datetime(2024, 1, 1))


def test_checked_at_defaults_to_now_in_utc():
    before = datetime.now(timezone.utc)
    assert before <= ProbeResult(Status.OK, "ok").checked_at <= datetime.now(timezone.utc)


def test_unknown_result_is_internal_by_default():
    result = ProbeResult.unknown("plugin crashed")
    assert (result.status, result.error_kind, result.summary) == (Status.UNKNOWN, ErrorKind.INTERNAL,
                                                                  "plugin crashed")
    assert ProbeResult.unknown("no password", kind=ErrorKind.CONFIG_ERROR).error_kind is ErrorKind.CONFIG_ERROR


def test_a_timed_result_keeps_everything_but_its_total_and_start():
    started = datetime(2026, 3, 2, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    result = ProbeResult(Status.WARNING, "slow", error_kind=ErrorKind.PROTOCOL_ERROR,
                         timings=Timings(connect=0.01, total=9.0), details={"banner": "220 hello"},
                         metrics={"cert_days_left": 20.0}, transcript=("S: 220 hello",))
    timed = result.timed(0.25, started)
    assert timed.timings == Timings(connect=0.01, total=0.25)
    assert timed.checked_at == started and timed.checked_at.tzinfo == timezone.utc
    assert timed == dataclasses.replace(result, timings=timed.timings, checked_at=started.astimezone(timezone.utc))
    assert result.timings.total == 9.0  # the original is left alone
    with pytest.raises(ValueError, match="aware"):
        result.timed(0.25, datetime(2026, 3, 2, 12, 0))

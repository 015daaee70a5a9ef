"""``ninerstatus mirror``: it refreshes after changes visitors would see, at most every N seconds, and pushes
with retries; nothing it meets stops it."""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

from ninerstatus.extensions import db
from ninerstatus.mirror.changes import site_fingerprint
from ninerstatus.mirror.service import MirrorService
from ninerstatus.models import PostStatus
from ninerstatus.probing import Status
from ninerstatus.runner.models import StatusEvent
from ninerstatus.timeutil import utcnow

from ..api.conftest import add_check
from ..factories import make_post, make_server
from .conftest import mirror_site


class Clock:
    """Monotonic seconds that move only when the test says."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_fingerprint_changes_with_what_visitors_see_and_not_with_probe_times(ctx):
    server = make_server("NC036")
    check = add_check(server, Status.OK, "fine")
    make_post("Mail delays", servers=(server,))
    first = site_fingerprint()

    check.last_checked_at = utcnow()  # a probe that found nothing new
    db.session.commit()
    assert site_fingerprint() == first

    make_post("Plans", status=PostStatus.DRAFT)
    assert site_fingerprint() == first  # a draft shows nowhere
    make_post("Later", status=PostStatus.SCHEDULED, published_at=utcnow() + timedelta(hours=1))
    assert site_fingerprint() == first
    assert site_fingerprint(utcnow() + timedelta(hours=2)) != first  # ... until its time comes

    db.session.add(StatusEvent(check_id=check.id, server_id=server.id, previous="ok", current="critical"))
    db.session.commit()
    second = site_fingerprint()
    assert second != first

    server.city = "Rotterdam"
    db.session.commit()
    assert site_fingerprint() != second


def test_refreshes_after_a_change_but_at_most_every_n_seconds(ctx, tmp_path):
    make_post("Mail delays")
    clock = Clock()
    with mirror_site(ctx, "https://mirror.example.net/") as site:
        service = MirrorService(site, tmp_path / "mirror", every=30, refresh_after=3600, clock=clock)
        assert service.step() is True  # the first look always exports
        clock.now = 40
        assert service.step() is False  # nothing changed

        make_post("Web server unreachable")
        clock.now = 45
        assert service.step() is True
        assert (tmp_path / "mirror" / "posts" / "web-server-unreachable" / "index.html").exists()

        make_post("Web server back")
        clock.now = 60
        assert service.step() is False  # only 15 s since the last export
        clock.now = 75
        assert service.step() is True
        assert (tmp_path / "mirror" / "posts" / "web-server-back" / "index.html").exists()
        # The sidebar, drawn once per export, is drawn anew: its recent posts are on the tags page.
        assert "Web server back" in (tmp_path / "mirror" / "tags" / "index.html").read_text()


def test_a_quiet_site_is_still_refreshed_so_its_as_of_stays_recent(ctx, tmp_path):
    make_post("Mail delays")
    clock = Clock()
    with mirror_site(ctx, "https://mirror.example.net/") as site:
        service = MirrorService(site, tmp_path / "mirror", every=30, refresh_after=600, clock=clock)
        service.step()
        clock.now = 599
        assert service.step() is False
        clock.now = 600
        assert service.step() is True


def test_failed_pushes_are_retried_with_growing_waits_and_the_newest_copy(ctx, tmp_path):
    make_post("Mail delays")
    clock = Clock()
    attempts: list[tuple[float, str]] = []
    answers = iter([False, False, True])

    def push(generation, destination):
        attempts.append((clock.now, generation.name))
        return next(answers)

    with mirror_site(ctx, "https://mirror.example.net/") as site:
        service = MirrorService(site, tmp_path / "mirror", every=30, push_to="mirror@backup:/srv/www/status",
                                push=push, clock=clock)
        service.step()
        first = (tmp_path / "mirror").resolve().name
        clock.now = 9
        service.step()  # too early for a second try
        clock.now = 10
        service.step()
        make_post("Web server unreachable")
        clock.now = 31
        service.step()  # a new copy; the retry, due at 30, pushes it
        newest = (tmp_path / "mirror").resolve().name

    assert attempts == [(0, first), (10, first), (31, newest)]


def test_the_service_goes_on_after_a_failed_refresh(ctx, tmp_path, caplog):
    make_post("Mail delays")
    stop = threading.Event()
    with mirror_site(ctx, "https://mirror.example.net/") as site:
        export = site.export
        calls = []

        def flaky_export(target):
            calls.append(target)
            if len(calls) == 1:
                raise RuntimeError("the database went away")
            stop.set()
            return export(target)

        site.export = flaky_export
        clock = Clock()
        service = MirrorService(site, tmp_path / "mirror", every=1, clock=clock, poll=0)

        def tick():
            clock.now += 1
            return False
        stop.wait = lambda timeout=None: tick()  # each round moves the clock on instead of sleeping
        with caplog.at_level(logging.ERROR, "ninerstatus.mirror.service"):
            service.run(stop)

    assert len(calls) == 2
    assert "the database went away" in caplog.text
    assert (tmp_path / "mirror" / "posts" / "mail-delays" / "index.html").exists()

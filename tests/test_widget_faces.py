"""Check widgets drawn once per worker for the same face: never stale, and the same from many threads."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from ninerstatus import site_status
from ninerstatus.checks import status, widget_face
from ninerstatus.checks.listing import listed_servers
from ninerstatus.extensions import db
from ninerstatus.probing import ProbeResult, Status, Timings

from .factories import make_server
from .test_check_widgets import add_check, glance_entry


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def draws(monkeypatch):
    """The faces drawn from the template (not remembered), in order."""
    drawn = []
    draw = widget_face._draw

    def counted(app, face):
        drawn.append(face)
        return draw(app, face)

    monkeypatch.setattr(widget_face, "_draw", counted)
    return drawn


def at(monkeypatch, moment):
    """Draw pages at ``moment``: the summary works states out at its own "now", the widgets at theirs."""
    for module in (status, site_status):
        monkeypatch.setattr(module, "utcnow", lambda: moment)


def test_each_face_is_drawn_once_and_every_page_shows_it(ctx, client, draws, monkeypatch):
    server = make_server("NC036")
    first = add_check(server, Status.OK, "STARTTLS ok", label="Submission")
    add_check(server, Status.WARNING, "certificate 9 days", label="Mailbox")
    at(monkeypatch, first.last_checked_at + timedelta(seconds=12))
    pages = [glance_entry(client, "NC036") for _ in range(3)]
    server_page = client.get("/servers/NC036").get_data(as_text=True)
    assert sorted(face.title for face in draws) == ["Mailbox", "Submission"]
    assert pages[0] == pages[1] == pages[2]
    for html in (pages[0], server_page):
        assert "STARTTLS ok" in html and "certificate 9 days" in html and "12 s ago" in html


def test_a_widget_shows_a_change_on_the_next_page(ctx, client, draws, monkeypatch):
    server = make_server("NC036")
    check = add_check(server, Status.OK, "STARTTLS ok", label="Submission", total=0.012)
    checked = check.last_checked_at
    at(monkeypatch, checked + timedelta(seconds=12))
    assert "12 ms" in glance_entry(client, "NC036")
    # A second later: only the age changed, and the widget says so.
    at(monkeypatch, checked + timedelta(seconds=13))
    entry = glance_entry(client, "NC036")
    assert "13 s ago" in entry and "12 s ago" not in entry
    # A new result: its latency and its fact, at once.
    check.record(ProbeResult(Status.CRITICAL, "connection refused", timings=Timings(total=0.3), checked_at=checked))
    db.session.commit()
    entry = glance_entry(client, "NC036")
    assert "300 ms" in entry and "connection refused" in entry and "STARTTLS ok" not in entry
    # Three intervals without a result: no data since then, never the old state.
    at(monkeypatch, checked + timedelta(seconds=3 * check.interval_seconds + 1))
    entry = glance_entry(client, "NC036")
    assert "no data since" in entry and "300 ms" not in entry
    assert len(draws) == 4


def test_many_threads_draw_the_same_markup_as_one(ctx, monkeypatch):
    server = make_server("NC036")
    checks = [add_check(server, status, f"fact {n}", label=f"Check {n}", age=n)
              for n, status in enumerate([Status.OK, Status.WARNING, Status.CRITICAL, Status.UNKNOWN] * 5)]
    at(monkeypatch, checks[0].last_checked_at + timedelta(seconds=30))
    with ctx.test_request_context("/"):
        listed = listed_servers()[0].checks
        alone = [widget_face._draw(ctx, widget_face.widget_face(check)) for check in listed]
    seen, failures = [], []
    start = threading.Barrier(8)

    def draw_all():
        try:
            with ctx.test_request_context("/"):
                rows = listed_servers()[0].checks
                start.wait()
                for _ in range(25):
                    seen.append([widget_face.drawn_widget(check) for check in rows])
        except Exception as error:  # reported below: a thread's exception would otherwise be lost
            failures.append(error)

    threads = [threading.Thread(target=draw_all) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert len(seen) == 200 and all(markup == alone for markup in seen)
    assert len({str(m) for m in alone}) == len(checks)

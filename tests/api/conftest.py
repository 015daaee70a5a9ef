"""Fixtures for the API tests: checks with results, posts of every kind and state, and the schema."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.models import Post, PostKind, PostStatus, PostUpdate, Server, UpdateState, Visibility
from ninerstatus.probing import ErrorKind, ProbeResult, Status, Timings
from ninerstatus.timeutil import utcnow

from ..factories import make_post, make_server

SCHEMA = json.loads((Path(__file__).parent / "statuspage-v2.schema.json").read_text())

#: Text that only drafts, scheduled posts, internal checks, transcripts and settings hold.
SECRETS = ("draft-title-marker", "draft-body-marker", "draft-update-marker", "scheduled-title-marker",
           "scheduled-body-marker", "probe-draft-marker", "pending-update-marker", "draft-window-marker",
           "internal-check-marker", "internal-server-marker", "disabled-check-marker", "transcript-marker",
           "settings-marker", "target-host-marker")

_date_times = FormatChecker(formats=())


@_date_times.checks("date-time", raises=ValueError)
def _is_aware_iso_time(value: object) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


def assert_shape(document: dict, definition: str) -> None:
    """Fail with every problem when ``document`` does not match ``#/$defs/<definition>``."""
    validator = Draft202012Validator({**SCHEMA, "$ref": f"#/$defs/{definition}"}, format_checker=_date_times)
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]
    assert not problems, "\n".join(problems)


@pytest.fixture
def app_config() -> dict:
    """Documents worked out afresh for every request, so a test sees each change at once (see test_caching)."""
    return {"API_CACHE_SECONDS": 0}


@pytest.fixture
def ctx(app):
    """Run the test inside an application context."""
    with app.app_context():
        yield app


def add_check(server: Server, status: Status | None, summary: str = "fine", *, label: str = "SMTP 587",
              age: float = 12, visibility: Visibility = Visibility.PUBLIC, enabled: bool = True,
              total: float | None = 0.0123) -> Check:
    """Add a check whose latest result (``age`` seconds old) the runner has confirmed."""
    check = Check(server=server, type_name="smtp", label=label, host="target-host-marker.example.net", port=587,
                  settings={"password": "settings-marker"}, visibility=visibility, enabled=enabled,
                  interval_seconds=60)
    if status is not None:
        checked_at = utcnow() - timedelta(seconds=age)
        check.record(ProbeResult(status, summary, timings=Timings(total=total), checked_at=checked_at,
                                 error_kind=None if status is Status.OK else ErrorKind.CONNECT_REFUSED,
                                 transcript=("S: 220 transcript-marker",)))
        check.state, check.state_since = status.name.lower(), checked_at - timedelta(minutes=5)
    db.session.add(check)
    db.session.commit()
    return check


def add_update(post: Post, state: UpdateState, body: str, age: timedelta) -> PostUpdate:
    """Add an update to ``post``'s timeline, ``age`` ago."""
    update = PostUpdate(state=state, created_at=utcnow() - age)
    update.set_body(body)
    post.updates.append(update)
    db.session.commit()
    return update


def make_window(title: str, servers: tuple[Server, ...], starts_in: timedelta, lasts: timedelta,
                status: PostStatus = PostStatus.PUBLISHED, body: str = "<p>Kernel update.</p>") -> Post:
    """A maintenance post announced an hour ago, its window starting ``starts_in`` from now."""
    post = make_post(title, body, kind=PostKind.MAINTENANCE, servers=servers, status=status,
                     published_at=utcnow() + timedelta(days=1) if status is PostStatus.SCHEDULED else None)
    post.starts_at = utcnow() + starts_in
    post.ends_at = post.starts_at + lasts
    db.session.commit()
    return post


@dataclass
class Site:
    """What the ``site`` fixture made."""

    mail: Server
    internal: Server
    incident: Post
    draft: Post


@pytest.fixture
def site(ctx) -> Site:
    """A public and an internal server, published posts, and everything visitors must never see."""
    mail = make_server("NC036")
    add_check(mail, Status.OK, "STARTTLS ok", label="Submission")
    add_check(mail, Status.CRITICAL, "internal-check-marker", label="internal-check-marker",
              visibility=Visibility.INTERNAL)
    add_check(mail, Status.CRITICAL, "disabled-check-marker", label="disabled-check-marker", enabled=False)
    internal = make_server("NC023", Visibility.INTERNAL, role="Relay server")
    add_check(internal, Status.CRITICAL, "internal-server-marker", label="internal-server-marker")

    incident = make_post("NC036: Delayed mail", "<p>Queues were slow.</p>", servers=(mail, internal),
                         age=timedelta(hours=3))
    add_update(incident, UpdateState.INVESTIGATING, "<p>Looking into it.</p>", timedelta(hours=2))
    add_update(incident, UpdateState.RESOLVED, "<p>Queues <strong>drained</strong> by 02:15.</p>", timedelta(hours=1))
    incident.pending_update_state, incident.pending_update_html = "resolved", "<p>pending-update-marker</p>"
    make_post("Certificates renewed", kind=PostKind.NOTICE, servers=(mail,))

    draft = make_post("draft-title-marker", "<p>draft-body-marker</p>", status=PostStatus.DRAFT, servers=(mail,))
    add_update(draft, UpdateState.INVESTIGATING, "<p>draft-update-marker</p>", timedelta(minutes=5))
    probe = make_post("NC036: probe-draft-marker", "<p>probe-draft-marker</p>", status=PostStatus.DRAFT,
                      servers=(mail,))
    probe.origin = "probe"
    make_post("scheduled-title-marker", "<p>scheduled-body-marker</p>", status=PostStatus.SCHEDULED,
              published_at=utcnow() + timedelta(days=2), servers=(mail,))
    make_window("draft-window-marker", (mail,), -timedelta(hours=1), timedelta(hours=2), status=PostStatus.DRAFT)
    db.session.commit()
    return Site(mail, internal, incident, draft)

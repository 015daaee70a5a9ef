"""Every stored row is untrusted: rows written straight into the database with SQL, as a hand edit,
an older version or a plugin could leave them, never stop the runner or a page.

A check that cannot run as stored is reported (UNKNOWN, config_error, with
the reason, and on the staff dashboard) and skipped; the other checks are
probed as usual; odd values in checks, servers, posts, updates, tags and
accounts are read as something safe, and every page still answers.
"""
from __future__ import annotations

import html

import pytest
from sqlalchemy import text

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.models import PostUpdate, Role, UpdateState
from ninerstatus.probing import ErrorKind, Status

from ..admin.accounts import ADMIN_EMAIL, PASSWORD, add_user, csrf_token_in
from ..factories import make_post, make_server
from ..public_routes import EXPECTED, make_routed_site, route_urls
from .conftest import add_check, reread

#: Checks that cannot run as stored: the SQL that breaks each, and the reason the runner gives.
BROKEN_CHECKS = {
    "settings-list": ("""settings = '["x"]'""", "its settings are a list, not named values"),
    "settings-text": ("""settings = '"x"'""", "its settings are text, not named values"),
    "settings-number": ("settings = '5'", "its settings are a number, not named values"),
    "tls-mode": ("tls_mode = 'bogus'", "its TLS mode 'bogus' is none of none, starttls, implicit"),
    "family": ("family = 'ipv5'", "its address family 'ipv5' is none of any, ipv4, ipv6"),
    "thresholds": ("warn_days = 3, crit_days = 9", "invalid certificate thresholds"),
    "negative-timeout": ("timeout_seconds = -1", "is not a number of seconds above 0"),
}
#: More, as each database lets them be written: text that is not JSON only in SQLite (PostgreSQL
#: refuses it), an infinite timeout as each spells it.
BROKEN_ON = {
    "sqlite": {"settings-garbled": ("settings = '{not json'", "its settings are text, not named values"),
               "infinite-timeout": ("timeout_seconds = 9e999", "is not a number of seconds above 0")},
    "postgresql": {"infinite-timeout": ("timeout_seconds = 'Infinity'", "is not a number of seconds above 0")},
}
#: Odd values a check can still be probed with: each is read as something safe.
ODD_RESULTS = ["""'{"status": "MAYBE", "summary": "x", "checked_at": "2026-03-02T11:59:00+00:00"}'""",
               "'[1, 2]'", """'"text"'""", "'{}'",
               """'{"status": "OK", "summary": "naive time", "checked_at": "2026-03-02T11:59:00"}'"""]
ODD_CHECKS = {
    "visibility": "visibility = 'everyone'",
    "state": "state = 'weird', state_since = created_at, last_checked_at = created_at",
    **{f"result-{n}": f"last_result = {value}, last_checked_at = created_at" for n, value in enumerate(ODD_RESULTS)},
}
LARGEST = {"sqlite": 9 * 10**18, "postgresql": 2**31 - 1}


def broken_checks(backend: str) -> dict[str, tuple[str, str]]:
    """Every broken check ``backend`` can hold."""
    return {**BROKEN_CHECKS, **BROKEN_ON[backend]}


def odd_checks(backend: str) -> dict[str, str]:
    """Every odd but runnable check ``backend`` can hold, with the largest interval it stores."""
    return {**ODD_CHECKS, "interval": f"interval_seconds = {LARGEST[backend]}"}


def write(check: Check, assignment: str) -> None:
    """Change ``check``'s row with raw SQL, as a database shell would."""
    db.session.execute(text(f"UPDATE checks SET {assignment} WHERE id = {check.id}"))
    db.session.commit()


def add_checks(server, port: int, assignments: dict[str, str]) -> dict[str, Check]:
    """A banner check of ``server`` per assignment, labelled with its name and changed by it."""
    checks = {name: add_check(server, port, label=name) for name in assignments}
    for name, assignment in assignments.items():
        write(checks[name], assignment)
    return checks


def test_checks_stored_wrong_are_reported_and_skipped_and_the_others_probed(probe_runner, clock, greeter, backend):
    server = make_server()
    good = add_check(server, greeter.port, label="good")
    broken = add_checks(server, greeter.port, {n: sql for n, (sql, _) in broken_checks(backend).items()})
    odd = add_checks(server, greeter.port, odd_checks(backend))
    ids = {name: check.id for name, check in {**broken, **odd, "good": good}.items()}
    assert probe_runner.run_due() == len(ids)
    clock.advance(60)
    assert probe_runner.run_due() == len(ids) - 1   # all but the check due again in 68 years
    # Only the good and the odd checks connected; the broken ones were never probed.
    assert len(greeter.visits) == 2 * (1 + len(odd)) - 1
    reread()
    for name, (_, reason) in broken_checks(backend).items():
        result = db.session.get(Check, ids[name]).result
        assert (result.status, result.error_kind) == (Status.UNKNOWN, ErrorKind.CONFIG_ERROR), name
        assert reason in result.summary, name
    for name in ("good", *odd):
        assert db.session.get(Check, ids[name]).result.status is Status.OK, name


def sign_in_admin(client) -> None:
    """Sign ``client`` in as a new admin."""
    add_user(ADMIN_EMAIL, Role.ADMIN)
    token = csrf_token_in(client.get("/admin/login").get_data(as_text=True))
    assert client.post("/admin/login", data={"email": ADMIN_EMAIL, "password": PASSWORD,
                                             "csrf_token": token}).status_code == 302


def add_odd_content() -> None:
    """A server, posts, an update, a tag and an account whose stored values name nothing the code knows."""
    hidden = make_server("NC999", role="odd-server-marker")
    odd_kind = make_post("Odd kind marker")
    odd_status = make_post("odd-status-marker")
    incident = make_post("Disk trouble", servers=(hidden,))
    incident.updates.append(PostUpdate(state=UpdateState.RESOLVED, body_html="<p>Odd update marker</p>"))
    make_post("Tagged oddly", tags=("odd-tag-marker",))
    add_user("odd-role@example.net", Role.ADMIN)
    db.session.commit()
    for statement in (f"UPDATE servers SET visibility = 'secret' WHERE id = {hidden.id}",
                      f"UPDATE posts SET kind = 'rumour' WHERE id = {odd_kind.id}",
                      f"UPDATE posts SET status = 'live' WHERE id = {odd_status.id}",
                      f"UPDATE post_updates SET state = 'rumoured' WHERE post_id = {incident.id}",
                      "UPDATE tags SET slug = '' WHERE name = 'odd-tag-marker'",
                      "UPDATE users SET role = 'owner' WHERE email = 'odd-role@example.net'"):
        db.session.execute(text(statement))
    db.session.commit()


@pytest.fixture
def untrusted_site(ctx, backend, greeter, probe_runner):
    """The routed site, checks of every broken and odd kind beside its good one, odd content, one runner round."""
    post = make_routed_site()
    server = post.servers[0]
    broken = add_checks(server, greeter.port, {n: sql for n, (sql, _) in broken_checks(backend).items()})
    odd = add_checks(server, greeter.port, odd_checks(backend))
    add_odd_content()
    probe_runner.run_due()
    for name, assignment in odd_checks(backend).items():  # again: the round replaced the odd results
        write(odd[name], assignment)
    return post, {name: check.id for name, check in broken.items()}


def test_every_page_answers_and_shows_the_good_data_beside_bad_rows(ctx, client, untrusted_site):
    post, _ = untrusted_site
    for url in route_urls(ctx, post):
        assert client.get(url).status_code == EXPECTED.get(url, 200), url
    home = client.get("/").get_data(as_text=True)
    assert "Mail delays" in home and "Odd kind marker" in home and "odd-status-marker" not in home
    nc036 = client.get("/servers/NC036").get_data(as_text=True)
    assert "Submission" in nc036 and "STARTTLS ok" in nc036 and "the stored result cannot be read" in nc036
    nc999 = client.get("/servers/NC999").get_data(as_text=True)
    assert "INTERNAL" in nc999
    assert "Investigating" in client.get("/posts/disk-trouble").get_data(as_text=True)
    servers = {s["code"]: s for s in client.get("/api/servers").get_json()["servers"]}
    assert servers["NC999"]["label"] == "INTERNAL" and "checks" not in servers["NC999"]
    names = {check["name"] for check in servers["NC036"]["checks"]}
    assert "Submission" in names and "visibility" not in names   # an odd visibility reads as internal
    summary = client.get("/api/v2/summary.json").get_json()
    assert [c["name"] for c in summary["components"]] == ["NC036"]


def test_the_dashboard_lists_each_check_that_cannot_run_with_its_reason(ctx, client, backend, untrusted_site):
    _, broken = untrusted_site
    sign_in_admin(client)
    page = client.get("/admin/dashboard").get_data(as_text=True)
    listed = page[page.index("Checks that cannot run"):page.index('id="runners"')]
    for name, (_, reason) in broken_checks(backend).items():
        row = listed[listed.index(f'/admin/checks/{broken[name]}"'):]
        assert reason in html.unescape(row[:row.index("</tr>")]), name
    assert "good" not in listed and "Submission" not in listed
    for url in ("/admin/checks", "/admin/posts", "/admin/servers", "/admin/tags", "/admin/users",
                *(f"/admin/checks/{check_id}" for check_id in broken.values())):
        assert client.get(url).status_code == 200, url

"""The status summary above every public page, and the state marks on incident posts, as served."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from ninerstatus.checks.status import short_time
from ninerstatus.models import PostKind, Role, UpdateState
from ninerstatus.probing import Status
from ninerstatus.timeutil import utcnow

from .admin.accounts import ADMIN_EMAIL, add_user
from .admin.conftest import AuthActions
from .factories import main_of, make_post
from .site_states import HEADLINES, STATES, add_update, base_site, build, fail
from .summary_text import as_text, headline, summary_class, summary_html, summary_items


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def page(client, path: str = "/") -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


@pytest.mark.parametrize("state", STATES)
def test_the_summary_says_the_sites_state_in_words_colour_and_shape(ctx, client, state):
    build(state, utcnow())
    home = page(client)
    assert headline(home).startswith(HEADLINES[state])
    level = {"open_incident": "partial-outage", "upcoming_window": "operational"}.get(state, state.replace("_", "-"))
    assert summary_class(home).split()[:2] == ["summary", f"summary-{level}"]
    # The icon repeats the words; it is hidden from screen readers, which read the words.
    assert re.search(r'<svg class="summary-icon"[^>]*aria-hidden="true"', summary_html(home))


def test_all_operational_is_one_slim_line_without_since(ctx, client):
    build("operational", utcnow())
    home = page(client)
    assert summary_class(home) == "summary summary-operational summary-quiet"
    assert headline(home) == "All systems operational"
    assert summary_items(home) == [] and "summary-servers" not in summary_html(home)


def test_the_summary_is_a_labelled_region_not_a_live_one(ctx, client):
    build("partial_outage", utcnow())
    summary = summary_html(page(client))
    assert 'aria-labelledby="summary-headline"' in summary and 'id="summary-headline"' in summary
    assert "role=" not in summary.split(">", 1)[0]


def test_a_failing_server_is_named_with_its_state_and_since_when(ctx, client):
    now = utcnow()
    build("partial_outage", now)
    since = now - timedelta(minutes=42)
    summary = summary_html(page(client))
    stamp = short_time(since)
    assert f"Partial outage since {stamp}" in as_text(summary)
    assert f"Affected servers: NC036 outage since {stamp}" in as_text(summary)
    assert 'href="/servers/NC036"' in summary
    iso = since.isoformat(timespec="seconds")
    assert f'<time datetime="{iso}" data-local>{stamp}</time>' in summary


def test_servers_out_since_the_same_moment_are_named_together(ctx, client):
    now = utcnow()
    build("major_outage", now)
    fail("NC031", Status.WARNING, now - timedelta(minutes=5), now)
    servers = as_text(re.search(r'<p class="summary-servers".*?</p>', summary_html(page(client)), re.S).group(0))
    stamp, later = short_time(now - timedelta(minutes=42)), short_time(now - timedelta(minutes=5))
    assert servers == (f"Affected servers: NC031 degraded since {later}; NC032, NC033, NC034, NC035, NC036, NC037, "
                       f"NC038, NC039, NC040 outage since {stamp}")


def test_an_open_incident_is_listed_with_state_impact_servers_since_and_latest_update(ctx, client):
    now = utcnow()
    build("open_incident", now)
    home = page(client)
    [item] = summary_items(home)
    assert item == (f"IMAP logins failing on NC036 Identified · Major impact · NC036 · since "
                    f"{short_time(now - timedelta(minutes=25))} {short_time(now - timedelta(minutes=10))}: "
                    "A full disk on the mail store stops logins; we are freeing space now.")
    assert 'href="/posts/imap-logins-failing-on-nc036"' in summary_html(home)
    assert "<q>A full disk on the mail store" in summary_html(home)


def test_maintenance_windows_are_listed_as_scheduled_or_in_progress(ctx, client):
    now = utcnow()
    build("upcoming_window", now)
    [item] = summary_items(page(client))
    starts = now + timedelta(hours=3)
    assert item.startswith(f"Kernel update on NC036 Scheduled · NC036 · from {short_time(starts)} to "
                           f"{short_time(starts + timedelta(hours=2))} ")
    assert headline(page(client)) == "All systems operational"


def test_a_window_under_way_puts_the_site_under_maintenance_and_is_announced_once(ctx, client):
    now = utcnow()
    build("maintenance", now)
    home = page(client)
    [item] = summary_items(home)
    assert item.startswith(f"Kernel update on NC036 In progress · NC036 · since {short_time(now - timedelta(minutes=30))}"
                           f", until {short_time(now + timedelta(minutes=90))} ")
    assert headline(home) == f"Under maintenance since {short_time(now - timedelta(minutes=30))}"
    # The home page no longer announces the window a second time; its own page still says it in full.
    assert "maintenance-window" not in main_of(client.get("/"))
    assert 'class="maintenance-window maintenance-under-way"' in page(client, "/posts/kernel-update-on-nc036")


def test_titles_and_updates_are_escaped_in_the_summary(ctx, client):
    now = utcnow()
    base_site(now)
    post = make_post("<img src=x onerror=alert(1)> down", "<p>x</p>", kind=PostKind.INCIDENT, slug="escaped")
    add_update(post, UpdateState.INVESTIGATING, "<p>&lt;script&gt;alert(2)&lt;/script&gt;</p>", now)
    summary = summary_html(page(client))
    assert "<img" not in summary and "<script" not in summary
    assert "&lt;img src=x onerror=alert(1)&gt; down" in summary and "&lt;script&gt;alert(2)" in summary


@pytest.mark.parametrize("path", ["/", "/posts/imap-logins-failing-on-nc036", "/tags/", "/archive/",
                                  "/search?q=mail", "/servers/NC036", "/no-such-page"])
def test_every_public_page_carries_the_summary_above_its_content(ctx, client, path):
    build("open_incident", utcnow())
    served = client.get(path).get_data(as_text=True)
    assert headline(served).startswith("Partial outage")
    assert served.index('<section class="summary') < served.index('<main id="content">')


def test_staff_pages_carry_no_summary(ctx, client):
    add_user(ADMIN_EMAIL, Role.ADMIN, "Ann Admin")
    build("open_incident", utcnow())
    staff = AuthActions(client)
    staff.login()
    assert 'class="summary' not in page(client, "/admin/dashboard")
    # Signed in, staff read the public pages with the same summary as everyone.
    assert headline(page(client)).startswith("Partial outage")


# ------------------------------------------------------------------ incident marks

def marks(html: str) -> list[str]:
    """The incident marks of a page's posts, in order, as text."""
    main = html[html.index('<main id="content">'):html.index("</main>")]
    return [as_text(mark) for mark in re.findall(r'<span class="incident-mark[^"]*">.*?</span>', main, re.S)]


@pytest.fixture
def incidents(ctx):
    """A resolved incident, one written after the fact (no updates), an open one and a notice, all tagged "mail"."""
    now = utcnow()
    resolved = make_post("Mail delayed", kind=PostKind.INCIDENT, age=timedelta(days=3), tags=("mail",))
    add_update(resolved, UpdateState.INVESTIGATING, "<p>Looking.</p>", now - timedelta(days=3))
    resolved_at = now - timedelta(days=2, hours=23)
    add_update(resolved, UpdateState.RESOLVED, "<p>Fixed.</p>", resolved_at)
    after_the_fact = make_post("Mail bounced", kind=PostKind.INCIDENT, age=timedelta(days=2), tags=("mail",))
    ongoing = make_post("Mail login slow", kind=PostKind.INCIDENT, age=timedelta(days=1), tags=("mail",))
    add_update(ongoing, UpdateState.MONITORING, "<p>Watching.</p>", now - timedelta(hours=20))
    make_post("Mail news", kind=PostKind.NOTICE, age=timedelta(hours=1), tags=("mail",))
    return {"resolved": resolved_at, "after_the_fact": after_the_fact.published_at}


def test_incidents_carry_their_state_in_every_list(client, incidents):
    month = utcnow().strftime("/archive/%Y/%m")
    expected = ["Monitoring", f"Resolved {short_time(incidents['after_the_fact'])}",
                f"Resolved {short_time(incidents['resolved'])}"]
    for path in ("/", "/tags/mail", "/search?q=mail"):
        assert marks(page(client, path)) == expected, path
    # The archive lists one month; the posts of three days may span two.
    assert set(marks(page(client, month))) <= set(expected)


def test_a_resolved_incident_says_so_on_its_page_with_when(client, incidents):
    post = page(client, "/posts/mail-delayed")
    assert marks(post) == [f"Resolved {short_time(incidents['resolved'])}"]
    assert re.search(r'<span class="incident-mark incident-resolved">Resolved <time datetime="[^"]+" data-local>',
                     post)
    assert marks(page(client, "/posts/mail-login-slow")) == ["Monitoring"]
    assert marks(page(client, "/posts/mail-news")) == []


def test_times_before_this_year_say_their_year(ctx, client):
    now = utcnow()
    build("operational", now)
    long_ago = datetime(now.year - 1, 11, 28, 23, 30, tzinfo=timezone.utc)
    fail("NC036", Status.CRITICAL, long_ago, now)
    assert headline(page(client)) == f"Partial outage since 28 Nov {now.year - 1} 23:30 UTC"

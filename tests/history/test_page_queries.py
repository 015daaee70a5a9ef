"""Pages ask the database a fixed number of questions, however many servers, checks and posts they show."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from ninerstatus.agents.locations import site_location
from ninerstatus.agents.models import CheckLocation
from ninerstatus.checks.models import Check
from ninerstatus.checks.status import check_state
from ninerstatus.extensions import db
from ninerstatus.models import AffectedState, PostKind, PostStatus, PostUpdate, Role, Server, UpdateState
from ninerstatus.probing import Status
from ninerstatus.runner.incidents import PROBE_ORIGIN
from ninerstatus.timeutil import utcnow

from ..admin.accounts import ADMIN_EMAIL, PASSWORD, add_user, csrf_token_in
from ..factories import make_post, make_server
from ..regional_site import add_agent
from .conftest import add_check, result
from .test_display import write_days

#: Every page and document a visitor or a crawler reads most, with the SQL statements each sends, whatever
#: the number of servers, checks, posts and tags. Every public page draws the status summary and the sidebar
#: from the same reads: the servers, then their checks (checks/listing.py); the open maintenance windows; the
#: open incidents, each with its servers and newest update in one statement, which the incident floors read too;
#: the windows not over yet, read the same way; the 90-day strips (the history revision, then today's sums: the
#: days over are kept); the recent posts; the tag cloud. That is 9 statements with an open incident and a window,
#: as here. A list of posts adds its count, the posts, then their servers, tags and updates (5).
PAGES = {
    # The sidebar and summary, and a list of posts.
    "/": 14,
    # The list of the server's posts; the server comes from the sidebar's listing. Its uptime figures: each
    # check's first result, then every window in one query; its sparklines.
    "/servers/NC000": 17,
    # The post, its servers, tags and updates.
    "/posts/report-0-0": 13,
    # The tag, then the list of its posts.
    "/tags/mail": 15,
    # The tag cloud is the index.
    "/tags/": 9,
    # The months.
    "/archive/": 10,
    # The servers and their checks; the windows and open incidents (the floors) their states read.
    "/api/servers": 4,
    # The same servers and floors, and one server's uptime (first results, then the windows) per check and for
    # the server; the check figures are asked per check (a fixed few checks per server).
    "/api/servers/NC000": 10,
    # The summary (servers, checks, windows, the open incidents with their servers and newest updates, which
    # the floors read too, the open windows the same way), the posts' last change, the open incidents and maintenances of the lists with
    # their servers and updates.
    "/api/v2/summary.json": 12,
}


@pytest.fixture
def app_config():
    """The API's few seconds of memory off: every request here is worked out."""
    return {"API_CACHE_SECONDS": 0}


def add_servers(first: int, count: int) -> None:
    """``count`` public servers with two probed checks, a week of history and two tagged posts each."""
    now = utcnow()
    for number in range(first, first + count):
        server = make_server(f"NC{number:03d}", display_order=number)
        for label in ("SMTP", "IMAP"):
            check = add_check(server, label)
            check.record(result(Status.OK, now - timedelta(seconds=30)))
            write_days(check, 7, now=now - timedelta(minutes=30))
        for post in range(2):
            make_post(f"Report {number} {post}", tags=(f"tag {number}", "mail"), servers=(server,),
                      age=timedelta(hours=number * 2 + post + 1))
    db.session.commit()


def add_open_posts(servers) -> None:
    """An open incident holding ``servers`` degraded, with two updates, and a maintenance window on them ahead."""
    incident = make_post("Mail is slow", tags=("mail",), servers=tuple(servers), age=timedelta(minutes=20))
    incident.affected_state = AffectedState.DEGRADED
    for minutes, state in ((15, UpdateState.INVESTIGATING), (5, UpdateState.IDENTIFIED)):
        update = PostUpdate(state=state, created_at=utcnow() - timedelta(minutes=minutes))
        update.set_body(f"<p>{state.value}</p>")
        incident.updates.append(update)
    window = make_post("Disk swap", kind=PostKind.MAINTENANCE, servers=tuple(servers), age=timedelta(hours=2))
    window.starts_at, window.ends_at = utcnow() + timedelta(hours=1), utcnow() + timedelta(hours=2)
    db.session.commit()


def statements(app, client, pages=PAGES) -> dict[str, int]:
    """How many SQL statements each of ``pages`` sends, each request in an application context of its own as in production.

    Each page is drawn once before it is counted, as a worker has drawn pages before: the sums of the days
    over in the bars are then kept (history/uptime.py), and only whether they still hold is read.
    """
    with app.app_context():
        engine = db.engine
    for path in pages:
        client.get(path)
    counts = {}
    for path in pages:
        seen = []

        def count(*_args):
            seen.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(path).status_code == 200, path
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts[path] = len(seen)
    return counts


def test_each_page_sends_its_pinned_statements_however_many_servers_checks_and_posts(app, client):
    with app.app_context():
        add_servers(0, 2)
        add_open_posts(db.session.scalars(select(Server).order_by(Server.id)).all())
    few = statements(app, client)
    with app.app_context():
        add_servers(2, 6)
    assert statements(app, client) == few
    # Pinned, not a ceiling: a page that needs fewer lowers its number here; one that needs more is a lazy
    # load or a query per server, post or check creeping in.
    assert few == PAGES


#: The public pages staff read too: signed in, each sends what a visitor's does and one more (their account).
STAFF_PAGES = ("/", "/servers/NC000", "/posts/report-0-0", "/tags/mail", "/tags/")


def test_staff_pages_send_what_visitors_pages_send_and_their_account(app, client):
    with app.app_context():
        add_servers(0, 2)
        add_open_posts(db.session.scalars(select(Server).order_by(Server.id)).all())
        add_user(ADMIN_EMAIL, Role.ADMIN)
    visitors = statements(app, client)
    token = csrf_token_in(client.get("/admin/login").get_data(as_text=True))
    assert client.post("/admin/login", data={"email": ADMIN_EMAIL, "password": PASSWORD,
                                             "csrf_token": token}).status_code == 302
    staff = statements(app, client)
    assert {path: staff[path] for path in STAFF_PAGES} == {path: visitors[path] + 1 for path in STAFF_PAGES}


#: What reads the locations of checks probed from several (one statement, for all the checks it shows).
LOCATED_PAGES = ("/servers/NC000", "/api/servers", "/api/servers/NC000")


def add_agent_locations(batch: int, agents: tuple[str, ...] = ("Lusaka", "Frankfurt")) -> None:
    """Every check not probed from anywhere yet probed by the site's runner and new ``agents``, each with a result."""
    site = site_location()
    agents = [add_agent(f"{name} {batch}", [], network="MTN") for name in agents]
    now = utcnow()
    for check in db.session.scalars(select(Check).where(~Check.id.in_(select(CheckLocation.check_id)))).all():
        for location_id in (site.id, *agents):
            db.session.add(CheckLocation(check_id=check.id, location_id=location_id, last_checked_at=now,
                                         last_result=result(Status.OK, now).to_dict()))
    db.session.commit()


def test_checks_probed_from_several_locations_cost_the_pages_that_show_them_one_statement(app, client):
    with app.app_context():
        add_servers(0, 2)
        add_open_posts(db.session.scalars(select(Server).order_by(Server.id)).all())
        add_agent_locations(1)
    few = statements(app, client)
    with app.app_context():
        add_servers(2, 6)
        add_agent_locations(2)
    assert statements(app, client) == few
    assert few == {path: count + (path in LOCATED_PAGES) for path, count in PAGES.items()}


def test_a_site_without_agents_keeps_its_counts_once_its_runner_records_at_its_location(app, client):
    with app.app_context():
        add_servers(0, 2)
        add_open_posts(db.session.scalars(select(Server).order_by(Server.id)).all())
        add_agent_locations(1, agents=())
        assert db.session.query(CheckLocation).count() == 4
    assert statements(app, client) == PAGES


def test_a_result_recorded_during_a_request_is_read_afresh(ctx, app):
    check = add_check(make_server("NC000"))
    check.record(result(Status.OK, utcnow()))
    with app.test_request_context("/"):
        assert check_state(check).status is Status.OK
        check.record(result(Status.CRITICAL, utcnow()))
        assert check_state(check).status is Status.CRITICAL


#: Staff's lists and dashboard, signed in: a fixed number of statements too, whatever the number of posts and servers.
STAFF_LISTS = {
    # The account; the count and the page of posts, then their tags, servers and updates (and their authors, one
    # more, when any has one: none here); the filters' tags and servers.
    "/admin/posts": 8,
    # The account; the servers and their checks as the pages list them, the windows and floors their states
    # read; the post counts.
    "/admin/servers": 6,
    # The account; the servers as the pages list them, the windows and floors their states read; every check.
    "/admin/checks": 6,
    # The account; every enabled check; the drafted incidents; the suggested updates; the runners; the
    # notifications not delivered; the open incidents with their servers and updates.
    "/admin/dashboard": 7,
}
#: The dashboard with drafted incidents: their servers and updates, and the servers as the pages list them
#: (servers, checks, windows, floors) for the state each draft shows of its servers.
DASHBOARD_WITH_DRAFTS = STAFF_LISTS["/admin/dashboard"] + 6


def sign_in_admin(client) -> None:
    """Sign the admin in through the form."""
    token = csrf_token_in(client.get("/admin/login").get_data(as_text=True))
    assert client.post("/admin/login", data={"email": ADMIN_EMAIL, "password": PASSWORD,
                                             "csrf_token": token}).status_code == 302


def test_staff_lists_send_the_same_statements_however_many_posts_and_servers(app, client):
    with app.app_context():
        add_servers(0, 2)
        add_open_posts(db.session.scalars(select(Server).order_by(Server.id)).all())
        add_user(ADMIN_EMAIL, Role.ADMIN)
    sign_in_admin(client)
    few = statements(app, client, STAFF_LISTS)
    with app.app_context():
        add_servers(2, 6)
    assert statements(app, client, STAFF_LISTS) == few
    assert few == STAFF_LISTS


def add_trouble(first: int, count: int) -> None:
    """For each of ``count`` servers from ``first``: a failing check, a stale one, one that cannot run, and an
    incident the probes drafted about the server."""
    now = utcnow()
    for number in range(first, first + count):
        server = db.session.scalar(select(Server).where(Server.code == f"NC{number:03d}"))
        add_check(server, "Failing").record(result(Status.CRITICAL, now - timedelta(seconds=20)))
        add_check(server, "Stale").record(result(Status.OK, now - timedelta(hours=2)))
        add_check(server, "Unknown type").type_name = "gopher"
        draft = make_post(f"{server.code} is down", servers=(server,), status=PostStatus.DRAFT)
        draft.origin = PROBE_ORIGIN
    db.session.commit()


def test_the_dashboard_sends_the_same_statements_however_many_checks_are_in_trouble(app, client):
    with app.app_context():
        add_servers(0, 8)
        add_open_posts(db.session.scalars(select(Server).order_by(Server.id)).all())
        add_user(ADMIN_EMAIL, Role.ADMIN)
        add_trouble(0, 1)
    sign_in_admin(client)
    few = statements(app, client, {"/admin/dashboard": 0})
    with app.app_context():
        add_trouble(1, 7)
    page = client.get("/admin/dashboard").get_data(as_text=True)
    # Every draft, every check that cannot run, and every stale check, in the list and beside its draft.
    assert page.count("is down</h3>") == 8 and page.count("provides the check type") == 8
    assert page.count(">Stale<") == 16
    assert statements(app, client, {"/admin/dashboard": 0}) == few == {"/admin/dashboard": DASHBOARD_WITH_DRAFTS}

"""A drafted incident for a check failing from some networks only says which, and that the others are not affected."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.models import AffectedState, Post, Server
from ninerstatus.probing import Status
from ninerstatus.runner.incidents import PROBE_ORIGIN
from ninerstatus.runner.servers import update_servers
from ninerstatus.runner.transactions import write_transaction

from ..factories import make_server
from ..regional_site import RegionalSite, from_site, make_regional_site

REGIONAL = ("<p><strong>Submission</strong> on <strong>NC036</strong> is unreachable from MTN (Lusaka); customers on "
            "other networks are not affected.</p>")


def the_draft() -> Post:
    db.session.rollback()
    return db.session.scalars(select(Post).where(Post.origin == PROBE_ORIGIN)).one()


def test_a_regional_failure_names_the_network_and_says_the_others_are_not_affected(app):
    with app.app_context():
        make_regional_site()
        draft = the_draft()
        assert draft.title == "NC036: Mail server unreachable from MTN (Lusaka)"
        assert REGIONAL in draft.body_html
        assert ("<li><strong>Submission</strong> (SMTP): degraded since" in draft.body_html
                and "; from MTN (Lusaka), it does not accept connections in time.</li>" in draft.body_html)
        assert draft.affected_state is AffectedState.DEGRADED
        # Nairobi's silent agent is neither affected nor vouching for anything.
        assert "Nairobi" not in draft.body_html and "Safaricom" not in draft.body_html


def redraft(site: RegionalSite) -> Post:
    """Staff threw the draft away and the server's state was reset: the runner's next sweep drafts anew."""
    db.session.execute(text("DELETE FROM posts"))
    db.session.execute(text("UPDATE servers SET state = 'ok', incident_post_id = NULL"))
    db.session.commit()
    with write_transaction():
        update_servers([site.server], {}, site.now)
    return the_draft()


def test_a_failure_from_every_location_says_it_is_not_the_customers_connection(app):
    with app.app_context():
        site = make_regional_site(frankfurt_status=Status.CRITICAL, site_status=Status.CRITICAL)
        draft = redraft(site)
        assert draft.title == "NC036: Mail server partial outage"
        assert ("<p><strong>Submission</strong> on <strong>NC036</strong> is unreachable from every network we test "
                "it from (all 3 locations): this is not a problem with your connection.</p>") in draft.body_html
        assert "not affected" not in draft.body_html and "from MTN" not in draft.body_html


def test_a_failure_only_one_location_has_confirmed_yet_is_worded_as_before(app):
    with app.app_context():
        make_regional_site(lusaka_status=Status.CRITICAL, frankfurt_status=Status.CRITICAL,
                           site_status=Status.CRITICAL)
        # The site's runner confirmed first, alone: nothing to say about networks.
        draft = the_draft()
        assert draft.title == "NC036: Mail server partial outage"
        assert "network" not in draft.body_html and "locations" not in draft.body_html


def test_a_site_without_agents_drafts_as_before(app):
    with app.app_context():
        server = make_server("NC031", role="Mail server", city="Lusaka", country="Zambia")
        check = Check(server=server, type_name="smtp", label="Submission", host="mail.example.net", port=587,
                      interval_seconds=60)
        db.session.add(check)
        db.session.commit()
        for seconds in (1, 61):
            from_site(check.id, Status.CRITICAL, check.created_at + timedelta(seconds=seconds))
        draft = the_draft()
        assert draft.title == "NC031: Mail server outage"
        since = draft.body_html.split(" since ", 1)[1].split(".</p>", 1)[0]
        assert draft.body_html == (
            f"<p>Our monitoring shows <strong>NC031</strong> (Mail server, Lusaka, Zambia) down since {since}.</p>"
            f"<h3>Affected services</h3><ul><li><strong>Submission</strong> (SMTP): outage since {since}; it does "
            f"not accept connections in time.</li></ul>")


def test_a_network_named_with_markup_is_text_in_the_draft(app):
    with app.app_context():
        site = make_regional_site()
        db.session.execute(text("UPDATE locations SET network = '<img src=x onerror=alert(1)>' WHERE id = :id"),
                           {"id": site.lusaka})
        db.session.commit()
        draft = redraft(site)
        assert "<img" not in draft.body_html and "&lt;img src=x onerror=alert(1)&gt; (Lusaka)" in draft.body_html
        assert draft.title == "NC036: Mail server unreachable from <img src=x onerror=alert(1)> (Lusaka)"
        assert db.session.get(Server, site.server).state == "warning"

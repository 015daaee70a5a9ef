"""A drafted incident follows its trouble until staff publish it.

While it holds the runner's own words it is reworded: a regional failure
that a quorum then confirms reads as an outage, one that spreads or shrinks
names the networks it fails from now. Once staff edited it, their words stay
and the change comes as a suggested update. A published incident is never
touched. The runner's sweep finds what no check's state change tells it (an
agent falling silent, one more network failing), and odd rows stop nothing.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.models import AffectedState, IncidentImpact, Post, PostStatus, Server
from ninerstatus.probing import Status
from ninerstatus.runner import redrafting
from ninerstatus.runner.incidents import PROBE_ORIGIN
from ninerstatus.runner.servers import stale_server_ids, update_servers
from ninerstatus.runner.transactions import write_transaction

from ..factories import make_server
from ..regional_site import RegionalSite, from_agent, from_site, make_regional_site
from ..waiting import PATIENCE, wait_until

REGIONAL_TITLE = "NC036: Mail server unreachable from MTN (Lusaka)"
SUBJECT = "<p><strong>Submission</strong> on <strong>NC036</strong> is unreachable from "
QUORUM = (SUBJECT + "2 of the 3 locations we test it from, Hetzner (Frankfurt) and MTN (Lusaka): this is most likely "
          "not a problem with your connection.</p>")
EVERYWHERE = (SUBJECT + "every network we test it from (all 3 locations): this is not a problem with your "
              "connection.</p>")
STAFF_TITLE = "Sending mail fails for some customers"
STAFF_BODY = "<p>Customers of MTN cannot send mail through NC036. We are on it.</p>"
WAITING_FOR_A_LOCK = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                          "AND datname = current_database()")


def someone_waits_for_a_lock(watcher) -> bool:
    """True when a session of this database waits for a lock, asked in a transaction of its own.

    PostgreSQL keeps what ``pg_stat_activity`` says for the rest of the
    transaction that first asked: asked again in the same one, it would say
    the same however long the runner has been waiting since.
    """
    try:
        return bool(watcher.execute(WAITING_FOR_A_LOCK).scalar())
    finally:
        watcher.rollback()


def the_draft(code: str = "NC036") -> Post:
    db.session.rollback()
    return db.session.scalars(select(Post).where(Post.origin == PROBE_ORIGIN,
                                                 Post.servers.any(Server.code == code))).one()


def probe_round(site: RegionalSite, seconds: int, lusaka: Status = Status.CRITICAL,
                frankfurt: Status | None = Status.OK, at_site: Status = Status.OK) -> None:
    """Each location probes Submission ``seconds`` after the site was made (Frankfurt not at all when None)."""
    moment = site.now + timedelta(seconds=seconds)
    from_agent(site.lusaka, site.submission, lusaka, moment)
    if frankfurt is not None:
        from_agent(site.frankfurt, site.submission, frankfurt, moment + timedelta(seconds=1))
    from_site(site.submission, at_site, moment + timedelta(seconds=2))


def sweep(now: datetime) -> None:
    """What the runner's sweep does every half minute (``ProbeRunner.sweep_servers``)."""
    with write_transaction():
        update_servers(stale_server_ids({}, now), {}, now)


def staff_edit(post_id: int, title: str = STAFF_TITLE, body: str = STAFF_BODY) -> None:
    """Staff save the draft with their own words, as the editor's save and autosave write them."""
    post = db.session.get(Post, post_id)
    post.title = title
    post.set_body(body)
    db.session.commit()


def quorum_of(site: RegionalSite, quorum: int) -> None:
    db.session.execute(text("UPDATE checks SET quorum = :quorum WHERE id = :id"),
                       {"quorum": quorum, "id": site.submission})
    db.session.commit()


def test_a_regional_draft_reads_as_an_outage_once_a_quorum_agrees_then_as_failing_everywhere(app):
    with app.app_context():
        site = make_regional_site()
        assert the_draft().title == REGIONAL_TITLE
        for seconds in (5, 65):                   # Frankfurt confirms the timeout too: 2 of 3 is a quorum
            probe_round(site, seconds, frankfurt=Status.CRITICAL)
        draft = the_draft()
        assert db.session.get(Check, site.submission).state == "critical"
        assert (draft.title, draft.slug) == ("NC036: Mail server partial outage", "nc036-mail-server-partial-outage")
        assert QUORUM in draft.body_html
        assert "not affected" not in draft.body_html and "partly down since" in draft.body_text
        assert "Submission (SMTP): outage since" in draft.body_text
        assert (draft.impact, draft.affected_state) == (IncidentImpact.MAJOR, AffectedState.PARTIAL_OUTAGE)
        assert draft.status is PostStatus.DRAFT and draft.pending_update_state is None

        for seconds in (125, 185):                # the site's own runner loses it as well
            probe_round(site, seconds, frankfurt=Status.CRITICAL, at_site=Status.CRITICAL)
        sweep(site.now + timedelta(seconds=190))  # the check was down already: the sweep sees it spread
        draft = the_draft()
        assert EVERYWHERE in draft.body_html and QUORUM not in draft.body_html
        assert draft.title == "NC036: Mail server partial outage"
        assert db.session.get(Server, site.server).incident_post_id == draft.id


def test_the_sweep_names_the_networks_a_regional_failure_spreads_to_and_drops_a_silent_one(app):
    with app.app_context():
        site = make_regional_site()
        quorum_of(site, 3)                        # all three must agree: two failing is still regional
        for seconds in (5, 65):
            probe_round(site, seconds, frankfurt=Status.CRITICAL)
        assert db.session.get(Check, site.submission).state == "warning"
        assert the_draft().title == REGIONAL_TITLE    # no check changed state: only the sweep sees it

        sweep(site.now + timedelta(seconds=70))
        draft = the_draft()
        assert draft.title == "NC036: Mail server unreachable from Hetzner (Frankfurt) and MTN (Lusaka)"
        assert draft.slug == "nc036-mail-server-unreachable-from-hetzner-frankfurt-and-mtn-lusaka"
        assert (SUBJECT + "Hetzner (Frankfurt) and MTN (Lusaka); customers on other networks are not "
                "affected.</p>") in draft.body_html
        assert (draft.impact, draft.affected_state) == (IncidentImpact.MINOR, AffectedState.DEGRADED)
        reworded_at = draft.updated_at

        sweep(site.now + timedelta(seconds=75))   # nothing moved: nothing is written
        assert the_draft().updated_at == reworded_at

        # Frankfurt's agent falls silent; Lusaka and the site carry on. Its last word ages out of the quorum.
        for seconds in (125, 185, 245):
            probe_round(site, seconds, frankfurt=None)
        sweep(site.now + timedelta(seconds=250))
        draft = the_draft()
        assert (draft.title, draft.slug) == (REGIONAL_TITLE, "nc036-mail-server-unreachable-from-mtn-lusaka")
        assert "Hetzner" not in draft.body_html and "Frankfurt" not in draft.body_html


def test_a_reworded_draft_still_gets_the_resolved_suggestion_on_recovery(app):
    with app.app_context():
        site = make_regional_site()
        for seconds in (5, 65):
            probe_round(site, seconds, frankfurt=Status.CRITICAL)
        assert the_draft().title == "NC036: Mail server partial outage"
        probe_round(site, 125, lusaka=Status.OK)
        draft = the_draft()
        assert draft.pending_update_state == "resolved" and "is operational again" in draft.pending_update_html
        assert db.session.get(Server, site.server).incident_post_id is None
        # No longer linked to its server: what it says is left for staff to resolve.
        sweep(site.now + timedelta(seconds=130))
        assert (the_draft().body_html, the_draft().updated_at) == (draft.body_html, draft.updated_at)


def test_a_draft_staff_edited_keeps_their_words_and_the_change_comes_as_a_suggested_update(app):
    with app.app_context():
        site = make_regional_site()
        draft = the_draft()
        staff_edit(draft.id)
        probe_round(site, 5, frankfurt=Status.CRITICAL)
        assert the_draft().pending_update_state is None   # nothing changed yet: nothing to suggest

        probe_round(site, 65, frankfurt=Status.CRITICAL)
        draft = the_draft()
        assert (draft.title, draft.body_html) == (STAFF_TITLE, STAFF_BODY)
        assert (draft.impact, draft.affected_state) == (IncidentImpact.MINOR, AffectedState.DEGRADED)
        assert draft.pending_update_state == "investigating"
        suggested = draft.pending_update_html
        assert suggested.startswith("<p>Our monitoring now shows <strong>NC036</strong> partly down since ")
        assert QUORUM in suggested and "Mail server, Lusaka" not in suggested   # an update names the code only

        # Staff dismiss it; the sweep does not bring the same news back.
        draft.pending_update_state = draft.pending_update_html = None
        db.session.commit()
        sweep(site.now + timedelta(seconds=70))
        assert the_draft().pending_update_state is None

        for seconds in (125, 185):
            probe_round(site, seconds, frankfurt=Status.CRITICAL, at_site=Status.CRITICAL)
        sweep(site.now + timedelta(seconds=190))
        draft = the_draft()
        assert (draft.title, draft.body_html) == (STAFF_TITLE, STAFF_BODY)
        assert EVERYWHERE in draft.pending_update_html


def test_a_published_incident_is_never_reworded(app):
    with app.app_context():
        site = make_regional_site()
        draft = the_draft()
        draft.status, draft.published_at = PostStatus.PUBLISHED, site.now
        db.session.commit()
        before = (draft.title, draft.body_html, draft.impact, draft.affected_state)
        for seconds in (5, 65):
            probe_round(site, seconds, frankfurt=Status.CRITICAL)
        sweep(site.now + timedelta(seconds=70))
        draft = the_draft()
        assert (draft.title, draft.body_html, draft.impact, draft.affected_state) == before
        assert draft.pending_update_state is None and draft.status is PostStatus.PUBLISHED


@pytest.mark.parametrize("edited", [False, True])
def test_a_draft_from_before_the_runner_remembered_its_words_is_reworded_only_if_they_are_its_words(app, edited):
    with app.app_context():
        site = make_regional_site()
        db.session.execute(text("UPDATE posts SET drafted_digest = NULL"))
        db.session.commit()
        if edited:
            staff_edit(the_draft().id)
        sweep(site.now + timedelta(seconds=5))
        draft = the_draft()
        assert draft.drafted_digest and draft.pending_update_state is None   # no news yet: only remembered
        for seconds in (5, 65):
            probe_round(site, seconds, frankfurt=Status.CRITICAL)
        draft = the_draft()
        if edited:
            assert draft.title == STAFF_TITLE and QUORUM in draft.pending_update_html
        else:
            assert draft.title == "NC036: Mail server partial outage" and QUORUM in draft.body_html
            assert draft.pending_update_state is None


def test_long_names_leave_a_title_a_post_can_hold(app):
    with app.app_context():
        site = make_regional_site()
        db.session.execute(text("DELETE FROM posts"))
        db.session.execute(text("UPDATE servers SET state = 'ok', incident_post_id = NULL, role = :role"),
                           {"role": "R" * 80})
        db.session.execute(text("UPDATE locations SET network = :network, city = :city WHERE id = :id"),
                           {"network": "N" * 80, "city": "C" * 80, "id": site.lusaka})
        db.session.commit()
        with write_transaction():
            update_servers([site.server], {}, site.now)
        draft = the_draft()
        assert len(draft.title) == 200 and draft.title.endswith("…")
        assert "N" * 80 + " (" + "C" * 80 + ")" in draft.body_html   # the text names it in full
        sweep(site.now + timedelta(seconds=5))
        assert the_draft().updated_at == draft.updated_at               # the clipped title is its own words


def test_odd_rows_stop_neither_the_sweep_nor_the_other_drafts(app, monkeypatch):
    with app.app_context():
        site = make_regional_site()
        other = make_server("NC031", role="Web server")
        check = Check(server=other, type_name="smtp", label="Web", host="web.example.net", port=443,
                      interval_seconds=60)
        db.session.add(check)
        db.session.commit()
        for seconds in (1, 61):
            from_site(check.id, Status.CRITICAL, site.now + timedelta(seconds=seconds))
        # What a hand edit or an older release may leave: no dates, unknown names, a location gone.
        db.session.execute(text("UPDATE servers SET state_since = NULL"))
        db.session.execute(text("UPDATE posts SET impact = 'bogus', affected_state = 'nonsense', "
                                "drafted_digest = 'not a digest'"))
        db.session.execute(text("DELETE FROM locations WHERE id = :id"), {"id": site.lusaka})
        db.session.execute(text("DELETE FROM checks WHERE id = :id"), {"id": site.imap})
        db.session.commit()
        sweep(site.now + timedelta(seconds=65))
        assert the_draft().title == REGIONAL_TITLE     # edited, as far as the runner can tell: kept

        wording = redrafting.draft_wording

        def breaks_on_nc036(server, *args):
            if server.code == "NC036":
                raise RuntimeError("a row nobody foresaw")
            return wording(server, *args)

        monkeypatch.setattr(redrafting, "draft_wording", breaks_on_nc036)
        db.session.execute(text("UPDATE posts SET drafted_digest = NULL"))
        db.session.commit()
        sweep(site.now + timedelta(seconds=70))
        # NC036's draft could not be worded and is left as it was; NC031's was still looked at.
        assert the_draft("NC036").drafted_digest is None
        assert the_draft("NC031").drafted_digest


def test_staff_saving_while_the_runner_rewords_keep_their_words(app):
    """The runner reads the draft under a lock, after the save it waited for: never over staff's words."""
    with app.app_context():
        site = make_regional_site()
        quorum_of(site, 3)
        for seconds in (5, 65):
            probe_round(site, seconds, frankfurt=Status.CRITICAL)
        post_id = the_draft().id
        db.session.rollback()
        postgres = db.engine.dialect.name == "postgresql"
        with db.engine.connect() as staff:
            staff.begin()
            staff.execute(text("UPDATE posts SET title = :title, body_html = :body WHERE id = :id"),
                          {"title": STAFF_TITLE, "body": STAFF_BODY, "id": post_id})
            started = threading.Event()

            def runner_sweeps() -> None:
                with app.app_context():
                    started.set()
                    sweep(site.now + timedelta(seconds=70))

            thread = threading.Thread(target=runner_sweeps)
            thread.start()
            wait_until(started.is_set)
            if postgres:  # see it wait for the staff's row lock; SQLite's writers wait for each other as a whole
                with db.engine.connect() as watcher:
                    wait_until(lambda: someone_waits_for_a_lock(watcher))
            staff.commit()
        thread.join(PATIENCE)
        assert not thread.is_alive()
        draft = the_draft()
        assert (draft.title, draft.body_html) == (STAFF_TITLE, STAFF_BODY)
        assert "Hetzner (Frankfurt) and MTN (Lusaka); customers on other networks" in draft.pending_update_html

"""The demo's incidents: every one is over, each ends in "Resolved", one shows a whole timeline."""
from __future__ import annotations

from sqlalchemy import func, select

from ninerstatus.demo import TIMELINES, load_demo
from ninerstatus.extensions import db
from ninerstatus.models import AffectedState, IncidentImpact, Post, PostKind, PostUpdate, UpdateState
from ninerstatus.site_status import OPERATIONAL, incident_is_open, site_summary

FULL_TIMELINE = "NC036: Sending mail refused by some mail programs"


def demo_incidents() -> list[Post]:
    return db.session.scalars(select(Post).where(Post.kind == PostKind.INCIDENT)).all()


def test_every_demo_incident_ends_resolved_and_the_site_starts_operational(app):
    with app.app_context():
        load_demo()
        incidents = demo_incidents()
        assert len(incidents) == len(TIMELINES) >= 5
        for post in incidents:
            assert post.updates and post.updates[0].state is UpdateState.RESOLVED, post.title
            assert not incident_is_open(post)
            assert post.impact is not None and post.affected_state is not None
        summary = site_summary()
        assert summary.level == OPERATIONAL and summary.incidents == ()


def test_one_demo_incident_shows_a_whole_timeline_with_its_impact(app, client):
    with app.app_context():
        load_demo()
        post = db.session.scalar(select(Post).where(Post.title == FULL_TIMELINE))
        oldest_first = list(reversed(post.updates))
        assert [u.state for u in oldest_first] == [UpdateState.INVESTIGATING, UpdateState.IDENTIFIED,
                                                   UpdateState.RESOLVED]
        times = [u.created_at for u in oldest_first]
        assert times == sorted(times) and times[0] == post.published_at and len(set(times)) == 3
        assert (post.impact, post.affected_state) == (IncidentImpact.MINOR, AffectedState.PARTIAL_OUTAGE)
        slug = post.slug
    page = client.get(f"/posts/{slug}").get_data(as_text=True)
    for words in ("We are investigating", "intermediate certificate", "We apologise for the trouble"):
        assert words in page


def test_loading_the_demo_again_adds_no_second_timeline(app):
    with app.app_context():
        load_demo()
        updates = db.session.scalar(select(func.count(PostUpdate.id)))
        assert load_demo() == (0, 0)
        assert db.session.scalar(select(func.count(PostUpdate.id))) == updates

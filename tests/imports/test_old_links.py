"""Old WordPress addresses of imported posts answer 301 to the new ones; drafts stay hidden behind a 404."""
from __future__ import annotations

import pytest

from ninerstatus.extensions import db
from ninerstatus.models import PostStatus

from .wxr_files import post_titled, run_import

MIGRATION = "/posts/nc036-migration-update-25-final"


@pytest.fixture
def imported(app):
    """The status blog, imported."""
    run_import(app)


@pytest.mark.parametrize("old, new", [
    ("/2018/06/20/nc036-migration-update-25-final/", MIGRATION),
    ("/2018/06/20/nc036-migration-update-25-final", MIGRATION),
    ("/2018/06/nc036-migration-update-25-final/", MIGRATION),
    ("/nc036-migration-update-25-final/", MIGRATION),
    ("/nc036-migration-update-25-final", MIGRATION),
    ("/?p=101", MIGRATION),
    ("/2018/05/nc020-reboot/", "/posts/nc020-reboot"),
    ("/2018/07/01/%C3%A9t%C3%A9-unicode/", "/posts/ete-unicode"),
    ("/?p=120", "/posts/ete-unicode"),
    ("/tag/email/", "/tags/email"),
    ("/tag/%c3%a9t%c3%a9/", "/tags/ete"),
    ("/tag/email/feed/", "/tags/email/feed.rss"),
    ("/category/servers/", "/tags/servers"),
    ("/category/servers/mail-servers/migration-2018/", "/tags/migration-moves"),
    ("/category/migration-2018", "/tags/migration-moves"),
    ("/feed/", "/feed.rss"),
    ("/feed/atom/", "/feed.atom"),
])
def test_old_addresses_answer_301_to_the_new_ones(client, imported, old, new):
    response = client.get(old)
    assert response.status_code == 301, old
    assert response.headers["Location"] == new
    assert client.get(new).status_code == 200


@pytest.mark.parametrize("old", [
    "/internal-rotation/", "/2018/08/02/internal-rotation/", "/?p=133",  # private → draft
    "/customers-only/", "/?p=134",  # password-protected → draft
    "/planned-maintenance-nc041/", "/?p=130",  # scheduled, not yet out
    "/old-and-binned__trashed/", "/?p=135",  # trash, never imported
    "/about/",  # a page: not imported
])
def test_old_addresses_of_posts_visitors_may_not_see_are_not_found(client, imported, old):
    response = client.get(old)
    assert response.status_code == 404, old
    assert "Location" not in response.headers


def test_a_post_made_a_draft_after_the_import_is_no_longer_redirected_to(app, client, imported):
    assert client.get("/?p=90").status_code == 301
    with app.app_context():
        post_titled("NC020: Reboot").status = PostStatus.DRAFT
        db.session.commit()
    for old in ("/?p=90", "/2018/05/nc020-reboot/", "/nc020-reboot/"):
        assert client.get(old).status_code == 404, old


def test_a_tag_only_drafts_carry_is_not_redirected_to(app, client, imported):
    with app.app_context():
        post_titled("Été 🚀: Ünïcödé & CDATA").status = PostStatus.DRAFT
        db.session.commit()
    assert client.get("/tag/%c3%a9t%c3%a9/").status_code == 404


def test_the_site_own_pages_win_over_old_addresses(client, imported):
    assert client.get("/tags/").status_code == 200
    assert client.get("/search?q=mail").status_code == 200
    assert client.get("/?p=not-a-number").status_code == 200
    assert client.get("/no-such-thing/").status_code == 404

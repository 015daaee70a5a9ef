"""Servers (admins: add, edit, reorder, hide, delete keeping posts) and tags (rename, merge, delete)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from ninerstatus.extensions import db
from ninerstatus.models import Post, Server, Tag, Visibility

from ..factories import make_post, make_server, make_tag
from .accounts import EDITOR_EMAIL

SERVER = {"code": "NC050", "role": "Mail server", "city": "Oslo", "country": "Norway", "visibility": "public",
          "display_order": "30", "notes": "Replaces NC036."}


def _codes_in_order(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Server.code).order_by(Server.display_order, Server.code)))


def test_admin_adds_a_server_that_visitors_then_see(app, auth, client):
    auth.login()
    assert auth.post("/admin/servers/new", SERVER).status_code == 302
    with app.app_context():
        server = db.session.scalar(select(Server))
        assert (server.code, server.city, server.visibility, server.display_order) == \
            ("NC050", "Oslo", Visibility.PUBLIC, 30)
    assert "NC050" in client.get("/").get_data(as_text=True)


def test_server_codes_are_unique_and_url_safe(app, auth):
    with app.app_context():
        make_server("NC036")
    auth.login()
    taken = auth.post("/admin/servers/new", {**SERVER, "code": "nc036"})
    assert taken.status_code == 400 and "Another server already has this code." in taken.get_data(as_text=True)
    odd = auth.post("/admin/servers/new", {**SERVER, "code": "NC 0/36"})
    assert odd.status_code == 400 and "Use letters, digits" in odd.get_data(as_text=True)
    assert _codes_in_order(app) == ["NC036"]


def test_admin_edits_a_server(app, auth):
    with app.app_context():
        server_id = make_server("NC036").id
    auth.login()
    page = auth.client.get(f"/admin/servers/{server_id}").get_data(as_text=True)
    assert 'value="NC036"' in page
    assert auth.post(f"/admin/servers/{server_id}", {**SERVER, "code": "NC036", "city": "Rotterdam",
                                                     "visibility": "internal"}).status_code == 302
    with app.app_context():
        server = db.session.get(Server, server_id)
        assert server.city == "Rotterdam" and server.visibility is Visibility.INTERNAL


def test_servers_move_up_and_down(app, auth):
    with app.app_context():
        ids = {code: make_server(code, display_order=order).id
               for code, order in [("A1", 0), ("B2", 0), ("C3", 5)]}
    auth.login()
    auth.post(f"/admin/servers/{ids['C3']}/move", {"direction": "up"})
    assert _codes_in_order(app) == ["A1", "C3", "B2"]
    auth.post(f"/admin/servers/{ids['A1']}/move", {"direction": "down"})
    assert _codes_in_order(app) == ["C3", "A1", "B2"]
    auth.post(f"/admin/servers/{ids['C3']}/move", {"direction": "up"})  # already first
    assert _codes_in_order(app) == ["C3", "A1", "B2"]


def test_hiding_a_servers_status_shows_it_as_internal(app, auth, client):
    with app.app_context():
        server_id = make_server("NC036").id
    auth.login()
    auth.post(f"/admin/servers/{server_id}/visibility")
    auth.logout()
    assert "INTERNAL" in client.get("/servers/NC036").get_data(as_text=True)
    auth.login()
    auth.post(f"/admin/servers/{server_id}/visibility")
    with app.app_context():
        assert db.session.get(Server, server_id).visibility is Visibility.PUBLIC


def test_deleting_a_server_with_posts_asks_first_and_keeps_the_posts(app, auth, client):
    with app.app_context():
        server = make_server("NC036")
        server_id = server.id
        make_post("Mail delayed", servers=(server,))
    auth.login()
    question = client.get(f"/admin/servers/{server_id}/delete").get_data(as_text=True)
    assert "Delete server NC036?" in question and "1 post mentions NC036" in question
    assert _codes_in_order(app) == ["NC036"]
    assert auth.post(f"/admin/servers/{server_id}/delete").status_code == 302
    assert _codes_in_order(app) == []
    with app.app_context():
        post = db.session.scalar(select(Post))
        assert post.title == "Mail delayed" and post.servers == []


def test_tags_list_counts_every_post(app, auth):
    with app.app_context():
        make_post("One", tags=("mail",))
        make_post("Two", tags=("mail", "dns"))
    auth.login(EDITOR_EMAIL)
    page = auth.client.get("/admin/tags").get_data(as_text=True)
    assert '<a href="/admin/posts?tag=mail">2</a>' in page and '<a href="/admin/posts?tag=dns">1</a>' in page


def test_editor_renames_a_tag_and_may_change_its_address(app, auth, client):
    with app.app_context():
        make_post("One", tags=("mail",))
        tag_id = db.session.scalar(select(Tag.id))
    auth.login(EDITOR_EMAIL)
    assert auth.post(f"/admin/tags/{tag_id}", {"name": "  E-mail  delivery ", "slug": "e-mail"}).status_code == 302
    with app.app_context():
        tag = db.session.get(Tag, tag_id)
        assert (tag.name, tag.slug) == ("E-mail delivery", "e-mail")
    assert client.get("/tags/e-mail").status_code == 200


def test_renaming_refuses_names_and_addresses_in_use(app, auth):
    with app.app_context():
        make_tag("mail"), make_tag("dns")
        db.session.commit()
        dns_id = db.session.scalar(select(Tag.id).where(Tag.name == "dns"))
    auth.login()
    response = auth.post(f"/admin/tags/{dns_id}", {"name": "MAIL", "slug": "mail"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Another tag has this name" in page and "Another tag has this address." in page
    bad = auth.post(f"/admin/tags/{dns_id}", {"name": "dns", "slug": "Not A Slug"})
    assert bad.status_code == 400


def test_merging_moves_every_post_to_the_other_tag(app, auth):
    with app.app_context():
        make_post("One", tags=("e-mail",))
        make_post("Two", tags=("e-mail", "mail"))
        make_post("Three", tags=("mail",))
        source = db.session.scalar(select(Tag.id).where(Tag.name == "e-mail"))
        target = db.session.scalar(select(Tag.id).where(Tag.name == "mail"))
    auth.login(EDITOR_EMAIL)
    assert auth.post(f"/admin/tags/{source}/merge", {"target": str(target)}).status_code == 302
    with app.app_context():
        assert db.session.scalars(select(Tag.name)).all() == ["mail"]
        for post in db.session.scalars(select(Post)):
            assert [t.name for t in post.tags] == ["mail"]


def test_merging_into_itself_is_refused(app, auth):
    with app.app_context():
        make_post("One", tags=("mail",))
        tag_id = db.session.scalar(select(Tag.id))
    auth.login()
    assert auth.post(f"/admin/tags/{tag_id}/merge", {"target": str(tag_id)}).status_code == 400


def test_deleting_a_tag_asks_first_and_keeps_its_posts(app, auth, client):
    with app.app_context():
        make_post("One", tags=("mail",))
        tag_id = db.session.scalar(select(Tag.id))
    auth.login(EDITOR_EMAIL)
    assert "1 post carries it" in client.get(f"/admin/tags/{tag_id}/delete").get_data(as_text=True)
    assert auth.post(f"/admin/tags/{tag_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.scalars(select(Tag)).all() == []
        assert db.session.scalar(select(Post)).tags == []


@pytest.mark.parametrize("typed", ["  Mail   delivery ", "mail\tdelivery", "MAIL DELIVERY", "Mail delivery"])
def test_renaming_a_tag_to_a_spacing_or_case_variant_of_another_is_refused_on_the_form(app, auth, typed):
    with app.app_context():
        make_tag("Mail delivery"), make_tag("dns")
        db.session.commit()
        dns_id = db.session.scalar(select(Tag.id).where(Tag.name == "dns"))
    auth.login()
    response = auth.post(f"/admin/tags/{dns_id}", {"name": typed, "slug": "dns"})
    assert response.status_code == 400
    assert "Another tag has this name: merge into it instead." in response.get_data(as_text=True)
    with app.app_context():
        assert sorted(db.session.scalars(select(Tag.name))) == ["Mail delivery", "dns"]


def test_tag_names_are_told_apart_ignoring_case_beyond_ascii(app, auth):
    with app.app_context():
        make_post("Old", tags=("Ärger",))
        make_tag("dns")
        db.session.commit()
        dns_id = db.session.scalar(select(Tag.id).where(Tag.name == "dns"))
    auth.login()
    assert auth.post(f"/admin/tags/{dns_id}", {"name": "ärger", "slug": "dns"}).status_code == 400
    assert auth.post("/admin/posts/new", {"title": "New", "body": "<p>x</p>", "kind": "notice",
                                          "tags": "ÄRGER", "action": "publish"}).status_code == 302
    with app.app_context():
        assert sorted(db.session.scalars(select(Tag.name))) == ["dns", "Ärger"]
        assert [t.name for t in db.session.scalar(select(Post).where(Post.title == "New")).tags] == ["Ärger"]


def test_a_tag_renamed_to_a_spacing_variant_of_its_own_name_keeps_the_tidy_name(app, auth):
    with app.app_context():
        make_tag("mail delivery")
        db.session.commit()
        tag_id = db.session.scalar(select(Tag.id))
    auth.login()
    assert auth.post(f"/admin/tags/{tag_id}", {"name": " Mail   Delivery", "slug": "mail-delivery"}).status_code == 302
    with app.app_context():
        assert db.session.get(Tag, tag_id).name == "Mail Delivery"

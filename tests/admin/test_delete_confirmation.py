"""Every delete asks first: a page that names what goes, posts back with a token, and offers a way out."""
from __future__ import annotations

import re

import pytest

from .staffdata import make_staff_data

# What is deleted, the confirmation page's path and the page "Keep it" leads back to.
PAGES = {
    "post": ("/admin/posts/{post_id}/delete", "/admin/posts/{post_id}", "Delete the post", "Delete this post?"),
    "tag": ("/admin/tags/{tag_id}/delete", "/admin/tags", "Delete the tag", "Delete tag “mail”?"),
    "server": ("/admin/servers/{server_id}/delete", "/admin/servers", "Delete NC036", "Delete server NC036?"),
    "check": ("/admin/checks/{check_id}/delete", "/admin/checks", "Delete the check", "of NC036?"),
}


@pytest.mark.parametrize("kind", PAGES)
def test_confirmation_page_posts_back_with_a_token_and_offers_a_way_out(app, auth, kind):
    with app.app_context():
        ids = make_staff_data().ids
    path, keep, button, question = (text.format(**ids) for text in PAGES[kind])
    auth.login()
    page = auth.client.get(path).get_data(as_text=True)
    form = re.search(rf'<form method="post" action="{re.escape(path)}">(.*?)</form>', page, re.S)
    assert form
    assert re.search(r'<input type="hidden" name="csrf_token" value="[^"]+">', form[1])
    assert f'<button type="submit" class="danger">{button}</button>' in form[1]
    assert f'<a href="{keep}">Keep it</a>' in form[1]
    assert question in re.search(r"<h1>(.*?)</h1>", page, re.S)[1]

"""Templates' links, kept once built (public/links.py), are those Flask builds wherever the site is reached."""
from __future__ import annotations

from flask import render_template_string, url_for
from markupsafe import escape

from .factories import make_server


def test_links_follow_the_address_the_site_is_reached_at(app, client):
    with app.app_context():
        make_server("NC036")
    assert 'href="/servers/NC036"' in client.get("/").get_data(as_text=True)
    below = client.get("/", base_url="http://localhost/status/").get_data(as_text=True)
    assert 'href="/status/servers/NC036"' in below and 'href="/servers/NC036"' not in below
    other = client.get("/", base_url="https://status.example.net/").get_data(as_text=True)
    assert 'href="/servers/NC036"' in other


def test_a_kept_link_is_what_flask_builds_for_the_same_values(app):
    # A list of values (unhashable: never kept) is built each time.
    template = "{{ url_for('public.server', code=code, page=page) }}|{{ url_for('public.search', q=[code, 'disk']) }}"
    for base in ("http://localhost/", "http://localhost/status/"):
        with app.test_request_context("/", base_url=base):
            for code, page in (("NC036", 2), ("NC036", 3), ("NC042", 2), ("NC036", 2)):
                drawn = render_template_string(template, code=code, page=page)
                built = (url_for("public.server", code=code, page=page), url_for("public.search", q=[code, "disk"]))
                assert drawn == escape("|".join(built))


def test_links_drawn_without_a_request_are_built_as_flask_builds_them(app):
    app.config["SERVER_NAME"] = "status.example.net"
    with app.app_context():
        assert render_template_string("{{ url_for('public.home') }}") == "http://status.example.net/"

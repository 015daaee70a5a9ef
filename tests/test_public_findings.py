"""Findings of a newcomer's QA pass on the public site: search, favicon, 404s and unprobed servers."""
from __future__ import annotations

import configparser
from fnmatch import fnmatch
from pathlib import Path
from xml.etree import ElementTree

import pytest

from ninerstatus.models import Visibility
from ninerstatus.probing import Status

from .factories import main_of, make_post, make_server
from .test_check_widgets import add_check, glance_entry

ROOT = Path(__file__).resolve().parent.parent
FAVICON = "static/img/favicon.svg"


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


# Search: control characters are dropped from the query.

@pytest.mark.parametrize("query", ["\x00", " \x00 ", "\x1b\x07"])
def test_a_query_of_control_characters_is_an_empty_search(ctx, client, query):
    make_post("Mail outage", "<p>Relay down</p>")
    response = client.get("/search", query_string={"q": query})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "found for" not in page and "Mail outage" not in main_of(response)
    assert "<title>Search ·" in page
    assert not any(char in page for char in query.strip())


def test_control_characters_inside_a_query_are_removed_before_searching(ctx, client):
    make_post("Mail outage", "<p>Relay down</p>")
    make_post("Web slow", "<p>Pages load slowly</p>")
    response = client.get("/search", query_string={"q": "re\x00lay"})
    page = response.get_data(as_text=True)
    assert "1 post found for “relay”" in page and "Mail outage" in main_of(response)
    assert "\x00" not in page


# The favicon.

def test_every_page_links_the_sites_own_favicon(ctx, client):
    page = client.get("/").get_data(as_text=True)
    assert f'<link rel="icon" type="image/svg+xml" href="/{FAVICON}">' in page


def test_the_favicon_is_a_same_origin_svg_without_scripts_or_outside_references(ctx, client):
    response = client.get(f"/{FAVICON}")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(response.get_data())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    names = {element.tag.rsplit("}", 1)[-1] for element in root.iter()}
    assert "script" not in names and "style" not in names and "image" not in names
    assert "'self'" in client.get("/").headers["Content-Security-Policy"].split("img-src", 1)[1].split(";")[0]


def test_favicon_ico_redirects_to_the_svg_so_nobody_gets_a_404(ctx, client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.location == f"/{FAVICON}"
    assert client.get("/favicon.ico", follow_redirects=True).status_code == 200


def test_the_favicon_is_in_a_folder_that_setup_cfg_ships():
    assert (ROOT / "ninerstatus" / FAVICON).is_file()
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    patterns = config["options.package_data"]["ninerstatus"].split()
    parts = FAVICON.split("/")
    # One pattern segment per path segment, as setuptools matches them.
    assert any(len(pattern.split("/")) == len(parts) and all(map(fnmatch, parts, pattern.split("/")))
               for pattern in patterns)


# Not found and not allowed: JSON under /api/, pages elsewhere.

@pytest.mark.parametrize("url", ["/api/v2/nope.json", "/api/nope", "/api", "/api/servers/NOPE"])
def test_every_404_under_the_api_is_json(ctx, client, url):
    response = client.get(url, headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] == 404


def test_a_405_under_the_api_is_json_and_says_what_is_allowed(ctx, client):
    response = client.post("/api/servers")
    assert response.status_code == 405 and response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] == 405
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize("url", ["/nope", "/servers/NOPE", "/apinope", "/posts/nope"])
def test_a_404_outside_the_api_stays_a_page(ctx, client, url):
    response = client.get(url)
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "Page not found" in response.get_data(as_text=True)


def test_a_405_page_says_what_is_allowed(ctx, client):
    response = client.post("/archive/")
    assert response.status_code == 405 and response.mimetype == "text/html"
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize("visibility", [Visibility.PUBLIC, Visibility.INTERNAL])
def test_a_server_code_in_another_case_redirects_to_its_own(ctx, client, visibility):
    make_server("NC042", visibility)
    response = client.get("/servers/nc042")
    assert response.status_code == 301 and response.location == "/servers/NC042"
    assert client.get("/servers/Nc042?page=2").location == "/servers/NC042?page=2"
    assert client.get("/servers/nc042?_anchor=x").location == "/servers/NC042?_anchor=x"
    assert client.get("/servers/nc043").status_code == 404


# A public server without checks is listed as OPERATIONAL but never coloured as a live OK.

def test_a_public_server_without_checks_is_not_coloured_as_operational(ctx, client):
    make_server("NC033")
    add_check(make_server("NC036"), Status.OK, "fine")
    listed, probed = glance_entry(client, "NC033"), glance_entry(client, "NC036")
    home = client.get("/").get_data(as_text=True)
    assert '<li class="server status-not-probed">\n          <a href="/servers/NC033"' in home
    assert '<li class="server status-operational">\n          <a href="/servers/NC036"' in home
    assert ">OPERATIONAL<" in listed and "as listed; not probed" in listed
    assert ">OPERATIONAL<" in probed and "not probed" not in probed
    assert 'class="server-facts status-not-probed"' in client.get("/servers/NC033").get_data(as_text=True)
    assert 'class="server-facts status-operational"' in client.get("/servers/NC036").get_data(as_text=True)


def test_the_api_keeps_the_listed_status_of_a_server_without_checks(ctx, client):
    make_server("NC033")
    server = client.get("/api/servers/NC033").get_json()
    assert server["status"] == "operational" and server["checks"] == []
    [component] = client.get("/api/v2/components.json").get_json()["components"]
    assert component["status"] == "operational"


def test_the_stylesheet_gives_unprobed_servers_a_neutral_colour():
    css = (ROOT / "ninerstatus" / "static" / "css" / "site.css").read_text()
    assert ".status-not-probed .state { color: var(--muted); }" in css

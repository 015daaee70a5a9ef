"""Where each address of the site is written in the mirror, the addresses refused, and forms nothing answers."""
from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from ninerstatus.mirror.documents import Document
from ninerstatus.mirror.forms import unanswerable_forms
from ninerstatus.mirror.layout import file_for, mirror_page_url


@pytest.mark.parametrize(("path", "kind", "expected"), [
    ("/", "html", "index.html"),
    ("/tags/", "html", "tags/index.html"),
    ("/posts/mail-delays", "html", "posts/mail-delays/index.html"),
    ("/servers/NC.1", "html", "servers/NC.1/index.html"),
    ("/api/servers", "json", "api/servers/index.json"),
    ("/api/servers/NC%201", "json", "api/servers/NC 1/index.json"),
    ("/feed.atom", "file", "feed.atom"),
    ("/api/v2/incidents/unresolved.json", "file", "api/v2/incidents/unresolved.json"),
])
def test_each_address_has_the_file_a_web_server_looks_for(path, kind, expected):
    assert file_for(path, kind) == PurePosixPath(expected)


@pytest.mark.parametrize("path", ["/posts/../../etc/passwd", "/posts/%2e%2e/x", "//posts", "/posts/a%00b",
                                  "posts/relative", "/posts/.."])
def test_addresses_that_could_leave_the_mirror_are_refused(path):
    with pytest.raises(ValueError):
        file_for(path, "html")


def test_later_pages_of_a_list_are_files_of_their_own():
    assert mirror_page_url("/status/", 1) == "/status/"
    assert mirror_page_url("/status/", 2) == "/status/page/2/"
    assert mirror_page_url("/status/tags/mail", 3) == "/status/tags/mail/page/3/"
    second = Document("/archive/2026/11", "html", 2)
    assert second.request_target == "/archive/2026/11?page=2"
    assert str(second.file) == "archive/2026/11/page/2/index.html"


def test_forms_that_do_not_go_to_the_live_site_are_found():
    page = (b'<form action="https://status.example.net/search" method="get"></form>'
            b'<form method="post" action="/status/subscribe"></form><form></form>')
    assert unanswerable_forms(page, "https://status.example.net") == ["/status/subscribe", ""]
    assert unanswerable_forms(page, "") == ["https://status.example.net/search", "/status/subscribe", ""]
    # A look-alike host is not the live site.
    assert unanswerable_forms(b'<form action="https://status.example.net.evil/x">', "https://status.example.net")

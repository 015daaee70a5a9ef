"""Where each address of the site is written in the mirror, and the addresses that are refused."""
from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from ninerstatus.mirror.documents import Document
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

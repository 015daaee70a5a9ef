"""The mirror's tests: a real nginx serving an exported mirror, and a crawler that follows every link.

nginx runs as the README tells an operator to run it (``NGINX_LOCATION`` is
the README's snippet, word for word: ``test_the_readme_shows_the_nginx_locations_tested``
checks), on a free 127.0.0.1 port, with its configuration, logs and temporary
folders in the test's own folder.
"""
from __future__ import annotations

import getpass
import os
import shutil
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from ninerstatus.mirror.export import MirrorSite
from ninerstatus.mirror.rendering import BaseUrl, mirror_app

from .. import processes
from ..waiting import wait_until

#: The live site's address as the mirrors of these tests know it: nothing may ever lead there but forms.
LIVE = "http://live.status.test"

#: The README's nginx snippet for a mirror served under /status/ (the mirror's link is /srv/www/status).
NGINX_LOCATION = r"""location /status/ {
    try_files $uri $uri/index.html $uri/index.json =404;
    error_page 404 /status/404.html;
    charset utf-8;
    charset_types text/css application/javascript application/json application/atom+xml application/rss+xml;
    add_header Cache-Control "public, max-age=60";
}
location ~ /\. {
    deny all;                   # the generation folders beside the link
}"""

NGINX_CONFIG = """\
{user}worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        root {root};
{location}
    }}
}}
"""


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def stack():
    with ExitStack() as stack:
        yield stack


@contextmanager
def mirror_site(app, base_url: str, live_url: str = LIVE) -> Iterator[MirrorSite]:
    """The site drawn for a mirror at ``base_url``, its connections closed afterwards."""
    base = BaseUrl.parse(base_url)
    site = MirrorSite(mirror_app(app, base), base, live_url)
    try:
        yield site
    finally:
        site.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Nginx:
    """nginx serving ``root`` (where the mirror's link ``status`` is) on 127.0.0.1:``port``."""

    root: Path
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/status/"

    def get(self, path: str) -> tuple[int, str, bytes]:
        """Status, Content-Type and body of ``path`` (relative to the server's root)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as response:
                return response.status, response.headers.get("Content-Type", ""), response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Content-Type", ""), error.read()


@pytest.fixture
def nginx(tmp_path) -> Nginx:
    """nginx with the README's location for /status/, serving ``tmp_path/www``; the mirror goes to www/status."""
    program = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(program).exists():
        pytest.fail("nginx is missing: run scripts/system-deps.sh integration")
    folder, root = tmp_path / "nginx", tmp_path / "www"
    folder.mkdir()
    root.mkdir()
    port = free_port()
    # Started as root, nginx's workers would drop to "nobody", who cannot enter pytest's private folders.
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
    location = "\n".join("        " + line for line in NGINX_LOCATION.splitlines())
    config = folder / "nginx.conf"
    config.write_text(NGINX_CONFIG.format(user=user, folder=folder, port=port, root=root, location=location))
    with processes.started([program, "-c", config, "-g", "daemon off;"]):
        server = Nginx(root, port)
        wait_until(lambda: _listening(port), message=f"nginx on port {port}")
        yield server


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


class LinkParser(HTMLParser):
    """Every address a page points at (href, src, form actions), and the forms' actions apart."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.form_actions: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "form":
            self.form_actions.append(values.get("action") or "")
            return
        for name in ("href", "src", "data-api"):
            if values.get(name):
                self.links.append(values[name])


def page_links(body: bytes) -> LinkParser:
    parser = LinkParser()
    parser.feed(body.decode("utf-8"))
    return parser


@dataclass
class Crawl:
    """What a crawl of the mirror found: every address fetched with its answer, and every link seen."""

    answers: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    links: dict[str, set[str]] = field(default_factory=dict)
    form_actions: set[str] = field(default_factory=set)

    def broken(self) -> dict[str, set[str]]:
        """Links whose target did not answer 200, with the pages that carry them."""
        return {url: pages for url, pages in self.links.items()
                if url in self.answers and self.answers[url][0] != 200}


def crawl(server: Nginx, starts: list[str]) -> Crawl:
    """Fetch ``starts`` and everything they link to on the mirror's host, page by page, feed by feed."""
    found = Crawl()
    origin = urlsplit(server.base_url)
    queue = [urljoin(server.base_url, start) for start in starts]
    while queue:
        url = queue.pop()
        if url in found.answers:
            continue
        answer = found.answers[url] = server.get(urlsplit(url).path + ("?" + urlsplit(url).query
                                                                         if urlsplit(url).query else ""))
        status, content_type, body = answer
        if status != 200:
            continue
        targets: list[str] = []
        if content_type.startswith("text/html"):
            parsed = page_links(body)
            targets = parsed.links
            found.form_actions.update(parsed.form_actions)
        elif "xml" in content_type:
            targets = feed_links(body)
        for target in targets:
            absolute = urljoin(url, target).split("#")[0]
            found.links.setdefault(absolute, set()).add(url)
            parts = urlsplit(absolute)
            if (parts.scheme, parts.netloc) == (origin.scheme, origin.netloc):
                queue.append(absolute)
    return found


def feed_links(body: bytes) -> list[str]:
    """The links of an RSS or Atom feed: its own, its page's and every entry's."""
    from xml.etree import ElementTree as ET

    root = ET.fromstring(body)
    links = [element.get("href") for element in root.iter("{http://www.w3.org/2005/Atom}link")]
    links += [element.text for element in root.iter("link") if element.text]
    return [link for link in links if link]

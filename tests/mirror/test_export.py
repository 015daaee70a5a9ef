"""The exported mirror served by a real nginx: every link works, nothing leads back to the live site,
pages say what the live ones say, drafts never appear, and a refresh never shows half a site."""
from __future__ import annotations

import io
import re
import textwrap
import threading
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from ninerstatus.extensions import db
from ninerstatus.models import Post, PostKind, PostStatus, UpdateState, Visibility
from ninerstatus.probing import Status
from ninerstatus.public import views as public_views
from ninerstatus.timeutil import utcnow
from ninerstatus.uploads import store_image, uploads_folder

from ..api.conftest import add_check, add_update
from ..factories import make_post, make_server
from ..waiting import wait_until
from .conftest import LIVE, NGINX_LOCATION, crawl, mirror_site, page_links

DRAFT_MARKERS = ("Unannounced migration plan", "unannounced-migration-plan", "secret-tag",
                 "Future price change", "future-price-change")


def picture(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), colour).save(out, "PNG")
    return out.getvalue()


def build_site(app) -> dict[str, str]:
    """Servers, 23 published posts over three months (lists of several pages), a draft and a scheduled
    post with an image each; returns the stored names of the published and the draft images."""
    shown = store_image(picture("red"), uploads_folder(app), max_bytes=10**6, max_pixels=10**6).name
    hidden = store_image(picture("blue"), uploads_folder(app), max_bytes=10**6, max_pixels=10**6).name
    mail = make_server("NC036")
    add_check(mail, Status.OK, "STARTTLS ok", label="Submission")
    web = make_server("NC031", role="Web server", display_order=1)
    make_server("NC099", visibility=Visibility.INTERNAL, display_order=2)
    for number in range(22):
        make_post(f"Mail delays {number}", f"<p>Queue report {number}.</p>", tags=("mail", "smtp"),
                  servers=(mail,), age=timedelta(days=4 * number + 1))
    outage = make_post("Web server unreachable", f'<p>Fibre cut.</p><p><img src="/uploads/{shown}" alt="map"></p>',
                       tags=("web",), servers=(web,), age=timedelta(hours=3))
    add_update(outage, UpdateState.RESOLVED, "<p>Back since 10:00.</p>", timedelta(hours=1))
    make_post("Unannounced migration plan", f'<p>Secret.</p><p><img src="/uploads/{hidden}" alt=""></p>',
              status=PostStatus.DRAFT, tags=("secret-tag",), servers=(web,))
    make_post("Future price change", "<p>Later.</p>", status=PostStatus.SCHEDULED,
              published_at=utcnow() + timedelta(days=2), tags=("secret-tag",), kind=PostKind.NOTICE)
    return {"shown": shown, "hidden": hidden}


def export(app, target: Path, base_url: str, live_url: str = LIVE):
    with mirror_site(app, base_url, live_url) as site:
        return site.export(target)


def live_path(mirror_url: str, root: str) -> str:
    """The live site's address of a mirror address: no root, and ``page/N/`` back to ``?page=N``."""
    path = urlsplit(mirror_url).path[len(root):] or "/"
    numbered = re.fullmatch(r"(.*?)/?page/(\d+)/", path)
    return f"{numbered[1] or '/'}?page={numbered[2]}" if numbered else path


def main_section(body: bytes, root: str | None = None) -> str:
    """The page's ``<main>``; from the mirror (at ``root``) with its addresses written as the live site's."""
    page = body.decode()
    main = page[page.index('<main id="content">'):page.index("</main>")]
    if root is not None:
        main = re.sub(r'(href|src)="(/[^"]*)"', lambda m: f'{m[1]}="{live_path(m[2], root)}"', main)
        main = main.replace(f'action="{LIVE}/', 'action="/')  # forms that need the server go to the live site
    main = main.replace('?page=1"', '"')  # the live pager links page 1 as ?page=1, the mirror the list itself
    return re.sub(r">\d+ (s|min|h|days) ago<", ">a while ago<", main)  # "checked 12 s ago" counts on with the clock


def test_mirror_served_by_nginx_has_no_broken_link_and_no_link_to_the_live_site(ctx, nginx, client):
    images = build_site(ctx)
    result = export(ctx, nginx.root / "status", nginx.base_url)
    assert result.skipped == [] and result.dead_forms == {}

    found = crawl(nginx, ["", "feed.atom", "feed.rss", "api/servers", "api/v2/summary.json"])

    assert found.broken() == {}
    fetched = {url for url, answer in found.answers.items() if answer[0] == 200}
    # Every list page, post, tag, server (internal ones too) and month is reached from the home page.
    assert f"{nginx.base_url}page/3/" in fetched
    assert f"{nginx.base_url}tags/mail/page/3/" in fetched
    assert f"{nginx.base_url}servers/NC099" in fetched
    assert f"{nginx.base_url}posts/mail-delays-21" in fetched
    assert f"{nginx.base_url}static/css/site.css" in fetched
    assert f"{nginx.base_url}uploads/{images['shown']}" in fetched
    assert len([url for url in fetched if "/archive/" in url]) >= 4
    # Nothing is fetched from, or even linked on, the live site; only the search and subscribe forms go there.
    assert [url for url in found.links if url.startswith(LIVE)] == []
    assert found.form_actions == {f"{LIVE}/search", f"{LIVE}/subscribe"}
    assert not [url for url in found.links if urlsplit(url).hostname not in ("127.0.0.1", None)]


def test_mirror_files_have_their_types_and_missing_pages_get_the_404_page(ctx, nginx):
    build_site(ctx)
    export(ctx, nginx.root / "status", nginx.base_url)

    assert nginx.get("/status/feed.atom")[:2] == (200, "application/atom+xml; charset=utf-8")
    assert nginx.get("/status/tags/mail/feed.rss")[:2] == (200, "application/rss+xml; charset=utf-8")
    assert nginx.get("/status/api/servers/NC036")[:2] == (200, "application/json; charset=utf-8")
    assert nginx.get("/status/api/v2/status.json")[:2] == (200, "application/json; charset=utf-8")
    assert nginx.get("/status/posts/web-server-unreachable")[:2] == (200, "text/html; charset=utf-8")
    status, content_type, body = nginx.get("/status/posts/no-such-post")
    assert (status, content_type) == (404, "text/html; charset=utf-8")
    assert b"Page not found" in body and b"mirror-banner" in body
    generation = next(nginx.root.glob(".status.gen-*")).name
    assert nginx.get(f"/{generation}/index.html")[0] == 403


def test_the_readme_shows_the_nginx_locations_tested():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert textwrap.indent(NGINX_LOCATION, "    ") in readme


def test_mirror_pages_say_what_the_live_pages_say(ctx, nginx, client):
    build_site(ctx)
    export(ctx, nginx.root / "status", nginx.base_url)
    found = crawl(nginx, [""])

    pages = [url for url, (status, kind, _) in found.answers.items() if status == 200 and kind.startswith("text/html")]
    assert len(pages) > 30
    for url in pages:
        live = client.get(live_path(url, "/status"))
        assert live.status_code == 200, url
        assert main_section(found.answers[url][2], "/status") == main_section(live.get_data()), url


def test_mirror_json_documents_are_the_live_ones(ctx, nginx, client):
    build_site(ctx)
    export(ctx, nginx.root / "status", nginx.base_url)

    for path in ("/api/v2/incidents.json", "/api/v2/scheduled-maintenances.json"):
        mirrored = nginx.get(f"/status{path}")[2]
        # Links and the page id name the site where each was drawn: the mirror is a page of its own.
        as_live = mirrored.replace(nginx.base_url.encode(), b"http://status.test/").replace(b'"127.0.0.1"',
                                                                                             b'"status.test"')
        assert as_live == client.get(path).get_data()


def test_drafts_and_scheduled_posts_never_appear_in_the_mirror(ctx, tmp_path):
    images = build_site(ctx)
    result = export(ctx, tmp_path / "mirror", "https://mirror.example.net/")

    files = [p for p in (tmp_path / "mirror").resolve().rglob("*") if p.is_file()]
    assert len(files) == result.files
    for path in files:
        data = path.read_bytes()
        assert not [marker for marker in DRAFT_MARKERS if marker.encode() in data], path
    names = {p.name for p in files}
    assert images["shown"] in names and images["hidden"] not in names
    assert not (tmp_path / "mirror" / "posts" / "unannounced-migration-plan").exists()
    assert not (tmp_path / "mirror" / "tags" / "secret-tag").exists()


def test_search_form_says_it_needs_the_live_site_when_none_is_known(ctx, tmp_path):
    build_site(ctx)
    export(ctx, tmp_path / "mirror", "https://mirror.example.net/", live_url="")

    page = (tmp_path / "mirror" / "index.html").read_bytes()
    assert page_links(page).form_actions == []
    assert b"Search needs the live site." in page and b"Subscribing to mails needs the live site." in page


def test_mirror_pages_say_how_old_they_are(ctx, tmp_path):
    build_site(ctx)
    result = export(ctx, tmp_path / "mirror", "https://mirror.example.net/")

    page = (tmp_path / "mirror" / "posts" / "web-server-unreachable" / "index.html").read_text()
    moment = result.as_of.isoformat(timespec="seconds")
    assert f'<time datetime="{moment}" data-mirror-as-of data-local>{result.as_of:%H:%M} UTC</time>' in page


def test_a_base_url_with_a_path_puts_every_link_under_it(ctx, tmp_path):
    build_site(ctx)
    export(ctx, tmp_path / "mirror", "https://mirror.example.net/status/")

    page = (tmp_path / "mirror" / "tags" / "mail" / "index.html").read_bytes()
    links = page_links(page).links
    assert links and all(link.startswith("/status/") or link.startswith("#") for link in links)
    assert "/status/tags/mail/page/2/" in links
    feed = (tmp_path / "mirror" / "feed.atom").read_text()
    assert 'href="https://mirror.example.net/status/feed.atom" rel="self"' in feed
    assert "https://mirror.example.net/status/posts/web-server-unreachable" in feed


class Reader(threading.Thread):
    """Fetches one page from nginx again and again until told to stop, keeping every distinct answer."""

    def __init__(self, nginx, path: str) -> None:
        super().__init__(daemon=True)
        self.nginx, self.path = nginx, path
        self.stop = threading.Event()
        self.answers: list[tuple[int, bytes]] = []
        self.fetches = 0

    def run(self) -> None:
        while not self.stop.is_set():
            status, _, body = self.nginx.get(self.path)
            self.fetches += 1
            if not self.answers or self.answers[-1] != (status, body):
                self.answers.append((status, body))


def test_a_refresh_never_serves_a_half_written_file(ctx, nginx, stack):
    build_site(ctx)
    target = nginx.root / "status"
    site = stack.enter_context(mirror_site(ctx, nginx.base_url))
    site.export(target)
    exported = [(target / "index.html").read_bytes()]
    reader = Reader(nginx, "/status/")
    reader.start()
    try:
        for number in range(4):
            before = reader.fetches
            post = db.session.scalar(db.select(Post).where(Post.slug == "web-server-unreachable"))
            post.title = f"Web server unreachable, report {number}"
            db.session.commit()
            site.export(target)
            exported.append((target / "index.html").read_bytes())
            # The reader fetched while this export ran or after it, and has seen its page.
            wait_until(lambda: reader.fetches > before + 1 and reader.answers[-1][1] == exported[-1],
                       message="the reader to see the new page")
    finally:
        reader.stop.set()
        reader.join()

    assert all(status == 200 for status, _ in reader.answers)
    assert [body for _, body in reader.answers if body not in exported] == []
    assert len(reader.answers) >= 5
    # Only the generation served and the one before are kept.
    assert len(list(nginx.root.glob(".status.gen-*"))) == 2


def test_a_row_the_mirror_cannot_write_is_left_out_and_the_rest_is_written(ctx, tmp_path, monkeypatch):
    make_post("Mail delays")
    make_post("Dots", slug="..")  # stored by hand or by an older release: no file can be named after it
    server = make_server("NC036")
    monkeypatch.setattr(public_views, "server_or_404", lambda code: 1 / 0)  # a server page that fails to draw

    result = export(ctx, tmp_path / "mirror", "https://mirror.example.net/")

    assert "/posts/.." in result.skipped and f"/servers/{server.code}" in result.skipped
    assert (tmp_path / "mirror" / "posts" / "mail-delays" / "index.html").exists()
    assert not (tmp_path / "posts").exists()

"""Hostile bodies in a WordPress export, imported through the admin Import page, never run a script.

The export is uploaded and confirmed in the browser like an admin would; each
imported post is then opened by a visitor with JavaScript on, and its stored
HTML is also loaded into a blank page without the site's CSP, so the
sanitiser alone must hold.
"""
from __future__ import annotations

from xml.sax.saxutils import escape

import pytest
from sqlalchemy import select

from ninerstatus.models import Post

from .conftest import sign_in, watch
from .test_hostile_input import PAYLOADS

pytestmark = pytest.mark.browser

# WordPress-only shapes on top of the editor's payloads: shortcodes and block comments carrying script.
WORDPRESS_PAYLOADS = [
    '[caption id="x" caption="<img src=x onerror=alert(\'caption-attr\')>"]<img src=x onerror=alert(\'cap\')>'
    ' text[/caption]',
    '[embed]javascript:alert(\'embed\')[/embed]',
    '<!-- wp:html --><script>alert(\'block\')</script><!-- /wp:html -->',
    'line one\n<p onmouseover="alert(\'autop\')">line two</p>\n\nnext',
]


def _export(bodies: list[str]) -> str:
    items = "".join(f"""
  <item>
    <title>{escape("<script>window.__pwned='title'</script>Hostile")} {n}</title>
    <link>https://old.example/2019/01/02/hostile-{n}/</link>
    <dc:creator>ann</dc:creator>
    <guid isPermaLink="false">https://old.example/?p={n}</guid>
    <content:encoded><![CDATA[{body}]]></content:encoded>
    <wp:post_id>{n}</wp:post_id>
    <wp:post_date_gmt>2019-01-02 10:00:00</wp:post_date_gmt>
    <wp:post_name>hostile-{n}</wp:post_name>
    <wp:status>publish</wp:status>
    <wp:post_type>post</wp:post_type>
  </item>""" for n, body in enumerate(bodies, start=1))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
  <title>Old</title><link>https://old.example</link>
  <wp:wxr_version>1.2</wp:wxr_version>
  <wp:base_site_url>https://old.example</wp:base_site_url>{items}
</channel>
</rss>"""


def _nothing_ran(page, problems) -> None:
    assert problems.dialogs == []
    assert page.evaluate("() => window.__pwned === undefined")


def test_imported_hostile_bodies_run_no_script(page, visitor, live_site, tmp_path):
    bodies = ["\n".join(PAYLOADS), *WORDPRESS_PAYLOADS]
    export = tmp_path / "hostile-export.xml"
    export.write_text(_export(bodies), encoding="utf-8")

    admin_problems = watch(page)
    sign_in(page, live_site)
    page.goto(live_site.url + "/admin/import")
    page.set_input_files("input[name=export]", str(export))
    page.click("button:has-text('Show what the import would do')")
    page.wait_for_selector("text=would be imported")
    _nothing_ran(page, admin_problems)
    page.click("button:has-text('Import now')")
    page.wait_for_selector("text=Import done")
    assert f"Posts: {len(bodies)} imported" in page.inner_text("pre.import-summary")
    _nothing_ran(page, admin_problems)

    slugs = live_site.query(select(Post.slug).order_by(Post.id))
    assert len(slugs) == len(bodies)
    problems = watch(visitor)
    for path in [*(f"/posts/{slug}" for slug in slugs), "/", "/2019/01/02/hostile-1/", "/?p=2"]:
        visitor.goto(live_site.url + path)
        for element in visitor.locator("article.post .body *").all():
            if element.is_visible() and element.bounding_box()["height"] > 0:
                element.hover()
        _nothing_ran(visitor, problems)
    assert problems.page_errors == []

    for stored in live_site.query(select(Post.body_html)):
        bare = visitor.context.new_page()
        bare_problems = watch(bare)
        bare.set_content(f"<!doctype html><article class=post><div class=body>{stored}</div></article>")
        for element in bare.locator("a").all():
            href = (element.get_attribute("href") or "").strip().lower()
            assert not href.startswith(("javascript:", "data:", "vbscript:")), href
        _nothing_ran(bare, bare_problems)
        bare.close()

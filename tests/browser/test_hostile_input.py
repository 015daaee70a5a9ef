"""Hostile HTML sent through the editor's save path never runs a script in a visitor's browser.

Each payload is saved through the post form (the plain-HTML path an attacker
would use, JavaScript off), then the post is opened with JavaScript on. The
stored HTML is also loaded into a blank page *without* any CSP, so the
sanitiser alone must hold: the CSP is a second wall, not the only one.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ninerstatus.models import Post

from .conftest import sign_in, watch

pytestmark = pytest.mark.browser

# Every payload tries to call alert() or set window.__pwned.
PAYLOADS = [
    "<script>alert('script')</script>",
    "<img src=x onerror=alert('img')>",
    "<p onclick=alert('click') onmouseover=alert('hover')>hover me</p>",
    "<a href=\"javascript:alert('js-link')\">link</a>",
    "<a href=\"JaVaScRiPt:alert('mixed-case')\">link</a>",
    "<a href=\"jav&#x09;ascript:alert('tab')\">link</a>",
    "<a href=\"data:text/html,<script>alert('data')</script>\">data</a>",
    "<svg><script>alert('svg')</script></svg><svg onload=alert('svg-onload')>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('mxss')>",
    "<iframe srcdoc=\"<script>alert('iframe')</script>\"></iframe>",
    "<form action=\"javascript:alert('form')\"><button>go</button></form>",
    "<div style=\"background:url(javascript:alert('style'))\">styled</div>",
    "<!--<img src=x onerror=alert('comment')>-->",
    "<noscript><p title=\"</noscript><img src=x onerror=alert('noscript')>\"></noscript>",
    "<details open ontoggle=alert('details')>x</details>",
    "<object data=\"javascript:alert('object')\"></object><embed src=\"javascript:alert('embed')\">",
    "<p>unclosed <b onmouseover=alert('unclosed')>bold <a href=\"javascript:alert('x')\">",
    "<base href=\"javascript:alert('base')//\"><meta http-equiv=refresh content=\"0;url=javascript:alert('meta')\">",
    "<p>ok</p><scr<script>ipt>window.__pwned=1</scr</script>ipt>",
]
PAYLOAD_TITLE = "<script>window.__pwned='title'</script>Hostile"


def _publish_without_javascript(browser, site, body: str) -> str:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, site)
        page.goto(site.url + "/admin/posts/new")
        page.fill("input[name=title]", PAYLOAD_TITLE)
        page.fill("textarea[name=body]", body)
        page.fill("input[name=tags]", "<img src=x onerror=alert('tag')>")
        page.click("button:has-text('Publish now')")
        page.wait_for_url(re.compile(r"/admin/posts/\d+$"))
    finally:
        context.close()
    return site.query(select(Post.slug))[-1]


def _nothing_ran(page, problems) -> None:
    assert problems.dialogs == []
    assert page.evaluate("() => window.__pwned === undefined")


def _interact(page) -> None:
    """Hover, click and toggle whatever the post shows, as a curious visitor would."""
    for element in page.locator("article.post .body *").all():
        if element.is_visible() and element.bounding_box()["height"] > 0:
            element.hover()
    for link in page.locator("article.post .body a").all():
        href = (link.get_attribute("href") or "").strip().lower()
        assert not href.startswith(("javascript:", "data:", "vbscript:")), href


def test_no_hostile_input_runs_a_script_in_the_browser(browser, page, live_site):
    slug = _publish_without_javascript(browser, live_site, "\n".join(PAYLOADS))
    stored = live_site.query(select(Post.body_html))[0]

    problems = watch(page)
    for path in [f"/posts/{slug}", "/", "/tags/", "/search?q=hover"]:
        page.goto(live_site.url + path)
        _interact(page)
        _nothing_ran(page, problems)

    # The sanitiser alone, without the site's CSP: a blank page holding only the stored HTML.
    bare = page.context.new_page()
    bare_problems = watch(bare)
    bare.set_content(f"<!doctype html><article class=post><div class=body>{stored}</div></article>")
    _interact(bare)
    _nothing_ran(bare, bare_problems)
    bare.close()


def test_the_signed_in_editor_page_is_safe_with_the_hostile_post_loaded(browser, page, live_site):
    _publish_without_javascript(browser, live_site, "\n".join(PAYLOADS))
    problems = watch(page)
    sign_in(page, live_site)
    page.goto(live_site.url + "/admin/posts/1")
    page.locator("#post-form trix-editor").wait_for()
    _nothing_ran(page, problems)
    page.goto(live_site.url + "/admin/posts")
    _nothing_ran(page, problems)
    assert problems.page_errors == []

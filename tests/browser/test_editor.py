"""Writing in the real editor: toolbar formatting, publishing, feeds, incident updates, drafts, autosave."""
from __future__ import annotations

import re
from xml.etree import ElementTree as ET

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from ninerstatus.models import Post, PostStatus

from .conftest import sign_in, watch

pytestmark = pytest.mark.browser


def _editor(page):
    editor = page.locator("#post-form trix-editor")
    editor.wait_for()
    return editor


def _toolbar(page, title):
    return page.locator(f"#post-form trix-toolbar button[title='{title}']")


def write_formatted_post(page):
    """Type a post using only the editor's toolbar and keyboard: heading, bold, list and link."""
    page.fill("input[name=title]", "Mail delayed on NC036")
    editor = _editor(page)
    editor.click()
    _toolbar(page, "Heading").click()
    page.keyboard.type("What happened")
    page.keyboard.press("Enter")
    page.keyboard.type("Mail was ")
    _toolbar(page, "Bold").click()
    page.keyboard.type("delayed")
    _toolbar(page, "Bold").click()
    page.keyboard.type(" for an hour.")
    page.keyboard.press("Enter")
    _toolbar(page, "Bullets").click()
    page.keyboard.type("queued")
    page.keyboard.press("Enter")
    page.keyboard.type("delivered")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.type("Read the details")
    # Select the word as a writer would with the mouse, through Trix's own selection API.
    editor.evaluate("""element => {
        const start = element.editor.getDocument().toString().indexOf("details");
        element.editor.setSelectedRange([start, start + "details".length]);
    }""")
    _toolbar(page, "Link").click()
    page.fill("#post-form trix-toolbar input[name=href]", "https://example.org/details")
    page.press("#post-form trix-toolbar input[name=href]", "Enter")


def test_write_publish_and_read_a_formatted_post(page, live_site):
    problems = watch(page)
    sign_in(page, live_site)
    page.click("text=Write a new post")
    write_formatted_post(page)
    page.click("button:has-text('Publish now')")
    page.wait_for_url(re.compile(r"/admin/posts/\d+$"))
    assert "is published" in page.inner_text(".notice")

    body = live_site.query(select(Post.body_html))[0]
    assert "<h3>What happened</h3>" in body
    assert "<strong>delayed</strong>" in body
    assert "<ul><li>queued</li><li>delivered</li></ul>" in body
    assert '<a href="https://example.org/details" rel="noopener nofollow">details</a>' in body

    page.goto(live_site.url + "/")
    # The post's own text, below the timeline that publishing an incident starts.
    article = page.locator("article.post > div.body").first
    assert article.locator("h3").inner_text() == "What happened"
    assert article.locator("strong").inner_text() == "delayed"
    assert article.locator("ul li").all_inner_texts() == ["queued", "delivered"]
    assert article.locator("a[href='https://example.org/details']").inner_text() == "details"

    rss = ET.fromstring(page.request.get(live_site.url + "/feed.rss").body())
    description = rss.find("channel/item/description").text
    assert "<h3>What happened</h3>" in description and "<strong>delayed</strong>" in description
    assert "<li>queued</li>" in description and 'href="https://example.org/details"' in description

    assert problems.page_errors == [] and problems.console_errors == []


def test_add_an_incident_update_shown_newest_first(page, live_site):
    sign_in(page, live_site)
    page.click("text=Write a new post")
    page.fill("input[name=title]", "Web server unreachable")
    _editor(page).click()
    page.keyboard.type("We are looking into it.")
    page.click("button:has-text('Publish now')")
    page.wait_for_url(re.compile(r"/admin/posts/\d+$"))

    for state, text in [("identified", "A fibre cut upstream."), ("resolved", "Traffic moved; sites answer.")]:
        page.select_option(".update-form select[name=state]", state)
        page.locator(".update-form trix-editor").click()
        page.keyboard.type(text)
        page.click(".update-form button:has-text('Add update')")
        page.wait_for_url(re.compile(r"/admin/posts/\d+#timeline$"))

    slug = live_site.query(select(Post.slug))[0]
    page.goto(f"{live_site.url}/posts/{slug}")
    # Publishing the incident started its timeline at "Investigating".
    assert page.locator(".timeline .state").all_inner_texts() == ["Resolved", "Identified", "Investigating"]
    assert page.locator(".timeline li").first.inner_text().endswith("Traffic moved; sites answer.")
    feed = page.request.get(live_site.url + "/feed.atom").text()
    assert feed.index("Resolved") < feed.index("Identified")


def test_a_draft_stays_invisible_to_an_anonymous_browser(page, visitor, live_site):
    sign_in(page, live_site)
    page.click("text=Write a new post")
    page.fill("input[name=title]", "Secret migration plan")
    _editor(page).click()
    page.keyboard.type("Not for visitors yet.")
    page.click("button:has-text('Save draft')")
    page.wait_for_url(re.compile(r"/admin/posts/\d+$"))
    assert "is saved as a draft" in page.inner_text(".notice")
    slug = live_site.query(select(Post.slug))[0]

    response = visitor.goto(f"{live_site.url}/posts/{slug}")
    assert response.status == 404
    for path in ["/", "/search?q=migration", "/feed.rss", "/archive/", "/tags/"]:
        visitor.goto(live_site.url + path)
        assert "Secret migration plan" not in visitor.content(), path


def test_autosave_keeps_a_new_draft_while_it_is_written(page, live_site):
    sign_in(page, live_site)
    page.click("text=Write a new post")
    page.fill("input[name=title]", "Half-written notice")
    _editor(page).click()
    page.keyboard.type("The first lines")
    status = page.locator(".autosave-status")
    expect(status).to_have_text(re.compile(r"^Draft saved at"))
    page.wait_for_url(re.compile(r"/admin/posts/\d+$"))
    drafts = live_site.query(select(Post).where(Post.status == PostStatus.DRAFT))
    assert [d.title for d in drafts] == ["Half-written notice"]
    assert "The first lines" in drafts[0].body_html

    page.keyboard.type(", and more")
    expect(status).to_have_text(re.compile(r"^Unsaved changes"))
    expect(status).to_have_text(re.compile(r"^Draft saved at"))
    assert "The first lines, and more" in live_site.query(select(Post.body_html))[0]
    assert len(live_site.query(select(Post))) == 1


def test_the_editor_degrades_to_html_in_a_textarea_without_javascript(browser, live_site):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_site)
        page.goto(live_site.url + "/admin/posts/new")
        assert page.locator("trix-editor").count() == 0
        page.fill("input[name=title]", "Typed as HTML")
        page.fill("textarea[name=body]", "<h3>Plain</h3><p>It <em>works</em>.</p>")
        page.click("button:has-text('Publish now')")
        page.wait_for_url(re.compile(r"/admin/posts/\d+$"))
        assert live_site.query(select(Post.body_html)) == ["<h3>Plain</h3><p>It <em>works</em>.</p>"]
    finally:
        context.close()


WORD_PASTE = (
    '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><style>p.MsoNormal{margin:0}</style></head>'
    '<body><!--StartFragment--><p class="MsoNormal" style="margin:0cm;font-family:Calibri">'
    '<span style="font-size:14pt;color:red">Outage <b style="mso-bidi-font-weight:normal">over</b>'
    '<o:p></o:p></span></p><p class="MsoListParagraph" style="mso-list:l0 level1 lfo1">'
    '<span style="mso-list:Ignore">·<span style="font:7.0pt">&nbsp;</span></span>mail flows</p>'
    '<img src="file:///C:/Users/x/clip_image001.png"><script>window.__pwned = 1</script><!--EndFragment--></body></html>'
)


def test_paste_from_a_word_processor_comes_out_clean(page, live_site):
    problems = watch(page)
    sign_in(page, live_site)
    page.click("text=Write a new post")
    page.fill("input[name=title]", "Pasted")
    editor = _editor(page)
    editor.click()
    # A real paste: the clipboard holds what a word processor puts there, then Ctrl+V.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_site.url)
    editor.evaluate("""(element, html) => navigator.clipboard.write([new ClipboardItem({
        "text/html": new Blob([html], {type: "text/html"}),
        "text/plain": new Blob(["Outage over\\nmail flows"], {type: "text/plain"}),
    })])""", WORD_PASTE)
    page.keyboard.press("Control+V")
    expect(editor).to_contain_text("mail flows")
    page.click("button:has-text('Publish now')")
    page.wait_for_url(re.compile(r"/admin/posts/\d+$"))
    body = live_site.query(select(Post.body_html))[0]
    assert "Outage <strong>over</strong>" in body and "mail flows" in body
    for junk in ("style", "class", "Mso", "o:p", "<span", "<img", "<script", "file:", "<!--"):
        assert junk not in body, junk
    assert problems.page_errors == [] and page.evaluate("() => window.__pwned === undefined")

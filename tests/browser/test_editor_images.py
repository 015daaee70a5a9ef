"""Adding an image to a post in the real editor: upload, caption, publish, read; refusals told in place."""
from __future__ import annotations

import re

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from ninerstatus.models import Post

from .conftest import sign_in, watch

pytestmark = pytest.mark.browser

OWN_IMAGE = re.compile(r"/uploads/[0-9a-f]{32}\.png$")


def screenshot_file(tmp_path, name="queue-graph.png"):
    """A screenshot-sized PNG on disk, as staff would pick it."""
    path = tmp_path / name
    image = Image.new("RGB", (900, 500), "white")
    image.paste((200, 40, 40), (100, 100, 800, 400))
    image.save(path)
    return path


def attach(page, path):
    """Attach ``path`` with the editor's paperclip button, as a writer does."""
    with page.expect_file_chooser() as chooser:
        page.click("#post-form trix-toolbar button[data-trix-action=attachFiles]")
    chooser.value.set_files(str(path))


def write_caption(editor, text):
    """Click under the image and type its caption where Trix offers it."""
    editor.locator("figure figcaption").click()
    caption = editor.get_by_placeholder("Add a caption…").first
    caption.fill(text)
    caption.press("Enter")


def start_post(page, site, title):
    sign_in(page, site)
    page.click("text=Write a new post")
    page.fill("input[name=title]", title)
    editor = page.locator("#post-form trix-editor")
    editor.click()
    page.keyboard.type("The mail queue grew from 04:58 UTC.")
    page.keyboard.press("Enter")
    return editor


def test_an_image_attached_in_the_editor_shows_on_the_published_post(page, live_site, tmp_path):
    problems = watch(page)
    editor = start_post(page, live_site, "Mail queue on NC036")
    attach(page, screenshot_file(tmp_path))
    image = editor.locator("figure img")
    expect(image).to_have_attribute("src", OWN_IMAGE)
    expect(page.locator("#post-form .editor-note")).to_contain_text("queue-graph.png is added")
    # A caption, typed where Trix offers it under the image.
    write_caption(editor, "Queue length, 04:58 to 05:30")
    page.click("button:has-text('Publish now')")
    page.wait_for_url(re.compile(r"/admin/posts/\d+$"))

    body = live_site.query(select(Post.body_html))[0]
    src = re.search(r'<img src="([^"]+)"', body).group(1)
    assert OWN_IMAGE.search(src)
    assert f'<figure><img src="{src}" width="900" height="500"><figcaption>Queue length, 04:58 to 05:30' \
           '</figcaption></figure>' in body
    assert "data-trix" not in body and "class=" not in body

    slug = live_site.query(select(Post.slug))[0]
    page.goto(f"{live_site.url}/posts/{slug}")
    shown = page.locator("article.post figure img")
    expect(shown).to_have_attribute("src", src)
    page.wait_for_function("img => img.complete && img.naturalWidth === 900", arg=shown.element_handle())
    assert page.locator("article.post figcaption").inner_text() == "Queue length, 04:58 to 05:30"
    assert problems.console_errors == [] and problems.page_errors == []


def test_an_image_and_its_caption_survive_editing_the_post_again(page, live_site, tmp_path):
    editor = start_post(page, live_site, "Round trip")
    attach(page, screenshot_file(tmp_path))
    expect(editor.locator("figure img")).to_have_attribute("src", OWN_IMAGE)
    write_caption(editor, "First caption")
    page.click("button:has-text('Publish now')")
    page.wait_for_url(re.compile(r"/admin/posts/\d+$"))
    first = live_site.query(select(Post.body_html))[0]

    # Count the changes the page hears of: loading the post is none, not even when its image has loaded.
    page.add_init_script("window.changes = 0; document.addEventListener('trix-change', () => window.changes++)")
    page.reload()
    expect(page.locator("#post-form trix-editor figure img")).to_have_attribute("src", OWN_IMAGE)
    page.wait_for_function("""() => document.querySelector("#post-form trix-editor").editor.getDocument()
                                    .getAttachments().every(attachment => attachment.previewURL)""")
    assert page.evaluate("window.changes") == 0
    page.click("button:has-text('Update the published post')")
    page.wait_for_url(re.compile(r"/admin/posts/\d+$"))
    assert live_site.query(select(Post.body_html))[0] == first


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("diagram.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "SVG images are not"),
    ("notes.png", b"These are notes, not a picture.", "This file is not an image the site takes"),
])
def test_a_refused_file_is_explained_and_the_text_is_kept(page, live_site, tmp_path, name, content, reason):
    problems = watch(page)
    editor = start_post(page, live_site, "Refused")
    attach(page, screenshot_file(tmp_path))
    expect(editor.locator("figure img")).to_have_attribute("src", OWN_IMAGE)
    editor.locator("figure img").click()   # selected, as it is after a writer clicks it
    path = tmp_path / name
    path.write_bytes(content)
    attach(page, path)
    note = page.locator("#post-form .editor-note")
    expect(note).to_contain_text(f"{name} was not added: {reason}")
    expect(note).to_contain_text("Your text is unchanged.")
    # The refused file took nothing with it: not the text, not the image that was selected.
    expect(editor.locator("figure")).to_have_count(1)
    expect(editor.locator("figure img")).to_have_attribute("src", OWN_IMAGE)
    expect(editor).to_contain_text("The mail queue grew from 04:58 UTC.")
    assert problems.page_errors == []


def test_an_image_pasted_from_another_site_is_left_out_and_the_writer_told(page, live_site):
    editor = start_post(page, live_site, "Pasted image")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_site.url)
    editor.evaluate("""(element, html) => navigator.clipboard.write([new ClipboardItem({
        "text/html": new Blob([html], {type: "text/html"}),
        "text/plain": new Blob(["Graph from the vendor"], {type: "text/plain"}),
    })])""", '<p>Graph from the vendor</p><img src="http://127.0.0.2:9/graph.png" width="300" height="200">')
    page.keyboard.press("Control+V")
    expect(editor).to_contain_text("Graph from the vendor")
    expect(page.locator("#post-form .editor-note")).to_contain_text("An image from another place was left out")
    expect(editor.locator("figure")).to_have_count(0)
    expect(editor).to_contain_text("The mail queue grew from 04:58 UTC.")


def test_an_image_opened_on_its_own_shows_without_complaint(page, live_site, tmp_path, visitor):
    editor = start_post(page, live_site, "Opened alone")
    attach(page, screenshot_file(tmp_path))
    expect(editor.locator("figure img")).to_have_attribute("src", OWN_IMAGE)
    problems = watch(visitor)
    visitor.goto(live_site.url + editor.locator("figure img").get_attribute("src"))
    visitor.wait_for_function("() => document.images.length === 1 && document.images[0].naturalWidth === 900")
    assert problems.console_errors == [] and problems.page_errors == []

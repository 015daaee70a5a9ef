"""Images in post bodies: kept only from the site's own image store, in the editor's figure, and settled."""
from __future__ import annotations

import pytest

from ninerstatus.markup import html_to_text, sanitise_html

from .markup_samples import assert_allowed_only

SITE = "status.example"
NAME = "0123456789abcdef0123456789abcdef.png"
OWN = f"/uploads/{NAME}"

# What Trix writes for an uploaded image with a caption typed under it.
TRIX_FIGURE = (
    '<figure data-trix-attachment="{&quot;contentType&quot;:&quot;image/png&quot;,&quot;url&quot;:&quot;'
    f'{OWN}&quot;}}" data-trix-content-type="image/png" data-trix-attributes="{{&quot;caption&quot;:'
    '&quot;Queue at 04:58&quot;,&quot;presentation&quot;:&quot;gallery&quot;}" '
    'class="attachment attachment--preview attachment--png">'
    f'<img src="{OWN}" width="640" height="480">'
    '<figcaption class="attachment__caption attachment__caption--edited">Queue at 04:58</figcaption></figure>'
)


def test_an_uploaded_image_in_the_editors_figure_keeps_its_caption_and_loses_the_editors_attributes():
    clean = sanitise_html(TRIX_FIGURE, site_host=SITE)
    assert clean == \
        f'<figure><img src="{OWN}" width="640" height="480"><figcaption>Queue at 04:58</figcaption></figure>'
    assert_allowed_only(clean)


@pytest.mark.parametrize("src", [OWN, f"https://{SITE}{OWN}", f"http://{SITE}{OWN}", f"/status{OWN}",
                                 "/uploads/fedcba9876543210fedcba9876543210.jpg",
                                 "/uploads/fedcba9876543210fedcba9876543210.webp"])
def test_images_from_the_sites_own_store_are_kept(src):
    body = f'<p><img src="{src}" alt="Mail queue graph" width="320" height="200"></p>'
    assert sanitise_html(body, site_host=SITE) == body


@pytest.mark.parametrize("src", [
    f"https://evil.example{OWN}",                      # someone else's site, same path
    f"//evil.example{OWN}",                            # the same, without a scheme
    f"https://{SITE}.evil.example{OWN}",
    "https://evil.example/tracker.gif",
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGA"
    "WjR9awAAAABJRU5ErkJggg==",
    "data:image/svg+xml,<svg onload=alert(1)>",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    f"javascript:{OWN}",
    "file:///C:/Users/x/clip_image001.png",
    "/uploads/../admin/logout",
    "/uploads/notes.txt",
    "/uploads/0123456789ABCDEF0123456789ABCDEF.png",
    "/uploads/0123456789abcdef0123456789abcdef.svg",
    f"{OWN}?size=large",
    f"{OWN}#x",
    "/static/img/favicon.svg",
    "",
])
def test_images_from_anywhere_else_are_removed(src):
    clean = sanitise_html(f'<p>Before<img src="{src}" onerror="alert(1)">after</p>', site_host=SITE)
    assert clean == "<p>Beforeafter</p>"


def test_an_image_without_a_source_is_removed():
    assert sanitise_html("<p>x<img alt='nothing'>y</p>") == "<p>xy</p>"


def test_image_sizes_are_kept_only_as_numbers():
    clean = sanitise_html(f'<img src="{OWN}" width="100%" height="javascript:1" alt="a">')
    assert clean == f'<img src="{OWN}" alt="a">'


def test_image_attributes_outside_the_allowlist_are_dropped():
    clean = sanitise_html(f'<img src="{OWN}" style="position:fixed" srcset="https://evil.example/x.png 2x" '
                          f'loading="lazy" class="a" data-x="1">')
    assert clean == f'<img src="{OWN}">'


def test_a_figure_whose_image_was_foreign_keeps_only_its_caption():
    clean = sanitise_html('<figure><img src="https://evil.example/x.png"><figcaption>Graph</figcaption></figure>',
                          site_host=SITE)
    assert clean == "<figure><figcaption>Graph</figcaption></figure>"


@pytest.mark.parametrize("body", [TRIX_FIGURE, f'<a href="/x"><img src="{OWN}"></a>',
                                  f'<table><tr><td><figure><img src="{OWN}"></figure></td></tr></table>',
                                  f'<figure><figure><img src="{OWN}"></figure><p>x</p></figure>'])
def test_sanitising_a_body_with_images_twice_changes_nothing(body):
    once = sanitise_html(body, site_host=SITE)
    assert "<img" in once
    assert sanitise_html(once, site_host=SITE) == once


def test_a_caption_reads_as_its_own_words_in_plain_text():
    assert html_to_text(f"<p>Graph below</p><figure><img src='{OWN}'><figcaption>Queue</figcaption></figure>"
                        "<p>Fixed</p>") == "Graph below Queue Fixed"


def test_the_paragraph_the_editor_keeps_an_image_in_leaves_no_empty_paragraphs():
    # Trix writes <p><figure>...</figure></p>; HTML closes the paragraph before the figure.
    body = f'<p>Graph:</p><p><figure><img src="{OWN}"></figure></p><p><br></p>'
    assert sanitise_html(body) == f'<p>Graph:</p><figure><img src="{OWN}"></figure><p><br></p>'

"""WordPress bodies as stored, turned into the site's HTML: autop, block comments, shortcodes, images."""
from __future__ import annotations

from collections import Counter

import pytest

from ninerstatus.imports.autop import wpautop
from ninerstatus.imports.bodies import body_html, excerpt_text
from ninerstatus.imports.images import ImageMover
from ninerstatus.imports.shortcodes import convert_shortcodes
from ninerstatus.markup import sanitise_html


def _links_only() -> ImageMover:
    return ImageMover("https://old.example", None, lambda data: "unused", 1024)


@pytest.mark.parametrize("stored, shown", [
    ("One\ntwo", "<p>One<br />\ntwo</p>\n"),
    ("One\n\nTwo\n\n\n\nThree", "<p>One</p>\n<p>Two</p>\n<p>Three</p>\n"),
    ("One\r\n\r\nTwo", "<p>One</p>\n<p>Two</p>\n"),
    ("<pre>a\n\nb\nc</pre>", "<pre>a\n\nb\nc</pre>\n"),
    ("Intro\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>\nOutro", "<p>Intro</p>\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<p>Outro</p>\n"),
    ("<blockquote>Quoted\nlines</blockquote>", "<blockquote><p>Quoted<br />\nlines</p></blockquote>\n"),
    ('<a href="x"\ntitle="y">link</a> text', '<p><a href="x"\ntitle="y">link</a> text</p>\n'),
    ("a<br><br>b", "<p>a</p>\n<p>b</p>\n"),
    ("   \n ", ""),
])
def test_wpautop_adds_paragraphs_as_wordpress_shows_classic_posts(stored, shown):
    assert wpautop(stored) == shown


def test_block_posts_lose_their_comments_and_get_no_autop():
    stored = "<!-- wp:paragraph -->\n<p>One\ntwo</p>\n<!-- /wp:paragraph -->\n\n<!-- wp:separator /-->"
    assert body_html(stored, _links_only(), Counter(), print, None) == "<p>One\ntwo</p>"


def test_scripts_and_styles_go_with_their_code():
    stored = "<p>a</p><script>var leaked = 1;</script><STYLE type=text/css>p{}</STYLE><p>b</p>"
    assert body_html(stored, _links_only(), Counter(), print, None) == "<p>a</p>\n<p>b</p>\n"


def test_caption_with_attribute_and_dropped_media_are_counted():
    dropped = Counter()
    html = convert_shortcodes('[caption caption="A &amp; B"]<img src="a.png">[/caption][video src="v.mp4"]'
                              '[playlist ids="1"][gallery]', dropped)
    assert html == '<figure><img src="a.png"><figcaption>A & B</figcaption></figure>'
    assert dropped == {"[video]": 1, "[playlist]": 1, "[gallery]": 1}


def test_unknown_shortcodes_and_escaped_ones_stay_as_text():
    assert convert_shortcodes("[contact-form id=1] [[gallery]] [NC036]", Counter()) == \
        "[contact-form id=1] [gallery] [NC036]"


def test_embed_becomes_a_link_only_for_web_addresses():
    assert convert_shortcodes("[embed]https://v.example/1[/embed]", Counter()) == \
        '<p><a href="https://v.example/1">https://v.example/1</a></p>'
    assert convert_shortcodes("[embed]javascript:alert(1)[/embed]", Counter()) == ""


def test_images_become_links_or_their_text_inside_a_link():
    counts = Counter()
    html = _links_only().rewrite('<img src="https://old.example/wp-content/uploads/x.png" alt="X">'
                                 '<a href="/full.png"><img src="https://cdn.example/y.png"></a>', counts, print)
    assert html == ('<a href="https://old.example/wp-content/uploads/x.png">X</a>'
                    '<a href="/full.png">y.png</a>')
    assert counts == {"images kept as links": 2}


def test_uploads_outside_the_folder_are_never_read(tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    (tmp_path / "secret.png").write_bytes(b"not for import")
    read = []
    mover = ImageMover("https://old.example", folder, lambda data: read.append(data) or "n", 1024)
    html = mover.rewrite('<img src="https://old.example/wp-content/uploads/../secret.png">'
                         '<img src="https://old.example/wp-content/uploads/%2e%2e/secret.png">', Counter(), print)
    assert read == [] and "<img" not in html


def test_excerpt_is_the_written_one_as_plain_text_or_the_body_start():
    assert excerpt_text("<!-- wp:p --><b>Short</b> &amp; sweet<script>x</script>", "<p>Body</p>") == \
        "Short & sweet"
    assert excerpt_text("", sanitise_html("<p>Body text</p>")) == "Body text"

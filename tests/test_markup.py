"""Post HTML is cut down to the allowlist once, and cutting again changes nothing."""
from __future__ import annotations

import pytest

from ninerstatus.markup import html_to_text, make_excerpt, sanitise_html

HOSTILE = [
    '<script>alert(1)</script><p>ok</p>',
    '<p onclick="x()" style="color:red">ok</p>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="data:text/html,<script>1</script>">x</a>',
    '<img src=x onerror=alert(1)>',
    '<svg><script>alert(1)</script></svg>',
    '<math><mi xlink:href="javascript:1">x</mi></math>',
    '<iframe src="https://evil.example/"></iframe>',
    '<form action="/admin"><input name=x></form>',
    '<style>body{display:none}</style>',
    '<!-- comment --><p>x</p>',
    '<p><a href="https://example.org/" target="_blank" onmouseover="x">link</a></p>',
]


@pytest.mark.parametrize("dirty", HOSTILE)
def test_sanitising_removes_everything_outside_the_allowlist(dirty):
    clean = sanitise_html(dirty)
    lowered = clean.lower()
    for banned in ("<script", "onclick", "onerror", "onmouseover", "style=", "javascript:", "data:",
                   "<img", "<svg", "<math", "<iframe", "<form", "<input", "<style", "<!--", "target="):
        assert banned not in lowered, (dirty, clean)


@pytest.mark.parametrize("dirty", HOSTILE + ['<h2>T</h2><ul><li>a</li></ul><a href="mailto:a@b.c">m</a>'])
def test_sanitising_twice_changes_nothing(dirty):
    once = sanitise_html(dirty, site_host="status.example")
    assert sanitise_html(once, site_host="status.example") == once


def test_allowed_formatting_survives():
    body = ('<h2>Head</h2><p><strong>b</strong> <em>i</em> <code>c</code></p><pre>p</pre>'
            '<ol><li>1</li></ol><blockquote>q</blockquote><table><tr><td colspan="2">t</td></tr></table>')
    assert sanitise_html(body).replace("<tbody>", "").replace("</tbody>", "") == body


def test_links_leaving_the_site_get_noopener_nofollow_and_local_links_do_not():
    clean = sanitise_html('<a href="https://example.org/x">out</a> <a href="https://status.example/p">in</a> '
                          '<a href="/posts/x" rel="opener">rel</a>', site_host="status.example")
    assert '<a href="https://example.org/x" rel="noopener nofollow">out</a>' in clean
    assert '<a href="https://status.example/p">in</a>' in clean
    assert '<a href="/posts/x">rel</a>' in clean


def test_plain_text_keeps_inline_formatting_out_of_the_words():
    assert html_to_text("<p>Queue <strong>drained</strong>.</p><p>Next<br>line</p><ul><li>a</li><li>b</li></ul>") \
        == "Queue drained. Next line a b"


def test_plain_text_and_excerpt():
    body = "<p>One &amp; two</p><p>" + "word " * 100 + "</p>"
    assert html_to_text(body).startswith("One & two word")
    excerpt = make_excerpt(body, limit=50)
    assert len(excerpt) <= 51 and excerpt.endswith("…") and "<" not in excerpt


def test_code_beside_a_link_keeps_its_entities_through_any_number_of_saves():
    body = '<p><code>if a &lt; b &amp;&amp; c</code> see <a href="/x">x</a></p>'
    assert sanitise_html(body) == body
    assert sanitise_html(sanitise_html(body)) == body


def test_urls_written_as_text_stay_text_even_beside_a_link():
    body = '<p>See https://example.org/status and <a href="https://example.org/">the notice</a></p>'
    assert sanitise_html(body, site_host="status.example") == \
        '<p>See https://example.org/status and <a href="https://example.org/" rel="noopener nofollow">the notice</a></p>'


@pytest.mark.parametrize("body", ["<pre>\n\nline two</pre>", "<table><tr><td><pre>\n\n\nx</pre></td></tr></table>"])
def test_preformatted_text_drops_its_leading_blank_lines_once_and_then_stays(body):
    once = sanitise_html(body)
    assert "\n" not in once.split("<pre>")[1][:1]
    assert sanitise_html(once) == once

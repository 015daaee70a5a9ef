"""Hostile bodies: nesting is capped, markup is cut to what the allowlist can keep, and
every result is safe, well formed and left alone by a second pass.

How long the sanitiser takes on such bodies is measured in bench/sanitiser.py; here the
checks are on what comes out and on the parser's parts doing what html5lib's do.
"""
from __future__ import annotations

import random
from xml.etree import ElementTree

import bleach
import pytest
from bleach.html5lib_shim import BleachHTMLParser, getTreeWalker

from ninerstatus.bounded_html import MAX_DEPTH, MAX_VALUE_ENTITIES, BoundedParser, BoundedWalker, canonical_markup
from ninerstatus.markup import ALLOWED_ATTRIBUTES, ALLOWED_PROTOCOLS, ALLOWED_TAGS, sanitise_html

from .markup_samples import assert_allowed_only, editor_body, read_shape, tag_soup

N = 3000
DEEP = {
    "bold": "<b>" * N + "deep",
    "mixed formatting": "<i><em><strong><code>" * (N // 4) + "deep",
    "bold links (issue 9)": '<b><a href="https://evil.example/">' * N + "deep",
    "list items": "<li>" * N + "deep",
    "nested lists": "<ul><li>" * N + "deep",
    "quotes": "<blockquote>" * N + "deep",
    "tables": "<table><tr><td>" * N + "deep",
    "misnested": "<b><i></b></i>" * N + "deep",
    "scripts between": "<b><script>alert(1)</script><i><style>p{}</style><svg><blockquote><em>" * (N // 5) + "deep",
    "svg and math": "<svg><math><b><mi><script>x</script>" * (N // 5) + "deep",
    "fostered out of tables": "<table>" + "<b>x<tr><td><h2>" * (N // 3) + "deep",
    "closed again": "<b><i><ul><li><blockquote><table><tr><td>" * 200 + "deep" + "</td></tr></table></blockquote></li></ul></i></b>" * 200,
}


@pytest.mark.parametrize("body", DEEP.values(), ids=DEEP.keys())
def test_deep_nesting_comes_out_safe_well_formed_capped_and_settled(body):
    clean = sanitise_html(body, site_host="status.example")
    shape = assert_allowed_only(clean)
    assert shape.depth <= MAX_DEPTH
    assert "deep" in shape.text
    for banned in ("<script", "<style", "<svg", "<math", "<mi"):
        assert banned not in clean
    assert sanitise_html(clean, site_host="status.example") == clean


def test_only_the_tags_beyond_the_cap_are_dropped():
    body = "<b>" * (MAX_DEPTH + 40) + "x" + "</b>" * (MAX_DEPTH + 40)
    assert sanitise_html(body) == "<b>" * MAX_DEPTH + "x" + "</b>" * MAX_DEPTH


def test_a_body_just_within_the_cap_keeps_every_tag():
    body = "<blockquote>" * (MAX_DEPTH - 1) + "<p>x</p>" + "</blockquote>" * (MAX_DEPTH - 1)
    assert sanitise_html(body) == body


def test_formatting_reopened_after_a_block_counts_toward_the_cap():
    # </blockquote> closes 15 formatting elements that stay active: the next text opens
    # them again inside whatever was nested since, so they count before that nesting.
    body = "<blockquote>" + "<b><i><em><strong><code>" * 3 + "</blockquote>" + "<ul>" * MAX_DEPTH + "x"
    clean = sanitise_html(body)
    assert read_shape(clean).depth == MAX_DEPTH
    assert sanitise_html(clean) == clean


SOUP = [tag_soup(random.Random(seed)) for seed in range(400)]


def test_tag_soup_comes_out_safe_and_sanitising_it_again_changes_nothing():
    for body in SOUP:
        clean = sanitise_html(body, site_host="example.org")
        assert_allowed_only(clean)
        assert "javascript:" not in clean and "onclick" not in clean and "style=" not in clean
        assert sanitise_html(clean, site_host="example.org") == clean, body


def test_regular_html_comes_out_exactly_as_bleach_alone_makes_it():
    reference = bleach.Cleaner(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, protocols=ALLOWED_PROTOCOLS,
                               strip=True, strip_comments=True)
    for seed in range(150):
        body = editor_body(random.Random(seed))
        assert sanitise_html(body, site_host="status.example") == reference.clean(body)


def _parse_both(body: str):
    options = {"tags": ALLOWED_TAGS, "strip": True, "consume_entities": False, "namespaceHTMLElements": False}
    return BoundedParser(**options).parseFragment(body), BleachHTMLParser(**options).parseFragment(body)


def test_the_bounded_tree_builder_builds_the_tree_html5lib_builds():
    # The text gathered in pieces and the quick look for the fostering table must not
    # change a single node, text or tail, on bodies well within the cap.
    for body in SOUP + ["<table>" + "x<br>y" * 50 + "</table>", "a &amp; b" * 100]:
        ours, html5libs = _parse_both(canonical_markup(body, ALLOWED_TAGS, ALLOWED_ATTRIBUTES))
        assert ElementTree.tostring(ours) == ElementTree.tostring(html5libs), body


def test_the_bounded_walker_yields_what_html5libs_walker_yields():
    for body in SOUP[:100]:
        tree, _ = _parse_both(canonical_markup(body, ALLOWED_TAGS, ALLOWED_ATTRIBUTES))
        assert list(BoundedWalker(tree)) == list(getTreeWalker("etree")(tree)), body


def _canonical(body: str) -> str:
    return canonical_markup(body, ALLOWED_TAGS, ALLOWED_ATTRIBUTES)


def test_canonical_markup_keeps_only_attributes_the_allowlist_could_keep():
    assert _canonical('<A HREF="x" href=y TiTle=\'q\' onclick="z()" data-x=1>l</A >') == '<A href="x" title=\'q\'>l</A>'
    assert _canonical('<p class=x style="color:red">t</p><td colspan=2 rowspan = "3">') == \
        '<p>t</p><td colspan=2 rowspan="3">'
    assert _canonical("<p " + " ".join(f"a{i}" for i in range(5000)) + ">x") == "<p>x"


def test_canonical_markup_empties_comments_doctypes_and_bogus_tags():
    assert _canonical("<!-- c -->a<!DOCTYPE html>b<?php x ?>c<!-->d<!--- -- --!>e<!-- open") == \
        "<!---->a<!---->b<!---->c<!---->d<!---->e<!---->"
    assert _canonical("<" + "x" * 5000 + " a=1>t") == "<!---->t"


def test_canonical_markup_reads_quoted_values_as_html5lib_does():
    # ">" inside a quoted value does not end the tag, and an end tag's attributes go.
    assert _canonical('<a title="a>b" href=\'c>d\'>x</a title="y>z">') == '<a title="a>b" href=\'c>d\'>x</a>'
    assert _canonical('<a href="x"title="y">') == '<a href="x" title="y">'


def test_canonical_markup_turns_a_tag_cut_off_at_the_end_into_text():
    assert _canonical('ok <a href="x <b>bold</b>') == 'ok &lt;a href="x &lt;b>bold&lt;/b>'
    assert sanitise_html('ok <a href="x <b>bold</b>') == 'ok &lt;a href="x &lt;b&gt;bold&lt;/b&gt;'


def test_canonical_markup_keeps_an_end_tag_without_a_name_as_text_like_bleach():
    assert sanitise_html("a </ x> b") == "a &lt;/ x&gt; b"


def test_an_attribute_value_with_too_many_entities_is_dropped():
    kept = '<a href="/x?' + "&amp;" * MAX_VALUE_ENTITIES + '">l</a>'
    dropped = '<a href="/x?' + "&amp;" * (MAX_VALUE_ENTITIES + 1) + '">l</a>'
    assert sanitise_html(kept) == kept
    assert sanitise_html(dropped) == "<a>l</a>"


def test_sanitised_bodies_are_already_canonical():
    for body in SOUP + list(DEEP.values()):
        clean = sanitise_html(body, site_host="example.org")
        assert _canonical(clean) == clean

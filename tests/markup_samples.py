"""Bodies to sanitise, and sanitised HTML read back with the standard library's parser."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from html.parser import HTMLParser

from ninerstatus.markup import ALLOWED_ATTRIBUTES, ALLOWED_TAGS

VOID = {"br", "img"}


def tag_soup(rng: random.Random) -> str:
    """Tag soup: allowed and banned tags, stray end tags, attributes good and bad, text."""
    tags = sorted(ALLOWED_TAGS) + ["div", "span", "script", "style", "svg", "math", "img", "iframe", "form",
                                   "textarea", "title", "select", "h1", "caption", "body", "html", "xmp"]
    attributes = ['href="https://example.org/?a=1&amp;b=2"', "href='/local'", "href=javascript:alert(1)",
                  'title="a &quot;q&quot; <b>"', "colspan=2", 'rel="opener"', 'onclick="x()"', 'style="color:red"',
                  'HREF="HTTP://Y.EXAMPLE"', "title='a\"b'", "href"]
    text = ["x", " ", "&amp;", "&lt;", "&", "a < b", "&nbsp;", "\n", "é", "&bogus;", ">", "https://example.org/"]
    out = []
    for _ in range(rng.randint(1, 60)):
        roll = rng.random()
        if roll < 0.35:
            chosen = " ".join(rng.sample(attributes, rng.randint(0, 2)))
            out.append(f"<{rng.choice(tags)}{' ' + chosen if chosen else ''}>")
        elif roll < 0.6:
            out.append(f"</{rng.choice(tags)}>")
        elif roll < 0.64:
            out.append(rng.choice(["<!-- c -->", "<!DOCTYPE html>", "<?x?>", "</ x>", "<!-->", "<![CDATA[x]]>"]))
        else:
            out.append(rng.choice(text))
    return "".join(out)


def editor_body(rng: random.Random) -> str:
    """A body as the editor writes it: well nested, local links, entities, a table, code."""
    def inline(depth=0):
        parts = []
        for _ in range(rng.randint(1, 4)):
            roll = rng.random()
            if roll < 0.5 or depth > 2:
                parts.append(rng.choice(["Mail", " was ", "delayed", " &amp; ", "queued", "&lt;x&gt;", "é", " "]))
            elif roll < 0.8:
                tag = rng.choice(["strong", "em", "b", "i", "code"])
                parts.append(f"<{tag}>{inline(depth + 1)}</{tag}>")
            elif roll < 0.9:
                parts.append(f'<a href="/posts/{rng.randint(1, 9)}" title="t{rng.randint(1, 9)}">{inline(3)}</a>')
            else:
                parts.append("<br>")
        return "".join(parts)

    blocks = []
    for _ in range(rng.randint(1, 6)):
        kind = rng.choice(["p", "h2", "h3", "ul", "ol", "blockquote", "table", "pre"])
        if kind in ("ul", "ol"):
            blocks.append(f"<{kind}>" + "".join(f"<li>{inline()}</li>" for _ in range(3)) + f"</{kind}>")
        elif kind == "blockquote":
            blocks.append(f"<blockquote><p>{inline()}</p></blockquote>")
        elif kind == "table":
            blocks.append('<table><thead><tr><th colspan="2">Server</th></tr></thead><tbody>'
                          + f"<tr><td>{inline()}</td><td>{inline()}</td></tr></tbody></table>")
        elif kind == "pre":
            blocks.append("<pre><code>if a &lt; b &amp;&amp; c:\n    go()</code></pre>")
        else:
            blocks.append(f"<{kind}>{inline()}</{kind}>")
    return "\n".join(blocks)


@dataclass
class Shape:
    """What a body holds: each tag and attribute used, how deep it nests, and its text."""

    tags: set[str] = field(default_factory=set)
    attributes: set[tuple[str, str]] = field(default_factory=set)
    depth: int = 0
    text: str = ""


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.shape = Shape()
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.shape.tags.add(tag)
        self.shape.attributes.update((tag, name) for name, _ in attrs)
        if tag not in VOID:
            self.open.append(tag)
            self.shape.depth = max(self.shape.depth, len(self.open))

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()

    def handle_data(self, data):
        self.shape.text += data

    def handle_comment(self, data):
        raise AssertionError(f"a comment came through: {data!r}")

    def handle_decl(self, decl):
        raise AssertionError(f"a declaration came through: {decl!r}")

    def unknown_decl(self, data):
        raise AssertionError(f"a declaration came through: {data!r}")

    def handle_pi(self, data):
        raise AssertionError(f"a processing instruction came through: {data!r}")


def read_shape(body: str) -> Shape:
    """The shape of ``body``, which must be well formed: every tag closed, in order."""
    reader = _Reader()
    reader.feed(body)
    reader.close()
    assert not reader.open, f"left open: {reader.open}"
    return reader.shape


def assert_allowed_only(body: str) -> Shape:
    """Check that ``body`` is well formed and holds only allowlisted tags and attributes."""
    shape = read_shape(body)
    assert shape.tags <= ALLOWED_TAGS, shape.tags - ALLOWED_TAGS
    allowed = {(tag, name) for tag, names in ALLOWED_ATTRIBUTES.items() for name in names}
    assert shape.attributes <= allowed, shape.attributes - allowed
    return shape

"""WordPress's ``wpautop``: paragraphs and line breaks from the bare line breaks of a classic-editor body.

The classic editor stores text as typed, with blank lines between paragraphs
and single line breaks inside them; WordPress adds the ``<p>`` and ``<br />``
each time it shows the post. This is the same function in Python, step by
step (wp-includes/formatting.php), so an imported post reads as it did:
``<pre>`` blocks are left alone, block-level tags are never wrapped in a
paragraph, and line breaks inside a tag are not touched.
"""
from __future__ import annotations

import re

_ALL_BLOCKS = (r"(?:table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|form|map|area"
               r"|blockquote|address|style|p|h[1-6]|hr|fieldset|legend|section|article|aside|hgroup|header|footer"
               r"|nav|figure|figcaption|details|menu|summary)")
_PRE_PLACEHOLDER = "<pre wp-pre-tag-{}></pre>"
_NEWLINE_MARK = " <!-- wpnl --> "
# A tag or a comment, as wp_html_split finds them (the text between is left as it is).
_TAG_OR_COMMENT = re.compile(r"<!--.*?-->|<[^>]*>", re.DOTALL)

_DOUBLE_BR = re.compile(r"<br\s*/?>\s*<br\s*/?>")
_BLOCK_OPEN = re.compile(rf"(<{_ALL_BLOCKS}[\s/>])")
_BLOCK_CLOSE = re.compile(rf"(</{_ALL_BLOCKS}>)")
_HR = re.compile(r"(<hr\s*?/?>)")
_OPTION_BEFORE = re.compile(r"\s*<option")
_OPTION_AFTER = re.compile(r"</option>\s*")
_MANY_NEWLINES = re.compile(r"\n\n+")
_PARAGRAPH_SPLIT = re.compile(r"\n\s*\n")
_EMPTY_P = re.compile(r"<p>\s*</p>")
_UNCLOSED_IN_DIV = re.compile(r"<p>([^<]+)</(div|address|form)>")
_WRAPPED_BLOCK = re.compile(rf"<p>\s*(</?{_ALL_BLOCKS}[^>]*>)\s*</p>")
_WRAPPED_LI = re.compile(r"<p>(<li.+?)</p>")
_P_BLOCKQUOTE = re.compile(r"<p><blockquote([^>]*)>", re.IGNORECASE)
_P_BEFORE_BLOCK = re.compile(rf"<p>\s*(</?{_ALL_BLOCKS}[^>]*>)")
_P_AFTER_BLOCK = re.compile(rf"(</?{_ALL_BLOCKS}[^>]*>)\s*</p>")
_KEEP_NEWLINES = re.compile(r"<(script|style|svg|math).*?</\1>", re.DOTALL)
_BARE_NEWLINE = re.compile(r"(?<!<br />)\s*\n")
_BR_AFTER_BLOCK = re.compile(rf"(</?{_ALL_BLOCKS}[^>]*>)\s*<br />")
_BR_BEFORE_BLOCK = re.compile(r"<br />(\s*</?(?:p|li|div|dl|dd|dt|th|pre|td|ul|ol)[^>]*>)")
_FINAL_NEWLINE = re.compile(r"\n</p>$")


def _set_pre_aside(text: str) -> tuple[str, dict[str, str]]:
    """``text`` with each ``<pre>...</pre>`` replaced by a placeholder, and the placeholders' contents."""
    if "<pre" not in text:
        return text, {}
    parts = text.split("</pre>")
    last = parts.pop()
    kept: dict[str, str] = {}
    out = []
    for part in parts:
        start = part.find("<pre")
        if start == -1:  # a </pre> without its <pre>: leave it be, as WordPress does
            out.append(part)
            continue
        name = _PRE_PLACEHOLDER.format(len(kept))
        kept[name] = part[start:] + "</pre>"
        out.append(part[:start] + name)
    out.append(last)
    return "".join(out), kept


def _mark_newlines_in_tags(text: str) -> str:
    return _TAG_OR_COMMENT.sub(lambda m: m.group(0).replace("\n", _NEWLINE_MARK), text)


def wpautop(text: str) -> str:
    """Return ``text`` with paragraphs and line breaks added the way WordPress shows a classic post."""
    if not text.strip():
        return ""
    text, pre_tags = _set_pre_aside(text + "\n")
    text = _DOUBLE_BR.sub("\n\n", text)
    text = _BLOCK_OPEN.sub("\n\n\\1", text)
    text = _BLOCK_CLOSE.sub("\\1\n\n", text)
    text = _HR.sub("\\1\n\n", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _mark_newlines_in_tags(text)
    if "<option" in text:
        text = _OPTION_AFTER.sub("</option>", _OPTION_BEFORE.sub("<option", text))
    text = _MANY_NEWLINES.sub("\n\n", text)
    paragraphs = [p for p in _PARAGRAPH_SPLIT.split(text) if p]
    text = "".join(f"<p>{p.strip(chr(10))}</p>\n" for p in paragraphs)
    text = _EMPTY_P.sub("", text)
    text = _UNCLOSED_IN_DIV.sub("<p>\\1</p></\\2>", text)
    text = _WRAPPED_BLOCK.sub("\\1", text)
    text = _WRAPPED_LI.sub("\\1", text)
    text = _P_BLOCKQUOTE.sub("<blockquote\\1><p>", text)
    text = text.replace("</blockquote></p>", "</p></blockquote>")
    text = _P_BEFORE_BLOCK.sub("\\1", text)
    text = _P_AFTER_BLOCK.sub("\\1", text)
    text = _KEEP_NEWLINES.sub(lambda m: m.group(0).replace("\n", "<WPPreserveNewline />"), text)
    text = text.replace("<br>", "<br />").replace("<br/>", "<br />")
    text = _BARE_NEWLINE.sub("<br />\n", text)
    text = text.replace("<WPPreserveNewline />", "\n")
    text = _BR_AFTER_BLOCK.sub("\\1", text)
    text = _BR_BEFORE_BLOCK.sub("\\1", text)
    text = _FINAL_NEWLINE.sub("</p>", text)
    for name, block in pre_tags.items():
        text = text.replace(name, block)
    if "<!-- wpnl -->" in text:
        text = text.replace(_NEWLINE_MARK, "\n").replace("<!-- wpnl -->", "\n")
    return text

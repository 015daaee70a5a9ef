"""Reading the status summary (public/_summary.html) out of a served page, as text."""
from __future__ import annotations

import re


def as_text(html: str) -> str:
    """``html`` without its tags, its whitespace squeezed and its entities for quotes undone."""
    text = re.sub(r"<[^>]+>", "", html).replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")
    return " ".join(text.split())


def summary_html(page: str) -> str:
    """The summary section of ``page``; fails when the page has none."""
    match = re.search(r'<section class="summary[^"]*".*?</section>', page, re.S)
    assert match, "the page has no status summary"
    return match.group(0)


def summary_class(page: str) -> str:
    """The summary's class attribute, e.g. "summary summary-partial-outage"."""
    return re.search(r'<section class="(summary[^"]*)"', page).group(1)


def headline(page: str) -> str:
    """The summary's first line, e.g. "Partial outage since 14:02 UTC"."""
    return as_text(re.search(r'<p class="summary-headline".*?</p>', summary_html(page), re.S).group(0))


def summary_items(page: str) -> list[str]:
    """Each open incident and maintenance window the summary lists, as text."""
    return [as_text(item) for item in re.findall(r'<li class="summary-post.*?</li>', summary_html(page), re.S)]

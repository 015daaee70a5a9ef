"""The editor says what state a post is in, in plain sentences."""
from __future__ import annotations

import re

import pytest

from .test_post_editor import _write


def status_and_notice(auth, response) -> tuple[str, str]:
    """The editor's status line and its notice, after saving, with the markup taken out."""
    page = auth.client.get(response.headers["Location"]).get_data(as_text=True)
    status = re.search(r'<p class="post-status">(.*?)</p>', page, flags=re.S).group(1)
    notice = re.search(r'<p class="notice[^"]*"[^>]*>(.*?)</p>', page, flags=re.S).group(1)
    return (" ".join(re.sub(r"<[^>]+>", "", text).split()) for text in (status, notice))


@pytest.mark.parametrize("action, status, notice", [
    # The incident's first save also starts its timeline, and says so.
    ("draft", "This post is a draft.", "“Mail delayed” is saved as a draft. Its timeline now says “Investigating”."),
    ("publish", "This post is published (",
     "“Mail delayed” is published. Visitors can read it now. Its timeline now says “Investigating”."),
])
def test_the_editor_says_what_the_post_is(auth, action, status, notice):
    auth.login()
    shown_status, shown_notice = status_and_notice(auth, _write(auth, action=action))
    assert shown_status.startswith(status) and " ." not in shown_status
    assert shown_notice == notice

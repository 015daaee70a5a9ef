"""Revision diffs: each version shows, as escaped plain text, what it changed and how it differs from now."""
from __future__ import annotations

from sqlalchemy import select

from ninerstatus.admin.diffs import (CONTEXT_WORDS, DELETED, INSERTED, MAX_CHARACTERS, SAME, SKIPPED, diff_html,
                                     diff_text, html_lines)
from ninerstatus.extensions import db
from ninerstatus.models import Post
from .accounts import EDITOR_EMAIL


def kinds(diff) -> list[tuple[str, str]]:
    return [(piece.kind, piece.text) for piece in diff.pieces]


def test_a_body_is_read_as_one_line_of_plain_text_per_block():
    assert html_lines("<h3>What happened</h3><p>Mail was <strong>late</strong> &amp; slow.</p>"
                      "<ul><li>queued</li><li>delivered</li></ul><p>a<br>b</p>") == [
        "What happened", "Mail was late & slow.", "queued", "delivered", "a", "b"]


def test_changed_words_are_marked_and_unchanged_lines_kept():
    diff = diff_html("<p>Mail was delayed for an hour.</p><p>No mail was lost.</p>",
                     "<p>Mail was badly delayed for two hours.</p><p>No mail was lost.</p>")
    assert kinds(diff) == [(SAME, "Mail was "), (INSERTED, "badly "), (SAME, "delayed for "),
                           (DELETED, "an hour.\n"), (INSERTED, "two hours.\n"), (SAME, "No mail was lost.\n")]
    assert diff.changed and not diff.cut


def test_added_and_removed_lines_are_whole_pieces():
    diff = diff_html("<p>one</p><p>two</p>", "<p>one</p><p>three</p><p>two</p>")
    assert kinds(diff) == [(SAME, "one\n"), (INSERTED, "three\n"), (SAME, "two\n")]
    assert not diff_html("<p>same</p>", "<p>same</p>").changed


def test_long_unchanged_text_is_cut_to_the_words_around_each_change():
    filler = " ".join(f"word{n}" for n in range(200))
    diff = diff_html(f"<p>start</p><p>{filler}</p><p>end</p>", f"<p>begin</p><p>{filler}</p><p>end!</p>")
    skipped = [piece.text for piece in diff.pieces if piece.kind == SKIPPED]
    assert skipped == [f"{200 - 2 * CONTEXT_WORDS} unchanged words"]
    shown = "".join(piece.text for piece in diff.pieces if piece.kind == SAME)
    assert "word0 " in shown and "word199" in shown and "word100 " not in shown


def test_a_very_long_post_is_compared_only_up_to_a_bound():
    long_line = "x " * MAX_CHARACTERS
    diff = diff_html(f"<p>{long_line}</p>", f"<p>{long_line}</p><p>tail</p>")
    assert diff.cut
    assert sum(len(piece.text) for piece in diff.pieces) <= 2 * MAX_CHARACTERS


def test_titles_are_compared_word_by_word():
    assert kinds(diff_text("Mail delayed", "Mail delayed on NC036")) == [(SAME, "Mail delayed "),
                                                                         (INSERTED, "on NC036")]


def _save(auth, title, body, path="/admin/posts/new"):
    return auth.post(path, {"title": title, "body": body, "kind": "notice", "action": "publish"})


def revision_page(app, auth, index: int) -> str:
    """The page of the post's revision ``index`` (0 is the newest)."""
    with app.app_context():
        post = db.session.scalar(select(Post))
        post_id, revision_id = post.id, post.revisions[index].id
    return auth.client.get(f"/admin/posts/{post_id}/revisions/{revision_id}").get_data(as_text=True)


def test_a_revision_shows_what_it_changed_escaped_and_how_it_differs_from_now(app, auth):
    auth.login()
    _save(auth, "Mail delayed", "<p>Mail was delayed.</p>")
    with app.app_context():
        post_id = db.session.scalar(select(Post.id))
    _save(auth, "Mail delayed <again>", "<p>Mail was delayed &lt;script&gt;alert(1)&lt;/script&gt;.</p>",
          f"/admin/posts/{post_id}")
    _save(auth, "Mail delayed <again>", "<p>Mail flows again.</p>", f"/admin/posts/{post_id}")

    middle = revision_page(app, auth, 1)
    changed = middle[middle.index('id="changes-from-before"'):middle.index('id="changes-to-current"')]
    assert "<ins>&lt;again&gt;</ins>" in changed
    assert "<ins>delayed &lt;script&gt;alert(1)&lt;/script&gt;.\n</ins>" in changed
    assert "<del>delayed.\n</del>" in changed and "<script" not in changed
    to_now = middle[middle.index('id="changes-to-current"'):]
    assert "Mail <del>was delayed &lt;script&gt;alert(1)&lt;/script&gt;.\n</del><ins>flows again.\n</ins>" in to_now

    first = revision_page(app, auth, 2)
    assert "This is the first version kept." in first
    newest = revision_page(app, auth, 0)
    assert "The current title and text are the same as this version." in newest


def test_revision_diffs_are_for_admins(app, auth):
    auth.login()
    _save(auth, "One", "<p>one</p>")
    with app.app_context():
        post = db.session.scalar(select(Post))
        path = f"/admin/posts/{post.id}/revisions/{post.revisions[0].id}"
    auth.logout()
    auth.login(EDITOR_EMAIL)
    assert auth.client.get(path).status_code == 403

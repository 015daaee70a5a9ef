"""Importing WordPress exports: every post as it should be, re-imports, dry runs and hostile or broken files."""
from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest
from PIL import Image
from sqlalchemy import select

from ninerstatus.extensions import db
from ninerstatus.imports.models import ImportedItem
from ninerstatus.imports.wordpress import ImportRefused
from ninerstatus.models import Post, PostKind, PostStatus, Role, User

from ..admin.accounts import add_user
from ..factories import make_server
from .wxr_files import FIXTURES, STATUS_BLOG, STATUS_BLOG_POSTS, WXR_11, counts, post_titled, run_import


def _utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


@pytest.fixture
def servers(app):
    """The servers NC020 and NC036 (NC041, named in a title, does not exist)."""
    with app.app_context():
        make_server("NC020", role="FTP server")
        make_server("NC036")


def test_block_post_is_imported_with_its_fields_tags_server_and_author(app, servers):
    run_import(app)
    with app.app_context():
        post = post_titled("NC036: Migration update 25 — Final")
        assert post.slug == "nc036-migration-update-25-final"
        assert post.status is PostStatus.PUBLISHED and post.kind is PostKind.INCIDENT
        assert post.published_at == _utc(2018, 6, 20, 14, 3, 11)
        assert "wp:" not in post.body_html and "<!--" not in post.body_html
        assert "<strong>complete</strong>" in post.body_html
        assert "<ul><li>IMAP: done</li><li>POP: done</li></ul>" in post.body_html
        # Without --uploads the old site's image is a link to where it was.
        assert ('<a href="https://status.ninernet.example/wp-content/uploads/2018/06/rack.png" '
                'rel="noopener nofollow">The new rack</a>') in post.body_html
        assert "<img" not in post.body_html
        assert post.excerpt == "All mail is on NC036 now."
        assert [t.name for t in post.tags] == ["Migration & moves", "email"]
        assert [s.code for s in post.servers] == ["NC036"]
        assert post.author.email == "ann@example.com"


def test_classic_post_gets_paragraphs_line_breaks_and_plain_html_for_shortcodes(app, servers):
    summary = run_import(app)
    with app.app_context():
        post = post_titled("NC020: Reboot")
        body = post.body_html
        assert body.startswith("<p>Due to an issue with the FTP server on NC020 we rebooted it at 00:27 UTC.<br>\n"
                               "It was back online at 00:28.</p>")
        # Blank lines inside <pre> stay; no paragraph or line break is added there.
        assert "<pre>service vsftpd stop\n\nreboot</pre>" in body
        assert ("<figure><a href=\"https://status.ninernet.example/wp-content/uploads/2018/05/console.png\" "
                "rel=\"noopener nofollow\">Console</a>\n<figcaption>The console after the reboot</figcaption>\n</figure>"
                in body)
        assert "[gallery" not in body and "[audio" not in body and "beep.mp3" not in body
        assert "Literal: [caption] stays." in body
        assert [t.name for t in post.tags] == ["Servers"]  # "Uncategorized" says nothing
        assert [s.code for s in post.servers] == ["NC020"]
        assert post.author.email == "zoe@example.com"
    assert summary.media["[gallery]"] == 1 and summary.media["[audio]"] == 1
    assert summary.media["images kept as links"] == 3  # and the hostile post's <img src="x">


def test_non_ascii_emoji_and_a_cdata_end_split_across_sections_survive(app):
    run_import(app)
    with app.app_context():
        post = post_titled("Été 🚀: Ünïcödé & CDATA")
        assert post.slug == "ete-unicode"
        assert "Emoji 🚀 and “quotes” — and a CDATA end marker: ]]&gt; in the text." in post.body_html
        assert [(t.name, t.slug) for t in post.tags] == [("Été", "ete")]


def test_hostile_html_in_a_body_is_sanitised(app):
    run_import(app)
    with app.app_context():
        body = post_titled("Hostile body").body_html
    assert "Click" in body and "styled" in body
    for bad in ("<script", "onclick", "onerror", "javascript:", "<iframe", "<svg", "<style", "style=", "hostile="):
        assert bad not in body


def test_states_map_to_published_scheduled_and_never_visible_drafts(app):
    summary = run_import(app)
    with app.app_context():
        maintenance = post_titled("Planned maintenance of NC041")
        assert maintenance.status is PostStatus.SCHEDULED and maintenance.kind is PostKind.MAINTENANCE
        assert maintenance.published_at == _utc(2040, 12, 1, 1, 0)
        assert maintenance.servers == []  # no such server here
        for title in ("Half-written draft", "Waiting for review", "Internal: root passwords rotated",
                      "Customers only"):
            post = post_titled(title)
            assert post.status is PostStatus.DRAFT and post.published_at is None, title
            assert not post.is_visible()
        assert post_titled("Half-written draft").slug == "half-written-draft"
        assert db.session.scalar(select(Post).where(Post.title == "Old and binned")) is None
    assert summary.imported == STATUS_BLOG_POSTS
    assert summary.drafts == {"private": 1, "password-protected": 1, "pending review": 1}


def test_summary_counts_what_was_skipped_and_lists_pages(app):
    summary = run_import(app)
    assert summary.skipped == {"posts in the trash": 1, "pages": 1, "attachments (media library entries)": 1,
                               "menu items": 1, "templates": 1, "block styles": 1, "comments": 2}
    assert summary.pages == ["About us"]
    text = "\n".join(summary.lines())
    assert f"Posts: {STATUS_BLOG_POSTS} imported, 0 updated, 0 unchanged." in text
    assert "  - About us" in text
    assert "1 private post was imported as a draft" in text


def test_missing_authors_get_disabled_accounts_without_a_password(app):
    with app.app_context():
        add_user("ANN@example.com", Role.ADMIN, "Ann")
    summary = run_import(app)
    assert summary.accounts_created == ["zoe@example.com"]
    with app.app_context():
        zoe = db.session.scalars(select(User).where(User.email == "zoe@example.com")).one()
        assert not zoe.is_active and zoe.role is Role.EDITOR and zoe.name == "Zoë Ops"
        assert not zoe.check_password("") and not zoe.check_password("!")
        assert post_titled("NC036: Migration update 25 — Final").author.email == "ANN@example.com"


def test_every_post_goes_to_the_author_option(app):
    with app.app_context():
        add_user("editor@example.net", Role.EDITOR)
    summary = run_import(app, author_email="Editor@example.net")
    assert summary.accounts_created == []
    with app.app_context():
        authors = {post.author.email for post in db.session.scalars(select(Post))}
    assert authors == {"editor@example.net"}


def test_reimporting_the_same_file_changes_nothing(app, servers):
    run_import(app)
    with app.app_context():
        before = counts(), {p.id: (p.updated_at, p.slug) for p in db.session.scalars(select(Post))}
    summary = run_import(app)
    with app.app_context():
        after = counts(), {p.id: (p.updated_at, p.slug) for p in db.session.scalars(select(Post))}
    assert after == before
    assert (summary.imported, summary.updated, summary.unchanged) == (0, 0, STATUS_BLOG_POSTS)
    assert summary.accounts_created == [] and summary.tags_created == 0


def test_a_post_changed_in_wordpress_is_updated_in_place(app, tmp_path):
    run_import(app)
    with app.app_context():
        post_id = post_titled("Hostile body").id
    changed = tmp_path / "changed.xml"
    changed.write_bytes(STATUS_BLOG.read_bytes().replace(b"<![CDATA[Hostile body]]>", b"<![CDATA[Tamed body]]>"))
    summary = run_import(app, changed)
    assert (summary.imported, summary.updated, summary.unchanged) == (0, 1, STATUS_BLOG_POSTS - 1)
    with app.app_context():
        post = post_titled("Tamed body")
        assert post.id == post_id and post.slug == "hostile"


def test_a_post_deleted_here_is_not_brought_back(app):
    run_import(app)
    with app.app_context():
        db.session.delete(post_titled("Hostile body"))
        db.session.commit()
    summary = run_import(app)
    assert summary.skipped["posts deleted here since an earlier import"] == 1
    with app.app_context():
        assert db.session.scalar(select(Post).where(Post.title == "Hostile body")) is None


def test_dry_run_reports_and_changes_nothing(app):
    summary = run_import(app, dry_run=True)
    assert summary.imported == STATUS_BLOG_POSTS
    assert "Dry run: nothing was changed." in summary.lines()
    assert "Posts: 9 would be imported, 0 would be updated, 0 unchanged." in summary.lines()
    with app.app_context():
        assert counts() == (0, 0, 0)
        assert db.session.scalar(select(ImportedItem)) is None


def test_wxr_1_1_with_several_servers_in_a_title(app):
    with app.app_context():
        make_server("NC031")
        make_server("NC036")
    summary = run_import(app, WXR_11)
    assert summary.imported == 1
    with app.app_context():
        post = post_titled("NC031, NC036: Data centre power failure")
        assert sorted(s.code for s in post.servers) == ["NC031", "NC036"]
        assert post.body_html == ("<p>The data centre lost power at 09:02.<br>\nGenerators took over at 09:04.</p>\n"
                                  "<p>Everything is back.</p>\n")
        assert [t.name for t in post.tags] == ["Outages"]
        assert post.published_at == _utc(2012, 3, 4, 9, 15)


@pytest.mark.parametrize("name", ["xxe.xml", "billion-laughs.xml"])
def test_entity_declarations_are_refused_and_nothing_is_imported(app, name):
    with pytest.raises(ImportRefused, match="declares XML entities"):
        run_import(app, FIXTURES / name)
    with app.app_context():
        assert counts() == (0, 0, 0)


def test_a_file_cut_in_the_middle_imports_nothing(app, tmp_path):
    data = STATUS_BLOG.read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(data[:len(data) * 2 // 3])  # several posts are complete before the cut
    with pytest.raises(ImportRefused, match=r"line \d+: not well-formed XML"):
        run_import(app, cut)
    with app.app_context():
        assert counts() == (0, 0, 0)
        assert db.session.scalar(select(ImportedItem)) is None


def _png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "PNG")
    return out.getvalue()


def test_images_are_copied_from_the_uploads_folder_into_the_store(app, tmp_path):
    uploads = tmp_path / "wp-uploads"
    (uploads / "2018" / "06").mkdir(parents=True)
    (uploads / "2018" / "06" / "rack.png").write_bytes(_png("red"))
    (tmp_path / "outside.png").write_bytes(_png("blue"))
    summary = run_import(app, uploads=uploads)
    with app.app_context():
        body = post_titled("NC036: Migration update 25 — Final").body_html
    stored = sorted((tmp_path / "uploads").iterdir())
    assert len(stored) == 1
    assert f'<img src="/uploads/{stored[0].name}" alt="The new rack">' in body
    assert summary.media["images copied"] == 1
    # The reboot post's pictures are not in the folder: links, and a warning for each.
    assert summary.media["images kept as links"] == 2
    assert any("console-300x200.png: not in the uploads folder" in w for w in summary.warnings)


def test_unreadable_file_is_refused(app, tmp_path):
    with pytest.raises(ImportRefused, match="No such file"):
        run_import(app, tmp_path / "missing.xml")


def test_command_prints_the_summary(app, runner, servers):
    result = runner.invoke(args=["import", "wordpress", str(STATUS_BLOG)])
    assert result.exit_code == 0, result.output
    assert f"Posts: {STATUS_BLOG_POSTS} imported, 0 updated, 0 unchanged." in result.output
    again = runner.invoke(args=["import", "wordpress", str(STATUS_BLOG), "--dry-run"])
    assert again.exit_code == 0
    assert f"Posts: 0 would be imported, 0 would be updated, {STATUS_BLOG_POSTS} unchanged." in again.output


def test_command_fails_only_on_a_file_it_cannot_read(app, runner):
    refused = runner.invoke(args=["import", "wordpress", str(FIXTURES / "xxe.xml")])
    assert refused.exit_code == 1
    assert "declares XML entities" in refused.output and "nothing was imported" in refused.output
    unknown = runner.invoke(args=["import", "wordpress", str(STATUS_BLOG), "--author", "nobody@example.net"])
    assert unknown.exit_code == 2 and "no account has the address nobody@example.net" in unknown.output

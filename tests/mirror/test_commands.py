"""``ninerstatus export-static`` and ``ninerstatus mirror`` as an operator runs them."""
from __future__ import annotations

from ..factories import make_post
from .conftest import page_links


def test_export_static_writes_the_site_and_sends_search_to_the_live_site(ctx, runner, tmp_path):
    make_post("Mail delays")
    ctx.config["SITE_URL"] = "https://status.example.net/"
    target = tmp_path / "mirror"

    result = runner.invoke(args=["export-static", str(target), "--base-url", "https://mirror.example.net/status/"])

    assert result.exit_code == 0, result.output
    assert f"{target} now serves it" in result.output
    page = (target / "posts" / "mail-delays" / "index.html").read_bytes()
    assert page_links(page).form_actions == ["https://status.example.net/search",
                                             "https://status.example.net/subscribe"]
    assert b"Search runs on the live site." in page
    assert b'href="/status/tags/"' in page


def test_export_static_refuses_a_base_url_it_cannot_use(ctx, runner, tmp_path):
    result = runner.invoke(args=["export-static", str(tmp_path / "mirror"), "--base-url", "mirror.example.net"])

    assert result.exit_code == 2
    assert "is not a base address" in result.output
    assert not (tmp_path / "mirror").exists()


def test_commands_never_replace_a_real_folder(ctx, runner, tmp_path):
    target = tmp_path / "www"
    target.mkdir()
    (target / "index.html").write_text("the operator's own page")

    for command in (["export-static", str(target)], ["mirror", str(target), "--every", "5"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 1, result.output
        assert "is not a link made by an earlier export" in result.output
    assert (target / "index.html").read_text() == "the operator's own page"
    assert list(tmp_path.glob(".www.gen-*")) == []

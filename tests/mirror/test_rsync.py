"""Pushing a generation with the real rsync: a copy that matches, and failures told, never raised."""
from __future__ import annotations

import logging

from ninerstatus.mirror.rsync import push, rsync_command


def test_push_makes_the_destination_a_copy_and_removes_what_is_gone(tmp_path):
    generation = tmp_path / "gen"
    (generation / "posts" / "a").mkdir(parents=True)
    (generation / "posts" / "a" / "index.html").write_text("post a")
    destination = tmp_path / "far"
    (destination / "old").mkdir(parents=True)
    (destination / "old" / "index.html").write_text("gone since")

    assert push(generation, str(destination)) is True

    assert (destination / "posts" / "a" / "index.html").read_text() == "post a"
    assert not (destination / "old").exists()


def test_a_failed_push_is_logged_and_answers_false(tmp_path, monkeypatch, caplog):
    generation = tmp_path / "gen"
    generation.mkdir()
    monkeypatch.setenv("RSYNC_RSH", "false")  # the remote shell fails at once: nothing leaves this machine

    with caplog.at_level(logging.ERROR, "ninerstatus.mirror.rsync"):
        assert push(generation, "mirror@127.0.0.1:/srv/www/status") is False

    assert "rsync to mirror@127.0.0.1:/srv/www/status failed" in caplog.text


def test_ssh_never_waits_for_a_password(monkeypatch, tmp_path):
    monkeypatch.delenv("RSYNC_RSH", raising=False)
    command = rsync_command(tmp_path, "mirror@host:/srv")
    assert command[command.index("-e") + 1].startswith("ssh -o BatchMode=yes")
    assert command[-2:] == [f"{tmp_path}/", "mirror@host:/srv"]
    assert {"--delete-after", "--delay-updates"} <= set(command)

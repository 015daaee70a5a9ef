"""Generations swapped in atomically: the link moves in one rename, old generations go, failures leave no trace."""
from __future__ import annotations

import pytest

from ninerstatus.mirror.publish import MirrorFolderError, generations, publishing


def publish(target, text: str):
    with publishing(target) as generation:
        (generation / "index.html").write_text(text)
    return generation


def test_each_export_is_swapped_in_and_only_the_one_before_is_kept(tmp_path):
    target = tmp_path / "mirror"
    made = [publish(target, f"copy {n}") for n in range(4)]

    assert target.is_symlink() and target.resolve() == made[-1]
    assert (target / "index.html").read_text() == "copy 3"
    assert generations(target) == made[-2:]


def test_a_failed_export_leaves_the_served_copy_and_no_folder(tmp_path):
    target = tmp_path / "mirror"
    served = publish(target, "good copy")

    with pytest.raises(RuntimeError), publishing(target) as generation:
        (generation / "index.html").write_text("half")
        raise RuntimeError("the database went away")

    assert target.resolve() == served and (target / "index.html").read_text() == "good copy"
    assert generations(target) == [served]


def test_a_real_folder_is_never_replaced(tmp_path):
    target = tmp_path / "mirror"
    target.mkdir()
    (target / "precious.txt").write_text("mine")

    with pytest.raises(MirrorFolderError, match="is not a link"), publishing(target):
        pass

    assert (target / "precious.txt").read_text() == "mine"
    assert generations(target) == []

"""Publishing a mirror atomically: each export is a new folder beside the mirror, swapped in with one rename.

The mirror's folder (``DIR``) is a symbolic link to the newest complete
generation, ``.DIR.gen-<time>-<n>`` beside it. A new export is written into a
new generation; only when every file is there does a new link replace ``DIR``
with ``os.replace`` (a ``rename(2)``, atomic on POSIX). A web server opening
``DIR/...`` resolves the link once per file, so it serves the old site or the
new one, never half of each file, and never a file still being written.

The generation before the newest is kept, for a reader that resolved the old
link just before the swap; older ones are removed. A generation whose export
failed is removed at once, and the link is left as it was.
"""
from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

#: Generations kept: the one served and the one before it.
KEPT_GENERATIONS = 2


class MirrorFolderError(RuntimeError):
    """``DIR`` cannot be used as a mirror; the message says why and what to do."""


def _generation_prefix(target: Path) -> str:
    return f".{target.name}.gen-"


def generations(target: Path) -> list[Path]:
    """The generation folders beside ``target``, oldest first (their names sort by time)."""
    prefix = _generation_prefix(target)
    return sorted(p for p in target.parent.glob(prefix + "*") if p.is_dir() and not p.is_symlink())


def check_target(target: Path) -> None:
    """Refuse a ``DIR`` that is a real folder or file: swapping it out would need deleting what is there."""
    if target.exists() and not target.is_symlink():
        raise MirrorFolderError(
            f"{target} exists and is not a link made by an earlier export: give a new path "
            "(the export makes it a link to its newest copy of the site) or move it away")
    if not target.parent.is_dir():
        raise MirrorFolderError(f"{target.parent} is not a folder")


def new_generation(target: Path) -> Path:
    """Make and return an empty generation folder beside ``target``, named after the moment."""
    # To the nanosecond, so names sort in the order they were made even when a name is freed again.
    nanoseconds = time.time_ns()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(nanoseconds // 10**9)) + f".{nanoseconds % 10**9:09d}"
    for number in range(1000):
        folder = target.parent / f"{_generation_prefix(target)}{stamp}-{number:03d}"
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        folder.chmod(0o755)  # served by a web server's own user
        return folder
    raise MirrorFolderError(f"cannot make a new folder beside {target}")


def swap_in(target: Path, generation: Path) -> None:
    """Point ``target`` at ``generation`` in one atomic rename; then drop generations no longer needed."""
    link = target.parent / f".{target.name}.link-{os.getpid()}-{generation.name[-3:]}"
    if link.is_symlink():
        link.unlink()
    link.symlink_to(generation.name)  # relative: the pair can be moved together
    os.replace(link, target)
    remove_old_generations(target)


def remove_old_generations(target: Path) -> None:
    """Remove generations beside ``target`` but the one it points at and the one before."""
    current = target.resolve()
    folders = generations(target)
    keep = {current, *folders[-KEPT_GENERATIONS:]}
    for folder in folders:
        if folder.resolve() not in keep:
            shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def publishing(target: Path) -> Iterator[Path]:
    """A new generation to write into; swapped in as ``target`` if the block ends well, removed if not."""
    check_target(target)
    generation = new_generation(target)
    try:
        yield generation
    except BaseException:
        shutil.rmtree(generation, ignore_errors=True)
        raise
    swap_in(target, generation)
    log.info("mirror %s now serves %s", target, generation.name)

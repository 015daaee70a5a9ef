"""Entry points of the installed distributions, read from their metadata folders.

An installed distribution has a ``*.dist-info`` folder (``*.egg-info`` for
older tools, as many Debian packages) in a folder of ``sys.path``; its
``entry_points.txt`` names the entry points by group in INI form. This module
reads those files directly, in ``sys.path`` order, the first distribution of
a name hiding later ones, as ``importlib.metadata.entry_points`` finds them.
Importing ``importlib.metadata`` brings the e-mail parser and ``zipfile``
along, about a tenth of what a whole ``ninerstatus check`` run costs;
distributions inside zip archives are the one thing not looked at here.
"""
from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import reduce
from pathlib import Path

_METADATA_SUFFIXES = (".dist-info", ".egg-info")


@dataclass(frozen=True)
class EntryPoint:
    """One entry point: its name, ``module:attribute`` and the distribution that declares it."""

    name: str
    value: str
    folder: Path  # the distribution's metadata folder

    def load(self) -> object:
        """Import the module and return the object the entry point names."""
        target = self.value.split("[", 1)[0].strip()  # drop extras, as in "module:attr [extra]"
        module, _, attributes = target.partition(":")
        return reduce(getattr, filter(None, attributes.strip().split(".")), importlib.import_module(module.strip()))

    def distribution(self) -> str:
        """The distribution's name and version, as its metadata gives them."""
        fields = {}
        for name in ("METADATA", "PKG-INFO"):
            try:
                text = (self.folder / name).read_text(encoding="utf-8")
            except OSError:
                continue
            # The headers end at the first empty line; the long description follows.
            for line in text.split("\n\n", 1)[0].splitlines():
                key, _, value = line.partition(":")
                fields.setdefault(key.strip().lower(), value.strip())
            break
        return f"{fields.get('name', self.folder.stem)} {fields.get('version', '')}".strip()


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _metadata_folders(path: Sequence[str]) -> Iterator[Path]:
    """The metadata folder of each distribution, the first one of each name in ``path`` order."""
    seen: set[str] = set()
    for entry in path:
        try:
            children = os.listdir(entry or ".")
        except OSError:  # gone, not a folder, or a zip archive
            continue
        for child in children:
            low = child.lower()
            if low.endswith(_METADATA_SUFFIXES):
                name = _normalised(low.rpartition(".")[0].partition("-")[0])
                if name not in seen:
                    seen.add(name)
                    yield Path(entry or ".") / child


def entry_points(group: str, path: Sequence[str] | None = None) -> list[EntryPoint]:
    """The entry points of ``group`` declared by the distributions installed in ``path`` (default ``sys.path``)."""
    found = []
    for folder in _metadata_folders(sys.path if path is None else path):
        try:
            text = (folder / "entry_points.txt").read_text(encoding="utf-8")
        except OSError:
            continue
        section = None
        for line in text.splitlines():
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1].strip()
            elif section == group and "=" in line:
                name, _, value = line.partition("=")
                found.append(EntryPoint(name.strip(), value.strip(), folder))
    return found

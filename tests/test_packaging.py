"""`pip install .` ships everything a site needs: every module, template, asset, plugin and migration."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Where each top-level folder of the checkout lands in the installed distribution.
INSTALLED_AS = {"ninerstatus": "ninerstatus", "plugins": "ninerstatus_plugins",
                "migrations": "ninerstatus_migrations"}
SHIPPED_SUFFIXES = {".py", ".html", ".css", ".js", ".svg", ".ini", ".mako"}


def shipped_sources() -> set[str]:
    """The files of the checkout that an installed site needs, as installed paths."""
    paths = set()
    for folder, package in INSTALLED_AS.items():
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in SHIPPED_SUFFIXES and "__pycache__" not in path.parts:
                paths.add(f"{package}/{path.relative_to(ROOT / folder).as_posix()}")
    return paths


def test_the_wheel_holds_every_module_template_asset_plugin_and_migration(tmp_path):
    # Build from a copy: setuptools reuses an old build/ folder, which could hide a missing package.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "instance", "__pycache__", "node_modules", ".pytest_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "--wheel-dir", str(tmp_path), str(source)], check=True, capture_output=True, timeout=300)
    [wheel] = tmp_path.glob("ninerstatus-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    missing = sorted(shipped_sources() - names)
    assert not missing, f"not in the wheel: {missing[:10]}"
    for name in ("smtp", "imap", "pop", "http", "dns", "ftp", "sip"):
        assert f"{name} = ninerstatus_plugins.{name}" in entry_points

"""The instance folder and the settings read from it, without building the site.

The site (``create_app``) and the commands that need no site (``ninerstatus
check`` and ``ninerstatus plugins``) both find the folder and read the settings
here, so a setting means the same to both: defaults from ``config.py``, then
the folder's ``config.py``, then ``NINERSTATUS_*`` environment variables.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .config import DEFAULTS, ConfigError, env_overrides

INSTANCE_PATH_VARIABLE = "NINERSTATUS_INSTANCE_PATH"
CONFIG_FILE = "config.py"


def default_instance_path() -> Path:
    """Where the instance folder is when ``NINERSTATUS_INSTANCE_PATH`` does not say.

    A checkout (or an editable install) keeps it as ``instance`` beside the
    package; an installed site under its environment's prefix, as
    ``var/ninerstatus-instance``: the folders Flask has always chosen, so
    existing sites keep theirs.
    """
    holder = Path(os.path.abspath(__file__)).parent.parent
    prefix = Path(os.path.abspath(sys.prefix))
    if holder.is_relative_to(prefix):
        return prefix / "var" / "ninerstatus-instance"
    if holder.name.lower() == "site-packages":
        # Installed elsewhere (a user site): the prefix is the folder holding lib/.
        prefix = next((folder.parent for folder in holder.parents if folder.name.lower() == "lib"), holder.parent)
        return prefix / "var" / "ninerstatus-instance"
    return holder / "instance"


def instance_path(environ: Mapping[str, str] = os.environ) -> Path:
    """The instance folder of this site: ``NINERSTATUS_INSTANCE_PATH``, or the default one."""
    given = environ.get(INSTANCE_PATH_VARIABLE)
    return Path(os.path.abspath(given)) if given else default_instance_path()


def read_config_file(path: Path) -> dict[str, Any]:
    """The upper-case names a settings file defines; nothing when there is no such file.

    A file that cannot be read or run raises ``ConfigError`` naming the file and the line.
    """
    try:
        source = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return {}
    except OSError as error:
        raise ConfigError(f"cannot read the settings file {path}: {error.strerror}") from None
    namespace: dict[str, Any] = {"__file__": str(path), "__name__": "config"}
    try:
        exec(compile(source, str(path), "exec"), namespace)
    except SyntaxError as error:
        raise ConfigError(f"{path}, line {error.lineno}: {error.msg}") from None
    except Exception as error:
        raise ConfigError(f"{path} failed: {type(error).__name__}: {error}") from None
    return {name: value for name, value in namespace.items() if name.isupper()}


def site_settings(folder: Path, environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """The settings of the site in ``folder``: defaults, then its config.py, then the environment."""
    return {**DEFAULTS, **read_config_file(folder / CONFIG_FILE), **env_overrides(environ)}


def ensure_instance_folder(folder: Path) -> None:
    """Create the instance folder if need be; ``ConfigError`` says what to do when it cannot be used."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"the instance folder {folder} cannot be used ({error.strerror}): set "
                          f"{INSTANCE_PATH_VARIABLE} to a folder this user may write") from None

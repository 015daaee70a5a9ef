"""Loading plugins: one pluggy manager per application, never a module global.

``load_plugins`` needs only the settings, not the site: ``ninerstatus check``
and ``ninerstatus plugins`` load plugins that way without building the Flask
application, and ``init_plugins`` does the same for each application.

Order: the ``ninerstatus`` entry-point group (the bundled check plugins are
registered there exactly like a third-party one), then the ``*.py`` files of
the instance plugins folder, loaded by path. Names in ``DISABLED_PLUGINS`` are
never loaded. A hook implementation that matches no hook is an error for an
installed plugin (the site refuses to start) and a logged warning for a local
file, which is then skipped so the site still starts.
"""
from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspecs
from .checktypes import CheckTypeRegistry
from .entry_points import entry_points

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "ninerstatus"
EXTENSION_KEY = "ninerstatus.plugins"


@dataclass(frozen=True)
class PluginInfo:
    """Where a loaded plugin came from and what it provides."""

    name: str
    source: str  # "entry point" or "local file"
    origin: str  # distribution name and version, or the file's path
    hooks: tuple[str, ...]


@dataclass
class Plugins:
    """An application's plugin manager with what it loaded, skipped and registered."""

    manager: pluggy.PluginManager
    loaded: list[PluginInfo] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # local file path -> why
    check_types: CheckTypeRegistry = field(default_factory=lambda: CheckTypeRegistry(()))

    @property
    def hook(self):
        """The hook caller, as in ``plugins.hook.ninerstatus_probe_completed(...)``."""
        return self.manager.hook


def _hook_names(manager: pluggy.PluginManager, plugin: object) -> tuple[str, ...]:
    return tuple(sorted(caller.name for caller in manager.get_hookcallers(plugin) or ()))


def _load_local_file(manager: pluggy.PluginManager, path: Path) -> ModuleType:
    """Import one local plugin file and register it; raise when it is broken."""
    module_name = f"ninerstatus_local_plugins.{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    manager.register(module, name=path.stem)
    try:
        manager.check_pending()
    except pluggy.PluginValidationError:
        manager.unregister(module)
        raise
    return module


def _load_entry_points(manager: pluggy.PluginManager) -> list[tuple[object, str]]:
    """Register the plugins of the entry-point group; return each with its distribution's name and version."""
    registered, origins = [], {}
    for entry_point in entry_points(ENTRY_POINT_GROUP):
        if manager.is_blocked(entry_point.name) or manager.has_plugin(entry_point.name):
            continue
        plugin = entry_point.load()
        manager.register(plugin, name=entry_point.name)
        if entry_point.folder not in origins:
            origins[entry_point.folder] = entry_point.distribution()
        registered.append((plugin, origins[entry_point.folder]))
    return registered


def load_plugins(settings: Mapping[str, Any], instance_path: str | Path) -> Plugins:
    """Load the plugins a site with these settings uses (no Flask application needed)."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for name in settings.get("DISABLED_PLUGINS", ()):
        manager.set_blocked(name)
    plugins = Plugins(manager)

    registered = _load_entry_points(manager)
    # An installed plugin with a misspelt hook is a packaging bug: fail loudly.
    manager.check_pending()
    for plugin, origin in registered:
        plugins.loaded.append(PluginInfo(manager.get_name(plugin), "entry point", origin,
                                         _hook_names(manager, plugin)))

    folder = Path(settings.get("PLUGINS_FOLDER") or Path(instance_path) / "plugins")
    for path in sorted(folder.glob("*.py")) if folder.is_dir() else ():
        if path.stem.startswith("_") or manager.is_blocked(path.stem):
            continue
        if manager.has_plugin(path.stem):
            plugins.skipped[str(path)] = f"a plugin named {path.stem!r} is already loaded"
            continue
        try:
            module = _load_local_file(manager, path)
        except Exception as error:  # a broken local file must not take the site down
            log.warning("skipping local plugin %s: %s: %s", path, type(error).__name__, error)
            plugins.skipped[str(path)] = f"{type(error).__name__}: {error}"
            sys.modules.pop(f"ninerstatus_local_plugins.{path.stem}", None)
            continue
        plugins.loaded.append(PluginInfo(path.stem, "local file", str(path), _hook_names(manager, module)))

    plugins.check_types = CheckTypeRegistry(
        check_type for types in manager.hook.ninerstatus_check_types() for check_type in (types or ()))
    return plugins


def init_plugins(app: Flask) -> Plugins:
    """Load plugins for ``app``, add their template folders and keep them on the app."""
    from jinja2 import ChoiceLoader, FileSystemLoader

    plugins = load_plugins(app.config, app.instance_path)
    app.extensions[EXTENSION_KEY] = plugins
    folders = [folder for folders in plugins.hook.ninerstatus_template_folders() for folder in folders or ()]
    if folders:
        app.jinja_loader = ChoiceLoader([app.jinja_loader, *(FileSystemLoader(f) for f in folders)])
    return plugins


def get_plugins(app: Flask | None = None) -> Plugins:
    """The plugins of ``app`` (default: the current application)."""
    if app is None:
        from flask import current_app

        app = current_app
    return app.extensions[EXTENSION_KEY]

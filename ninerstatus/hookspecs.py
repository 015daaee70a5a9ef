"""Every hook a ninerstatus plugin can implement.

A plugin is a module (or any object) with functions decorated by
``ninerstatus.hookimpl`` and named after the hooks below. Every hook name
starts with ``ninerstatus_``; a plugin may implement any subset and may leave
out arguments it does not need. The plugin author's guide (docs/plugins.md)
mirrors this file and a test keeps the two in step.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from flask import Flask

    from .checktypes import CheckType
    from .probing import ProbeResult

PROJECT = "ninerstatus"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# ---------------------------------------------------------------- check types

@hookspec
def ninerstatus_check_types() -> list[CheckType]:
    """Register check types: what a check of this kind asks for and how it probes.

    :return: a list of :class:`ninerstatus.CheckType`, each with a unique ``name``.
    """


# ---------------------------------------------------------------- web site

@hookspec
def ninerstatus_template_folders() -> list[str]:
    """Add folders of Jinja templates, e.g. where a plugin keeps its sidebar widgets.

    Folders are searched after the site's own templates, in plugin load order.

    :return: a list of folder paths.
    """


@hookspec
def ninerstatus_app_ready(app: Flask) -> None:
    """Called once when the application is built, after every plugin is loaded.

    Use it to add blueprints, template filters or commands (``app.cli``).

    :param app: the Flask application being built.
    """


# ---------------------------------------------------------------- probe events
#
# Both run inside the probe runner's transaction for a batch of results, each
# plugin in its own savepoint: a plugin's rows are saved with the results, a
# plugin that raises loses only its own writes, and none may commit or roll
# back the session. Slow work goes through the notification outbox.

@hookspec
def ninerstatus_probe_completed(check: Any, result: ProbeResult) -> None:
    """Called after every probe run, whatever its outcome.

    Keep it quick: it runs in the probe runner between probes.

    :param check: the check that was probed (its ``type_name``, ``host``, ``port``...).
    :param result: what the probe saw.
    """


@hookspec
def ninerstatus_status_changed(check: Any, previous: str | None, current: str, result: ProbeResult) -> None:
    """Called when a check's confirmed state changes (after retries and flap damping).

    Notifiers (e-mail, webhooks, chat) implement this hook.

    :param check: the check whose state changed.
    :param previous: the state before (``ok``, ``warning``, ``critical``, ``unknown``), or None for a new check.
    :param current: the state now.
    :param result: the probe result that confirmed the change.
    """

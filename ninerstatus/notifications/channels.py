"""Notification channels: the senders that notifier plugins register, kept per application.

A notifier plugin does two things: on ``ninerstatus_status_changed`` it queues
messages for its channel (see ``outbox.enqueue``), and on
``ninerstatus_app_ready`` it registers the channel's ``send`` function here,
so the outbox of that application can deliver them later.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask

EXTENSION_KEY = "ninerstatus.notification_channels"

#: ``send(payload, settings, timeout)``: deliver one message within ``timeout`` seconds or raise.
Sender = Callable[[Mapping[str, Any], Mapping[str, Any], float], None]


class DeliveryError(Exception):
    """The message could not be delivered; the text says why, for staff to read."""


@dataclass(frozen=True)
class Channel:
    """One way of telling people: its name (stored on each queued message) and its sender."""

    name: str
    send: Sender


def register_channel(app: Flask, channel: Channel) -> None:
    """Let ``app``'s outbox deliver messages queued for ``channel.name``."""
    app.extensions.setdefault(EXTENSION_KEY, {})[channel.name] = channel


def channel_named(app: Flask, name: str) -> Channel | None:
    """The channel registered under ``name``, or None when no loaded plugin provides it."""
    return app.extensions.get(EXTENSION_KEY, {}).get(name)


def setting_list(value: Any) -> list[str]:
    """A list setting given as a list, or as one comma-separated string (as an environment variable is)."""
    if isinstance(value, str):
        value = value.split(",")
    return [item.strip() for item in value or () if item and item.strip()]

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


class Refused(DeliveryError):
    """The receiver refused the message for good (an SMTP 5xx): trying again would get the same answer."""


@dataclass(frozen=True)
class Channel:
    """One way of telling people: its name (stored on each queued message) and its sender.

    A channel whose messages are not status changes says what its payloads
    look like with ``problem`` (why a stored payload cannot be sent, or
    None). ``prepare`` runs in the outbox's thread, with the database at
    hand, and turns a stored payload into what ``send`` sends (None: nothing
    to send any more, the message is done). ``settled`` hears how each
    attempt ended (None when it was delivered), in the same transaction.
    """

    name: str
    send: Sender
    problem: Callable[[Mapping[str, Any]], str | None] | None = None
    prepare: Callable[[Mapping[str, Any], Mapping[str, Any]], Mapping[str, Any] | None] | None = None
    settled: Callable[[Mapping[str, Any], Exception | None], None] | None = None


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

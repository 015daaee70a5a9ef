"""Webhook notifier: POSTs a signed JSON document to each configured URL when a check's state changes.

Settings: ``NOTIFY_WEBHOOK_URLS`` (empty turns webhooks off) and
``NOTIFY_WEBHOOK_SECRET``. Each request carries

- ``X-Ninerstatus-Signature: sha256=<hex>``, the HMAC-SHA256 of the exact
  body bytes under the secret;
- ``X-Ninerstatus-Timestamp``, the Unix time of the attempt, also inside the
  signed body, so a receiver can refuse replays of old requests;
- ``X-Ninerstatus-Delivery``, the same on every retry of one message.

Any 2xx answer is a delivery; anything else (redirects included) is retried.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ninerstatus import ProbeResult, hookimpl

if TYPE_CHECKING:
    import urllib.request

    from flask import Flask

# `ninerstatus check` loads this plugin too, and never sends: the site's parts (Flask, the
# outbox and its database) and urllib's HTTP client are imported by the functions that use them.

CHANNEL = "webhook"
SIGNATURE_HEADER = "X-Ninerstatus-Signature"


@hookimpl
def ninerstatus_app_ready(app: Flask) -> None:
    """Let the outbox send webhooks."""
    from ninerstatus.notifications.channels import Channel, register_channel

    register_channel(app, Channel(CHANNEL, send))


@hookimpl
def ninerstatus_status_changed(check: Any, previous: str | None, current: str, result: ProbeResult) -> None:
    """Queue one request for each configured URL."""
    from ninerstatus.notifications.channels import setting_list
    from ninerstatus.notifications.outbox import enqueue_change
    from ninerstatus.site_settings import site_setting

    enqueue_change(CHANNEL, "url", setting_list(site_setting("NOTIFY_WEBHOOK_URLS")), check, previous, current,
                   result)


def signature(secret: str, body: bytes) -> str:
    """The signature header's value for ``body``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


@functools.cache
def _opener() -> urllib.request.OpenerDirector:
    """An opener that fails on a redirect: following it would resend the body elsewhere, or drop it."""
    import urllib.request

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    return urllib.request.build_opener(NoRedirects)


def send(payload: Mapping[str, Any], settings: Mapping[str, Any], timeout: float) -> None:
    """POST one signed document; raise DeliveryError unless the receiver answers 2xx."""
    import urllib.error
    import urllib.request

    from ninerstatus.notifications.channels import DeliveryError

    url, secret = payload["url"], settings["NOTIFY_WEBHOOK_SECRET"]
    if urlsplit(url).scheme not in ("http", "https"):
        raise DeliveryError(f"{url!r} is not an http or https URL")
    if not secret:
        raise DeliveryError("NOTIFY_WEBHOOK_SECRET is not set, so the request could not be signed")
    timestamp = int(time.time())
    body = json.dumps({"type": "status_changed", "delivery": payload["delivery"], "timestamp": timestamp,
                       **payload["change"]}, sort_keys=True).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": "ninerstatus-webhook",
        SIGNATURE_HEADER: signature(secret, body),
        "X-Ninerstatus-Timestamp": str(timestamp),
        "X-Ninerstatus-Delivery": payload["delivery"],
    })
    try:
        with _opener().open(request, timeout=timeout) as response:
            response.read(64 * 1024)
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"{url} answered {error.code} {error.reason}") from None
    except (TimeoutError, urllib.error.URLError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError):
            # Worded as the outbox words its own timeout: whichever fires first, staff read the same.
            raise DeliveryError(f"no answer within {timeout:.1f} s") from None
        raise DeliveryError(f"{url}: {reason}") from None

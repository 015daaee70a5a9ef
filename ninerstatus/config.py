"""Configuration: defaults in code, then ``instance/config.py``, then the environment.

Every setting may be overridden by an environment variable of the same name
prefixed with ``NINERSTATUS_`` (``NINERSTATUS_SECRET_KEY``,
``NINERSTATUS_DATABASE_URL``...). Values from the environment are parsed as
JSON when they look like JSON (numbers, booleans, lists), so
``NINERSTATUS_POSTS_PER_PAGE=20`` is an integer.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

ENV_PREFIX = "NINERSTATUS_"

# Shipped in the source on purpose so a checkout runs in debug mode at once;
# create_app() refuses to serve production traffic with it.
DEV_SECRET_KEY = "dev-only-not-secret"


class ConfigError(RuntimeError):
    """The configuration cannot run the site; the message says how to fix it."""


DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": DEV_SECRET_KEY,
    # None means "the SQLite file in the instance folder", filled in by load_config.
    "DATABASE_URL": None,
    "SQLITE_BUSY_TIMEOUT_MS": 5000,
    "SITE_NAME": "System Status",
    "SITE_TAGLINE": "Server and System Status",
    "COMPANY_NAME": "Example Hosting",
    "COMPANY_URL": "",
    # The live site's public address (https://status.example.net/). The static mirror
    # (`ninerstatus export-static`) sends its search form there; unset, it says search needs the live site.
    "SITE_URL": "",
    "POSTS_PER_PAGE": 10,
    "FEED_ITEMS": 20,
    "RECENT_POSTS": 5,
    "TAG_CLOUD_SIZE": 40,
    "SEARCH_MAX_LENGTH": 200,
    # Days each tier of check history is kept (raw results, 5-minute, hourly and daily
    # rollups); None keeps the tier for good.
    "HISTORY_RAW_DAYS": 7,
    "HISTORY_5MIN_DAYS": 30,
    "HISTORY_HOURLY_DAYS": 396,
    "HISTORY_DAILY_DAYS": None,
    # Plugin names (entry-point names or local file stems) never to load.
    "DISABLED_PLUGINS": [],
    # Folder of local plugin files; None means "plugins" in the instance folder.
    "PLUGINS_FOLDER": None,
    # The probe runner (`ninerstatus runner`): probes in flight at once (those claimed to
    # start within the next half second included: 128 keeps 15,000 checks a minute), and more beside
    # them for checks whose last probe timed out or took RUNNER_SLOW_PROBE_SECONDS or
    # longer (the slow lane, see runner/lanes.py), checks claimed per round, how long a
    # claim outlives its probe's timeout (a dead runner's checks wait that long for
    # another), and how often it records that it is alive, sends queued notifications
    # and prunes history (seconds).
    "RUNNER_POOL_SIZE": 128,
    "RUNNER_SLOW_POOL_SIZE": 128,
    "RUNNER_SLOW_PROBE_SECONDS": 1.0,
    "RUNNER_CLAIM_BATCH": 100,
    "RUNNER_LEASE_SECONDS": 30,
    "RUNNER_HEARTBEAT_SECONDS": 10,
    "RUNNER_DELIVERY_SECONDS": 5,
    "RUNNER_PRUNE_SECONDS": 60,
    "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    # Images staff add to posts (see uploads.py): the folder they are kept in (None means
    # "uploads" in the instance folder), the largest file taken, and the most pixels a picture
    # may have (a small file can unpack into a huge picture; 25 million is a 6000 x 4000 photo).
    "UPLOAD_FOLDER": None,
    "UPLOAD_MAX_BYTES": 5 * 1024 * 1024,
    "UPLOAD_MAX_PIXELS": 25_000_000,
    # The largest WordPress export the admin Import page takes (the command line has no limit).
    "IMPORT_MAX_BYTES": 32 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    # Notifications of status changes (bundled notifiers: notify_email, notify_webhook).
    # E-mail goes to these staff addresses; an empty list turns e-mail off.
    "NOTIFY_EMAIL_TO": [],
    "NOTIFY_EMAIL_FROM": "ninerstatus@localhost",
    "NOTIFY_SMTP_HOST": "localhost",
    "NOTIFY_SMTP_PORT": 587,
    "NOTIFY_SMTP_USERNAME": None,
    "NOTIFY_SMTP_PASSWORD": None,
    # Required by default: without STARTTLS nothing is sent, least of all the password.
    "NOTIFY_SMTP_STARTTLS": True,
    # A CA bundle to verify the mail server with, when it is not in the system's store.
    "NOTIFY_SMTP_CA_FILE": None,
    # JSON is POSTed to each URL, signed with an HMAC of this secret; an empty list turns webhooks off.
    "NOTIFY_WEBHOOK_URLS": [],
    "NOTIFY_WEBHOOK_SECRET": "",
    # Each delivery attempt gets this long; failures are retried with exponential backoff
    # (base doubling up to the maximum, with jitter) and given up after the last attempt.
    "NOTIFY_TIMEOUT_SECONDS": 10,
    "NOTIFY_MAX_ATTEMPTS": 8,
    "NOTIFY_RETRY_BASE_SECONDS": 30,
    "NOTIFY_RETRY_MAX_SECONDS": 3600,
    # Visitors' e-mail subscriptions (see subscriptions/): mails handed to the mail server per
    # minute at most (the admin may change it on the subscribers page), hours a confirmation
    # link stays valid, how many subscribe requests one address and one client network may make
    # per window (seconds), failed hand-offs in a row after which an address is no longer
    # mailed, subscribers expanded per batch, and the mailbox a "mailto:" unsubscribe goes to
    # (empty: only the one-click web link is offered).
    "SUBSCRIBER_MAILS_PER_MINUTE": 600,
    "SUBSCRIBER_CONFIRM_HOURS": 48,
    "SUBSCRIBE_THROTTLE_WINDOW": 60 * 60,
    "SUBSCRIBE_MAX_REQUESTS_PER_ADDRESS": 3,
    "SUBSCRIBE_MAX_REQUESTS_PER_CLIENT": 20,
    "SUBSCRIBER_MAX_BOUNCES": 3,
    "SUBSCRIBER_FANOUT_BATCH": 500,
    "SUBSCRIBER_UNSUBSCRIBE_MAILBOX": "",
    # Seconds each worker keeps an API document before working it out again (0: never keep).
    "API_CACHE_SECONDS": 5,
    # Probe locations (docs/agents.md): a request's timestamp must be this close to the site's clock;
    # an agent whose clock is further off than the tolerance is flagged to staff; each location may
    # make so many requests a minute (per web worker) and send bodies and batches up to these sizes.
    "AGENT_REQUEST_WINDOW_SECONDS": 300,
    "AGENT_CLOCK_TOLERANCE_SECONDS": 5,
    "AGENT_REQUESTS_PER_MINUTE": 120,
    "AGENT_MAX_BODY_BYTES": 2 * 1024 * 1024,
    "AGENT_BATCH_MAX_RESULTS": 1000,
    # Days the ids of batches taken are kept, so that a batch sent again is taken once.
    "AGENT_BATCH_DAYS": 30,
    # What an agent's machine gives pip to install ninerstatus, in the commands a new token is shown
    # with: the release on PyPI, or for a site installed otherwise a wheel's address, a git URL or a
    # requirement on a private index (e.g. "git+https://git.example.net/ops/ninerstatus.git@v1.4").
    "AGENT_INSTALL": "ninerstatus",
    # Seconds each worker keeps a public page answered to visitors who are not signed in
    # (see public/pagecache.py); staff changes in the same worker drop them at once (0: never keep).
    "PAGE_CACHE_SECONDS": 5,
    # Seconds each worker keeps the drawn sidebar, shared by every page and reader, staff included
    # (see public/sidebar.py); staff changes in the same worker drop it at once (0: never keep).
    "SIDEBAR_CACHE_SECONDS": 5,
    # /metrics for Prometheus (see docs/metrics.md): a bearer token scrapers must send, and/or the
    # client addresses or networks (CIDR) allowed to scrape; with neither set, /metrics does not exist.
    "METRICS_TOKEN": None,
    "METRICS_ALLOW": [],
}


def _parse_env_value(raw: str) -> Any:
    """Read JSON-looking values as JSON and everything else as a plain string."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """Return the settings given as ``NINERSTATUS_*`` environment variables."""
    return {
        key[len(ENV_PREFIX):]: _parse_env_value(value)
        for key, value in environ.items()
        if key.startswith(ENV_PREFIX) and len(key) > len(ENV_PREFIX)
    }


def sqlite_url(instance_path: str | Path) -> str:
    """Return the URL of the embedded default database in the instance folder."""
    return f"sqlite:///{Path(instance_path) / 'ninerstatus.sqlite'}"


def normalise_database_url(url: str) -> str:
    """Point bare ``postgresql://`` URLs at psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def database_url(setting: Any, instance_path: str | Path) -> str:
    """The SQLAlchemy URL of the site's database from the ``DATABASE_URL`` setting.

    No setting means the SQLite file in the instance folder. A URL that cannot
    be used raises ``ConfigError`` naming the setting (never the password).
    """
    if setting is None or setting == "":
        return sqlite_url(instance_path)
    example = "such as postgresql://user@host/name or sqlite:////path/to/file.sqlite"
    if not isinstance(setting, str):
        raise ConfigError(f"DATABASE_URL must be a database URL {example}, not the {type(setting).__name__} "
                          f"{setting!r}")
    # SQLAlchemy only where a database is wanted: `ninerstatus check` reads this module too.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    url = normalise_database_url(setting)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"DATABASE_URL is not a database URL {example}") from None
    shown = parsed.render_as_string(hide_password=True)
    try:
        parsed.get_dialect().import_dbapi()
    except NoSuchModuleError:
        raise ConfigError(f"DATABASE_URL {shown}: there is no database driver for {parsed.drivername!r}; "
                          f"use a URL {example}") from None
    except ImportError as error:
        raise ConfigError(f"DATABASE_URL {shown}: its driver {error.name!r} is not installed") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).parent
        if not parsed.database.startswith("file:") and not folder.is_dir():
            # SQLite creates the file, never its folder.
            raise ConfigError(f"DATABASE_URL {shown}: there is no folder {folder} for the SQLite file")
    return url

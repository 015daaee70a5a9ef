"""ninerstatus: a status site for hosting companies.

``create_app()`` builds the Flask application as a series of named steps so a
reader sees the whole architecture in one screen.

Importing ``ninerstatus`` loads only the plugin API (check types, hooks and
the probing engine): Flask, SQLAlchemy and Alembic are imported by the steps
that build the site, so ``ninerstatus check``, agents and plugins' own tests
start without them.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .checktypes import CheckType
from .config import DEFAULTS, DEV_SECRET_KEY, ConfigError, database_url
from .hookspecs import hookimpl
# Under another name: ``ninerstatus.site_settings`` is the module of the stored settings, and importing it
# rebinds that name on this package.
from .instance import ensure_instance_folder, instance_path, site_settings as configured_settings
from .plugins import get_plugins, init_plugins
from .probing import (ErrorKind, ProbeContext, ProbeFailure, ProbeResult, Status, SubCheck, Target,
                      Timings, TlsInfo, TlsMode, TlsPolicy)

if TYPE_CHECKING:
    from flask import Flask

# The plugin API: what a check plugin imports from ``ninerstatus``.
__all__ = [
    "create_app", "ConfigError", "get_plugins", "hookimpl", "CheckType",
    "ErrorKind", "ProbeContext", "ProbeFailure", "ProbeResult", "Status", "SubCheck", "Target",
    "Timings", "TlsInfo", "TlsMode", "TlsPolicy",
]


def create_app(test_config: Mapping[str, Any] | None = None, *, check_secret: bool = True) -> Flask:
    """Build the application.

    ``test_config`` replaces every other source of settings (tests pass their
    own database). ``check_secret`` is turned off only by the command line,
    whose maintenance commands (``db upgrade``, ``demo``) need no secret key;
    ``ninerstatus serve`` checks it itself before it listens.
    """
    from flask import Flask

    app = Flask(__name__, instance_path=str(instance_path()), instance_relative_config=True)
    register_config(app, test_config)
    if check_secret:
        ensure_production_secret(app)
    register_extensions(app)
    register_intake(app)
    register_page_cache(app)
    register_security(app)
    register_accounts(app)
    register_plugins(app)
    register_blueprints(app)
    register_metrics(app)
    register_template_helpers(app)
    register_error_pages(app)
    register_commands(app)
    get_plugins(app).hook.ninerstatus_app_ready(app=app)
    return app


def register_config(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    """Load defaults, then instance/config.py, then NINERSTATUS_* variables (or the test's)."""
    if test_config is None:
        app.config.update(configured_settings(Path(app.instance_path), os.environ))
    else:
        app.config.update({**DEFAULTS, **test_config})
    ensure_instance_folder(Path(app.instance_path))
    url = app.config.get("DATABASE_URL") or app.config.get("SQLALCHEMY_DATABASE_URI")
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(url, app.instance_path)


def ensure_production_secret(app: Flask) -> None:
    """Refuse to run outside debug and testing with the development secret key."""
    if app.debug or app.testing:
        return
    if app.config.get("SECRET_KEY") in (None, "", DEV_SECRET_KEY):
        raise ConfigError(
            "ninerstatus will not serve visitors with the development secret key. "
            "Run `ninerstatus init` to write instance/config.py with a random SECRET_KEY, "
            "or set NINERSTATUS_SECRET_KEY in the environment."
        )


def _sqlite_pragmas(busy_timeout_ms: int):
    """Return a connect listener that puts each SQLite connection in WAL mode."""
    def on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets the web read while the probe runner writes; the busy timeout
        # makes a writer wait for the lock instead of failing at once.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
    return on_connect


def register_extensions(app: Flask) -> None:
    """Bind the database, migrations and CSRF protection to the app."""
    from sqlalchemy import event

    from . import models  # noqa: F401  (registers the tables on db.metadata)
    from .agents import models as agent_models  # noqa: F401
    from .checks import models as check_models  # noqa: F401
    from .extensions import csrf, db, migrate
    from .history import models as history_models  # noqa: F401
    from .history import revision  # noqa: F401  (moves the history revision on with staff's changes)
    from .history.sqlfunctions import install_sqlite_functions
    from .imports import models as import_models  # noqa: F401
    from .notifications import models as notification_models  # noqa: F401
    from .runner import models as runner_models  # noqa: F401
    from . import site_settings  # noqa: F401  (the site_settings table)
    from .subscriptions import models as subscription_models  # noqa: F401
    import ninerstatus_migrations
    from sqlalchemy.orm import configure_mappers

    # Every model is imported by now: work out all relationships before the first request,
    # so no route depends on another having run first.
    configure_mappers()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(ninerstatus_migrations.__file__).parent),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas(app.config["SQLITE_BUSY_TIMEOUT_MS"]))
            event.listen(db.engine, "connect", install_sqlite_functions)


def register_plugins(app: Flask) -> None:
    """Load the check plugins and any local plugin files (see plugins.py)."""
    init_plugins(app)


def register_intake(app: Flask) -> None:
    """Refuse what no view should see: other hosts than the site's own, bodies over the size limit
    whatever their encoding, control characters in addresses and forms (see intake.py).

    Before register_page_cache, which then sits outside these checks and so keeps no answer
    to a request they refused.
    """
    from .intake import init_intake
    from .security import init_trusted_hosts

    init_trusted_hosts(app)
    init_intake(app)


def register_page_cache(app: Flask) -> None:
    """Keep public pages for visitors and the shared sidebar a few seconds.

    Before register_security, so it sits behind the proxy fix.
    """
    from .public.pagecache import init_page_cache

    init_page_cache(app)


def register_security(app: Flask) -> None:
    """Send security headers on every response, keep staff pages private, mark cookies Secure over HTTPS."""
    from .security import init_security

    init_security(app)


def register_accounts(app: Flask) -> None:
    """Bind Flask-Login (sessions revoked by a per-user version) and the sign-in throttle."""
    from .accounts.sessions import init_sessions
    from .accounts.throttle import init_throttle

    init_sessions(app)
    init_throttle(app)


def register_blueprints(app: Flask) -> None:
    """Mount one blueprint per audience: visitors, staff, machines; and the visitors' subscriptions with their mail."""
    from .admin import bp as admin_bp
    from .agents.api import bp as agent_api_bp
    from .api import bp as api_bp
    from .public import bp as public_bp
    from .subscriptions import bp as subscriptions_bp
    from .subscriptions.delivery import init_delivery

    app.register_blueprint(public_bp)
    app.register_blueprint(subscriptions_bp)
    init_delivery(app)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(api_bp, url_prefix="/api")
    app.register_blueprint(agent_api_bp)


def register_metrics(app: Flask) -> None:
    """Serve /metrics to Prometheus when METRICS_TOKEN or METRICS_ALLOW is set, and count requests by route.

    After register_security and the page cache, so the request counter wraps them and counts every answer.
    """
    from .metrics import init_metrics

    init_metrics(app)


def register_template_helpers(app: Flask) -> None:
    """Make the site's filters, sidebar data and status summary available to every template."""
    from .history.display import history_context
    from .mirror.templating import init_mirror_templating
    from .public.banner import init_banner
    from .public.sidebar import sidebar_context
    from .timeutil import format_timestamp

    # Keep block tags from leaving blank lines all over the served HTML.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.add_template_filter(format_timestamp, "timestamp")
    app.context_processor(sidebar_context)
    app.context_processor(history_context)
    init_banner(app)
    init_mirror_templating(app)


def register_commands(app: Flask) -> None:
    """Add the site's commands (init, demo, create-user, serve) to ``flask`` and ``ninerstatus``."""
    from .cli import register_commands as add_commands

    add_commands(app)


def register_error_pages(app: Flask) -> None:
    """Answer 400, 404 and 500 with pages in the site's look, never a traceback."""
    from .public.errors import handle_http_error
    from .public.old_links import not_found

    for code in (400, 405, 413, 500):
        app.register_error_handler(code, handle_http_error)
    # A 404 may be an old WordPress address of an imported post (see public/old_links.py).
    app.register_error_handler(404, not_found)

"""The commands staff run: init, demo, create-user and serve; `check` as a Nagios plugin; configuration errors."""
from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ninerstatus import create_app
from ninerstatus.demo import SERVERS
from ninerstatus.extensions import db
from ninerstatus.models import Post, Role, Server, Tag, User

from . import processes
from .waiting import PATIENCE

REFERENCE_SERVERS = {
    # The ten servers of the reference status page, as listed there.
    "NC023": ("London", "United Kingdom", "Relay server", "internal"),
    "NC028": ("Vancouver", "Canada", "Monitoring server", "internal"),
    "NC031": ("New York", "United States of America", "Web server", "internal"),
    "NC033": ("Toronto", "Canada", "Primary nameserver", "public"),
    "NC034": ("Lusaka", "Zambia", "Phone server", "internal"),
    "NC035": ("Sydney", "Australia", "Secondary nameserver", "public"),
    "NC036": ("Amsterdam", "Netherlands", "Mail server", "public"),
    "NC040": ("Toronto", "Canada", "Web server", "internal"),
    "NC041": ("New York", "United States of America", "Web server", "public"),
    "NC042": ("Seattle", "United States of America", "Status website", "public"),
}


def test_demo_loads_the_reference_servers_and_a_dozen_posts_once(app, runner):
    result = runner.invoke(args=["demo", "--if-empty"])
    assert "10 servers and 13 posts added" in result.output, result.output
    with app.app_context():
        servers = {s.code: (s.city, s.country, s.role, s.visibility.value) for s in db.session.scalars(select(Server))}
        assert servers == REFERENCE_SERVERS
        assert db.session.scalar(select(func.count(Post.id))) == 13
        assert db.session.scalar(select(func.count(Tag.id))) >= 10
        assert all(p.is_visible() and p.body_html and p.excerpt for p in db.session.scalars(select(Post)))
    again = runner.invoke(args=["demo", "--if-empty"])
    assert "already has content" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Post.id))) == 13


def test_demo_servers_are_listed_in_the_reference_order(app, client, runner):
    runner.invoke(args=["demo"])
    page = client.get("/").get_data(as_text=True)
    glance = page[page.index("Systems at a Glance"):]
    positions = [glance.index(f'href="/servers/{code}"') for code, *_ in SERVERS]
    assert positions == sorted(positions)


@pytest.mark.parametrize("password", ["a" * 64, "pässwörd-ünïcødé-密码", "correct horse battery staple"])
def test_create_user_prompts_for_the_password_and_keeps_it_exactly(app, runner, password):
    result = runner.invoke(args=["create-user", "ops@example.net", "--admin"],
                           input=f"{password}\n{password}\n")
    assert result.exit_code == 0, result.output
    assert "Created admin account ops@example.net" in result.output
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.role is Role.ADMIN
        assert user.password_hash.startswith("scrypt:32768:8:1$")
        assert user.check_password(password)
        assert not user.check_password(password[:-1])


def test_create_user_refuses_duplicates_bad_addresses_and_short_passwords(app, runner):
    ok = runner.invoke(args=["create-user", "ed@example.net"], input="long enough pw\nlong enough pw\n")
    assert ok.exit_code == 0 and "Created editor account" in ok.output
    dup = runner.invoke(args=["create-user", "ED@example.net"], input="long enough pw\nlong enough pw\n")
    assert dup.exit_code != 0 and "already exists" in dup.output
    bad = runner.invoke(args=["create-user", "not an address"], input="long enough pw\nlong enough pw\n")
    assert bad.exit_code != 0 and "is not an e-mail address" in bad.output
    short = runner.invoke(args=["create-user", "x@example.net"], input="short\nshort\n")
    assert short.exit_code != 0 and "at least 10 characters" in short.output


def test_init_writes_a_private_config_with_a_random_secret_once(app, runner, tmp_path):
    first = runner.invoke(args=["init"])
    config = Path(app.instance_path) / "config.py"
    assert "new secret key" in first.output
    text = config.read_text()
    assert re.search(r"^SECRET_KEY = '[0-9a-f]{64}'$", text, re.MULTILINE)
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    second = runner.invoke(args=["init"])
    assert "leaving it as it is" in second.output and config.read_text() == text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _script(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def test_serve_refuses_the_development_secret_key(tmp_path):
    env = {**os.environ, "NINERSTATUS_INSTANCE_PATH": str(tmp_path)}
    env.pop("NINERSTATUS_SECRET_KEY", None)
    # Run in a session of its own: were the refusal broken, the web server's workers would outlive a timeout.
    result = processes.run([_script("ninerstatus"), "serve", "--port", _free_port()], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert result.returncode != 0
    assert "development secret key" in result.stderr and "Traceback" not in result.stderr


def test_serve_runs_the_site_under_the_production_server(tmp_path):
    env = {**os.environ, "NINERSTATUS_INSTANCE_PATH": str(tmp_path), "NINERSTATUS_SECRET_KEY": "s" * 40}
    ninerstatus = _script("ninerstatus")
    for args in (["db", "upgrade"], ["demo", "--if-empty"]):
        subprocess.run([ninerstatus, *args], env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    with processes.started([ninerstatus, "serve", "--port", port, "--workers", "1"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
        deadline, page = time.monotonic() + PATIENCE, None
        while page is None and time.monotonic() < deadline:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
            except OSError:
                time.sleep(0.2)
        assert page is not None, "the server did not answer"
        assert all(code in page for code in REFERENCE_SERVERS)
        assert "Systems at a Glance" in page and "NC041: Web server unreachable" in page


def test_the_factory_refuses_production_with_the_development_key(tmp_path, monkeypatch):
    monkeypatch.setenv("NINERSTATUS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("NINERSTATUS_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="development secret key"):
        create_app()
    monkeypatch.setenv("NINERSTATUS_SECRET_KEY", "x" * 40)
    assert create_app().config["SECRET_KEY"] == "x" * 40


# What `ninerstatus check` must never import: the site and its database layer (about 2 s of CPU).
SITE_MODULES = {"flask", "flask_migrate", "flask_sqlalchemy", "flask_login", "flask_wtf", "sqlalchemy", "alembic",
                "werkzeug", "jinja2", "psycopg"}
# What a plaintext SMTP check has no use for, each a large share of what a run costs (see bench/cli.py):
# dnspython (the DNS check's), cryptography (read certificates), importlib.metadata and the e-mail parser.
UNUSED_BY_PLAIN_SMTP = {"dns", "cryptography", "importlib.metadata", "email"}
# Runs the `ninerstatus` script and writes the names of the modules it imported to the file named first.
RECORDING_MODULES = """
import atexit, sys
record = sys.argv.pop(1)
atexit.register(lambda: open(record, "w").write("\\n".join(sys.modules)))
from ninerstatus.cli import main
main()
"""


def _command_env(instance: Path, **settings: str) -> dict[str, str]:
    """The environment of a ninerstatus command on the site in ``instance``, with these NINERSTATUS_* settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("NINERSTATUS_")}
    env["NINERSTATUS_INSTANCE_PATH"] = str(instance)
    env.update({f"NINERSTATUS_{name}": value for name, value in settings.items()})
    return env


def _imported_by(args: list[str], instance: Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess, set[str]]:
    """What the script printed, and the modules it imported (their packages are among them)."""
    record = tmp_path / "modules.txt"
    result = subprocess.run([sys.executable, "-c", RECORDING_MODULES, str(record), *args], env=_command_env(instance),
                            capture_output=True, text=True, timeout=120)
    return result, set(record.read_text().split())


def test_check_probes_without_importing_the_site_or_its_database_layer(tmp_path):
    port = _free_port()  # nothing listens there
    result, imported = _imported_by(["check", "smtp", "--host", "127.0.0.1", "--port", str(port), "--nagios"],
                                    tmp_path / "instance", tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stdout.startswith("SMTP CRITICAL - could not connect")
    assert "ninerstatus_plugins.notify_email" in imported  # every plugin is loaded, as for the site
    assert not imported & SITE_MODULES
    assert not imported & UNUSED_BY_PLAIN_SMTP


def test_plugins_lists_every_plugin_without_importing_the_site(tmp_path):
    result, imported = _imported_by(["plugins"], tmp_path / "instance", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "notify_email  (entry point:" in result.stdout
    assert "check types: smtp, " in result.stdout
    assert not imported & SITE_MODULES


# A local plugin that takes 0.3 s to import, so starting `ninerstatus check` surely takes that long.
SLOW_TO_LOAD = """
import time

from ninerstatus import CheckType, ProbeResult, Status, hookimpl

time.sleep(0.3)


def probe(target, settings, ctx):
    return ProbeResult(Status.OK, f"given {ctx.timeout:.3f} s")


@hookimpl
def ninerstatus_check_types():
    return [CheckType(name="budget", label="Budget", probe=probe, default_port=7)]
"""


def _check_budget(tmp_path: Path, timeout: str) -> subprocess.CompletedProcess:
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "budget.py").write_text(SLOW_TO_LOAD)
    return subprocess.run([_script("ninerstatus"), "check", "budget", "--host", "127.0.0.1", "--timeout", timeout,
                           "--nagios"], env=_command_env(tmp_path), capture_output=True, text=True, timeout=120)


def test_check_timeout_covers_the_start_and_the_probe_gets_what_is_left(tmp_path):
    result = _check_budget(tmp_path, "30")
    assert result.returncode == 0, result.stdout + result.stderr
    given = float(re.match(r"BUDGET OK - given ([0-9.]+) s", result.stdout)[1])
    assert 0 < given <= 30 - 0.3


def test_check_with_no_time_left_after_starting_is_unknown(tmp_path):
    result = _check_budget(tmp_path, "0.2")
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stdout.startswith("BUDGET UNKNOWN - no time left to probe: starting took the whole 0.2 s timeout")


@pytest.mark.parametrize("command", [["db", "upgrade"], ["runner"]], ids=["db upgrade", "runner"])
@pytest.mark.parametrize(("setting", "value", "named"), [
    ("DATABASE_URL", "123", "DATABASE_URL"),
    ("DATABASE_URL", "postgresql://status:s3cret@127.0.0.1:{closed}/status", "DATABASE_URL"),
    ("DATABASE_URL", "nosuchdb://status@127.0.0.1/status", "DATABASE_URL"),
    ("INSTANCE_PATH", "{file}", "NINERSTATUS_INSTANCE_PATH"),
], ids=["a number", "nothing listening", "no such driver", "instance folder is a file"])
def test_configuration_errors_are_one_line_naming_the_setting(tmp_path, command, setting, value, named):
    (tmp_path / "file").write_text("not a folder")
    value = value.format(closed=_free_port(), file=tmp_path / "file")
    env = _command_env(tmp_path / "instance", SECRET_KEY="s" * 40, **{setting: value})
    result = subprocess.run([_script("ninerstatus"), *command], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and named in lines[0], result.stderr
    assert "s3cret" not in result.stderr


def test_a_broken_instance_file_is_one_line_for_plugins_and_unknown_for_a_nagios_check(tmp_path):
    (tmp_path / "config.py").write_text("SITE_NAME = 'unclosed\n")
    env = _command_env(tmp_path)
    listing = subprocess.run([_script("ninerstatus"), "plugins"], env=env, capture_output=True, text=True, timeout=120)
    lines = listing.stderr.strip().splitlines()
    assert listing.returncode == 1 and len(lines) == 1
    assert lines[0].startswith(f"Error: {tmp_path / 'config.py'}, line 1: ")
    check = subprocess.run([_script("ninerstatus"), "check", "smtp", "--host", "127.0.0.1", "--nagios"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 3 and check.stdout.startswith(f"SMTP UNKNOWN - {tmp_path / 'config.py'}, line 1: ")

"""The plugin system: load order, local files, disabling, validation and check types."""
from __future__ import annotations

import importlib.metadata
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pluggy
import pytest
from wtforms import BooleanField, IntegerField, SelectField, validators

from ninerstatus import CheckType, ProbeResult, Status, create_app, get_plugins
from ninerstatus.checktypes import CheckTypeError, CheckTypeRegistry
from ninerstatus.entry_points import entry_points
from ninerstatus.plugins import load_plugins
from ninerstatus.probing import TlsMode

GOOD_PLUGIN = '''
from ninerstatus import CheckType, ProbeResult, Status, hookimpl

def probe(target, settings, ctx):
    return ProbeResult(Status.OK, f"echo {settings['word']} from {target.host}")

@hookimpl
def ninerstatus_check_types():
    from wtforms import StringField
    return [CheckType(name="echo", label="Echo", probe=probe, default_port=7,
                      settings={"word": StringField(default="hi")})]

@hookimpl
def ninerstatus_app_ready(app):
    app.config["ECHO_READY"] = True
'''


def make_app(tmp_path: Path, files: dict[str, str], **config):
    folder = tmp_path / "plugins"
    folder.mkdir(exist_ok=True)
    for name, source in files.items():
        (folder / name).write_text(textwrap.dedent(source))
    return create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": f"sqlite:///{tmp_path / 'db'}",
                       "PLUGINS_FOLDER": str(folder), **config})


def test_a_local_plugin_file_registers_its_check_type_and_hooks(tmp_path):
    app = make_app(tmp_path, {"echo.py": GOOD_PLUGIN})
    plugins = get_plugins(app)
    assert "echo" in plugins.check_types
    assert app.config["ECHO_READY"] is True
    info = next(p for p in plugins.loaded if p.name == "echo")
    assert info.source == "local file" and info.origin.endswith("plugins/echo.py")
    assert info.hooks == ("ninerstatus_app_ready", "ninerstatus_check_types")


def test_a_local_plugin_with_an_unknown_hook_is_skipped_with_a_warning(tmp_path, caplog):
    bad = "from ninerstatus import hookimpl\n@hookimpl\ndef ninerstatus_no_such_hook():\n    pass\n"
    with caplog.at_level(logging.WARNING):
        app = make_app(tmp_path, {"echo.py": GOOD_PLUGIN, "typo.py": bad})
    plugins = get_plugins(app)
    assert "echo" in plugins.check_types
    assert not any(p.name == "typo" for p in plugins.loaded)
    assert "ninerstatus_no_such_hook" in plugins.skipped[str(tmp_path / "plugins" / "typo.py")]
    assert "skipping local plugin" in caplog.text


def test_a_local_plugin_that_fails_to_import_does_not_stop_the_site(tmp_path):
    app = make_app(tmp_path, {"broken.py": "import no_such_module_here\n", "syntax.py": "def (:\n",
                              "echo.py": GOOD_PLUGIN})
    skipped = get_plugins(app).skipped
    assert "ModuleNotFoundError" in skipped[str(tmp_path / "plugins" / "broken.py")]
    assert "SyntaxError" in skipped[str(tmp_path / "plugins" / "syntax.py")]
    assert "echo" in get_plugins(app).check_types


def test_disabled_plugins_are_never_loaded(tmp_path):
    app = make_app(tmp_path, {"echo.py": GOOD_PLUGIN}, DISABLED_PLUGINS=["echo"])
    assert "echo" not in get_plugins(app).check_types
    assert not any(p.name == "echo" for p in get_plugins(app).loaded)


def test_each_app_has_its_own_plugin_manager(tmp_path):
    first = make_app(tmp_path, {"echo.py": GOOD_PLUGIN})
    second = make_app(tmp_path, {}, DISABLED_PLUGINS=["echo"])
    assert get_plugins(first).manager is not get_plugins(second).manager
    assert "echo" in get_plugins(first).check_types and "echo" not in get_plugins(second).check_types


def test_an_installed_plugin_with_an_unknown_hook_is_an_error(tmp_path, monkeypatch):
    site = tmp_path / "site-packages"
    (site / "misspelt_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "misspelt_plugin-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: misspelt-plugin\nVersion: 1.0\n")
    (site / "misspelt_plugin-1.0.dist-info" / "entry_points.txt").write_text(
        "[ninerstatus]\nmisspelt = misspelt_plugin\n")
    (site / "misspelt_plugin.py").write_text(
        "from ninerstatus import hookimpl\n\n@hookimpl\ndef ninerstatus_misspelt():\n    pass\n")
    monkeypatch.syspath_prepend(str(site))
    with pytest.raises(pluggy.PluginValidationError, match="ninerstatus_misspelt"):
        make_app(tmp_path, {})
    sys.modules.pop("misspelt_plugin", None)


def _probe(target, settings, ctx):
    return ProbeResult(Status.OK, "ok")


def test_check_type_settings_become_a_form_and_typed_values():
    check_type = CheckType(name="demo", label="Demo", probe=_probe, default_port=25,
                           tls_by_port={465: TlsMode.IMPLICIT},
                           settings={"retries": IntegerField(default=2, validators=[validators.NumberRange(0, 5)]),
                                     "mode": SelectField(choices=["a", "b"], default="a")})
    assert check_type.parse_settings({"retries": "3", "mode": "b"}) == {"retries": 3, "mode": "b"}
    assert check_type.parse_settings({}) == {"retries": 2, "mode": "a"}
    flagged = CheckType(name="flag", label="Flag", probe=_probe, default_port=1,
                        settings={"strict": BooleanField(default=True), "retries": IntegerField(default=2)})
    assert flagged.parse_settings({"retries": "4"}) == {"strict": True, "retries": 4}
    with pytest.raises(CheckTypeError, match="retries"):
        check_type.parse_settings({"retries": "9"})
    with pytest.raises(CheckTypeError, match="has no setting colour"):
        check_type.parse_settings({"colour": "red"})
    assert check_type.default_tls(465) is TlsMode.IMPLICIT and check_type.default_tls(25) is TlsMode.NONE


def test_check_type_names_are_checked_and_unique():
    with pytest.raises(CheckTypeError):
        CheckType(name="Not ok", label="x", probe=_probe, default_port=1)
    one = CheckType(name="same", label="x", probe=_probe, default_port=1)
    with pytest.raises(CheckTypeError, match="two plugins"):
        CheckTypeRegistry([one, one])


def test_check_command_runs_a_plugin_probe_and_speaks_nagios(tmp_path):
    app = make_app(tmp_path, {"echo.py": GOOD_PLUGIN})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["check", "echo", "--host", "127.0.0.1", "-o", "word=ping", "--nagios"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ECHO OK - echo ping from 127.0.0.1 | 'time'=")
    bad_host = runner.invoke(args=["check", "echo", "--host", "-oProxy=x", "--nagios"])
    assert bad_host.exit_code == 3 and bad_host.output.startswith("ECHO UNKNOWN - ")
    unknown_option = runner.invoke(args=["check", "echo", "--host", "127.0.0.1", "-o", "colour=red"])
    assert unknown_option.exit_code == 2 and "has no setting colour" in unknown_option.output
    listing = runner.invoke(args=["plugins"])
    assert "echo  (local file:" in listing.output and "check types: " in listing.output


def test_the_script_reads_the_plugin_settings_from_the_instance_file_and_the_environment(tmp_path):
    # `ninerstatus check` and `ninerstatus plugins` read the settings without building the site.
    instance, folder = tmp_path / "instance", tmp_path / "local plugins"
    folder.mkdir()
    (folder / "echo.py").write_text(GOOD_PLUGIN)
    instance.mkdir()
    (instance / "config.py").write_text(f"PLUGINS_FOLDER = {str(folder)!r}\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("NINERSTATUS_")}
    env.update(NINERSTATUS_INSTANCE_PATH=str(instance), NINERSTATUS_DISABLED_PLUGINS='["sip", "dns"]')
    script = str(Path(sys.executable).with_name("ninerstatus"))
    listing = subprocess.run([script, "plugins"], env=env, capture_output=True, text=True, timeout=120)
    assert listing.returncode == 0, listing.stderr
    assert f"echo  (local file: {folder / 'echo.py'})" in listing.stdout
    types = listing.stdout.split("check types: ")[1].strip().split(", ")
    assert sorted(types) == ["echo", "ftp", "http", "imap", "pop", "smtp"]
    check = subprocess.run([script, "check", "echo", "--host", "127.0.0.1", "-o", "word=ping", "--nagios"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0 and check.stdout.startswith("ECHO OK - echo ping from 127.0.0.1"), check.stderr


def test_plugins_load_from_the_settings_alone_as_for_the_site(tmp_path):
    app = make_app(tmp_path, {"echo.py": GOOD_PLUGIN}, DISABLED_PLUGINS=["ftp"])
    alone = load_plugins({"PLUGINS_FOLDER": str(tmp_path / "plugins"), "DISABLED_PLUGINS": ["ftp"]}, tmp_path)
    assert alone.loaded == get_plugins(app).loaded
    assert list(alone.check_types) == list(get_plugins(app).check_types)
    assert "echo" in alone.check_types and "ftp" not in alone.check_types


def test_entry_points_are_found_as_importlib_metadata_finds_them():
    everything = [entry_point for dist in importlib.metadata.distributions() for entry_point in dist.entry_points]
    for group in {entry_point.group for entry_point in everything} | {"ninerstatus"}:
        assert sorted((found.name, found.value) for found in entry_points(group)) == \
            sorted((found.name, found.value) for found in importlib.metadata.entry_points(group=group)), group


def _distribution(folder: Path, info: str, metadata: str, declared: str) -> None:
    (folder / info).mkdir(parents=True)
    (folder / info / ("PKG-INFO" if info.endswith(".egg-info") else "METADATA")).write_text(metadata)
    (folder / info / "entry_points.txt").write_text(declared)


def test_the_first_distribution_of_a_name_on_the_path_hides_later_ones(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    _distribution(first, "Echo_Plugin-2.0.dist-info",
                  "Metadata-Version: 2.1\nName: echo-plugin\nVersion: 2.0\n\nName: not a header, the long description\n",
                  "# plugins\n[ninerstatus]\necho = echo_v2:plugin [tls]\n")
    _distribution(second, "echo.plugin-1.0.dist-info", "Name: echo-plugin\nVersion: 1.0\n",
                  "[ninerstatus]\necho = echo_v1\nold = echo_v1.old\n")
    _distribution(second, "legacy-0.9-py3.11.egg-info", "Name: legacy\nVersion: 0.9\n",
                  "[console_scripts]\nlegacy = legacy:main\n[ninerstatus]\nlegacy = legacy.plugin\n")
    found = entry_points("ninerstatus", [str(first), str(tmp_path / "missing"), str(second)])
    assert [(e.name, e.value, e.distribution()) for e in found] == [
        ("echo", "echo_v2:plugin [tls]", "echo-plugin 2.0"), ("legacy", "legacy.plugin", "legacy 0.9")]
    (first / "echo_v2.py").write_text("plugin = 'the echo plugin, version 2'\n")
    monkeypatch.syspath_prepend(str(first))
    assert found[0].load() == "the echo plugin, version 2"
    sys.modules.pop("echo_v2", None)

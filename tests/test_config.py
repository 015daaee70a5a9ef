"""Settings come from code, then instance/config.py, then NINERSTATUS_* variables."""
from __future__ import annotations

import os
import re

import pytest
from flask import Flask

from ninerstatus import ConfigError, create_app
from ninerstatus.config import database_url, env_overrides, normalise_database_url
from ninerstatus.instance import default_instance_path, site_settings


def test_environment_wins_over_the_instance_file_which_wins_over_defaults(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text("SECRET_KEY = 'from-file'\nSITE_NAME = 'File status'\n"
                                        "POSTS_PER_PAGE = 3\n")
    monkeypatch.setenv("NINERSTATUS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("NINERSTATUS_SITE_NAME", "Env status")
    app = create_app()
    assert app.config["SITE_NAME"] == "Env status"
    assert app.config["SECRET_KEY"] == "from-file"
    assert app.config["POSTS_PER_PAGE"] == 3
    assert app.config["RECENT_POSTS"] == 5


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("NINERSTATUS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("NINERSTATUS_SECRET_KEY", "k" * 40)
    monkeypatch.delenv("NINERSTATUS_DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'ninerstatus.sqlite'}"


def test_database_url_switches_to_postgresql_through_psycopg(tmp_path, monkeypatch):
    monkeypatch.setenv("NINERSTATUS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("NINERSTATUS_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("NINERSTATUS_DATABASE_URL", "postgresql://status@db.example.net/status")
    assert create_app().config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://status@db.example.net/status"


def test_environment_values_are_typed_when_they_look_like_json():
    assert env_overrides({"NINERSTATUS_POSTS_PER_PAGE": "20", "NINERSTATUS_DEBUG": "false",
                          "NINERSTATUS_SITE_NAME": "Status", "OTHER": "x", "NINERSTATUS_": "y"}) == \
        {"POSTS_PER_PAGE": 20, "DEBUG": False, "SITE_NAME": "Status"}
    assert normalise_database_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_database_url("sqlite:////tmp/x") == "sqlite:////tmp/x"


def test_the_commands_without_a_site_read_the_settings_the_site_reads(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text("import os\nSECRET_KEY = 'from-file'\nDISABLED_PLUGINS = ['sip']\n"
                                        "PLUGINS_FOLDER = os.path.join(os.path.dirname(__file__), 'mine')\n"
                                        "lower_case_is_no_setting = 1\n")
    monkeypatch.setenv("NINERSTATUS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("NINERSTATUS_DISABLED_PLUGINS", '["dns"]')
    settings = site_settings(tmp_path, os.environ)
    assert settings["DISABLED_PLUGINS"] == ["dns"] and settings["PLUGINS_FOLDER"] == str(tmp_path / "mine")
    assert "lower_case_is_no_setting" not in settings
    app = create_app(check_secret=False)
    assert {name: app.config[name] for name in settings} == settings


def test_the_default_instance_folder_is_where_flask_has_always_put_it(monkeypatch):
    # Existing sites keep their instance folder, now that ninerstatus finds it without Flask.
    monkeypatch.delenv("NINERSTATUS_INSTANCE_PATH", raising=False)
    assert str(default_instance_path()) == Flask("ninerstatus").instance_path


def test_a_broken_instance_file_is_one_error_naming_the_file_and_line(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text("SECRET_KEY = 'k'\nSITE_NAME = 'unclosed\n")
    monkeypatch.setenv("NINERSTATUS_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="^" + re.escape(f"{tmp_path / 'config.py'}, line 2: ")):
        create_app()


def test_an_unusable_database_url_is_a_config_error_without_the_password(tmp_path):
    with pytest.raises(ConfigError, match="DATABASE_URL must be a database URL .* not the int 5432"):
        database_url(5432, tmp_path)
    with pytest.raises(ConfigError, match=r"^DATABASE_URL is not a database URL"):
        database_url("db.example.net:5432", tmp_path)
    with pytest.raises(ConfigError, match=r"mongodb://status:\*\*\*@db.example.net/s: there is no database driver"):
        database_url("mongodb://status:hunter2@db.example.net/s", tmp_path)
    with pytest.raises(ConfigError, match=f"there is no folder {tmp_path / 'gone'} for the SQLite file"):
        database_url(f"sqlite:///{tmp_path / 'gone' / 'site.sqlite'}", tmp_path)
    assert database_url(None, tmp_path) == f"sqlite:///{tmp_path / 'ninerstatus.sqlite'}"
    assert database_url("postgres://status@db/s", tmp_path) == "postgresql+psycopg://status@db/s"

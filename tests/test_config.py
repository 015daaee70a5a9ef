"""Settings come from code, then instance/config.py, then NINERSTATUS_* variables."""
from __future__ import annotations

from ninerstatus import create_app
from ninerstatus.config import env_overrides, normalise_database_url


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

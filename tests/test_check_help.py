"""``ninerstatus check TYPE --help`` lists the type's settings, generated from what the type declares.

Each setting shows its label, what it takes (text, a number within bounds,
one of its choices, yes or no, a secret), whether it is required, its help
text and its default; the type's port and TLS modes come first. A plugin's
type gets the same without writing any help of its own.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from wtforms import BooleanField, IntegerField, PasswordField, SelectChoice, SelectField, StringField, validators

from ninerstatus import CheckType, create_app
from ninerstatus.check_commands import settings_help

from .test_cli import _command_env, _script

LOCAL_PLUGINS = Path(__file__).parent / "local_plugins"


@pytest.fixture
def cli(tmp_path):
    """A runner of the site's commands with the bundled plugins and the test suite's local "banner" plugin."""
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": f"sqlite:///{tmp_path / 'db'}",
                      "PLUGINS_FOLDER": str(LOCAL_PLUGINS)})
    return app.test_cli_runner()


def help_of(cli, *args: str) -> str:
    result = cli.invoke(args=["check", *args, "--help"])
    assert result.exit_code == 0, result.output
    return re.sub(r"\s+", " ", result.output)  # the lines are wrapped to the terminal: compare words


def test_the_help_of_a_bundled_type_lists_its_settings_port_and_tls_modes(cli):
    text = help_of(cli, "http")
    assert "Run one probe now" in text and "--host" in text  # the usual help comes first
    assert "HTTP(S) (http): Requests a page over HTTP/1.1" in text
    assert "port 443 (usual ports: https 443, http 80)" in text
    assert "--tls none, implicit (by port: 443: implicit; 80: none; other ports: none)" in text
    assert "Settings of http, given as --option NAME=VALUE:" in text
    assert ("path Path: text, required. Request path and query, e.g. /health?full=1. Default: /.") in text
    assert "method Method: one of GET, HEAD, POST, OPTIONS. Default: GET." in text
    assert ("max_redirects Redirects followed: whole number from 0 to 20. 0 judges a redirect status itself. "
            "Default: 5.") in text
    assert "host_header Host header: text. Sent instead of the checked host" in text


def test_a_secret_setting_says_so_and_never_shows_a_default(cli):
    text = help_of(cli, "ftp")
    assert ("password Password: secret text, at most 256 characters. Never shown in transcripts. "
            "Stored encrypted.") in text
    assert "check_pasv Test passive mode: yes or no." in text and "Default: no." in text
    assert "--tls none, starttls, implicit (by port: 21: starttls; 990: implicit; other ports: none)" in text


def test_a_local_plugins_type_gets_its_settings_listed_too(cli):
    text = help_of(cli, "banner")
    assert "Banner (banner)" in text and "port 2525" in text
    assert "expect Expected text: text." in text
    assert "secret A secret: secret text. Stored encrypted." in text


def test_without_a_type_the_help_lists_the_types(cli):
    text = help_of(cli)
    assert "Check types: banner Banner smtp SMTP" in text and "http HTTP(S)" in text
    assert "`ninerstatus check TYPE --help` lists the settings of a type." in text
    assert "There is no check type" not in text
    assert "There is no check type 'gopher'." in help_of(cli, "gopher")


def test_the_type_may_come_anywhere_among_the_options(cli):
    assert "Settings of smtp" in help_of(cli, "--host", "mail.example.net", "-p", "587", "smtp")


def test_every_kind_of_setting_is_described_from_its_field():
    def probe(target, settings, ctx):
        raise AssertionError("never probed")

    kinds = CheckType(name="kinds", label="Kinds", probe=probe, default_port=1, secret_settings=("token",), settings={
        "count": IntegerField("Count", [validators.InputRequired(), validators.NumberRange(1, 9)], default=3),
        "flag": BooleanField("Flag", default=True, description="Turns it on."),
        "colour": SelectField("Colour", choices=[SelectChoice("red", "Red"), SelectChoice("blue", "Blue")],
                              default="blue"),
        "token": StringField("API token", default="do-not-show"),
        "key": PasswordField("Key"),
    })
    assert dict(settings_help(kinds)) == {
        "count": "Count: whole number from 1 to 9, required. Default: 3.",
        "flag": "Flag: yes or no. Turns it on. Default: yes.",
        "colour": "Colour: one of red, blue. Default: blue.",
        "token": "API token: text. Stored encrypted.",
        "key": "Key: secret text. Stored encrypted.",
    }


def test_the_script_shows_a_types_settings_without_building_the_site(tmp_path):
    env = _command_env(tmp_path, PLUGINS_FOLDER=str(LOCAL_PLUGINS))
    result = subprocess.run([_script("ninerstatus"), "check", "banner", "--help"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Settings of banner, given as --option NAME=VALUE:" in result.stdout

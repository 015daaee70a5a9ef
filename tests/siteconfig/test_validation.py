"""`config apply` refuses a file with anything wrong, naming file, line and field, and changes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ninerstatus.agents.models import CheckLocation, Location
from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.models import Server
from ninerstatus.site_settings import SiteSetting

VALID = """\
version: 1
servers:
  - code: NC036
    city: Amsterdam
    checks:
      - name: Mailbox
        type: imap
        host: mail.example.net
        port: 993
        settings:
          username: probe@example.net
          password: ${IMAP_PASSWORD}
      - type: http
        host: www.example.net
        settings:
          max_redirects: 3
  - code: NC041
    role: Web server
notifications:
  smtp_port: 2525
locations:
  - name: Home
    site: true
  - name: Lusaka
    city: Lusaka
    network: MTN
    checks:
      - "NC036: HTTP 443"
      - "nc036: Mailbox"
"""
ENVIRONMENT = {"IMAP_PASSWORD": "imap-pass-1"}


def _changed(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


#: (what is wrong, the file, a text on the line the error names, the field, the message).
CASES = [
    ("not YAML", _changed(VALID, "    city: Amsterdam", "    city: [Amsterdam"), "    checks:", "",
     "not valid YAML: expected ',' or ']', but got ':'"),
    ("a key given twice", _changed(VALID, "    city: Amsterdam", "    city: Amsterdam\n    city: Lyon"),
     "city: Lyon", "servers[0].city", "given twice (first on line 4)"),
    ("an unknown top-level key", _changed(VALID, "notifications:", "notification:"), "notification:",
     "notification", "unknown key (known: version, servers, notifications, locations)"),
    ("an unknown server key", _changed(VALID, "    city: Amsterdam", "    citty: Amsterdam"), "citty",
     "servers[0].citty", "unknown key (known: code, role, city"),
    ("an unknown check key", _changed(VALID, "        port: 993", "        port: 993\n        intervall: 30"),
     "intervall", "servers[0].checks[0].intervall", "unknown key (known: name, type, host"),
    ("an unknown setting", _changed(VALID, "          username:", "          usernme:"), "usernme",
     "servers[0].checks[0].settings.usernme", "IMAP checks have no such setting (settings: username, password)"),
    ("text for a number", _changed(VALID, "        port: 993", '        port: "993"'), "port:",
     "servers[0].checks[0].port", 'must be a whole number or null, not text'),
    ("text for true or false", _changed(VALID, "        port: 993", '        port: 993\n        enabled: "no"'),
     "enabled", "servers[0].checks[0].enabled", "must be true or false, not text"),
    ("a mapping for the list of servers", "servers:\n  code: NC036\n", "code: NC036", "servers",
     "must be a list, not a mapping"),
    ("a list for a server", "servers:\n  - [NC036]\n", "- [NC036]", "servers[0]",
     "must be a mapping of names to values, not a list"),
    ("a setting the plugin's form refuses", _changed(VALID, "max_redirects: 3", "max_redirects: 99"),
     "max_redirects", "servers[0].checks[1].settings.max_redirects", "Number must be between 0 and 20."),
    ("a setting of the wrong shape", _changed(VALID, "max_redirects: 3", "max_redirects: [3]"),
     "max_redirects", "servers[0].checks[1].settings.max_redirects", "must be a whole number or null, not a list"),
    ("an unknown check type", _changed(VALID, "type: imap", "type: imapx"), "type: imapx",
     "servers[0].checks[0].type", "no loaded plugin provides the check type 'imapx' (loaded: smtp, sip, pop"),
    ("a check without a type", _changed(VALID, "      - type: http\n        host:", "      - host:"), "- host: www.example.net",
     "servers[0].checks[1].type", "missing: every check names its check type"),
    ("a server code given twice", _changed(VALID, "code: NC041", "code: nc036"), "code: nc036",
     "servers[1].code", "the code nc036 is already given to the server on line 3"),
    ("a check name given twice", _changed(VALID, "      - type: http", "      - name: Mailbox\n        type: http"),
     "name: Mailbox\n        type: http", "servers[0].checks[1].name",
     "the server already has a check named 'Mailbox' (line 6)"),
    ("a secret whose variable is not set", _changed(VALID, "${IMAP_PASSWORD}", "${IMAP_PASS}"), "${IMAP_PASS}",
     "servers[0].checks[0].settings.password", "the environment variable IMAP_PASS is not set"),
    ("a secret written in clear", _changed(VALID, "${IMAP_PASSWORD}", "hunter2"), "hunter2",
     "servers[0].checks[0].settings.password", "a secret is written as ${ENVIRONMENT_VARIABLE}"),
    ("a notifier secret whose variable is not set", _changed(VALID, "  smtp_port: 2525", "  smtp_password: ${X}"),
     "smtp_password", "notifications.smtp_password", "the environment variable X is not set"),
    ("a server code the server form refuses", _changed(VALID, "code: NC041", "code: NC 041"), "NC 041",
     "servers[1].code", "Use letters, digits, dots, dashes and underscores."),
    ("a timeout not shorter than the interval (the check form's rule)",
     _changed(VALID, "        port: 993", "        port: 993\n        interval: 30\n        timeout: 30"),
     "timeout: 30", "servers[0].checks[0].timeout", "Must be shorter than the interval."),
    ("a password without TLS (the check type's rule)",
     _changed(VALID, "        port: 993", "        port: 993\n        tls: none"), "tls: none",
     "servers[0].checks[0].tls", "A login test without TLS would send the password in the clear"),
    ("a TLS mode the check type cannot use",
     _changed(VALID, "        host: www.example.net", "        host: www.example.net\n        tls: starttls"),
     "tls: starttls", "servers[0].checks[1].tls", "HTTP(S) checks cannot use “STARTTLS (required)”"),
    ("a URL for a host", _changed(VALID, "host: www.example.net", "host: https://www.example.net/"),
     "https://www", "servers[0].checks[1].host", "a host name or IP address, not a URL"),
    ("a host the form refuses", _changed(VALID, "host: www.example.net", "host: -www.example.net"),
     "-www.example.net", "servers[0].checks[1].host", "host"),
    ("a notifier value out of range", _changed(VALID, "smtp_port: 2525", "smtp_port: 70000"), "smtp_port",
     "notifications.smtp_port", "smtp_port must be at most 65535"),
    ("an unknown notifier setting", _changed(VALID, "smtp_port: 2525", "smtp_prot: 2525"), "smtp_prot",
     "notifications.smtp_prot", "unknown key (known: email_to, email_from, smtp_host"),
    ("another version of the format", _changed(VALID, "version: 1", "version: 2"), "version: 2", "version",
     "this site reads version 1 of the file"),
    ("an unknown location key", _changed(VALID, "    network: MTN", "    netwrok: MTN"), "netwrok",
     "locations[1].netwrok", "unknown key (known: name, site, city, country, network, checks)"),
    ("a location name given twice (ignoring case)", _changed(VALID, "- name: Lusaka", "- name: home"), "name: home",
     "locations[1].name", "the name home is already given to the location on line 22"),
    ("a second site location", _changed(VALID, "    city: Lusaka", "    city: Lusaka\n    site: true"),
     "site: true\n    network", "locations[1].site",
     "only one location is the site's own runner (the one on line 22 is): leave this key out"),
    ("a location without a name", _changed(VALID, "  - name: Lusaka\n    city:", "  - city:"), "- city: Lusaka",
     "locations[1].name", "This field is required."),
    ("a location name the form refuses", _changed(VALID, "name: Lusaka", "name: " + "L" * 81), "LLLL",
     "locations[1].name", "Field cannot be longer than 80 characters."),
    ("text for the site mark", _changed(VALID, "site: true", 'site: "yes"'), "site:", "locations[0].site",
     "must be true or false, not text"),
    ("text for the list of checks", _changed(VALID, '    checks:\n      - "NC036: HTTP 443"\n      - "nc036: Mailbox"',
                                             '    checks: "NC036: Mailbox"'), "checks: \"NC036",
     "locations[1].checks", "must be a list, not text"),
    ("a mapping for the list of locations", VALID.split("locations:")[0] + "locations:\n  name: Home\n", "name: Home",
     "locations", "must be a list, not a mapping"),
    ("a check named without its server", _changed(VALID, '"nc036: Mailbox"', "Mailbox"), "- Mailbox",
     "locations[1].checks[1]", 'a check is named "SERVER-CODE: check name" (as "NC036: IMAP 993"), not \'Mailbox\''),
    ("a number for a check", _changed(VALID, '"nc036: Mailbox"', "36"), "- 36", "locations[1].checks[1]",
     "must be text, not a number"),
    ("a check no server has", _changed(VALID, '"nc036: Mailbox"', '"NC036: Mailbx"'), "Mailbx",
     "locations[1].checks[1]", "no check NC036: Mailbx in this file or on the site"),
    ("a check of a server no one has", _changed(VALID, '"nc036: Mailbox"', '"NC099: Mailbox"'), "NC099",
     "locations[1].checks[1]", "no check NC099: Mailbox in this file or on the site"),
    ("a check named twice by one location", _changed(VALID, '"nc036: Mailbox"', '"nc036: HTTP 443"'),
     "nc036: HTTP", "locations[1].checks[1]", "the location already names this check (line 28)"),
    ("checks for the site's own runner", _changed(VALID, "    site: true", '    site: true\n    checks: ["NC036: Mailbox"]'),
     "checks: [", "locations[0].checks", "the site's own runner probes every enabled check: leave checks out"),
    ("a quorum below 1 (the check form's rule)", _changed(VALID, "        port: 993", "        port: 993\n        quorum: 0"),
     "quorum: 0", "servers[0].checks[0].quorum",
     "Choose a majority, or a whole number of locations from 1 to 1000."),
    ("text for a quorum", _changed(VALID, "        port: 993", '        port: 993\n        quorum: "two"'),
     "quorum:", "servers[0].checks[0].quorum", "must be a whole number or null, not text"),
]


@pytest.mark.parametrize(("text", "marker", "field", "message"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_a_file_with_a_problem_is_refused_with_its_line_and_field_and_changes_nothing(
        app, config_file, text, marker, field, message):
    path = config_file(text)
    line = text[:text.index(marker)].count("\n") + 1
    with app.app_context():
        locations = [(row.name, row.is_site) for row in db.session.scalars(select(Location))]
    result = app.test_cli_runner().invoke(args=["config", "apply", str(path)], env=ENVIRONMENT)
    assert result.exit_code == 1, result.output
    where = f"{path}:{line}: " + (f"{field}: " if field else "")
    told = [row for row in result.stderr.splitlines() if row.startswith(where)]
    assert told and message in told[0], result.stderr
    assert result.stderr.endswith("is not applied: 1 problem(s); nothing changed.\n"), result.stderr
    assert result.stdout == ""
    with app.app_context():
        assert db.session.scalar(select(func.count(Server.id))) == 0
        assert db.session.scalar(select(func.count(Check.id))) == 0
        assert db.session.scalar(select(func.count()).select_from(SiteSetting)) == 0
        assert [(row.name, row.is_site) for row in db.session.scalars(select(Location))] == locations


def test_the_valid_file_of_these_cases_applies(app, config_file):
    """The cases above each break this file in one place: whole, it applies."""
    result = app.test_cli_runner().invoke(args=["config", "apply", str(config_file(VALID))], env=ENVIRONMENT)
    assert result.exit_code == 0, result.output
    with app.app_context():
        titles = {(check.server.code, check.title) for check in db.session.scalars(select(Check))}
        assert titles == {("NC036", "Mailbox"), ("NC036", "HTTP 443")}
        orders = dict(db.session.execute(select(Server.code, Server.display_order)).all())
        assert orders == {"NC036": 10, "NC041": 20}  # their places in the file
        probed = {(location.name, location.is_site, location.network): sorted(
            check.title for check in db.session.scalars(select(Check).join(CheckLocation).where(
                CheckLocation.location_id == location.id))) for location in db.session.scalars(select(Location))}
        # The site's own runner probes every enabled check: its rows come with its first results.
        assert probed == {("Home", True, ""): [], ("Lusaka", False, "MTN"): ["HTTP 443", "Mailbox"]}


def test_every_problem_of_a_file_is_told_in_line_order(app, config_file):
    text = _changed(_changed(VALID, "type: imap", "type: imapx"), "smtp_port: 2525", "smtp_port: -1")
    result = app.test_cli_runner().invoke(args=["config", "apply", str(config_file(text))], env=ENVIRONMENT)
    assert result.exit_code == 1
    problems = result.stderr.splitlines()[:-1]
    assert [row.split(": ")[1] for row in problems] == ["servers[0].checks[0].type", "notifications.smtp_port"]
    assert result.stderr.endswith("2 problem(s); nothing changed.\n")


def test_a_file_that_cannot_be_read_is_refused(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["config", "apply", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 1
    assert f"cannot read {tmp_path / 'missing.yaml'}: No such file or directory" in result.stderr

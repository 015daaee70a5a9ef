"""Probe locations in `config export` and `config apply`: round trip without tokens, diff, prune, the site's own one."""
from __future__ import annotations

import re

import pytest
import yaml
from sqlalchemy import func, select

from ninerstatus.agents.models import CheckLocation, Location
from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.siteconfig.apply import Refused, SiteChanged, apply_document, reconcile
from ninerstatus.siteconfig.document import read_document
from ninerstatus.siteconfig.yamlfile import load

from .conftest import ENVIRONMENT, build_locations, build_site, locations, snapshot
from .test_export_apply import _edited, apply, export


def _built(app) -> str:
    """Build the site with its locations; the text of Lusaka's token."""
    with app.app_context():
        build_site()
        return str(build_locations())


def _location(name: str) -> Location | None:
    return db.session.scalar(select(Location).where(Location.name == name))


def test_locations_round_trip_without_their_tokens(app, second_app, config_file):
    token = _built(app)
    text = export(app)
    with app.app_context():
        lusaka = _location("Lusaka")
        stored = (lusaka.token_id, lusaka.token_hash)
    for part in (token, *token.split("."), *stored):
        assert part not in text
    assert "token" not in yaml.safe_load(text)["locations"][1]
    result = apply(second_app, config_file(text))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    # The second site's own runner is renamed, never made twice.
    assert lines[lines.index("~ update location Zürich (the site's own runner)") + 1:][:3] == [
        '    name: System Status -> "Zürich"', '    city: "" -> "Zürich"', '    country: "" -> Switzerland']
    assert "+ create location Lusaka" in lines and "    checks: + NC036: IMAP 993" in lines
    assert ("Note: location Lusaka has no token: an admin gives it one on the Locations page (New token) before its "
            "agent can report.") in lines
    assert snapshot(second_app) == snapshot(app)
    with second_app.app_context():
        assert db.session.scalar(select(func.count(Location.id)).where(Location.is_site.is_(True))) == 1
        assert [row.token_hash for row in db.session.scalars(select(Location))] == [None, None, None]
    again = apply(second_app, config_file(text))
    assert again.stdout.strip() == "Nothing to change: the site already matches the file."
    assert "Nothing to change" in apply(app, config_file(text)).stdout


def test_the_exported_locations_name_their_checks_and_the_site_s_runner_first(app):
    _built(app)
    document = yaml.safe_load(export(app))
    assert document["locations"] == [
        {"name": "Zürich", "site": True, "city": "Zürich", "country": "Switzerland", "network": ""},
        {"name": "Lusaka", "city": "Lusaka", "country": "Zambia", "network": "MTN",
         "checks": ["NC036: IMAP 993", "NC040: DNS 53"]},
        {"name": "Toronto", "city": "", "country": "Canada", "network": "Beanfield", "checks": []}]


def test_the_locations_are_commented_and_name_no_check_the_file_leaves_out(app, second_app, config_file):
    _built(app)
    with app.app_context():
        gone = Check(server=db.session.scalar(select(Check)).server, type_name="gone", host="old.example.net",
                     port=25, settings={})
        db.session.add(gone)
        db.session.flush()
        db.session.add(CheckLocation(check_id=gone.id, location_id=_location("Lusaka").id))
        db.session.commit()
    text = export(app)
    assert re.search(r"^    network: MTN +# Network or ISP$", text, re.MULTILINE)
    assert re.search(r"^    site: true +# the site's own runner: it probes every enabled check$", text, re.MULTILINE)
    assert "GONE 25" not in text  # left out with its check, which the export warns about
    result = apply(second_app, config_file(text))
    assert result.exit_code == 0, result.output
    with second_app.app_context():
        assert locations()["Lusaka"]["checks"] == {"NC036: IMAP 993", "NC040: DNS 53"}


def test_a_location_s_fields_and_checks_are_updated_and_a_kept_assignment_keeps_its_state(app, config_file):
    _built(app)
    with app.app_context():
        lusaka = _location("Lusaka")
        kept = db.session.get(CheckLocation, (db.session.scalar(select(Check.id).where(Check.type_name == "dns")),
                                              lusaka.id))
        kept.state, kept.consecutive_failures = "down", 4
        lusaka_id, token_hash = lusaka.id, lusaka.token_hash
        db.session.commit()

    def edit(document):
        lusaka = document["locations"][1]
        lusaka["network"] = "Airtel"
        lusaka["checks"] = ["NC040: DNS 53", "nc040: Files"]

    result = apply(app, _edited(app, config_file, edit))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[lines.index("~ update location Lusaka") + 1:][:3] == [
        "    network: MTN -> Airtel", "    checks: + nc040: Files", "    checks: - NC036: IMAP 993"]
    assert "no token" not in result.stdout
    with app.app_context():
        assert locations()["Lusaka"]["checks"] == {"NC040: DNS 53", "NC040: Files"}
        dns = db.session.scalar(select(CheckLocation).join(Check).where(Check.type_name == "dns",
                                                                        CheckLocation.location_id == lusaka_id))
        assert (dns.state, dns.consecutive_failures) == ("down", 4)
        assert _location("Lusaka").token_hash == token_hash  # an agent keeps its token


def test_prune_removes_an_agent_location_with_its_token_and_never_the_site_s(app, config_file):
    _built(app)

    def edit(document):
        document["locations"] = [document["locations"][2]]  # Toronto alone: no site's runner, no Lusaka

    path = _edited(app, config_file, edit)
    kept = apply(app, path)
    assert kept.exit_code == 0, kept.output
    assert "Not in the file, left as they are (--prune removes them): location Lusaka" in kept.stdout
    assert "Nothing to change" in kept.stdout
    pruned = apply(app, path, "--prune")
    assert pruned.exit_code == 0, pruned.output
    assert "- remove location Lusaka and its token" in pruned.stdout
    assert "Zürich" not in pruned.stdout
    with app.app_context():
        assert sorted((row.name, row.is_site) for row in db.session.scalars(select(Location))) == [
            ("Toronto", False), ("Zürich", True)]
        # Lusaka's rows went with it; the site's runner's stay.
        assert set(db.session.scalars(select(CheckLocation.location_id))) == {_location("Zürich").id}
    assert "Nothing to change" in apply(app, path, "--prune").stdout


def test_an_empty_list_of_locations_prunes_the_agents_and_a_file_without_the_section_leaves_them(app, config_file):
    _built(app)
    looked = apply(app, config_file("version: 1\n", name="servers.yaml"), "--prune", "--dry-run")
    assert "- remove server NC036" in looked.stdout and "location" not in looked.stdout
    path = _edited(app, config_file, lambda document: document.update(locations=[]))
    result = apply(app, path, "--prune")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["- remove location Lusaka and its token", "- remove location Toronto",
                                          "2 to remove.", f"Applied {path}."]
    with app.app_context():
        assert [row.name for row in db.session.scalars(select(Location))] == ["Zürich"]


def test_the_site_s_runner_is_made_when_the_database_has_none_and_never_twice(app, config_file):
    with app.app_context():
        db.session.execute(Location.__table__.delete())
        db.session.commit()
    path = config_file("locations:\n  - name: Home\n    site: true\n  - name: Lusaka\n")
    looked = apply(app, path, "--dry-run")
    assert "~ update location Home (the site's own runner)\n    name: System Status -> Home\n" in looked.stdout
    with app.app_context():
        assert db.session.scalar(select(func.count(Location.id))) == 0  # a dry run stores nothing
    assert apply(app, path).exit_code == 0
    assert "Nothing to change" in apply(app, path).stdout
    with app.app_context():
        assert sorted((row.name, row.is_site) for row in db.session.scalars(select(Location))) == [
            ("Home", True), ("Lusaka", False)]


def test_the_site_s_runner_cannot_take_the_name_of_an_agent_the_file_leaves_alone(app, config_file):
    _built(app)
    path = config_file("locations:\n  - name: toronto\n    site: true\n")
    refused = apply(app, path)
    assert refused.exit_code == 1
    assert ("the site's own location and another would both be named toronto: rename one of them (an agent "
            "location the file leaves out is removed only with --prune); nothing changed.") in refused.stderr
    pruned = apply(app, path, "--prune")  # Toronto goes first, then the site's runner takes its name
    assert pruned.exit_code == 0, pruned.output
    with app.app_context():
        assert [(row.name, row.is_site) for row in db.session.scalars(select(Location))] == [("toronto", True)]
    # Nor can an agent of the file take the name of the site's runner when the file leaves the runner out.
    taken = apply(app, config_file("locations:\n  - name: TORONTO\n", name="agent.yaml"))
    assert taken.exit_code == 1
    assert "the site's own location and another would both be named toronto" in taken.stderr


def test_with_prune_a_location_may_name_only_the_file_s_checks(app, config_file):
    _built(app)
    path = config_file("servers:\n  - code: NC036\n    checks:\n      - type: smtp\n        host: mail.example.net\n"
                       "        port: 25\n"
                       "locations:\n  - name: Lusaka\n    checks:\n      - \"NC036: SMTP 25\"\n"
                       "      - \"NC040: DNS 53\"\n")
    refused = apply(app, path, "--prune", "--dry-run")
    assert refused.exit_code == 1
    assert (f"{path}:11: locations[0].checks[1]: no check NC040: DNS 53 in this file (with --prune, the site's "
            "checks the file leaves out are removed)") in refused.stderr
    # Without --prune the site's checks all stay, so Lusaka may probe one the file leaves out.
    result = apply(app, path)
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert locations()["Lusaka"]["checks"] == {"NC036: SMTP 25", "NC040: DNS 53"}


def test_a_location_changed_in_the_admin_after_the_diff_stops_the_apply(app):
    _built(app)
    text = export(app).replace("network: MTN", "network: Airtel")
    with app.app_context():
        document = read_document(load(text), ENVIRONMENT)
        shown = reconcile(document, prune=False)
        assert [change.what for change in shown.changes] == ["location Lusaka"]
        # Meanwhile an admin makes Toronto probe a check.
        toronto = _location("Toronto")
        db.session.add(CheckLocation(check_id=db.session.scalar(select(func.min(Check.id))), location_id=toronto.id))
        db.session.commit()
        with pytest.raises(SiteChanged):
            apply_document(document, shown, prune=False)
        db.session.expire_all()
        assert _location("Lusaka").network == "MTN"


def test_a_check_removed_meanwhile_stops_the_apply(app):
    _built(app)
    text = "locations:\n  - name: Lusaka\n    checks: [\"NC040: Files\"]\n"
    with app.app_context():
        document = read_document(load(text), {})
        shown = reconcile(document, prune=False)
        db.session.delete(db.session.scalar(select(Check).where(Check.type_name == "ftp")))
        db.session.commit()
        with pytest.raises(SiteChanged, match="the check NC040: Files is gone"):
            apply_document(document, shown, prune=False)
        db.session.expire_all()
        assert locations()["Lusaka"]["checks"] == {"NC036: IMAP 993", "NC040: DNS 53"}


def test_two_locations_of_one_name_on_the_site_stop_the_apply(app, config_file):
    _built(app)
    with app.app_context():
        db.session.add(Location(name="LUSAKA"))  # stored rows are untrusted: the admin would refuse this name
        db.session.commit()
    refused = apply(app, config_file("locations:\n  - name: Lusaka\n"))
    assert refused.exit_code == 1
    assert "the site has 2 locations named 'Lusaka': rename all but one on the admin's Locations page" in \
        refused.stderr


def test_the_site_s_runner_is_given_no_checks_and_keeps_the_state_of_its_own(app, config_file):
    _built(app)
    with app.app_context():
        site_id = _location("Zürich").id
        for row in db.session.scalars(select(CheckLocation).where(CheckLocation.location_id == site_id)):
            row.state = "critical"
        db.session.commit()
    text = export(app)
    assert "- name: Zürich" in text.replace('"', "")
    site_entry = yaml.safe_load(text)["locations"][0]
    assert site_entry["site"] is True and "checks" not in site_entry
    for options in ((), ("--prune",)):
        result = apply(app, config_file(text), *options)
        assert result.stdout.strip() == "Nothing to change: the site already matches the file.", result.output
    with app.app_context():
        states = list(db.session.scalars(select(CheckLocation.state).where(CheckLocation.location_id == site_id)))
    assert states == ["critical", "critical"]

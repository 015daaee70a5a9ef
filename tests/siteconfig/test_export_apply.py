"""`ninerstatus config export` and `config apply`: round trip, idempotence, diff, dry run, prune, races."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.models import Server
from ninerstatus.site_settings import SiteSetting, site_setting, store_setting
from ninerstatus.siteconfig.apply import SiteChanged, apply_document, reconcile
from ninerstatus.siteconfig.commands import SITE_CHANGED
from ninerstatus.siteconfig.document import read_document
from ninerstatus.siteconfig.yamlfile import load

from ..factories import make_server
from .conftest import ENVIRONMENT, IMAP_PASSWORD, SECRETS, add_check, build_site, locations, snapshot


def export(app, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["config", "export", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def apply(app, path: Path, *options: str, env: dict[str, str] | None = None):
    return app.test_cli_runner().invoke(args=["config", "apply", str(path), *options],
                                        env=ENVIRONMENT if env is None else env)


def test_export_then_apply_on_a_fresh_site_gives_the_same_site(app, second_app, config_file):
    with app.app_context():
        build_site()
    path = config_file(export(app))
    result = apply(second_app, path)
    assert result.exit_code == 0, result.output
    assert "+ create server NC036" in result.stdout and "+ create check NC040 / Files" in result.stdout
    assert snapshot(second_app) == snapshot(app)
    # The second site's secrets are its own: encrypted under its key, read back in clear.
    with second_app.app_context():
        check = db.session.scalar(select(Check).where(Check.type_name == "imap"))
        assert IMAP_PASSWORD not in repr(check.settings) and check.probe_settings()["password"] == IMAP_PASSWORD


def test_applying_the_same_file_twice_changes_nothing(app, second_app, config_file):
    with app.app_context():
        build_site()
    path = config_file(export(app))
    assert apply(second_app, path).exit_code == 0
    after_first = snapshot(second_app)
    again = apply(second_app, path)
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == "Nothing to change: the site already matches the file."
    assert snapshot(second_app) == after_first
    # And the file applied to the site it came from changes nothing either.
    assert "Nothing to change" in apply(app, path).stdout


def test_the_exported_file_never_holds_a_secret_in_clear(app):
    with app.app_context():
        build_site()
    text = export(app)
    for secret in SECRETS:
        assert secret not in text
    document = yaml.safe_load(text)
    imap = document["servers"][0]["checks"][0]
    assert imap["settings"]["password"] == "${NINERSTATUS_SECRET_NC036_IMAP_993_PASSWORD}"
    assert document["notifications"]["smtp_password"] == "${NINERSTATUS_SECRET_NOTIFY_SMTP_PASSWORD}"
    # The header lists every variable the file needs, and no other.
    listed = set(re.findall(r"^#     (NINERSTATUS_SECRET_\w+)$", text, re.MULTILINE))
    assert listed == set(ENVIRONMENT)


def test_the_exported_file_comments_each_field_with_its_admin_label(app):
    with app.app_context():
        build_site()
    text = export(app)
    assert text.startswith("# ninerstatus site configuration")
    assert re.search(r"^    city: \"Zürich\" +# City$", text, re.MULTILINE)
    assert re.search(r"^        interval: 120 +# Probe every \(seconds\)$", text, re.MULTILINE)
    assert re.search(r"^          helo_name: status.example.net +# EHLO name$", text, re.MULTILINE)
    assert "#     settings.check_pasv: Test passive mode: yes or no." in text


def test_export_writes_the_file_it_is_given(app, tmp_path):
    with app.app_context():
        build_site()
    path = tmp_path / "site.yaml"
    result = app.test_cli_runner().invoke(args=["config", "export", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and "4 environment variables" in result.stderr
    assert path.read_text(encoding="utf-8") == export(app)


def test_an_empty_site_exports_a_file_that_applies(app, config_file):
    path = config_file(export(app))
    assert yaml.safe_load(path.read_text())["servers"] == []
    assert "Nothing to change" in apply(app, path, env={}).stdout


def _edited(app, config_file, edit) -> Path:
    """The exported file of ``app`` with ``edit`` applied to its parsed content, written back."""
    document = yaml.safe_load(export(app))
    edit(document)
    return config_file(yaml.safe_dump(document, allow_unicode=True), name="edited.yaml")


def test_the_diff_names_each_field_and_never_a_secret_value(app, config_file):
    with app.app_context():
        build_site()

    def edit(document):
        mail = document["servers"][0]
        mail["city"] = "Basel"
        mail["checks"][0]["port"] = 143
        mail["checks"][0]["tls"] = "starttls"
        document["notifications"]["smtp_port"] = 2525

    env = {**ENVIRONMENT, "NINERSTATUS_SECRET_NC036_IMAP_993_PASSWORD": "a-new-password-5"}
    result = apply(app, _edited(app, config_file, edit), env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:2] == ["~ update server NC036", '    city: "Zürich" -> Basel']
    assert "~ update check NC036 / IMAP 993" in lines
    imap = lines[lines.index("~ update check NC036 / IMAP 993") + 1:]
    assert imap[:3] == ["    port: 993 -> 143", "    tls: implicit -> starttls", "    settings.password: secret changed"]
    assert "    smtp_port: 587 -> 2525" in lines
    assert "a-new-password-5" not in result.output and IMAP_PASSWORD not in result.output
    with app.app_context():
        check = db.session.scalar(select(Check).where(Check.type_name == "imap"))
        # Still titled as in the file, though its type and port now say "IMAP 143".
        assert (check.title, check.port, check.probe_settings()["password"]) == ("IMAP 993", 143, "a-new-password-5")
        assert site_setting("NOTIFY_SMTP_PORT") == 2525


def test_a_check_s_quorum_is_exported_commented_and_applied_through_the_check_form(app, config_file):
    with app.app_context():
        build_site()
    text = export(app)
    assert re.search(r"^        quorum: 2 +# Down when failing from$", text, re.MULTILINE)  # the HTTP check
    assert len(re.findall(r"^        quorum: null +# Down when failing from$", text, re.MULTILINE)) == 4
    assert "#     quorum: locations that must see the check failing for it to be down" in text

    def edit(document):
        document["servers"][0]["checks"][0]["quorum"] = 3  # IMAP 993: a majority until now
        document["servers"][1]["checks"][0]["quorum"] = None  # Site: 2 until now

    path = _edited(app, config_file, edit)
    result = apply(app, path)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[lines.index("~ update check NC036 / IMAP 993") + 1] == "    quorum: 3"  # set, where none was
    assert lines[lines.index("~ update check NC040 / Site") + 1] == "    quorum: 2 -> null"
    with app.app_context():
        assert dict(db.session.execute(select(Check.label, Check.quorum).where(Check.type_name.in_(
            ["imap", "http"]))).all()) == {"": 3, "Site": None}
    assert "Nothing to change" in apply(app, path).stdout


def test_a_dry_run_prints_the_changes_and_changes_nothing(app, config_file):
    with app.app_context():
        build_site()
    before = snapshot(app)

    def edit(document):
        del document["servers"][1]
        document["servers"][0]["checks"][1]["settings"]["helo_name"] = "probe.example.net"

    result = apply(app, _edited(app, config_file, edit), "--dry-run", "--prune")
    assert result.exit_code == 0, result.output
    assert "- remove server NC040 and its 3 checks" in result.stdout
    assert "    settings.helo_name: status.example.net -> probe.example.net" in result.stdout
    assert result.stdout.endswith("1 to update, 1 to remove.\nDry run: nothing changed.\n")
    assert snapshot(app) == before


def test_prune_removes_what_the_file_no_longer_has_and_only_with_prune(app, config_file):
    with app.app_context():
        build_site()

    def edit(document):
        del document["servers"][1]
        del document["servers"][0]["checks"][1]
        del document["notifications"]["smtp_host"]

    path = _edited(app, config_file, edit)
    kept = apply(app, path)
    assert kept.exit_code == 0, kept.output
    assert ("Not in the file, left as they are (--prune removes them): check NC036 / Submission (587), "
            "server NC040") in kept.stdout
    assert "Nothing to change" in kept.stdout
    pruned = apply(app, path, "--prune")
    assert pruned.exit_code == 0, pruned.output
    assert "- remove check NC036 / Submission (587)" in pruned.stdout
    assert "    smtp_host: relay.example.net -> localhost" in pruned.stdout
    with app.app_context():
        assert list(db.session.scalars(select(Server.code))) == ["NC036"]
        assert [check.title for check in db.session.scalars(select(Check))] == ["IMAP 993"]
        assert db.session.get(SiteSetting, "NOTIFY_SMTP_HOST") is None
        assert site_setting("NOTIFY_SMTP_HOST") == "localhost"  # the configuration's value again
        assert site_setting("NOTIFY_SMTP_USERNAME") == "status"  # still in the file: kept
    assert "Nothing to change" in apply(app, path, "--prune").stdout


def test_a_check_the_site_cannot_run_is_left_out_of_the_export_with_a_warning(app):
    with app.app_context():
        server = make_server("NC036")
        add_check(server, "smtp", "mail.example.net", 587)
        db.session.add(Check(server=server, type_name="gone", host="old.example.net", port=25, settings={}))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["config", "export"])
    assert result.exit_code == 0
    assert "Warning: check NC036 / GONE 25 left out: no loaded plugin provides the check type 'gone'" in result.stderr
    names = [check["name"] for check in yaml.safe_load(result.stdout)["servers"][0]["checks"]]
    assert names == ["SMTP 587"]


def test_a_secret_the_site_cannot_decrypt_is_still_exported_as_a_reference(app):
    with app.app_context():
        build_site()
        check = db.session.scalar(select(Check).where(Check.type_name == "imap"))
        check.settings = {**check.settings, "password": {"fernet": "not-a-token"}}
        db.session.commit()
    assert "password: ${NINERSTATUS_SECRET_NC036_IMAP_993_PASSWORD}" in export(app)


def test_two_checks_of_one_server_with_one_name_stop_the_apply(app, config_file):
    with app.app_context():
        server = make_server("NC036")
        add_check(server, "smtp", "mail.example.net", 587)
        add_check(server, "smtp", "mx.example.net", 587)
    result = app.test_cli_runner().invoke(args=["config", "export"])
    assert "server NC036 has several checks named 'SMTP 587'" in result.stderr
    refused = apply(app, config_file(result.stdout))
    assert refused.exit_code == 1
    assert re.search(r"site.yaml:\d+: servers\[0\]\.checks\[1\]\.name: the server already has a check named "
                     r"'SMTP 587' \(line \d+\)", refused.stderr)
    applied = apply(app, config_file("servers:\n  - code: NC036\n    checks:\n      - type: smtp\n"
                                     "        host: mail.example.net\n", name="one.yaml"))
    assert applied.exit_code == 1
    assert "server NC036 has 2 checks named 'SMTP 587': rename all but one" in applied.stderr
    assert "nothing changed" in applied.stderr


def test_a_change_made_in_the_admin_after_the_diff_stops_the_apply(app, config_file):
    with app.app_context():
        build_site()
    document_text = export(app).replace("city: \"Zürich\"", "city: Basel")
    with app.app_context():
        document = read_document(load(document_text), ENVIRONMENT)
        shown = reconcile(document, prune=False)
        assert [change.what for change in shown.changes] == ["server NC036"]
        # Meanwhile a staff member renames the other server's city in the admin.
        db.session.scalar(select(Server).where(Server.code == "NC040")).city = "Ottawa"
        db.session.commit()
        with pytest.raises(SiteChanged):
            apply_document(document, shown, prune=False)
        db.session.expire_all()
        cities = dict(db.session.execute(select(Server.code, Server.city)).all())
        assert cities == {"NC036": "Zürich", "NC040": "Ottawa"}  # nothing of the file was applied
        # Worked out again, the same file applies.
        assert apply_document(document, reconcile(document, prune=False), prune=False).changes
        assert db.session.scalar(select(Server.city).where(Server.code == "NC036")) == "Basel"


def test_the_command_stops_with_status_3_when_the_site_changes_after_printing_the_diff(app, config_file,
                                                                                         monkeypatch):
    from ninerstatus.siteconfig import apply as applying

    with app.app_context():
        build_site()
    path = config_file(export(app).replace("city: Toronto", "city: Montreal"))
    looked = applying.reconcile

    def look_then_edit_in_the_admin(document, *, prune, write=False):
        plan = looked(document, prune=prune, write=write)
        if not write:  # between the printed diff and the transaction, a staff member saves a check
            db.session.scalar(select(Check).where(Check.type_name == "dns")).interval_seconds = 300
            db.session.commit()
        return plan

    monkeypatch.setattr(applying, "reconcile", look_then_edit_in_the_admin)
    result = apply(app, path)
    assert result.exit_code == SITE_CHANGED == 3
    assert "~ update server NC040\n    city: Toronto -> Montreal\n" in result.stdout
    assert ("Error: not applied: the site changed since the changes above were worked out (someone saved a server, "
            "check, location or setting meanwhile). Nothing changed: run the command again") in result.stderr
    with app.app_context():
        assert db.session.scalar(select(Server.city).where(Server.code == "NC040")) == "Toronto"


def test_a_server_added_meanwhile_with_a_code_of_the_file_stops_the_apply(app):
    text = "servers:\n  - code: NC050\n"
    with app.app_context():
        document = read_document(load(text), {})
        shown = reconcile(document, prune=False)
        make_server("nc050", city="Lima")
        with pytest.raises(SiteChanged):
            apply_document(document, shown, prune=False)
        assert db.session.scalar(select(func.count(Server.id))) == 1


def test_a_stored_notifier_secret_is_compared_without_being_shown(app, config_file):
    with app.app_context():
        store_setting("NOTIFY_WEBHOOK_SECRET", "old-hook-secret")
        db.session.commit()
    path = config_file("notifications:\n  webhook_secret: ${HOOK}\n")
    result = apply(app, path, env={"HOOK": "new-hook-secret"})
    assert result.exit_code == 0, result.output
    assert "    webhook_secret: secret changed" in result.stdout
    assert "hook-secret" not in result.output
    assert "Nothing to change" in apply(app, path, env={"HOOK": "new-hook-secret"}).stdout
    with app.app_context():
        assert site_setting("NOTIFY_WEBHOOK_SECRET") == "new-hook-secret"


def _script(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def test_the_commands_work_as_users_run_them(app, tmp_path):
    """Through the installed ``ninerstatus`` script, on the test's database, secrets from the environment."""
    with app.app_context():
        build_site()
    env = {key: value for key, value in os.environ.items() if not key.startswith("NINERSTATUS_")}
    env.update(NINERSTATUS_INSTANCE_PATH=str(tmp_path), NINERSTATUS_SECRET_KEY=app.config["SECRET_KEY"],
               NINERSTATUS_DATABASE_URL=app.config["DATABASE_URL"], **ENVIRONMENT)
    path = tmp_path / "site.yaml"
    run = [_script("ninerstatus"), "config"]
    exported = subprocess.run([*run, "export", str(path)], env=env, capture_output=True, text=True, timeout=120)
    assert exported.returncode == 0, exported.stderr
    path.write_text(path.read_text().replace("role: Web server", "role: Web and mail"))
    applied = subprocess.run([*run, "apply", str(path)], env=env, capture_output=True, text=True, timeout=120)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.splitlines()[:2] == ["~ update server NC040", "    role: Web server -> Web and mail"]
    del env["NINERSTATUS_SECRET_NC040_FILES_PASSWORD"]
    refused = subprocess.run([*run, "apply", str(path)], env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1
    assert re.search(rf"^{re.escape(str(path))}:\d+: servers\[1\]\.checks\[1\]\.settings\.password: the environment "
                     r"variable NINERSTATUS_SECRET_NC040_FILES_PASSWORD is not set$", refused.stderr, re.MULTILINE)
    assert "Traceback" not in refused.stderr


README = Path(__file__).resolve().parent.parent.parent / "README.md"


def readme_example() -> str:
    """The YAML example of the README's "Configuration as code" section, as a reader would copy it."""
    section = README.read_text(encoding="utf-8").split("## Configuration as code\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)
    return block


def test_the_readme_example_applies_and_says_what_it_made(app, config_file):
    path = config_file(readme_example())
    env = {"NINERSTATUS_SECRET_NC036_IMAP_PASSWORD": "imap-secret", "NINERSTATUS_SECRET_NOTIFY_SMTP_PASSWORD": "pw"}
    result = apply(app, path, env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("6 to create, 2 to update.\nApplied " + str(path) + ".\n")
    assert "Note: location Lusaka has no token" in result.stdout
    with app.app_context():
        checks = {(check.server.code, check.title): check for check in db.session.scalars(select(Check))}
        assert set(checks) == {("NC036", "Submission (587)"), ("NC036", "IMAP"), ("NC041", "HTTP 443")}
        assert checks[("NC036", "IMAP")].probe_settings()["password"] == "imap-secret"
        assert checks[("NC041", "HTTP 443")].interval_seconds == 120
        assert (checks[("NC041", "HTTP 443")].quorum, checks[("NC036", "IMAP")].quorum) == (1, None)
        assert site_setting("NOTIFY_EMAIL_TO") == ["ops@example.net"]
        assert locations() == {
            "Amsterdam": {"name": "Amsterdam", "city": "Amsterdam", "country": "Netherlands", "network": "",
                          "is_site": True, "checks": set()},
            "Lusaka": {"name": "Lusaka", "city": "Lusaka", "country": "Zambia", "network": "MTN", "is_site": False,
                       "checks": {"NC041: HTTP 443"}}}
    assert "Nothing to change" in apply(app, path, env=env).stdout



def test_two_secrets_whose_names_read_alike_get_variables_of_their_own(app, second_app, config_file):
    with app.app_context():
        server = make_server("NC036")
        for label, password in (("IMAP 993", "first-pass"), ("IMAP-993", "second-pass")):
            add_check(server, "imap", "mail.example.net", 993, {"username": "probe", "password": password},
                      label=label)
    text = export(app)
    assert "password: ${NINERSTATUS_SECRET_NC036_IMAP_993_PASSWORD}" in text
    assert "password: ${NINERSTATUS_SECRET_NC036_IMAP_993_PASSWORD_2}" in text
    env = {"NINERSTATUS_SECRET_NC036_IMAP_993_PASSWORD": "first-pass",
           "NINERSTATUS_SECRET_NC036_IMAP_993_PASSWORD_2": "second-pass"}
    assert apply(second_app, config_file(text), env=env).exit_code == 0
    copied, original = snapshot(second_app), snapshot(app)
    # "IMAP 993" is the title type and port give: the copy keeps it as no label (see label_for), titles alike.
    assert [check.pop("label") for check in copied["servers"]["NC036"]["checks"].values()] == ["", "IMAP-993"]
    assert [check.pop("label") for check in original["servers"]["NC036"]["checks"].values()] == ["IMAP 993",
                                                                                                  "IMAP-993"]
    assert copied == original

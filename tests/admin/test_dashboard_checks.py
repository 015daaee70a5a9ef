"""The dashboard's checks that cannot run: judged once per stored row, and again whenever the row changes.

``checks.validity.stored_check_problem`` keeps each verdict by the stored
values it was worked out from; these tests change each kind of thing the
verdict depends on (the row, the site's secret key, the loaded plugins)
between two drawings of the page, and make sure the page says what a fresh
judgement says.
"""
from __future__ import annotations

import html

import pytest
from sqlalchemy import select, text

from ninerstatus.checks import validity
from ninerstatus.checks.models import Check
from ninerstatus.checks.secrets import cipher_for
from ninerstatus.checktypes import CheckTypeRegistry
from ninerstatus.extensions import db
from ninerstatus.models import Server
from ninerstatus.plugins import get_plugins

from ..factories import make_server

CANNOT_RUN = 'id="checks-that-cannot-run"'


def add_banner_check(app, label: str, **values) -> int:
    """The id of a banner check of NC036 (added with the first check) labelled ``label``."""
    with app.app_context():
        server = db.session.scalar(select(Server).where(Server.code == "NC036")) or make_server("NC036")
        check = Check(server=server, type_name="banner", label=label, host="127.0.0.1", port=2525,
                      settings={}, **values)
        db.session.add(check)
        db.session.commit()
        return check.id


def write(app, check_id: int, assignment: str) -> None:
    """Change a check's row with raw SQL, as a database shell would."""
    with app.app_context():
        db.session.execute(text(f"UPDATE checks SET {assignment} WHERE id = {check_id}"))
        db.session.commit()


def cannot_run(auth) -> str:
    """The dashboard's list of checks that cannot run, as text ("" when it shows none)."""
    response = auth.client.get("/admin/dashboard")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    if CANNOT_RUN not in page:
        return ""
    listed = page[page.index(CANNOT_RUN):page.index('id="runners"')]
    return html.unescape(listed)


@pytest.fixture
def judged(monkeypatch):
    """Each check ``check_problem`` is asked about (its stored target), with nothing remembered from other tests."""
    validity._verdict.cache_clear()
    asked = []
    judge = validity.check_problem

    def counted(check, check_types):
        asked.append(f"{check.host}:{check.port}")
        return judge(check, check_types)

    monkeypatch.setattr(validity, "check_problem", counted)
    yield asked
    validity._verdict.cache_clear()


def test_an_unchanged_check_is_judged_once_however_often_the_dashboard_is_drawn(app, auth, judged):
    add_banner_check(app, "Good")
    write(app, add_banner_check(app, "Bad"), "tls_mode = 'bogus', port = 2626")
    auth.login()
    for _ in range(3):
        listed = cannot_run(auth)
        assert "its TLS mode 'bogus' is none of" in listed and "Good" not in listed
    assert sorted(judged) == ["127.0.0.1:2525", "127.0.0.1:2626"]


@pytest.mark.parametrize("broken, fixed, reason", [
    ("tls_mode = 'bogus'", "tls_mode = 'none'", "its TLS mode 'bogus'"),
    ("settings = '[1]'", "settings = '{}'", "its settings are a list"),
    ("host = 'no host!'", "host = '127.0.0.1'", "invalid target"),
    ("port = 0", "port = 2525", "invalid target"),
    ("family = 'ipv5'", "family = 'any'", "its address family 'ipv5'"),
    ("timeout_seconds = 0", "timeout_seconds = 10", "its timeout is not a number of seconds above 0"),
    ("warn_days = 3, crit_days = 9", "warn_days = 21, crit_days = 7", "invalid certificate thresholds"),
    ("type_name = 'gopher'", "type_name = 'banner'", "no loaded plugin provides the check type 'gopher'"),
])
def test_a_check_edited_by_hand_between_two_drawings_is_judged_afresh(app, auth, judged, broken, fixed, reason):
    check_id = add_banner_check(app, "Edited")
    auth.login()
    assert cannot_run(auth) == ""
    write(app, check_id, broken)
    assert reason in cannot_run(auth)
    write(app, check_id, fixed)
    assert cannot_run(auth) == ""
    assert len(judged) == 2  # put back as it was, the row is the one judged first


def test_a_new_secret_key_judges_stored_secrets_afresh(app, auth, judged):
    check_id = add_banner_check(app, "Secret")
    token = cipher_for(app.config["SECRET_KEY"]).encrypt(b"hunter2").decode()
    write(app, check_id, f"""settings = '{{"password": {{"fernet": "{token}"}}}}'""")
    auth.login()
    assert cannot_run(auth) == ""
    old_key = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "another secret key"
    auth.login()  # the session was signed with the old key too
    assert "its secret setting password cannot be decrypted" in cannot_run(auth)
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert cannot_run(auth) == ""


def test_a_check_whose_plugin_is_no_longer_loaded_is_judged_afresh(app, auth, judged, monkeypatch):
    add_banner_check(app, "Banner")
    auth.login()
    assert cannot_run(auth) == ""
    plugins = get_plugins(app)
    loaded = plugins.check_types
    monkeypatch.setattr(plugins, "check_types", CheckTypeRegistry(t for t in loaded.values() if t.name != "banner"))
    assert "no loaded plugin provides the check type 'banner'" in cannot_run(auth)
    monkeypatch.setattr(plugins, "check_types", loaded)
    assert cannot_run(auth) == ""


def test_text_in_a_number_column_is_reported_not_a_broken_page(app, auth, backend):
    if backend != "sqlite":
        pytest.skip("PostgreSQL refuses text in an integer column")
    check_id = add_banner_check(app, "Thresholds")
    write(app, check_id, "warn_days = 'many'")
    auth.login()
    listed = cannot_run(auth)
    assert "Thresholds" in listed and "invalid certificate thresholds" in listed

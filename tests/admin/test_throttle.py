"""Sign-in throttling: per account and per network, kept in the database, expiring by itself."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ninerstatus.accounts import credentials
from ninerstatus.accounts.throttle import client_network
from ninerstatus.extensions import db
from ninerstatus.models import PASSWORD_METHOD, LoginAttempt

from .accounts import ADMIN_EMAIL, EDITOR_EMAIL
from .conftest import AuthActions

TOO_MANY = "Too many attempts for this account or network."


def _fail(auth: AuthActions, email: str = ADMIN_EMAIL, address: str = "192.0.2.10"):
    return auth.login(email, "not the password", environ_base={"REMOTE_ADDR": address})


def _age_attempts(app, by: timedelta) -> None:
    with app.app_context():
        for attempt in db.session.scalars(select(LoginAttempt)):
            attempt.attempted_at -= by
        db.session.commit()


def test_an_account_is_refused_after_five_failures_even_with_the_right_password(auth):
    for _ in range(5):
        assert _fail(auth).status_code == 200
    response = auth.login(environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert response.status_code == 429
    assert TOO_MANY in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0


def test_account_throttle_holds_from_another_address_and_another_worker(app, auth):
    for _ in range(5):
        _fail(auth)
    # A second app object on the same database stands for another worker process.
    from tests.conftest import make_test_app

    worker = make_test_app(app.config["SQLALCHEMY_DATABASE_URI"], app.instance_path)
    elsewhere = AuthActions(worker.test_client())
    assert elsewhere.login(environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 429


def test_unknown_accounts_are_throttled_exactly_like_real_ones(auth):
    for _ in range(5):
        _fail(auth, "nobody@example.net")
    assert _fail(auth, "nobody@example.net").status_code == 429


def test_one_network_is_refused_after_twenty_failures_over_many_accounts(app, auth):
    for n in range(20):
        assert _fail(auth, f"guess{n}@example.net").status_code == 200
    assert auth.login(EDITOR_EMAIL, environ_base={"REMOTE_ADDR": "192.0.2.10"}).status_code == 429
    assert auth.login(EDITOR_EMAIL, environ_base={"REMOTE_ADDR": "192.0.2.11"}).status_code == 302


def test_ipv6_addresses_of_one_slash_64_count_together(auth):
    for n in range(20):
        _fail(auth, f"guess{n}@example.net", address=f"2001:db8:1:2::{n + 1:x}")
    assert auth.login(EDITOR_EMAIL, environ_base={"REMOTE_ADDR": "2001:db8:1:2::ffff"}).status_code == 429
    assert auth.login(EDITOR_EMAIL, environ_base={"REMOTE_ADDR": "2001:db8:1:3::1"}).status_code == 302


@pytest.mark.parametrize("address, network", [
    ("192.0.2.10", "192.0.2.10"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.10", "192.0.2.10"),
    ("not an address", "not an address"),
    (None, "unknown"),
])
def test_client_network(address, network):
    assert client_network(address) == network


def test_the_throttle_expires_by_itself(app, auth):
    for _ in range(5):
        _fail(auth)
    assert auth.login().status_code == 429
    _age_attempts(app, timedelta(minutes=16))
    assert auth.login().status_code == 302


def test_refused_attempts_do_not_extend_the_lock(app, auth):
    for _ in range(5):
        _fail(auth)
    _age_attempts(app, timedelta(minutes=10))
    for _ in range(10):
        assert _fail(auth).status_code == 429
    _age_attempts(app, timedelta(minutes=6))
    assert auth.login().status_code == 302


def test_success_forgets_the_accounts_failures_and_old_rows_are_purged(app, auth):
    for _ in range(4):
        _fail(auth)
    assert auth.login().status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 0
    _fail(auth, EDITOR_EMAIL)
    _age_attempts(app, timedelta(hours=1))
    _fail(auth, "someone@example.net")
    with app.app_context():
        assert db.session.scalars(select(LoginAttempt.account)).all() == ["someone@example.net"]


def test_unknown_account_costs_one_password_hash_check_like_a_wrong_password(app, auth, monkeypatch):
    # The same work, so the same time: bench/sign_in.py measures the time itself.
    checked = []
    real = credentials.check_password_hash
    monkeypatch.setattr(credentials, "check_password_hash",
                        lambda pwhash, password: checked.append(pwhash) or real(pwhash, password))
    _fail(auth, "nobody@example.net")
    _fail(auth, ADMIN_EMAIL)
    assert len(checked) == 2
    assert checked[0] == credentials.DUMMY_PASSWORD_HASH
    assert checked[0].split("$")[0] == checked[1].split("$")[0] == PASSWORD_METHOD

"""The runner probes with secret settings decrypted, and goes on past a check whose secret no key opens."""
from __future__ import annotations

from ninerstatus.checks.models import Check
from ninerstatus.checks.secrets import cipher_for, seal_settings
from ninerstatus.extensions import db
from ninerstatus.plugins import get_plugins
from ninerstatus.probing import ErrorKind, Status
from ninerstatus.runner.claims import claim_of

from ..factories import make_server
from .conftest import add_check, reread


def test_a_probe_gets_its_secret_in_clear_and_an_unreadable_one_stops_only_its_own_check(probe_runner, greeter):
    server = make_server()
    good = add_check(server, greeter.port, label="good")
    good.store_settings({"expect": "ready", "secret": "s3cret"}, {"secret"})
    unreadable = add_check(server, greeter.port, label="unreadable",
                           settings=seal_settings({"secret": "s3cret"}, {"secret"}, cipher_for("another key")))
    db.session.commit()
    assert "s3cret" not in str(good.settings)
    assert claim_of(good, get_plugins().check_types).settings == {"expect": "ready", "secret": "s3cret"}
    assert probe_runner.run_due() == 2
    reread()
    assert db.session.get(Check, good.id).result.status is Status.OK
    result = db.session.get(Check, unreadable.id).result
    assert (result.status, result.error_kind) == (Status.UNKNOWN, ErrorKind.CONFIG_ERROR)
    assert "its secret setting secret cannot be decrypted" in result.summary
    assert len(greeter.visits) == 1  # the unreadable check was never probed

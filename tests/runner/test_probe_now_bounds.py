"""Staff "probe now" is bounded as the runner's probes are: a hung plugin holds at most one thread per check
in the web worker, however often the button is pressed, and each press while it hangs says so."""
from __future__ import annotations

import html

import pytest

from ninerstatus.admin.checks import HUNG_PROBES_KEY
from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.plugins import get_plugins

from ..admin.accounts import csrf_token_in
from ..factories import make_server
from ..waiting import wait_until
from .conftest import add_check
from .test_robustness import hanging_now
from .test_untrusted_rows import sign_in_admin


def probe_now(client, check_id: int) -> str:
    """Press "Probe now" on the checks page; the page the press ends on, as text."""
    token = csrf_token_in(client.get("/admin/checks").get_data(as_text=True))
    response = client.post(f"/admin/checks/{check_id}/probe", data={"csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def trouble(app):
    """The test plugin whose "hangs" probes stay hung until the test ends (or lets them go)."""
    plugin = get_plugins(app).manager.get_plugin("trouble")
    yield plugin
    plugin.RELEASE.set()


def test_probe_now_of_a_hung_plugin_holds_one_thread_per_check_and_says_why_it_does_not_probe_again(
        app, client, trouble):
    # The client's requests push their own app contexts (a shared one would keep the CSRF token of before sign-in).
    hung = app.extensions[HUNG_PROBES_KEY]
    with app.app_context():
        check_id = add_check(make_server("NC036"), 1, type_name="hangs", label="Stuck", timeout_seconds=0.2).id
        sign_in_admin(client)
    first = probe_now(client, check_id)
    assert "the probe did not finish within 0.7 s; it still runs, and this check is not probed again" in first
    for _ in range(3):
        page = probe_now(client, check_id)
        assert ("Check Stuck of NC036 was not probed: its previous probe still runs past its deadline (the plugin "
                "hangs). Try again once that probe returns.") in page
    assert len(trouble.HUNG_STARTED) == 1 and hung.count() == 1 and hanging_now(app) == 1
    with app.app_context():   # the refused presses recorded nothing
        assert "did not finish within 0.7 s" in db.session.get(Check, check_id).result.summary
    trouble.RELEASE.set()
    wait_until(lambda: hung.count() == 0)
    assert "probe returned NoneType, not a ProbeResult" in probe_now(client, check_id)
    assert len(trouble.HUNG_STARTED) == 2

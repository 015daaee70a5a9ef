"""How a drafted incident reads: the server named once with its role and place, never doubled brackets."""
from __future__ import annotations

import re

import pytest

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.models import Post, UpdateState
from ninerstatus.probing import ErrorKind, ProbeResult, Status
from ninerstatus.runner.incidents import incident_body, service_suffix, standard_update_html

from ..factories import make_server
from .conftest import START


@pytest.mark.parametrize("title, service, suffix", [
    ("Control panel (HTTP)", "HTTP(S)", ""),           # the title says it already
    ("SMTP greeting", "SMTP", ""),
    ("Outgoing mail", "SMTP", " (SMTP)"),
    ("Webmail (Roundcube)", "HTTP(S)", " – HTTP(S)"),  # brackets would nest
    ("Home page", "HTTP(S)", " – HTTP(S)"),
    ("Mail [EU]", "IMAP", " (IMAP)"),
    ("Outgoing mail", "", ""),
])
def test_a_checks_kind_of_service_is_said_once_and_never_in_doubled_brackets(title, service, suffix):
    assert service_suffix(title, service) == suffix


def failing_check(title: str, type_name: str) -> Check:
    check = Check(type_name=type_name, label=title, host="127.0.0.1", port=443, settings={}, state="critical",
                  state_since=START)
    check.record(ProbeResult(Status.CRITICAL, "refused", error_kind=ErrorKind.CONNECT_REFUSED, checked_at=START))
    return check


def drafted(server, *checks) -> str:
    post = Post(title="t", slug="t")
    post.set_body(incident_body(server, "down", list(checks), START))
    return post.body_html


def doubled_brackets(html: str) -> list[str]:
    """Bracketed text right after other brackets, or inside them: "(a) (b)", "(a (b))"."""
    text = re.sub(r"<[^>]+>", "", html)
    return re.findall(r"\)\s*\(|\([^()]*\(", text)


def test_the_draft_names_the_server_once_with_role_and_place_and_its_checks_plainly(ctx):
    server = make_server("NC041", role="Web server", city="New York", country="United States of America")
    html = drafted(server, failing_check("Control panel (HTTP)", "http"), failing_check("Outgoing mail", "smtp"))
    assert html.count("New York") == 1 and html.count("Web server") == 1
    assert html.startswith("<p>Our monitoring shows <strong>NC041</strong> (Web server, New York, United States "
                           "of America) down since")
    assert "<li><strong>Control panel (HTTP)</strong>: outage since" in html
    assert "<li><strong>Outgoing mail</strong> (SMTP): outage since" in html
    assert doubled_brackets(html) == []


@pytest.mark.parametrize("role, city, country, where", [
    ("Web server (front)", "New York", "", " – Web server (front), New York – "),
    ("", "", "", " "),
    ("  ", "Toronto", "  ", " (Toronto) "),
    ("Mail <b>&</b> web", "", "", " (Mail &lt;b&gt;&amp;&lt;/b&gt; web) "),
])
def test_awkward_roles_and_places_read_cleanly_and_escaped(ctx, role, city, country, where):
    server = make_server("NC041", role=role, city=city, country=country)
    html = drafted(server, failing_check("Webmail (Roundcube)", "http"))
    assert f"<strong>NC041</strong>{where}down since" in html
    assert "<li><strong>Webmail (Roundcube)</strong> – HTTP(S): outage since" in html
    assert doubled_brackets(html) == [] and "<b>" not in html


def test_standard_updates_name_servers_by_code_only(ctx):
    servers = [make_server("NC036"), make_server("NC041", role="Web server", city="New York")]
    post = Post(title="t", slug="t", servers=servers)
    db.session.add(post)
    html = standard_update_html(post, UpdateState.RESOLVED)
    assert html == ("<p>The problem with <strong>NC036</strong> and <strong>NC041</strong> is resolved: everything "
                    "works normally again. Thank you for your patience.</p>")
    assert standard_update_html(Post(title="t", slug="u"), UpdateState.IDENTIFIED) == (
        "<p>We have found the cause of this problem and are working on a fix.</p>")

"""The site answers only at its own address, so no absolute link it draws can name a host a client made up.

Feeds, the API and redirects put absolute URLs in their answers; a proxy
cache keyed without the host would keep links to a forged ``Host`` for
everyone. Whether or not an address is configured, a request naming any
other host gets 400 and nothing in the answer names that host.
"""
from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from .factories import make_post, make_server

FORGED = "evil.example"
#: Where absolute links show up: redirects, feeds, the API, and one plain page.
LINKING_URLS = ["/admin", "/feed.atom", "/servers/NC036/feed.rss", "/tags/mail/feed.atom", "/api/servers",
                "/api/v2/summary.json", "/"]

# The host check does not involve the database: one backend is enough.
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
def site(app):
    """A server and a tagged post, so feeds and the API have links to draw."""
    with app.app_context():
        make_post("Mail delays", tags=("mail",), servers=(make_server("NC036"),))
    return app


def links_of(client, url: str, host: str) -> tuple[int, str]:
    """The status of ``url`` asked for as ``host``, and everything in the answer that could hold a link."""
    response = client.get(url, headers={"Host": host})
    return response.status_code, response.headers.get("Location", "") + response.get_data(as_text=True)


@pytest.mark.parametrize("app_config", [{}, {"SERVER_NAME": None}, {"SERVER_NAME": None,
                                                                    "TRUSTED_HOSTS": ["status.example.net"]}],
                         ids=["SERVER_NAME set", "nothing set", "TRUSTED_HOSTS set"])
@pytest.mark.parametrize("url", LINKING_URLS)
def test_a_request_for_a_forged_host_gets_400_and_nothing_naming_it(site, client, url):
    status, answer = links_of(client, url, f"{FORGED}:8000")
    assert status == 400
    assert FORGED not in answer
    assert "does not answer to the address in your request" in answer


@pytest.mark.parametrize("app_config", [{"SERVER_NAME": None}])
@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "0.0.0.0:8080",
                                  socket.gethostname()])
def test_with_no_address_configured_the_site_answers_to_this_machine(site, client, host):
    for url in LINKING_URLS:
        status, answer = links_of(client, url, host)
        assert status == (308 if url == "/admin" else 200), url
    assert f"http://{host}/posts/mail-delays" in links_of(client, "/feed.atom", host)[1]


def test_with_server_name_set_links_name_it_whatever_local_name_was_asked_for(site, client):
    for host in ("status.test", "127.0.0.1:8000", "localhost"):
        status, answer = links_of(client, "/feed.atom", host)
        assert status == 200 and "http://status.test/posts/mail-delays" in answer, host
        assert host == "status.test" or host not in answer


@pytest.mark.parametrize("app_config", [{"SERVER_NAME": None, "TRUSTED_HOSTS": ["status.example.net"]}])
def test_trusted_hosts_when_set_are_the_only_hosts_answered(site, client):
    assert links_of(client, "/feed.atom", "status.example.net")[0] == 200
    for host in ("127.0.0.1:8000", "localhost", "status.test"):
        assert links_of(client, "/feed.atom", host)[0] == 400, host


@pytest.mark.parametrize("app_config", [{"SERVER_NAME": None}])
def test_hosts_are_told_apart_by_many_threads_at_once(site):
    # Forged addresses from a documentation range no machine has, beside this machine's own.
    hosts = [(f"203.0.113.{n}", 400) for n in range(1, 40)] + [(f"127.0.0.{n}", 200) for n in range(1, 40)]
    hosts += [("localhost", 200), (FORGED, 400)] * 20

    def status_of(host: str) -> int:
        return site.test_client().get("/api/v2/status.json", headers={"Host": host}).status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(status_of, [host for host, _ in hosts * 3])) == [status for _, status in hosts * 3]

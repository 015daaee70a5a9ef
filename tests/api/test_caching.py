"""HTTP caching of the API (ETag, max-age, any origin) and the few seconds each worker keeps a document."""
from __future__ import annotations

import time

import pytest

from ninerstatus.api import caching

from ..factories import make_server


def test_documents_are_cacheable_briefly_and_revalidate_with_an_etag(client, site):
    first = client.get("/api/v2/summary.json")
    assert first.headers["ETag"] and first.cache_control.public and first.cache_control.max_age == 30
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    again = client.get("/api/v2/summary.json", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


class TestKeptDocuments:
    @pytest.fixture
    def app_config(self):
        return {"API_CACHE_SECONDS": 5}

    def test_a_document_is_kept_for_its_seconds_then_worked_out_again(self, client, ctx, monkeypatch):
        make_server("NC036")
        assert len(client.get("/api/v2/components.json").get_json()["components"]) == 1
        make_server("NC041")
        kept = client.get("/api/v2/components.json")
        assert len(kept.get_json()["components"]) == 1
        assert kept.headers["ETag"] and kept.cache_control.max_age == 30
        later = time.monotonic() + 5.1
        monkeypatch.setattr(caching, "monotonic", lambda: later)
        assert len(client.get("/api/v2/components.json").get_json()["components"]) == 2

    def test_each_document_is_kept_apart_and_query_strings_change_nothing(self, client, ctx):
        make_server("NC036")
        client.get("/api/v2/components.json?x=1")
        make_server("NC041")
        assert len(client.get("/api/servers").get_json()["servers"]) == 2
        assert len(client.get("/api/v2/components.json?x=2").get_json()["components"]) == 1

    def test_a_missing_server_is_not_kept(self, client, ctx):
        assert client.get("/api/servers/NC036").status_code == 404
        make_server("NC036")
        assert client.get("/api/servers/NC036").status_code == 200

"""Reading /metrics in tests the way Prometheus does: through prometheus_client's own parser."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

TOKEN = "scraper-token-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


class Scrape:
    """The samples of one scrape, looked up by sample name and labels."""

    def __init__(self, text: str) -> None:
        self.families = {family.name: family for family in text_string_to_metric_families(text)}
        self.samples = [sample for family in self.families.values() for sample in family.samples]

    def all(self, name: str, **labels: str) -> list:
        """Every sample called ``name`` whose labels include ``labels``."""
        return [sample for sample in self.samples
                if sample.name == name and labels.items() <= sample.labels.items()]

    def value(self, name: str, **labels: str) -> float | None:
        """The value of the one sample called ``name`` with ``labels``; None when there is none."""
        found = self.all(name, **labels)
        assert len(found) <= 1, f"{len(found)} samples of {name} {labels}"
        return found[0].value if found else None


def scrape(client, **request) -> Scrape:
    """GET /metrics with the test token, which must answer 200, parsed."""
    response = client.get("/metrics", headers=BEARER, **request)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return Scrape(response.get_data(as_text=True))

"""The ingest benchmark's check type: "instant" answers at once, as a quick HTTP server would, and says when.

The benchmark's agents probe with it instead of the network, so the machine's
cores go to the site taking their results, not to probing. Its summary holds
the probe's own Unix time, to the microsecond: the benchmark reads it back
from the check's stored result to time a result from its probe to its state
visible on the site.
"""
import time

from ninerstatus import CheckType, ProbeResult, Status, hookimpl


def probe(target, settings, ctx):
    """OK at once, with what an HTTP check of a small page reports besides."""
    return ProbeResult(Status.OK, f"HTTP 200 OK, probed at {time.time():.6f}",
                       details={"http_status": 200, "reason": "OK", "bytes": 3, "content_type": "text/plain"},
                       metrics={"connect_seconds": 0.0004, "first_byte_seconds": 0.0011})


@hookimpl
def ninerstatus_check_types():
    return [CheckType(name="instant", label="Instant answer (benchmark)", probe=probe, default_port=80, settings={})]

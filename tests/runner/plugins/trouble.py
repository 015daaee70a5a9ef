"""A local plugin file for the runner tests: check types whose probes raise or hang."""
import threading

from ninerstatus import CheckType, hookimpl

#: Set by a test to let hung probes go at its end.
RELEASE = threading.Event()


def raising_probe(target, settings, ctx):
    """A plugin bug: the probe raises instead of returning a result."""
    raise RuntimeError("plugin bug in the probe")


def hanging_probe(target, settings, ctx):
    """A plugin that ignores its deadline and never returns (until the test lets it go)."""
    RELEASE.wait(60)


@hookimpl
def ninerstatus_check_types():
    return [CheckType(name="raises", label="Raises", probe=raising_probe, default_port=1),
            CheckType(name="hangs", label="Hangs", probe=hanging_probe, default_port=1)]

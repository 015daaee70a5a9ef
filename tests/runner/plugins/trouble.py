"""A local plugin file for the runner tests: check types whose probes raise, exit or hang."""
import threading

from ninerstatus import CheckType, hookimpl

#: Set by a test to let hung probes go at its end.
RELEASE = threading.Event()
#: One entry per hanging probe started, and one per hanging probe that has returned.
HUNG_STARTED: list[str] = []
HUNG_RETURNED: list[str] = []


def raising_probe(target, settings, ctx):
    """A plugin bug: the probe raises instead of returning a result."""
    raise RuntimeError("plugin bug in the probe")


def exiting_probe(target, settings, ctx):
    """A plugin bug of the worst kind: the probe asks the whole process to exit."""
    raise SystemExit(3)


def interrupting_probe(target, settings, ctx):
    """A plugin that raises what Ctrl-C raises (in the main thread only, so never the runner's stop)."""
    raise KeyboardInterrupt


def hanging_probe(target, settings, ctx):
    """A plugin that ignores its deadline and never returns (until the test lets it go)."""
    HUNG_STARTED.append(str(target))
    RELEASE.wait(60)
    HUNG_RETURNED.append(str(target))


@hookimpl
def ninerstatus_check_types():
    return [CheckType(name="raises", label="Raises", probe=raising_probe, default_port=1),
            CheckType(name="exits", label="Exits", probe=exiting_probe, default_port=1),
            CheckType(name="interrupts", label="Interrupts", probe=interrupting_probe, default_port=1),
            CheckType(name="hangs", label="Hangs", probe=hanging_probe, default_port=1)]

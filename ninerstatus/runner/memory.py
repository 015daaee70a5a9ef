"""The runner's memory: its many probe threads share a few malloc arenas instead of one each, and what it
made at start is left out of the cycle collector's walks.

glibc gives every thread that allocates while another holds the lock an
arena of its own, up to eight per core, and an arena keeps the memory its
thread freed for that thread's later use. The runner's probe threads (a
hundred or more on a busy site) each allocate socket buffers and TLS state,
so their arenas add tens of megabytes that Python's own objects do not
account for. Probes are short and hold the GIL between their system calls,
so sharing a couple of arenas costs no measurable waiting. An operator's own
``MALLOC_ARENA_MAX`` stands; other C libraries are left alone.

Python's cycle collector walks every object it tracks whenever it collects
the oldest generation. Most of the runner's objects are made at start (the
web application's modules and the plugins, some 70 MB) and live as long as
the process: collections took about 2 % of the runner's CPU, half of it
walking those again and again. Frozen after start, they are never walked; a
cycle among them that becomes garbage later stays (they are never freed
anyway).
"""
from __future__ import annotations

import ctypes
import gc
import os

#: glibc's ``mallopt`` parameter for the number of arenas (malloc.h).
M_ARENA_MAX = -8
#: Arenas the runner's threads share.
RUNNER_ARENAS = 2


def share_malloc_arenas(arenas: int = RUNNER_ARENAS) -> bool:
    """Let all threads started from now on share at most ``arenas`` malloc arenas; True when glibc took it.

    Call it before starting threads: a thread keeps the arena it was given.
    """
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018  (glibc only: other C libraries manage arenas otherwise)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_ARENA_MAX, arenas))


def freeze_startup_objects() -> None:
    """Collect what starting left behind, then keep every object alive now out of the cycle collector's walks."""
    gc.collect()
    gc.freeze()

"""The runner's probe threads share a couple of malloc arenas (glibc), unless the operator set their own."""
from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc arenas are glibc's")

#: Eight threads, alive together, each allocating; then glibc prints one "Arena N:" block per arena to stderr.
THREADS_ALLOCATING = """
import ctypes, sys, threading
from ninerstatus.runner.memory import share_malloc_arenas
print(share_malloc_arenas() if sys.argv[1] == "share" else None)
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, (ctypes.c_size_t,)
barrier = threading.Barrier(9)
def allocate():
    libc.malloc(100_000)
    barrier.wait()
    barrier.wait()
threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads:
    thread.start()
barrier.wait()
libc.malloc_stats()
barrier.wait()
"""


def arenas_used(how: str, **environ: str) -> tuple[str, int]:
    """What ``share_malloc_arenas`` said, and how many arenas eight allocating threads ended up with."""
    env = {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"} | environ
    done = subprocess.run([sys.executable, "-c", THREADS_ALLOCATING, how], env=env, capture_output=True,
                          text=True, check=True, timeout=60)
    return done.stdout.strip(), sum(line.startswith("Arena ") for line in done.stderr.splitlines())


def test_probe_threads_share_two_arenas_where_each_would_get_its_own():
    assert arenas_used("share") == ("True", 2)
    said, arenas = arenas_used("leave")
    assert said == "None" and arenas > 2  # what the runner would use without it


def test_an_operators_own_arena_limit_stands():
    assert arenas_used("share", MALLOC_ARENA_MAX="3") == ("False", 3)

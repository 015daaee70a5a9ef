"""What the runner made at start is left out of the cycle collector's walks; what it makes later is collected."""
from __future__ import annotations

import subprocess
import sys

#: Objects alive at the freeze are kept out of the walks; a cycle made afterwards is still found and freed.
FREEZING = """
import gc
from ninerstatus.runner.memory import freeze_startup_objects
before = gc.get_freeze_count()
freeze_startup_objects()
frozen = gc.get_freeze_count()
cycle = []
cycle.append(cycle)
del cycle
print(before, frozen > 1000, gc.collect() >= 1)
"""


def test_objects_alive_at_start_are_frozen_and_later_garbage_is_still_collected():
    done = subprocess.run([sys.executable, "-c", FREEZING], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.split() == ["0", "True", "True"]

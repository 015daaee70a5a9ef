"""Worker threads for what a probe must be able to abandon: the probe itself, and name lookups.

Python threads cannot be killed, so a call that may hang past its deadline
runs on a daemon thread of its own, and whoever waits for it gives up at the
deadline. Starting a thread for every such call costs about as much as the
rest of the hand-off, so the threads are kept: once its call returns, a
worker waits for the next one. A call that hangs keeps its worker for as
long as it hangs; the others go on with other workers. The runner hands
each probe to a worker ahead of its slot: the worker waits for the slot,
probes, and the runner's own thread keeps the deadline (``runner/loop.py``).
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

#: Idle worker threads kept for the next calls (more idle than this end).
IDLE_WORKERS_KEPT = 256


class Done:
    """Set once, by one thread; waited for by others: an ``Event`` that costs a twentieth as much to make.

    A lock held from the start and released when set; a waiter takes it and
    gives it back at once. The runner makes one for every probe.
    """

    __slots__ = ("_lock", "_set")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()
        self._set = False

    def set(self) -> None:
        """Mark it done (once) and let every waiter through."""
        self._set = True
        self._lock.release()

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until it is set, or ``timeout`` seconds have passed; True when it is set."""
        if self._set:
            return True
        if not self._lock.acquire(timeout=-1 if timeout is None else max(0.0, timeout)):
            return False
        self._lock.release()
        return True


class WorkerCall:
    """A call handed to a worker thread; ``done`` is set once it has returned, with ``result`` or ``error``."""

    __slots__ = ("call", "name", "done", "result", "error")

    def __init__(self, call: Callable[[], Any], name: str) -> None:
        self.call, self.name = call, name
        self.done = Done()
        self.result: Any = None
        self.error: Exception | None = None

    def is_alive(self) -> bool:
        """True while the call still runs."""
        return not self.done.is_set()


class _Worker:
    """A daemon thread that runs one call after another, waiting idle between them."""

    def __init__(self, workers: _Workers) -> None:
        self._workers = workers
        self._calls: queue.SimpleQueue[WorkerCall] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="probe", daemon=True)
        self._thread.start()

    def give(self, call: WorkerCall) -> None:
        self._calls.put(call)

    def _run(self) -> None:
        while True:
            call = self._calls.get()
            self._thread.name = call.name
            try:
                call.result = call.call()
            except Exception as error:  # the caller's to handle; the worker goes on
                call.error = error
            # Run once, so let go: a runner's probe refers to its call and its call's function to the probe,
            # a cycle that would keep every result until Python's cycle collector found it.
            call.call = None
            self._thread.name = "probe"
            # Idle again before the caller hears of it: its next call finds this thread waiting.
            kept = self._workers.rest(self)
            call.done.set()
            if not kept:
                return


class _Workers:
    """The process's worker threads: an idle one takes the next call, or a new one starts; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []

    def start(self, call: WorkerCall) -> None:
        with self._lock:
            worker = self._idle.pop() if self._idle else None
        if worker is None:
            worker = _Worker(self)
        worker.give(call)

    def rest(self, worker: _Worker) -> bool:
        """Keep ``worker`` for a later call; False when enough are idle and it should end."""
        with self._lock:
            if len(self._idle) >= IDLE_WORKERS_KEPT:
                return False
            self._idle.append(worker)
            return True


_workers = _Workers()


def start_in_worker(call: WorkerCall) -> None:
    """Run ``call`` on an idle worker thread (or a new one); ``call.done`` is set when it has returned."""
    _workers.start(call)

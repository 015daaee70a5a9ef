"""Worker threads: reused from one call to the next, and a call that hangs keeps only its own."""
from __future__ import annotations

import gc
import threading
import weakref

from ninerstatus.probing.workers import Done, WorkerCall, start_in_worker

from ..waiting import PATIENCE


def run(call) -> WorkerCall:
    handed = WorkerCall(call, "test call")
    start_in_worker(handed)
    assert handed.done.wait(PATIENCE)
    return handed


def test_calls_one_after_another_run_on_one_reused_thread():
    threads = {run(threading.get_ident).result for _ in range(20)}
    assert len(threads) == 1


def test_a_call_that_hangs_keeps_its_thread_while_the_next_calls_run_on_another():
    release = threading.Event()
    hanging = WorkerCall(lambda: release.wait(PATIENCE) and threading.get_ident(), "hangs")
    start_in_worker(hanging)
    try:
        others = {run(threading.get_ident).result for _ in range(5)}
        assert hanging.is_alive()
    finally:
        release.set()
    assert hanging.done.wait(PATIENCE) and hanging.result not in others


def test_an_error_is_handed_to_the_caller_and_the_worker_goes_on():
    failed = run(lambda: 1 / 0)
    assert isinstance(failed.error, ZeroDivisionError) and failed.result is None
    assert run(lambda: "next").result == "next"


def test_done_keeps_its_waiters_until_it_is_set_then_lets_them_all_through():
    done, through = Done(), []
    assert not done.is_set() and done.wait(0) is False and done.wait(0.01) is False
    waiters = [threading.Thread(target=lambda: through.append(done.wait(PATIENCE))) for _ in range(6)]
    for waiter in waiters:
        waiter.start()
    assert through == []
    done.set()
    for waiter in waiters:
        waiter.join()
    assert through == [True] * 6
    assert done.is_set() and done.wait(0) and done.wait()


def test_a_finished_call_lets_go_of_its_function_and_so_of_what_refers_back_to_the_call():
    # As the runner's probes do: the probe holds its call, the call's function holds the probe.
    class Probe:
        call = None

    def probing(probe: Probe):
        return lambda: probe

    probe = Probe()
    probe.call = WorkerCall(probing(probe), "probe")
    gone = weakref.ref(probe)
    call = probe.call
    gc.disable()  # freed by its references going, not found later by the cycle collector
    try:
        start_in_worker(call)
        assert call.done.wait(PATIENCE)
        assert call.result is probe
        call.result = probe = None
        assert gone() is None
    finally:
        gc.enable()

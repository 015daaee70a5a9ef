"""The agent's spool keeps results in order, sends each batch under one id until taken, and stays bounded."""
from __future__ import annotations

import threading

from ninerstatus.agents.spool import Spool


def result(n: int) -> dict:
    return {"status": "OK", "summary": f"result {n}", "checked_at": "2026-12-02T10:00:00+00:00"}


def summaries(batch) -> list[str]:
    return [item["summary"] for _, item in batch.results]


def test_results_leave_oldest_first_in_batches(tmp_path):
    spool = Spool(tmp_path / "spool.sqlite", max_results=100)
    assert [spool.add(n % 2, result(n)) for n in range(5)] == [1, 2, 3, 4, 5]
    first = spool.next_batch(3)
    assert summaries(first) == ["result 0", "result 1", "result 2"]
    assert [check_id for check_id, _ in first.results] == [0, 1, 0]
    assert (first.first, first.last) == (1, 3)
    spool.sent(first.batch_id)
    second = spool.next_batch(3)
    assert summaries(second) == ["result 3", "result 4"] and (second.first, second.last) == (4, 5)
    spool.sent(second.batch_id)
    assert spool.next_batch(3) is None and spool.backlog() == 0


def test_a_batch_not_yet_taken_is_offered_again_with_the_same_id_and_results(tmp_path):
    spool = Spool(tmp_path / "spool.sqlite", max_results=100)
    spool.add(1, result(1))
    spool.add(1, result(2))
    first = spool.next_batch(10)
    spool.add(1, result(3))  # made while the first batch was on its way
    again = spool.next_batch(10)
    assert again == first
    spool.sent(first.batch_id)
    assert summaries(spool.next_batch(10)) == ["result 3"]


def test_the_spool_survives_a_restart_with_its_batch_and_agent_id(tmp_path):
    path = tmp_path / "spool.sqlite"
    spool = Spool(path, max_results=100)
    spool.add(7, result(1))
    batch = spool.next_batch(10)
    spool.keep_assignments({"checks": [{"id": 7}]})
    spool.close()
    reopened = Spool(path, max_results=100)
    assert reopened.agent_id == spool.agent_id
    assert reopened.next_batch(10) == batch
    assert reopened.assignments() == {"checks": [{"id": 7}]}
    assert path.stat().st_mode & 0o077 == 0  # it holds the checks' passwords


def test_a_full_spool_drops_the_oldest_results_not_being_sent_and_counts_them(tmp_path):
    spool = Spool(tmp_path / "spool.sqlite", max_results=4)
    for n in range(2):
        spool.add(1, result(n))
    sending = spool.next_batch(2)
    for n in range(2, 8):
        spool.add(1, result(n))
    assert spool.backlog() == 4 and spool.dropped() == 4
    assert spool.next_batch(10) == sending  # the batch on its way is never cut
    spool.sent(sending.batch_id)
    assert summaries(spool.next_batch(10)) == ["result 6", "result 7"]


def test_results_set_aside_leave_the_rest_to_go_under_a_new_id(tmp_path):
    spool = Spool(tmp_path / "spool.sqlite", max_results=100)
    for n, check_id in enumerate((1, 2, 1)):
        spool.add(check_id, result(n))
    refused = spool.next_batch(10)
    assert spool.unsend(refused.batch_id, {2}) == 1
    rest = spool.next_batch(10)
    assert rest.batch_id != refused.batch_id
    assert summaries(rest) == ["result 0", "result 2"]


def test_results_added_from_many_threads_are_all_kept_each_thread_in_its_order(tmp_path):
    spool = Spool(tmp_path / "spool.sqlite", max_results=10_000)
    threads = [threading.Thread(target=lambda t=t: [spool.add(t, result(n)) for n in range(50)]) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    batch = spool.next_batch(1000)
    assert len(batch.results) == 400
    for t in range(8):
        assert [item["summary"] for check_id, item in batch.results if check_id == t] == \
            [f"result {n}" for n in range(50)]

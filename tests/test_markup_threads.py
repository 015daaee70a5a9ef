"""Request threads sanitise at the same time: each gets exactly the answer it would get alone."""
from __future__ import annotations

import random
import threading

from ninerstatus.markup import sanitise_html

from .markup_samples import editor_body, tag_soup

THREADS = 16
CALLS_PER_THREAD = 250
SITE_HOSTS = [None, "status.example", "example.org"]


def _bodies() -> list[tuple[str, str | None]]:
    """Varied bodies, each carrying its own number so that text mixed in from another shows."""
    rng = random.Random(9)
    bodies = []
    for number in range(240):
        kind = number % 3
        body = (editor_body(rng) if kind == 0 else tag_soup(rng) if kind == 1
                else '<p>See <a href="https://example.org/x">this</a> and <a href="/local">that</a>.</p>' * 3)
        bodies.append((f"<p>post {number}</p>{body}<p>end {number}</p>", SITE_HOSTS[number % len(SITE_HOSTS)]))
    return bodies


def test_sanitising_from_many_threads_gives_every_call_the_single_threaded_answer():
    bodies = _bodies()
    expected = [sanitise_html(body, site_host=host) for body, host in bodies]
    start = threading.Barrier(THREADS)
    wrong: list[tuple[int, str]] = []
    failed: list[BaseException] = []

    def sanitise_many(offset: int) -> None:
        order = random.Random(offset).choices(range(len(bodies)), k=CALLS_PER_THREAD)
        start.wait(timeout=60)
        for index in order:
            body, host = bodies[index]
            try:
                clean = sanitise_html(body, site_host=host)
            except BaseException as error:
                failed.append(error)
                continue
            if clean != expected[index]:
                wrong.append((index, clean))

    threads = [threading.Thread(target=sanitise_many, args=(offset,)) for offset in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    assert failed == []
    assert wrong == []

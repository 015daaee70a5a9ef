"""Sanitiser benchmark: hostile post bodies against a normal one, per KB, and the cost of a call from 1 and 8 threads.

Run by hand (not by the tests)::

    .venv/bin/python bench/sanitiser.py                  # about five minutes on two cores
    .venv/bin/python bench/sanitiser.py --size-kb 256    # a quicker look
    .venv/bin/python bench/sanitiser.py --before         # also bleach as it was before issue 9, on the issue's bodies

Save, autosave, preview and updates all sanitise what an editor sends, up to the
2 MiB request limit, on a request thread. Each body is timed through
``sanitise_html`` in CPU seconds of this process (the median of ``--runs``): the
bodies of issue 9 at their own sizes, then every hostile shape known to make
html5lib work harder at ``--size-kb`` and at a quarter of it, against a normal
post body of the same size. Goals: every body within 10x the normal body's cost
per KB, and linear (cost per KB at full size over cost per KB at a quarter: 1.0
is linear, a quadratic cost would show 4).

Then the cost of one call on one thread and on eight at once (a worker's
threads, started together), checking every answer against the one-thread
answer, and what building a Cleaner costs next to reusing one.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from functools import partial

from _common import load_average

from ninerstatus import markup
from ninerstatus.markup import sanitise_html

RATIO_GOAL = 10
LINEARITY_GOAL = 1.5
SITE_HOST = "status.example"

NORMAL_UNIT = (
    "<h3>What happened</h3><p>From 09:12 UTC mail to <strong>NC036</strong> (Frankfurt) was "
    "<em>delayed</em> by up to 40 minutes &amp; some senders saw <code>451 4.7.1</code> replies. "
    'See <a href="https://status.example/posts/42">the earlier notice</a> and '
    '<a href="https://example.org/rfc5321">RFC 5321</a>.</p>\n'
    "<ul><li>Queue drained at 09:55</li><li>No mail was lost</li></ul>\n"
    "<table><thead><tr><th>Server</th><th>Delay</th></tr></thead>"
    "<tbody><tr><td>NC036</td><td>40 min</td></tr></tbody></table>\n"
    "<pre><code>postqueue -p | tail -n 1\n-- 1843 Kbytes in 412 Requests.</code></pre>\n"
    "<blockquote><p>We are sorry for the delay.</p></blockquote>\n"
)

# The bodies of issue 9, at the sizes the attacker sent.
ISSUE_BODIES = {
    "<b> x 12,000": "<b>" * 12_000,
    "<b><a href> x 4,000": '<b><a href="https://example.org/">' * 4_000,
    "<b> x 50,000": "<b>" * 50_000,
}


def _repeat(unit: str, size: int, before: str = "", after: str = "") -> str:
    return before + unit * max(1, (size - len(before) - len(after)) // len(unit)) + after


def _numbered(make: Callable[[int], str], size: int, before: str, after: str) -> str:
    """``before``, then ``make(0)``, ``make(1)``... up to ``size`` characters, then ``after``."""
    parts, length, number = [before], len(before) + len(after), 0
    while length < size:
        parts.append(make(number))
        length += len(parts[-1])
        number += 1
    return "".join(parts) + after


# Hostile shapes, each made to a size: what html5lib's steps scan or copy grows with them.
SHAPES: dict[str, Callable[[int], str]] = {
    "normal post": partial(_repeat, NORMAL_UNIT),
    "unclosed <b>": partial(_repeat, "<b>"),
    "unclosed <b><a href>": partial(_repeat, '<b><a href="https://example.org/">'),
    "bold text, unclosed": partial(_repeat, "<b>x"),
    "nested lists": partial(_repeat, "<ul><li>"),
    "nested quotes": partial(_repeat, "<blockquote>"),
    "nested tables": partial(_repeat, "<table><tr><td>"),
    "misnested <b><i></b></i>": partial(_repeat, "<b><i></b></i>"),
    "links in text, unclosed": partial(_repeat, '<a href="/x">t'),
    "stray end tags": partial(_repeat, "x</i>"),
    "<br> fostered out of a table": partial(_repeat, "<br>", before="<table>"),
    "text fostered out of a table": partial(_repeat, "x<br>", before="<table>"),
    "ampersands in text": partial(_repeat, "&amp;"),
    "'<' in text": partial(_repeat, "a < b "),
    "ampersands in a link": partial(_repeat, "&amp;", before='<a href="/?', after='">x</a>'),
    "many attributes": partial(_numbered, lambda n: f" a{n}", before="<p", after=">"),
    "long tag name": partial(_repeat, "-a", before="<p", after=">"),
    "long attribute name": partial(_repeat, "a-", before="<p ", after=">"),
    "comment full of dashes": partial(_repeat, "-x", before="<!--", after="-->"),
    "random markup characters": lambda size: "".join(random.Random(9).choices("<<>/=\"' -!?ab&#;\n", k=size)),
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-kb", type=int, default=2048, help="size of each hostile body (the request limit)")
    parser.add_argument("--runs", type=int, default=1, help="timed runs of each body (the median counts)")
    parser.add_argument("--calls", type=int, default=200, help="calls in each turn of the thread comparison")
    parser.add_argument("--before", action="store_true",
                        help="also time bleach as it was before issue 9 (one Cleaner, then bleach's Linker)")
    return parser.parse_args(argv)


def cpu_time(sanitise: Callable[[str], str], body: str, runs: int) -> float:
    """Median CPU seconds of ``sanitise(body)`` over ``runs`` runs."""
    times = []
    for _ in range(runs):
        began = time.process_time()
        sanitise(body)
        times.append(time.process_time() - began)
    return statistics.median(times)


def sanitise(body: str) -> str:
    return sanitise_html(body, site_host=SITE_HOST)


def bleach_as_before() -> Callable[[str], str]:
    """The sanitiser before issue 9: one bleach Cleaner, then a second parse by bleach's Linker."""
    import bleach
    from bleach.linkifier import Linker

    cleaner = bleach.Cleaner(tags=markup.ALLOWED_TAGS, attributes=markup.ALLOWED_ATTRIBUTES,
                             protocols=markup.ALLOWED_PROTOCOLS, strip=True, strip_comments=True)

    def mark(attrs, new=False):
        attrs[(None, "rel")] = "noopener nofollow"
        return attrs

    def before(body: str) -> str:
        cleaned = cleaner.clean(markup.strip_control_chars(body))
        linker = Linker(callbacks=[mark], skip_tags={"pre", "code"}, parse_email=False)
        return linker.linkify(cleaned) if "<a" in cleaned else cleaned

    return before


def time_bodies(args: argparse.Namespace) -> None:
    size = args.size_kb * 1024
    for _ in range(20):  # warm up: the first calls also compile regular expressions and build a Cleaner
        sanitise(NORMAL_UNIT)
    normal = cpu_time(sanitise, SHAPES["normal post"](size), args.runs) / (size / 1024)
    before = bleach_as_before() if args.before else None
    print(f"Issue 9's bodies (CPU s, median of {args.runs}; the normal post costs {normal * 1000:.2f} ms per KB):")
    for name, body in ISSUE_BODIES.items():
        kb = len(body) / 1024
        spent = cpu_time(sanitise, body, args.runs)
        line = f"  {name:<24} {kb:7.0f} KB {spent:8.3f} s  {spent / kb * 1000:6.2f} ms/KB  ratio {spent / kb / normal:5.2f}"
        if before is not None:
            was = cpu_time(before, body, 1)
            line += f"   before: {was:8.2f} s ({was / spent:,.0f}x)"
        print(line, flush=True)

    print(f"Hostile shapes at {args.size_kb:,} KB and a quarter of it "
          f"(goals: ratio to the normal post per KB at most {RATIO_GOAL}, linearity at most {LINEARITY_GOAL}):")
    worst_ratio = worst_linearity = 0.0
    for name, make in SHAPES.items():
        quarter_body, body = make(size // 4), make(size)
        quarter = cpu_time(sanitise, quarter_body, args.runs) / (len(quarter_body) / 1024)
        spent = cpu_time(sanitise, body, args.runs)
        per_kb = spent / (len(body) / 1024)
        ratio, linearity = per_kb / normal, per_kb / quarter if quarter else float("nan")
        if name != "normal post":
            worst_ratio, worst_linearity = max(worst_ratio, ratio), max(worst_linearity, linearity)
        print(f"  {name:<30} {len(body) / 1024:7.0f} KB {spent:8.3f} s  {per_kb * 1000:6.2f} ms/KB  "
              f"ratio {ratio:5.2f}  linearity {linearity:5.2f}", flush=True)
    print(f"  worst: ratio {worst_ratio:.2f} (goal at most {RATIO_GOAL}), "
          f"linearity {worst_linearity:.2f} (goal at most {LINEARITY_GOAL})")


def time_threads(calls: int, rounds: int = 5, threads: int = 8) -> None:
    """Per-call cost with one thread and with ``threads`` at once, in turns so that load drifting
    on a shared machine favours neither; every answer is checked against the one-thread answer."""
    bodies = [NORMAL_UNIT * 8 + f"<p>post {number}</p>" for number in range(calls)]
    expected = [sanitise(body) for body in bodies]

    def run(indexes: range, start: threading.Barrier, wrong: list[int]) -> None:
        start.wait()
        wrong.extend(index for index in indexes if sanitise(bodies[index]) != expected[index])

    figures: dict[int, list[tuple[float, float]]] = {1: [], threads: []}
    wrong: list[int] = []
    for _ in range(rounds):
        for count in figures:
            start = threading.Barrier(count)
            workers = [threading.Thread(target=run, args=(range(offset, calls, count), start, wrong))
                       for offset in range(count)]
            wall, cpu = time.perf_counter(), time.process_time()
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            figures[count].append(((time.perf_counter() - wall) / calls, (time.process_time() - cpu) / calls))
    medians = {count: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
               for count, runs in figures.items()}
    print(f"One call on a {len(bodies[0]) / 1024:.1f} KB normal post ({calls} calls a turn, medians of {rounds} turns):")
    for count, (wall, cpu) in medians.items():
        print(f"  {count} thread{'s' if count > 1 else ' '}  {wall * 1000:6.2f} ms per call (wall), {cpu * 1000:6.2f} ms CPU")
    print(f"  {threads} threads / 1 thread per call: wall {medians[threads][0] / medians[1][0]:.2f}, "
          f"CPU {medians[threads][1] / medians[1][1]:.2f}; answers differing from one thread's: {len(wrong)}")


def time_cleaners(runs: int = 300) -> None:
    short, post = "<p>Mail is back.</p>", NORMAL_UNIT

    def each(work: Callable[[], object]) -> float:
        began = time.process_time()
        for _ in range(runs):
            work()
        return (time.process_time() - began) / runs * 1e6

    kept = markup._Cleaner()
    print(f"A Cleaner per thread, kept, or one per call ({runs} runs each):")
    print(f"  building one            {each(markup._Cleaner):8.0f} us")
    for name, body in (("a short body", short), (f"a {len(post) / 1024:.1f} KB post", post)):
        reused = each(lambda: kept.sanitise(body, SITE_HOST))
        fresh = each(lambda: markup._Cleaner().sanitise(body, SITE_HOST))
        print(f"  {name:<16} kept {reused:8.0f} us, new each call {fresh:8.0f} us ({fresh / reused:.2f}x)")


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    print(f"Sanitiser, Python {sys.version.split()[0]}, load average {load_average():.2f} before")
    time_bodies(args)
    time_threads(args.calls)
    time_cleaners()


if __name__ == "__main__":
    main(sys.argv[1:])

"""10,000 subscribers, one incident update: how long until the last mail is handed over, and the web meanwhile.

    .venv/bin/python bench/subscribers.py                      # 10,000 subscribers, a fresh SQLite site
    .venv/bin/python bench/subscribers.py --subscribers 1000   # a quicker look
    .venv/bin/python bench/subscribers.py --database-url postgresql://postgres@127.0.0.1/ninerstatus_bench

It builds a site with one server, one published incident and N confirmed
subscribers, serves it (``ninerstatus serve``) and times three pages while
nothing else happens (idle). Then it adds an update to the incident the way
the editor does (``fanout.announce``: one broadcast row, timed) and starts
``ninerstatus runner``, whose outbox drain expands the broadcast and hands
the mails to an SMTP sink on 127.0.0.1 (aiosmtpd, in this process), or to
``--smtp-port`` (e.g. the integration postfix's plain port 10025 with
``--domain subscribers.ninerstatus.test``). The same pages are timed all
the while. It prints the time until the last mail was accepted, mails per
second, and each page's median and 95th percentile, idle and during, with
their ratio (goal: no page slower than 2x).

The rate limit is set to its maximum for the run, so the figure is what the
machine can do; at the default 600 mails a minute, 10,000 mails take 16.7
minutes by design.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Children, Site, free_port, load_average, ninerstatus_command, percentile, wait_for_port  # noqa: E402

PAGES = ("/", "/servers/NC036", "/posts/mail-delays")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--database-url", help="an empty database to use instead of a new SQLite file")
    parser.add_argument("--smtp-port", type=int, help="hand mail to this port on 127.0.0.1 instead of a sink")
    parser.add_argument("--domain", default="example.org", help="the subscribers' mail domain")
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up after this many seconds")
    return parser.parse_args(argv)


class Sink:
    """An aiosmtpd server on 127.0.0.1 that counts what it accepts."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.count, self.last = 0, None
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                sink.count += len(envelope.rcpt_tos)
                sink.last = time.monotonic()
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


class Reader(threading.Thread):
    """Fetches the pages one after another until stopped, noting each answer's seconds per page."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port, self.halt = port, threading.Event()
        self.times: dict[str, list[float]] = {path: [] for path in PAGES}

    def run(self) -> None:
        while not self.halt.is_set():
            for path in PAGES:
                began = time.perf_counter()
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=60) as answer:
                    answer.read()
                self.times[path].append(time.perf_counter() - began)

    def stop(self) -> dict[str, list[float]]:
        self.halt.set()
        self.join()
        return self.times


def warm_up(port: int, seconds: float = 60.0) -> None:
    """Fetch every page until each answers (granian listens before its workers take requests)."""
    ends = time.monotonic() + seconds
    for path in PAGES * 4:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as answer:
                    answer.read()
                break
            except OSError:
                if time.monotonic() > ends:
                    raise
                time.sleep(0.2)


def build_site(app, subscribers: int, domain: str) -> int:
    """One server, an incident about it, and ``subscribers`` confirmed subscribers; returns the post's id."""
    from sqlalchemy import insert

    from ninerstatus.extensions import db
    from ninerstatus.models import Post, PostKind, PostStatus, Server
    from ninerstatus.subscriptions.models import Subscriber
    from ninerstatus.timeutil import utcnow

    with app.app_context():
        server = Server(code="NC036", role="mail", city="Zurich", country="Switzerland")
        post = Post(title="Mail delays", slug="mail-delays", kind=PostKind.INCIDENT, status=PostStatus.PUBLISHED,
                    published_at=utcnow() - timedelta(minutes=10))
        post.set_body("<p>Mail to NC036 is delayed by up to an hour.</p>")
        post.servers = [server]
        db.session.add(post)
        now = utcnow()
        db.session.execute(insert(Subscriber), [
            {"email": f"sub-bench{n}@{domain}", "status": "confirmed", "all_servers": True, "nonce": f"n{n}",
             "created_at": now, "confirmed_at": now, "bounces": 0, "last_bounce": ""}
            for n in range(subscribers)])
        db.session.commit()
        return post.id


def publish_update(app, post_id: int, base_url: str) -> float:
    """Add an update to the incident as the editor does (the update, one broadcast row); returns its seconds."""
    from ninerstatus.extensions import db
    from ninerstatus.models import Post, PostUpdate, UpdateState
    from ninerstatus.subscriptions.fanout import announce
    from ninerstatus.timeutil import utcnow

    with app.test_request_context(base_url=base_url):
        began = time.perf_counter()
        post = db.session.get(Post, post_id)
        update = PostUpdate(state=UpdateState.IDENTIFIED, created_at=utcnow())
        update.set_body("<p>A full disk on the queue server; clearing it now.</p>")
        post.updates.insert(0, update)
        announce(post, update)
        db.session.commit()
        return time.perf_counter() - began


def summary(times: list[float]) -> tuple[float, float]:
    return statistics.median(times), percentile(times, 0.95)


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    sink = None if args.smtp_port else Sink()
    smtp_port = args.smtp_port or sink.port
    site = Site(args.database_url, NOTIFY_SMTP_HOST="127.0.0.1", NOTIFY_SMTP_PORT=smtp_port,
                # As JSON: the runner reads it from its environment (loopback: no TLS to the sink).
                NOTIFY_SMTP_STARTTLS="false", NOTIFY_EMAIL_FROM="status@example.net",
                SUBSCRIBER_MAILS_PER_MINUTE=100_000, RUNNER_DELIVERY_SECONDS=5)
    print(f"load average before: {load_average():.2f}")
    try:
        app = site.create_schema()
        began = time.perf_counter()
        post_id = build_site(app, args.subscribers, args.domain)
        print(f"{args.subscribers} subscribers stored in {time.perf_counter() - began:.1f} s")
        with Children() as children:
            port = free_port()
            web = children.start(ninerstatus_command("serve", "--port", str(port)), env=site.environment(),
                                 log=site.folder / "serve.log")
            wait_for_port(port, web)
            warm_up(port)
            reader = Reader(port)
            reader.start()
            time.sleep(args.idle_seconds)  # the idle sample: a fixed stretch of reading, not synchronisation
            idle = reader.stop()

            reader = Reader(port)
            reader.start()
            publish_seconds = publish_update(app, post_id, f"http://127.0.0.1:{port}")
            started = time.monotonic()
            children.start(ninerstatus_command("runner"), env=site.environment(), log=site.folder / "runner.log")
            handed = wait_for_mail(app, sink, args, started)
            finished = time.monotonic()
            during = reader.stop()
        report(args, publish_seconds, handed, finished - started, idle, during)
    except BaseException:
        for log in ("serve.log", "runner.log"):
            if (site.folder / log).exists():
                print(f"--- the end of {log}:", *(site.folder / log).read_text().splitlines()[-15:], sep="\n")
        raise
    finally:
        if sink is not None:
            sink.stop()
        site.remove()


def wait_for_mail(app, sink: Sink | None, args: argparse.Namespace, started: float) -> int:
    """Wait until every subscriber's mail was accepted (by the sink, or marked sent in the outbox)."""
    from sqlalchemy import func, select

    from ninerstatus.extensions import db
    from ninerstatus.notifications.models import Notification

    def handed() -> int:
        if sink is not None:
            return sink.count
        with app.app_context():
            return db.session.scalar(select(func.count()).where(Notification.sent_at.is_not(None)))

    while (count := handed()) < args.subscribers:
        if time.monotonic() - started > args.timeout:
            sys.exit(f"only {count} of {args.subscribers} mails after {args.timeout:g} s")
        time.sleep(0.5)
    return count


def report(args, publish_seconds: float, handed: int, seconds: float, idle, during) -> None:
    print(f"publishing the update (one broadcast row): {publish_seconds * 1000:.1f} ms")
    print(f"{handed} mails handed over in {seconds:.1f} s from the runner's start ({handed / seconds:.0f} mails/s)")
    print(f"| page | idle median / p95 (ms) | during median / p95 (ms) | ratio of medians | ratio of p95 | goal |")
    print("| --- | --- | --- | --- | --- | --- |")
    worst = 0.0
    for path in PAGES:
        (idle_median, idle_p95), (busy_median, busy_p95) = summary(idle[path]), summary(during[path])
        ratio, ratio95 = busy_median / idle_median, busy_p95 / idle_p95
        worst = max(worst, ratio)
        print(f"| {path} | {idle_median * 1000:.1f} / {idle_p95 * 1000:.1f} | {busy_median * 1000:.1f} / "
              f"{busy_p95 * 1000:.1f} | {ratio:.2f}x | {ratio95:.2f}x | 2x |")
    print(f"slowest page during the fan-out: {worst:.2f}x its idle median (goal: at most 2x)")


if __name__ == "__main__":
    main(sys.argv[1:])

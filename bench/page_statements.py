"""Pages of a kept site drawn in one process with nothing cached: CPU per page, and what each SQL statement costs.

    .venv/bin/python bench/page_statements.py /tmp/year.sqlite / /servers/NC036
    .venv/bin/python bench/page_statements.py /tmp/year.sqlite / --staff --profile

The database is one kept with ``bench/pages.py --keep`` (upgraded to the
newest migration first: ``NINERSTATUS_DATABASE_URL=sqlite:////tmp/year.sqlite
.venv/bin/ninerstatus db upgrade``). Each page is drawn through Flask's test
client with the page, sidebar and API caches off, a few times to warm up
and then ``--pages`` times while the process's CPU time is measured; every
statement is timed between SQLAlchemy's cursor events. Without a server, a
network or other processes in the way, it tells where a page's own time
goes; ``bench/pages.py`` measures what the served site reaches.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import event, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ninerstatus import create_app  # noqa: E402
from ninerstatus.extensions import db  # noqa: E402
from ninerstatus.models import Role, User  # noqa: E402

WARM_UP = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path, help="a SQLite file kept with bench/pages.py --keep")
    parser.add_argument("paths", nargs="+", help="pages to draw, e.g. / and /servers/NC036")
    parser.add_argument("--pages", type=int, default=200, help="pages drawn and measured per path")
    parser.add_argument("--staff", action="store_true", help="signed in as the site's first admin")
    parser.add_argument("--top", type=int, default=10, help="statements listed per path, dearest first")
    parser.add_argument("--profile", action="store_true", help="also print cProfile's dearest functions")
    args = parser.parse_args()

    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{args.database.resolve()}",
                      "PAGE_CACHE_SECONDS": 0, "SIDEBAR_CACHE_SECONDS": 0, "API_CACHE_SECONDS": 0,
                      "PLUGINS_FOLDER": tempfile.mkdtemp(prefix="ninerstatus-bench-")}, check_secret=False)
    client = app.test_client()
    if args.staff:
        with app.app_context():
            identity = db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id)).get_id()
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = identity, True
    with app.app_context():
        engine = db.engine
    spent: dict[str, list] = defaultdict(lambda: [0, 0.0])
    started: dict[int, float] = {}

    @event.listens_for(engine, "before_cursor_execute")
    def before(_conn, cursor, *_args) -> None:
        started[id(cursor)] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def after(_conn, cursor, statement, *_args) -> None:
        entry = spent[" ".join(statement.split())[:150]]
        entry[0] += 1
        entry[1] += time.perf_counter() - started.pop(id(cursor))

    for path in args.paths:
        for _ in range(WARM_UP):
            status = client.get(path).status_code
            if status != 200:
                sys.exit(f"{path} answered {status}")
        spent.clear()
        profile = cProfile.Profile() if args.profile else None
        cpu = time.process_time()
        if profile:
            profile.enable()
        for _ in range(args.pages):
            client.get(path)
        if profile:
            profile.disable()
        per_page = (time.process_time() - cpu) / args.pages * 1000
        sql = sum(seconds for _, seconds in spent.values()) / args.pages * 1000
        statements = sum(count for count, _ in spent.values()) / args.pages
        print(f"{path}: {per_page:.2f} ms of CPU a page{' (profiled)' if profile else ''}, "
              f"of which SQL {sql:.2f} ms in {statements:.1f} statements")
        for statement, (count, seconds) in sorted(spent.items(), key=lambda item: -item[1][1])[:args.top]:
            print(f"  {seconds / args.pages * 1000:6.2f} ms  x{count / args.pages:.1f}  {statement}")
        if profile:
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()

"""Agent benchmark: one ``ninerstatus agent`` probing 1,000 checks for a real site, its memory and CPU.

Run by hand (not by the tests)::

    .venv/bin/python bench/agents.py                  # 1,000 HTTP checks every 60 s, measured for 2 minutes
    .venv/bin/python bench/agents.py --checks 2000 --minutes 5

The site (``ninerstatus serve``, SQLite) has one agent location with every
check assigned; the checks are HTTP checks of the loopback responder the
runner benchmark uses (``_targets.py``). The agent runs as a process of its
own, as on another machine. After one interval of warm-up (every check
placed and probed once) the script samples the agent's resident memory and
CPU for the measured minutes, and counts the results the site took.
Goal (issue 11): under 80 MB for 1,000 checks.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Children, cpu_seconds, free_port, load_average, memory_mb, ninerstatus_command, wait_for_port  # noqa: E402
from _targets import site_with_targets  # noqa: E402


def assign_checks(app, port: int, count: int, interval: int) -> str:
    """``count`` HTTP checks of the responder on ``port``, all assigned to one agent location; return its token."""
    from ninerstatus.agents.locations import issue_token
    from ninerstatus.agents.models import CheckLocation, Location
    from ninerstatus.checks.models import Check
    from ninerstatus.extensions import db
    from ninerstatus.models import Server

    with app.app_context():
        server = Server(code="B0001", role="Bench server", city="Amsterdam", country="Netherlands")
        checks = [Check(server=server, type_name="http", label=f"http {number}", host="127.0.0.1", port=port,
                        settings={}, interval_seconds=interval, timeout_seconds=10) for number in range(count)]
        location = Location(name="Bench", network="loopback")
        db.session.add_all([server, *checks, location])
        db.session.flush()
        db.session.add_all(CheckLocation(check_id=check.id, location_id=location.id) for check in checks)
        token = str(issue_token(location))
        db.session.commit()
        return token


def results_taken(app) -> int:
    """Results the site has taken from agents so far."""
    from sqlalchemy import func, select

    from ninerstatus.agents.models import AgentBatch
    from ninerstatus.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.coalesce(func.sum(AgentBatch.results), 0)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--interval", type=int, default=60, help="seconds between two probes of a check")
    parser.add_argument("--minutes", type=float, default=2.0, help="minutes measured after the warm-up")
    args = parser.parse_args()

    with site_with_targets(None) as (site, app, ports), Children() as children:
        token_file = site.folder / "agent.token"
        token_file.write_text(assign_checks(app, ports.http, args.checks, args.interval))
        web_port = free_port()
        web = children.start(ninerstatus_command("serve", "--port", str(web_port), "--workers", "1"),
                             env=site.environment(), log=site.folder / "serve.log")
        wait_for_port(web_port, web)
        agent_folder = site.folder / "agent"
        agent_folder.mkdir()
        env = {key: value for key, value in site.environment().items() if not key.startswith("NINERSTATUS_")}
        env["NINERSTATUS_INSTANCE_PATH"] = str(agent_folder)
        agent = children.start(ninerstatus_command("agent", "--site", f"http://127.0.0.1:{web_port}/",
                                                   "--token-file", str(token_file),
                                                   "--spool", str(agent_folder / "spool.sqlite")),
                               env=env, log=site.folder / "agent.log")
        print(f"{args.checks} checks every {args.interval} s; warming up for one interval ...", flush=True)
        time.sleep(args.interval + 5)
        taken_before, cpu_before, started = results_taken(app), cpu_seconds(agent.pid), time.monotonic()
        peak = 0.0
        while time.monotonic() - started < args.minutes * 60:
            if agent.poll() is not None:
                sys.exit(f"the agent stopped; see {site.folder / 'agent.log'}")
            peak = max(peak, memory_mb(agent.pid)[0])
            time.sleep(5)
        elapsed = time.monotonic() - started
        taken = results_taken(app) - taken_before
        cpu = cpu_seconds(agent.pid) - cpu_before
        due = args.checks / args.interval * elapsed
        print(f"load average {load_average():.1f}")
        print(f"results taken by the site: {taken} of {due:.0f} due ({taken / due:.0%})")
        print(f"agent memory: {peak:.1f} MB resident at most while measured, {memory_mb(agent.pid)[1]:.1f} MB peak "
              f"(goal: under 80 MB)")
        print(f"agent CPU: {cpu:.2f} s, {cpu / max(taken, 1) * 1000:.2f} s per 1,000 results")


if __name__ == "__main__":
    main()

"""CLI benchmark: CPU of one ``ninerstatus check ... --nagios`` run beside Debian's check_smtp and check_http.

Run by hand (not by the tests)::

    .venv/bin/python bench/cli.py                 # 40 runs of each command, about a minute
    .venv/bin/python bench/cli.py --runs 200

Nagios and Icinga start one plugin process per service check, every minute
or so for hundreds of services, so what a run costs is the CPU of the whole
process: starting Python, loading the plugins, probing, printing. Each run
here is a child process waited for with ``os.wait4``, whose rusage gives
its own user and system CPU. Both sides probe the same loopback servers
(``_targets.py``, in a process of their own so their CPU is nobody's
figure): plain SMTP (greeting, EHLO, QUIT), SMTP with STARTTLS (the
certificate verified against the local CA by ninerstatus; check_smtp does
not verify), and HTTP. The commands take turns, run after run, so load
that drifts on a shared machine weighs on both sides alike, and so does an
empty Python start (``python -c pass``), run in the same turns as a yardstick
for figures taken on a busy machine. Goal (issue 9): at most 0.15 s of CPU
per ``ninerstatus check`` run.

Python caches compiled modules beside the sources; an installed site has
them from ``pip install``. The ninerstatus commands here run once unmeasured
with the cache allowed (``PYTHONDONTWRITEBYTECODE`` left out), so measured
runs find it as an installed site would.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from _common import load_average, ninerstatus_command, percentile, require
from _targets import Ports, start_targets

GOAL_SECONDS = 0.15
PLUGINS_PACKAGE = "monitoring-plugins-basic"


@dataclass
class Figures:
    """What the runs of one command cost: CPU and wall seconds per run, and the runs that were not OK."""

    command: list[str]
    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Case:
    """One service probed by a C plugin and by ``ninerstatus check``."""

    name: str
    plugin: Figures
    ours: Figures


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="runs of each command")
    return parser.parse_args(argv)


def cases(ports: Ports) -> list[Case]:
    check_smtp = require("check_smtp", PLUGINS_PACKAGE)
    check_http = require("check_http", PLUGINS_PACKAGE)
    host = ["--host", "127.0.0.1"]
    smtp = [*host, "--port", str(ports.smtp)]
    return [
        Case("SMTP", Figures([check_smtp, "-H", "127.0.0.1", "-p", str(ports.smtp), "-t", "10"]),
             Figures(ninerstatus_command("check", "smtp", *smtp, "--nagios"))),
        Case("SMTP STARTTLS", Figures([check_smtp, "-H", "127.0.0.1", "-p", str(ports.smtp), "-S", "-t", "10"]),
             Figures(ninerstatus_command("check", "smtp", *smtp, "--tls", "starttls", "--ca-file", ports.ca_file,
                                         "--nagios"))),
        Case("HTTP", Figures([check_http, "-H", "127.0.0.1", "-p", str(ports.http), "-u", "/", "-t", "10"]),
             Figures(ninerstatus_command("check", "http", *host, "--port", str(ports.http), "--nagios"))),
    ]


def run_once(figures: Figures, env: dict[str, str]) -> None:
    """Run the command once and add its own CPU (from its rusage) and wall time to ``figures``."""
    started = time.monotonic()
    process = subprocess.Popen(figures.command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = process.stdout.read().decode(errors="replace")
    process.stdout.close()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    figures.wall.append(time.monotonic() - started)
    figures.cpu.append(usage.ru_utime + usage.ru_stime)
    if process.returncode != 0:
        figures.failed.append(output.strip() or f"exit status {process.returncode}")


def site_env(instance: Path) -> dict[str, str]:
    """A site with nothing of its own (no settings file, no local plugins); Python may cache bytecode."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("NINERSTATUS_") and key != "PYTHONDONTWRITEBYTECODE"}
    env["NINERSTATUS_INSTANCE_PATH"] = str(instance)
    return env


def measure(all_cases: list[Case], empty_start: Figures, runs: int, env: dict[str, str]) -> None:
    for case in all_cases:  # unmeasured: compiles and caches ninerstatus's modules if need be
        run_once(Figures(case.ours.command), env)
    for _ in range(runs):
        run_once(empty_start, env)
        for case in all_cases:
            run_once(case.plugin, env)
            run_once(case.ours, env)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:6.1f} ms"


def report(all_cases: list[Case], empty_start: Figures, runs: int, load: float) -> None:
    print()
    print(f"`ninerstatus check ... --nagios` beside Debian's monitoring plugins, {runs} runs of each on 127.0.0.1, "
          f"{os.cpu_count()} CPUs (load average {load:.2f} before); CPU is user + system of each process:")
    print(f"  {'service':14} {'plugin':11} {'CPU median':>10} {'p90':>9}   {'ninerstatus':>11} {'p90':>9}   "
          f"{'ratio':>6}   {'wall: plugin':>12} {'ninerstatus':>11}")
    for case in all_cases:
        plugin, ours = case.plugin, case.ours
        ratio = statistics.median(ours.cpu) / max(statistics.median(plugin.cpu), 1e-6)
        print(f"  {case.name:14} {Path(plugin.command[0]).name:11} {_ms(statistics.median(plugin.cpu)):>10} "
              f"{_ms(percentile(plugin.cpu, 0.9)):>9}   {_ms(statistics.median(ours.cpu)):>11} "
              f"{_ms(percentile(ours.cpu, 0.9)):>9}   {ratio:5.0f}x   {_ms(statistics.median(plugin.wall)):>12} "
              f"{_ms(statistics.median(ours.wall)):>11}")
    every_run = [cpu for case in all_cases for cpu in case.ours.cpu]
    median, empty = statistics.median(every_run), statistics.median(empty_start.cpu)
    print(f"  goal: at most {GOAL_SECONDS * 1000:.0f} ms of CPU per ninerstatus run; median of all its runs "
          f"{median * 1000:.1f} ms (ratio {median / GOAL_SECONDS:.2f}), p90 {percentile(every_run, 0.9) * 1000:.1f} ms")
    print(f"  an empty Python start (python -c pass) took {empty * 1000:.1f} ms in the same turns: a ninerstatus run "
          f"is {median / empty:.1f} of them")
    for case in all_cases:
        for figures in (case.plugin, case.ours):
            if figures.failed:
                print(f"  {case.name}: {len(figures.failed)} of {runs} runs of {Path(figures.command[0]).name} "
                      f"were not OK, e.g. {figures.failed[0]!r}")


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="ninerstatus-bench-cli-"))
    targets, ports = start_targets(folder)
    try:
        all_cases = cases(ports)
        load = load_average()
        print(f"Running each command {args.runs} times in turn", flush=True)
        empty_start = Figures([sys.executable, "-c", "pass"])
        measure(all_cases, empty_start, args.runs, site_env(folder / "instance"))
        report(all_cases, empty_start, args.runs, load)
    finally:
        targets.kill()
        targets.join()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])

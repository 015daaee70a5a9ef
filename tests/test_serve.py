"""Serving the site for real on loopback: `ninerstatus serve` under idle and slow clients,
and scripts/run-site.sh (`make run`) starting and stopping the web server with the runner."""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from . import processes
from .waiting import PATIENCE, wait_until

BIN = Path(sys.executable).parent
RUN_SITE = Path(__file__).resolve().parent.parent / "scripts" / "run-site.sh"
WORKERS, THREADS, KEEP_ALIVE = 1, 2, 3
#: A keep-alive far longer than any request takes on a loaded machine.
LONG_KEEP_ALIVE = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def site_env(tmp_path_factory) -> dict[str, str]:
    """Environment for ninerstatus commands on a fresh site in a temporary instance folder."""
    folder = tmp_path_factory.mktemp("site")
    env = {key: value for key, value in os.environ.items() if not key.startswith("NINERSTATUS_")}
    env.update(NINERSTATUS_INSTANCE_PATH=str(folder), NINERSTATUS_SECRET_KEY="s" * 40,
               NINERSTATUS_DATABASE_URL=f"sqlite:///{folder / 'site.sqlite'}")
    subprocess.run([BIN / "ninerstatus", "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    return env


def _get(port: int, timeout: float) -> int:
    """The status of GET /api/v2/status.json on a connection of its own."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/api/v2/status.json")
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _wait_until_answering(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{process.args} exited with {process.returncode}"
        try:
            _get(port, timeout=5)
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"nothing answered on port {port}")


def _descendants(pid: int) -> set[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {int(child) for child in children}.union(*(_descendants(int(child)) for child in children))


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@contextmanager
def _started(args: list, env: dict[str, str], port: int) -> Iterator[subprocess.Popen]:
    """``args`` running in a session of its own until it answers on ``port``; stopped with it afterwards."""
    with processes.started(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        _wait_until_answering(port, process)
        yield process


def _serving(site_env: dict[str, str], keep_alive: int) -> Iterator[int]:
    """`ninerstatus serve` with few threads; yields its port."""
    port = _free_port()
    with _started([BIN / "ninerstatus", "serve", "--port", port, "--workers", WORKERS, "--threads", THREADS,
                   "--keep-alive", keep_alive], site_env, port):
        yield port


@pytest.fixture(scope="module")
def server(site_env) -> Iterator[int]:
    """`ninerstatus serve` with few threads and a short keep-alive; yields its port."""
    yield from _serving(site_env, KEEP_ALIVE)


@pytest.fixture(scope="module")
def patient_server(site_env) -> Iterator[int]:
    """`ninerstatus serve` with few threads and a keep-alive far longer than any test waits for an answer."""
    yield from _serving(site_env, LONG_KEEP_ALIVE)


def _idle_keep_alive_connection(port: int) -> http.client.HTTPConnection:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", "/api/v2/status.json")
    response = connection.getresponse()
    response.read()
    assert response.status == 200 and not response.will_close
    return connection


def _slow_client(port: int) -> socket.socket:
    """A connection sending the start of a request's headers byte by byte, never finishing them."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    for byte in b"GET / HTTP/1.1\r\nHo":
        sock.send(bytes([byte]))
    return sock


def _still_open(sock: socket.socket) -> bool:
    """Whether the server has not closed ``sock`` (nothing is expected to be waiting on it); no waiting."""
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except ConnectionResetError:
        return False


def _closed_by_server_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes ``sock`` within ``seconds``, whatever it sends first."""
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            if not sock.recv(1024):
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        pass
    return False


@pytest.mark.parametrize("open_client", [_idle_keep_alive_connection, _slow_client],
                         ids=["idle keep-alive", "dripping headers"])
def test_idle_or_slow_clients_do_not_hold_back_new_requests(patient_server, open_client):
    clients = [open_client(patient_server) for _ in range(3 * WORKERS * THREADS)]
    try:
        # Held back, the request would wait for the keep-alive time to close the others.
        assert _get(patient_server, timeout=LONG_KEEP_ALIVE / 2) == 200
        assert all(_still_open(getattr(client, "sock", client)) for client in clients)
    finally:
        for client in clients:
            client.close()


def test_idle_and_slow_connections_are_closed_after_the_keep_alive_time(server):
    idle = _idle_keep_alive_connection(server).sock
    slow = _slow_client(server)
    assert _closed_by_server_within(idle, PATIENCE)
    assert _closed_by_server_within(slow, PATIENCE)
    idle.close()
    slow.close()


def test_cleartext_http2_is_not_served(server):
    # An idle HTTP/2 connection would never time out, and its streams would queue past the limits.
    with socket.create_connection(("127.0.0.1", server), timeout=5) as sock:
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        assert _closed_by_server_within(sock, PATIENCE)


def test_serve_help_gives_the_measured_default_threads():
    result = subprocess.run([BIN / "ninerstatus", "serve", "--help"], capture_output=True, text=True, timeout=60)
    assert "[default: 8;" in " ".join(result.stdout.split()) and "--keep-alive SECONDS" in result.stdout


def test_run_site_stopped_while_its_children_start_still_exits_0(site_env):
    # Stopped at once, the runner and web server end by SIGTERM before their handlers exist: stopped as asked.
    with processes.started([RUN_SITE, BIN, "--port", _free_port()], env=site_env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True) as script:
        children = wait_until(lambda: len(found := _descendants(script.pid)) >= 2 and found)
        script.send_signal(signal.SIGTERM)
        out, err = script.communicate(timeout=PATIENCE)
        left_running = [pid for pid in children if _alive(pid)]  # before the clean-up kills what is left
    assert script.returncode == 0, err
    assert "run-site:" not in err and not left_running


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_run_site_stops_both_and_exits_0_when_asked(site_env, signum):
    port = _free_port()
    with _started([RUN_SITE, BIN, "--port", port, "--workers", "1", "--threads", "2"], site_env, port) as script:
        children = _descendants(script.pid)
        assert len(children) >= 3, "web, its worker and the runner"
        script.send_signal(signum)
        out, err = script.communicate(timeout=PATIENCE)
        left_running = [pid for pid in children if _alive(pid)]  # before the clean-up kills what is left
    assert script.returncode == 0, err
    assert "Terminated" not in out + err and "run-site:" not in err
    assert not left_running


def test_run_site_stops_the_runner_and_fails_when_the_web_server_ends(site_env):
    with processes.started([RUN_SITE, BIN, "--port", "0"], env=site_env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True) as script:
        out, err = script.communicate(timeout=PATIENCE)
    assert script.returncode == 1
    assert "the web server (ninerstatus serve) stopped on its own (exit status 2); stopping the probe runner" in err


def _refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        pass
    return False


def test_serve_workers_end_when_its_main_process_is_killed(site_env):
    # Left behind, the workers would go on serving, and a restarted serve would bind beside them.
    port = _free_port()
    with _started([BIN / "ninerstatus", "serve", "--port", port, "--workers", 2, "--threads", 2], site_env,
                  port) as serve:
        try:
            workers = wait_until(lambda: found if len(found := _descendants(serve.pid)) >= 2 else None,
                                 message="serve's two workers")
            assert len(workers) == 2
            os.kill(serve.pid, signal.SIGKILL)
            serve.wait(PATIENCE)
            wait_until(lambda: not any(_alive(pid) for pid in workers),
                       message="workers still running after their serve was killed")
            assert _refuses_connections(port)
        finally:
            # Its session's process group outlives serve: whatever is left of it goes too.
            try:
                os.killpg(serve.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# A worker that, like granian starting up, lets SIGTERM go by: its watchdog repeats the signal, then ends it.
_DEAF_WORKER = """
import os, signal, sys, threading
from ninerstatus.serving import watch_serve
heard = []
signal.signal(signal.SIGTERM, lambda *_: heard.append(1) or os.write(1, b"heard\\n"))
threading.Thread(target=watch_serve, args=(os.getppid(),), kwargs={"every": 0.05, "drain": 0.5}).start()
os.write(1, b"ready\\n")
threading.Event().wait()
"""
_PARENT = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", sys.argv[1]])
time.sleep(3600)
"""


def test_a_worker_that_misses_the_stop_signal_is_signalled_again_and_then_ended():
    with processes.started([sys.executable, "-c", _PARENT, _DEAF_WORKER], stdout=subprocess.PIPE,
                           text=True) as parent:
        assert parent.stdout.readline() == "ready\n"
        worker = wait_until(lambda: next(iter(_descendants(parent.pid)), None), message="the worker")
        parent.kill()
        parent.wait(PATIENCE)
        wait_until(lambda: not _alive(worker), message="a worker still running without its serve")
        heard = parent.stdout.read().split()
    assert len(heard) >= 3 and set(heard) == {"heard"}, "the stop signal repeated while the worker lived on"

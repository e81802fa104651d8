"""How the blocking HTTPClient runs its private loop: the callers take turns.

A caller runs the loop itself; a caller that finds another one running it
submits its request and waits, and takes over if the other one leaves first;
a caller inside a running event loop gets a helper thread. These tests make
the interleavings happen on purpose: the app server's ``/inflight`` route
holds a request until enough requests with its key are in flight, and the test
reads the server's in-flight counts to know a request has arrived.
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from squall._loop_driver import LoopDriver
from squall.httpclient import HTTPClient, HTTPStreamClosedError
from tests.conftest import LOOPS, import_object
from tests.servers.app import AppServer
from tests.servers.helpers import sockets_connected_to

pytestmark = pytest.mark.squall_only

ROOT = Path(__file__).resolve().parent.parent
HELPER = "squall-loop-helper"


class Interrupted(BaseException):
    """Raised by a signal handler in the main thread, like KeyboardInterrupt."""


def _key() -> str:
    return uuid.uuid4().hex


def _together(server: AppServer, key: str, count: int) -> str:
    """A URL whose response says ``count`` only if ``count`` requests with ``key``
    were in flight at once (the route waits up to 1.5 s for them)."""
    return f"{server.http_url}/inflight?key={key}&want={count}&wait=1.5"


def _held(server: AppServer, key: str) -> str:
    """A URL whose response is held until ``_release(server, key)`` (or 15 s)."""
    return f"{server.http_url}/inflight?key={key}&want=2&wait=15"


def _wait_for(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.005)


def _arrived(server: AppServer, key: str) -> None:
    """Wait until the server has the held request ``key``."""
    _wait_for(lambda: server.app.inflight.get(key, 0) >= 1, f"request {key} at the server")


def _release(server: AppServer, key: str) -> threading.Thread:
    """Let the held request ``key`` answer: a second request with its key (not
    from squall) stays in flight for 1 s, long enough for the first to see it."""
    url = f"{server.http_url}/inflight?key={key}&want=3&wait=1"
    thread = threading.Thread(target=lambda: urllib.request.urlopen(url, timeout=20).close())
    thread.start()
    return thread


def _in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(target())
        except BaseException as exc:  # reported by the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)  # a stranded caller must not block the exit
    thread.start()
    return thread, outcome


def _helpers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == HELPER]


def test_waiting_callers_requests_run_concurrently(
    blocking_client: HTTPClient, app_server: AppServer
) -> None:
    # The four requests are in flight at once only if the thread running the
    # loop runs the others' requests along with its own.
    url = _together(app_server, _key(), 4)
    with ThreadPoolExecutor(4) as pool:
        bodies = list(pool.map(lambda _: blocking_client.fetch(url).body, range(4)))
    assert bodies == [b"4"] * 4
    assert not _helpers()  # the callers ran the loop themselves


def test_a_waiting_caller_takes_over_when_the_driver_leaves(
    blocking_client: HTTPClient, app_server: AppServer
) -> None:
    first, second = _key(), _key()
    driver, driver_outcome = _in_thread(
        lambda: blocking_client.fetch(_held(app_server, first)).body
    )
    _arrived(app_server, first)  # the driver is running the loop for its request
    follower, follower_outcome = _in_thread(
        lambda: blocking_client.fetch(_held(app_server, second)).body
    )
    _arrived(app_server, second)  # sent by the driver's loop
    releases = [_release(app_server, first)]
    driver.join(20)
    assert driver_outcome == [b"2"]
    # No one runs the loop now: the follower's response arrives only if the
    # follower took over when the driver left.
    releases.append(_release(app_server, second))
    follower.join(20)
    assert follower_outcome == [b"2"]
    for release in releases:
        release.join(20)


def test_a_caller_in_a_running_loop_shares_the_client(engine: str, app_server: AppServer) -> None:
    before = threading.active_count()
    client = HTTPClient(async_client_class=import_object(engine))
    url = _together(app_server, _key(), 2)

    async def inside_a_loop() -> bytes:
        return client.fetch(url).body

    in_loop, in_loop_outcome = _in_thread(lambda: asyncio.run(inside_a_loop()))
    plain, plain_outcome = _in_thread(lambda: client.fetch(url).body)
    in_loop.join(20)
    plain.join(20)
    assert in_loop_outcome == [b"2"] and plain_outcome == [b"2"]
    assert len(_helpers()) == 1
    client.close()
    assert threading.active_count() == before  # the helper thread was joined
    with pytest.raises(RuntimeError, match="closed"):
        client.fetch(app_server.http_url + "/echo")


def test_close_inside_a_running_loop(engine: str, app_server: AppServer) -> None:
    before = threading.active_count()

    async def main() -> int:
        client = HTTPClient(async_client_class=import_object(engine))
        code = client.fetch(app_server.http_url + "/echo").code
        client.close()
        with pytest.raises(RuntimeError, match="closed"):
            client.fetch(app_server.http_url + "/echo")
        return code

    assert asyncio.run(main()) == 200
    assert threading.active_count() == before


def test_close_while_another_thread_fetches(engine: str, app_server: AppServer) -> None:
    client = HTTPClient(async_client_class=import_object(engine))
    key = _key()
    fetcher, outcome = _in_thread(lambda: client.fetch(_held(app_server, key)))
    _arrived(app_server, key)  # the other thread is running the loop for it
    client.close()  # runs on that thread's turn; the fetch fails instead of hanging
    fetcher.join(20)
    # The async API's error for a fetch that close() ends.
    assert len(outcome) == 1 and isinstance(outcome[0], HTTPStreamClosedError), outcome
    assert (outcome[0].code, str(outcome[0])) == (599, "The client was closed")
    assert sockets_connected_to(app_server.http_port) == 0
    assert not _helpers()


def test_a_waiting_caller_takes_over_deterministically() -> None:
    # The same hand-over without a network: each piece of work runs until the
    # test opens its gate.
    driver = LoopDriver()
    gates = {"a": threading.Event(), "b": threading.Event()}
    started = {"a": threading.Event(), "b": threading.Event()}

    async def work(name: str) -> str:
        started[name].set()
        while not gates[name].is_set():
            await asyncio.sleep(0.001)
        return name

    first, first_outcome = _in_thread(lambda: driver.run(lambda: work("a")))
    assert started["a"].wait(20)
    second, second_outcome = _in_thread(lambda: driver.run(lambda: work("b")))
    assert started["b"].wait(20)  # run by the first caller's turn on the loop
    gates["a"].set()
    first.join(20)
    assert first_outcome == ["a"]
    gates["b"].set()  # runs only if the second caller now runs the loop
    second.join(20)
    assert second_outcome == ["b"]
    driver.close()


@pytest.mark.parametrize("role", ["driver", "follower"])
def test_an_interrupted_fetch_is_cancelled(
    blocking_client: HTTPClient, app_server: AppServer, role: str
) -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are handled by the main thread")

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted

    other = _key()
    if role == "follower":  # another thread runs the loop while the main thread waits
        driver, driver_outcome = _in_thread(
            lambda: blocking_client.fetch(_held(app_server, other)).body
        )
        _arrived(app_server, other)
    interrupted = _key()  # never released: only the interruption ends it

    def send_interrupt() -> None:
        _arrived(app_server, interrupted)
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGUSR1)

    previous = signal.signal(signal.SIGUSR1, interrupt)
    try:
        sender = threading.Thread(target=send_interrupt)
        sender.start()
        with pytest.raises(Interrupted):
            blocking_client.fetch(_held(app_server, interrupted))
        sender.join(20)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    if role == "follower":
        release = _release(app_server, other)
        driver.join(20)
        assert driver_outcome == [b"2"]
        release.join(20)
    # The loop is usable, and the interrupted request was cancelled: its
    # connection is gone, only the next request's remains.
    assert blocking_client.fetch(app_server.http_url + "/echo").code == 200
    assert sockets_connected_to(app_server.http_port) == 1
    blocking_client.close()
    assert sockets_connected_to(app_server.http_port) == 0


def test_fetch_from_inside_its_own_loop_raises() -> None:
    driver = LoopDriver()

    async def reenter() -> None:
        driver.run(lambda: asyncio.sleep(0))

    with pytest.raises(RuntimeError, match="own event loop"):
        driver.run(reenter)
    driver.close()
    with pytest.raises(RuntimeError, match="closed"):
        driver.run(lambda: asyncio.sleep(0))


@pytest.mark.parametrize("loop", list(LOOPS))
def test_many_callers_take_turns_without_losing_any(loop: str) -> None:
    # Plain threads and threads inside running loops, many short turns each:
    # a lost wake-up would leave a caller waiting for ever (the join fails).
    driver = LoopDriver(LOOPS[loop])

    async def echo(i: int) -> int:
        await asyncio.sleep(0.001 * (i % 3))
        return i

    def plain(n: int) -> list[int]:
        return [driver.run(functools.partial(echo, i)) for i in range(n)]

    async def in_loop(n: int) -> list[int]:
        return plain(n)

    threads = [_in_thread(lambda: plain(200)) for _ in range(6)]
    threads += [_in_thread(lambda: asyncio.run(in_loop(100))) for _ in range(2)]
    for thread, _ in threads:
        thread.join(60)
    driver.close()
    outcomes = [outcome for _, outcome in threads]
    assert outcomes == [[list(range(200))]] * 6 + [[list(range(100))]] * 2
    assert not _helpers()


EXIT_SCRIPT = """
import asyncio, functools, sys, threading, time
from squall.httpclient import AsyncHTTPClient, HTTPClient

url, engine, mode = sys.argv[1:]
AsyncHTTPClient.configure(engine)
client = HTTPClient()  # never closed: __del__ closes it at interpreter exit

def fetch():
    print(client.fetch(url + "/echo").code, flush=True)

async def in_a_loop():
    fetch()

if mode == "main":
    fetch()
elif mode == "thread":
    threading.Thread(target=fetch).start()
elif mode == "loop":  # a helper thread runs the client's loop
    asyncio.run(in_a_loop())
elif mode == "busy":  # exit while a daemon thread is running the loop
    fetch()
    # Nothing of this module's in the thread: the client must be collected at exit.
    driver = client._driver
    sleep = functools.partial(asyncio.sleep, 60)
    busy = threading.Thread(target=driver.run, args=(sleep,), daemon=True)
    busy.start()
    while not driver._driving:
        time.sleep(0.01)
"""


@pytest.mark.parametrize("mode", ["main", "thread", "loop", "busy"])
def test_an_unclosed_client_does_not_hang_the_exit(
    engine: str, app_server: AppServer, mode: str
) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    script = textwrap.dedent(EXIT_SCRIPT)
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-c", script, app_server.http_url, engine, mode],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["200"]
    # Closed at exit for real (no unclosed loop or socket), and quietly.
    for noise in ("ResourceWarning", "Exception ignored", "Traceback"):
        assert noise not in done.stderr, done.stderr

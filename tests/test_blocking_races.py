"""The blocking HTTPClient under contention: 16 threads, timeouts, and close() racing
them. Nothing may deadlock (every thread ends), and nothing may leak (no client
socket, no event loop left open)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
import threading
from collections import Counter
from typing import Any

import pytest

from squall.httpclient import HTTPClient, HTTPClientError, HTTPTimeoutError
from tests.conftest import import_object
from tests.servers.helpers import sockets_connected_to
from tests.servers.scripted import ScriptedServer, response

THREADS = 16
ROUNDS = 30


def _quick_or_stalled(conn: socket.socket, server: ScriptedServer) -> None:
    while head := server.read_request(conn):
        if b" /stall " in head:
            conn.recv(1)  # never answers; returns when the client gives up and closes
            return
        conn.sendall(response(b"ok"))


def _event_polls() -> int:
    """Open epoll descriptors: each event loop (and curl multi bridge) has one."""
    count = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}") == "anon_inode:[eventpoll]":
                count += 1
        except OSError:
            continue
    return count


def _run(engine: str, server: ScriptedServer) -> tuple[Counter[str], HTTPClient]:
    """16 threads, ROUNDS fetches each (a quarter time out), thread 0 closing the
    client halfway; how each fetch ended."""
    client = HTTPClient(async_client_class=import_object(engine))
    closing = threading.Event()
    outcomes: Counter[str] = Counter()
    failures: list[BaseException] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        for n in range(ROUNDS):
            path = "/stall" if (index + n) % 4 == 0 else "/"
            try:
                client.fetch(server.url + path, request_timeout=0.3)
                outcome = "ok"
            except HTTPTimeoutError:
                outcome = "timeout"
            except (HTTPClientError, RuntimeError) as exc:
                if not closing.is_set():
                    raise AssertionError(f"before close(): {exc!r}") from exc
                outcome = "after close"
            except (asyncio.CancelledError, concurrent.futures.CancelledError):
                outcome = "CancelledError"
            with lock:
                outcomes[outcome] += 1
            if index == 0 and n == ROUNDS // 2:
                closing.set()
                client.close()

    def guarded(index: int) -> None:
        try:
            work(index)
        except BaseException as exc:
            with lock:
                failures.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,), daemon=True) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert not [thread for thread in threads if thread.is_alive()], "a thread is stuck"
    assert failures == []
    assert sum(outcomes.values()) == THREADS * ROUNDS
    return outcomes, client


@pytest.mark.timeout(120)
def test_threads_timeouts_and_a_racing_close(engine: str, scripted: Any) -> None:
    server = scripted(_quick_or_stalled)
    polls = _event_polls()
    outcomes, client = _run(engine, server)
    assert outcomes["ok"] and outcomes["timeout"] and outcomes["after close"], outcomes
    closers = [threading.Thread(target=client.close) for _ in range(4)]  # idempotent, at once
    for thread in closers:
        thread.start()
    for thread in closers:
        thread.join(10)
    assert not any(thread.is_alive() for thread in closers)
    assert sockets_connected_to(server.port) == 0
    assert _event_polls() == polls


@pytest.mark.timeout(120)
def test_close_from_another_thread_fails_fetches_with_an_http_error(
    engine: str, scripted: Any
) -> None:
    outcomes, _ = _run(engine, scripted(_quick_or_stalled))
    assert outcomes["CancelledError"] == 0, outcomes

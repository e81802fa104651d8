"""A header_callback or streaming_callback that raises: what a Tornado user observes.

As in Tornado 6: the exception is logged once, as "Uncaught exception" on the
application logger (with its traceback), and the fetch fails with
HTTPStreamClosedError (599) whose ``__cause__`` is the user's exception; the
connection is not used again. That holds for a plain function, a coroutine that
raises, and a coroutine that is itself cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import Any

import pytest

from squall._errors import HTTPStreamClosedError
from tests.servers.scripted import ScriptedServer, response

pytestmark = pytest.mark.squall_only

BODY = b"x" * 300_000  # more than one read: the rest is still coming when the callback fails


class Boom(Exception):
    """The user's own error."""


def _keep_alive(conn: socket.socket, server: ScriptedServer) -> None:
    while head := server.read_request(conn):
        conn.sendall(response(b"" if b" /empty " in head else BODY))


def _sync_raises(_data: Any) -> None:
    raise Boom("from the callback")


async def _coroutine_raises(_data: bytes) -> None:
    await asyncio.sleep(0)
    raise Boom("from the callback")


async def _coroutine_cancelled(_data: bytes) -> None:
    waiter = asyncio.get_running_loop().create_future()
    waiter.cancel()
    await waiter  # the callback's own wait is cancelled, not the fetch


CALLBACKS: dict[str, tuple[str, Callable[..., Any], type[BaseException]]] = {
    "header-sync": ("header_callback", _sync_raises, Boom),
    "header-sync-no-body": ("header_callback", _sync_raises, Boom),
    "streaming-sync": ("streaming_callback", _sync_raises, Boom),
    "streaming-coroutine": ("streaming_callback", _coroutine_raises, Boom),
    "streaming-cancelled": ("streaming_callback", _coroutine_cancelled, asyncio.CancelledError),
}


@pytest.mark.parametrize("case", list(CALLBACKS), ids=list(CALLBACKS))
async def test_callback_error_fails_the_fetch_and_is_logged_once(
    make_client: Any,
    scripted: Any,
    caplog: pytest.LogCaptureFixture,
    engine: str,
    request: pytest.FixtureRequest,
    case: str,
) -> None:
    option, callback, cause = CALLBACKS[case]
    server = scripted(_keep_alive)
    client = make_client(max_clients=1)
    with caplog.at_level(logging.ERROR):
        with pytest.raises(HTTPStreamClosedError) as info:
            path = "/empty" if case.endswith("no-body") else "/"
            await client.fetch(server.url + path, request_timeout=5, **{option: callback})
        await asyncio.sleep(0.05)  # anything logged late would show below
    exc = info.value
    assert type(exc) is HTTPStreamClosedError and exc.code == 599
    assert isinstance(exc.__cause__, cause), repr(exc.__cause__)
    records = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [(r.name, r.getMessage()) for r in records] == [
        ("squall.application", "Uncaught exception")
    ]
    assert records[0].exc_info is not None and records[0].exc_info[1] is exc.__cause__
    # The client goes on, on a new connection.
    assert (await client.fetch(server.url + "/", request_timeout=5)).body == BODY
    assert server.connections == 2


async def test_fetch_cancelled_while_its_callback_runs_is_cancelled(
    make_client: Any, scripted: Any, caplog: pytest.LogCaptureFixture
) -> None:
    started = asyncio.Event()

    async def slow(_data: bytes) -> None:
        started.set()
        await asyncio.sleep(10)

    server = scripted(_keep_alive)
    client = make_client()
    with caplog.at_level(logging.ERROR):
        fetch = asyncio.ensure_future(client.fetch(server.url + "/", streaming_callback=slow))
        await started.wait()
        fetch.cancel()
        with pytest.raises(asyncio.CancelledError):
            await fetch
    assert [r for r in caplog.records if r.name == "squall.application"] == []

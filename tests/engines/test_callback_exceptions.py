"""A user callback that raises fails its fetch as Tornado's clients do.

An exception from ``header_callback`` or ``streaming_callback`` (a plain one, a
coroutine's, or a coroutine that is itself cancelled) is logged once as
"Uncaught exception" on the application logger, and the fetch fails with
``HTTPStreamClosedError`` (599) whose ``__cause__`` is the user's exception.
The connection is not reused.
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

# The records are squall's loggers' (Tornado's are tornado.application/general).
pytestmark = pytest.mark.squall_only


class Boom(Exception):
    """The user's own exception."""


def _sync_raises(_: object) -> None:
    raise Boom("from the callback")


def _coroutine_raises(_: object) -> Any:
    async def run() -> None:
        await asyncio.sleep(0)
        raise Boom("from the callback")

    return run()


def _coroutine_cancelled(_: object) -> Any:
    async def run() -> None:
        await asyncio.sleep(0)
        raise asyncio.CancelledError  # cancelled on its own: not the fetch being cancelled

    return run()


CALLBACKS: dict[str, Callable[[object], Any]] = {
    "sync": _sync_raises,
    "coroutine": _coroutine_raises,
    "coroutine-cancelled": _coroutine_cancelled,
}


def _keep_alive(conn: socket.socket, server: ScriptedServer) -> None:
    while server.read_request(conn):
        conn.sendall(response(b"x" * 256 * 1024))  # many reads: the failure comes mid-body


def _uncaught(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "squall.application" and r.getMessage() == "Uncaught exception"
    ]


# header_callback's return value is ignored, as in Tornado: only a plain one can raise.
CASES = [("streaming_callback", how) for how in CALLBACKS] + [("header_callback", "sync")]


@pytest.mark.parametrize(("kind", "how"), CASES, ids=[f"{k}-{h}" for k, h in CASES])
async def test_callback_exception_fails_the_fetch(
    client: Any, scripted: Any, caplog: pytest.LogCaptureFixture, kind: str, how: str
) -> None:
    server = scripted(_keep_alive)
    caplog.set_level(logging.INFO)
    with pytest.raises(HTTPStreamClosedError) as info:
        await client.fetch(server.url + "/", request_timeout=5, **{kind: CALLBACKS[how]})
    exc = info.value
    assert exc.code == 599
    cause = exc.__cause__
    expected = asyncio.CancelledError if how == "coroutine-cancelled" else Boom
    assert isinstance(cause, expected), repr(cause)
    records = _uncaught(caplog)
    assert len(records) == 1, caplog.records
    assert records[0].levelno == logging.ERROR and records[0].exc_info is not None
    # The connection that carried it is not reused.
    assert (await client.fetch(server.url + "/", request_timeout=5)).code == 200
    assert server.connections == 2

"""Cancelling a fetch, or its timeout, at every phase: the slot is freed, the
connection is closed (never a half-read one back in the pool), and the client
goes on serving.

Every client here has ``max_clients=1``: a slot not given back makes the next
fetch fail with a queue timeout. The server answers ``/`` with the number of the
connection that carried it, so a reused half-read connection cannot go unseen:
the next answer must come on a new connection, whole.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest

from squall.httpclient import HTTPTimeoutError
from tests.engines.resources import pending_tcp, settle, sockets_connected_to
from tests.servers.scripted import ScriptedServer, response

pytestmark = pytest.mark.squall_only  # Tornado's clients pool nothing and cancel nothing


def _phases(conn: socket.socket, server: ScriptedServer) -> None:
    number = server.connection_number(conn)
    while head := server.read_request(conn):
        path = head.split(b" ", 2)[1]
        if path == b"/wait":
            server.event("received").set()
            server.event("go").wait(10)
            conn.sendall(response(b"late"))
        elif path == b"/body":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf-")
            server.event("go").wait(10)
            conn.sendall(b"done!")
        else:
            conn.sendall(response(f"fresh {number}".encode()))


async def _until(check: Callable[[], bool]) -> None:
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def _server_event(server: ScriptedServer, name: str) -> None:
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, server.event(name).wait, 5)


async def _stop(future: asyncio.Future[Any], how: str) -> None:
    """Cancel ``future`` (how == "cancel") or wait for its own timeout to end it."""
    if how == "cancel":
        future.cancel()
        with pytest.raises(asyncio.CancelledError):
            await future
    else:
        with pytest.raises(HTTPTimeoutError) as info:
            # Bounded: a timeout that never fires fails here, not as a hung test.
            await asyncio.wait_for(future, 3)
        assert info.value.code == 599
        assert info.value.message.startswith("Timeout")


async def _next_is_fresh(client: Any, server: ScriptedServer, connection: int) -> None:
    # The old connection was closed (not pooled), the slot is free, and the next
    # fetch gets a whole answer on a new connection.
    await settle()
    await _until(lambda: sockets_connected_to(server.port) == 0)
    server.event("go").set()
    response = await client.fetch(server.url + "/", request_timeout=5)
    assert response.body == f"fresh {connection}".encode()


async def test_cancel_while_queued(make_client: Any, scripted: Any) -> None:
    server = scripted(_phases)
    client = make_client(max_clients=1)
    first = client.fetch(server.url + "/wait")
    await _server_event(server, "received")
    queued = client.fetch(server.url + "/never-sent", request_timeout=5)
    await settle()
    await _stop(queued, "cancel")
    server.event("go").set()
    assert (await first).body == b"late"
    assert (await client.fetch(server.url + "/", request_timeout=5)).body.startswith(b"fresh")
    assert not any(b"/never-sent" in head for head in server.requests)


async def test_cancel_while_connecting(
    make_client: Any, scripted: Any, blackhole_port: int
) -> None:
    server = scripted(_phases)
    client = make_client(max_clients=1)
    future = client.fetch(f"http://127.0.0.1:{blackhole_port}/", connect_timeout=30)
    await _until(lambda: pending_tcp(blackhole_port) > 4)  # ours, beyond the fixture's fillers
    await _stop(future, "cancel")
    await settle()
    await _until(lambda: pending_tcp(blackhole_port) == 4)
    assert (await client.fetch(server.url + "/", request_timeout=5)).body == b"fresh 1"


def _silent_tls_peer(conn: socket.socket, server: ScriptedServer) -> None:
    server.event("received").set()
    server.wait()


@pytest.mark.parametrize("how", ["cancel", "timeout"])
async def test_cancel_during_tls_handshake(make_client: Any, scripted: Any, how: str) -> None:
    silent = scripted(_silent_tls_peer)
    server = scripted(_phases)
    client = make_client(max_clients=1)
    url = f"https://127.0.0.1:{silent.port}/"
    future = client.fetch(url, validate_cert=False, request_timeout=0.5 if how == "timeout" else 30)
    await _server_event(silent, "received")
    await _stop(future, how)
    await settle()
    await _until(lambda: sockets_connected_to(silent.port) == 0)
    assert (await client.fetch(server.url + "/", request_timeout=5)).body == b"fresh 1"


@pytest.mark.parametrize("how", ["cancel", "timeout"])
async def test_cancel_while_waiting_for_the_response(
    make_client: Any, scripted: Any, how: str
) -> None:
    server = scripted(_phases)
    client = make_client(max_clients=1)
    assert (await client.fetch(server.url + "/")).body == b"fresh 1"  # a pooled connection
    timeout = 0.5 if how == "timeout" else 30
    future = client.fetch(server.url + "/wait", request_timeout=timeout)
    await _server_event(server, "received")
    await _stop(future, how)
    await _next_is_fresh(client, server, 2)


@pytest.mark.parametrize("how", ["cancel", "timeout"])
async def test_cancel_while_reading_the_body(make_client: Any, scripted: Any, how: str) -> None:
    server = scripted(_phases)
    client = make_client(max_clients=1)
    started = asyncio.Event()
    future = client.fetch(
        server.url + "/body",
        streaming_callback=lambda chunk: started.set(),
        request_timeout=0.5 if how == "timeout" else 30,
    )
    await asyncio.wait_for(started.wait(), 5)
    await _stop(future, how)
    await _next_is_fresh(client, server, 2)


@pytest.mark.parametrize("how", ["cancel", "timeout"])
async def test_cancel_inside_a_coroutine_streaming_callback(
    make_client: Any, scripted: Any, how: str
) -> None:
    server = scripted(_phases)
    client = make_client(max_clients=1)
    inside = asyncio.Event()
    left: list[str] = []

    async def stuck(chunk: bytes) -> None:
        inside.set()
        try:
            await asyncio.sleep(3600)
        finally:
            left.append("left")

    future = client.fetch(
        server.url + "/body",
        streaming_callback=stuck,
        request_timeout=0.5 if how == "timeout" else 30,
    )
    await asyncio.wait_for(inside.wait(), 5)
    await _stop(future, how)
    await _next_is_fresh(client, server, 2)
    assert left == ["left"]  # the callback was cancelled, not left running


async def test_cancelled_body_fetch_never_delivers_more(make_client: Any, scripted: Any) -> None:
    # After the cancel, the rest of the body ("done!") reaches no callback.
    server = scripted(_phases)
    client = make_client(max_clients=1)
    chunks: list[bytes] = []
    started = asyncio.Event()

    def collect(chunk: bytes) -> None:
        chunks.append(chunk)
        started.set()

    future = client.fetch(server.url + "/body", streaming_callback=collect)
    await asyncio.wait_for(started.wait(), 5)
    await _stop(future, "cancel")
    await _next_is_fresh(client, server, 2)
    assert b"".join(chunks) == b"half-"

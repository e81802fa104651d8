"""What a Tornado user sees of the client itself: close() with fetches in flight,
the max_clients queue's attributes, and the text of a refused connection."""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from typing import Any

import pytest

from squall._errors import HTTPClientError, HTTPStreamClosedError
from tests.conftest import simple_only
from tests.servers.scripted import ScriptedServer, response


def _hold(conn: socket.socket, server: ScriptedServer) -> None:
    # Take the request, answer nothing until the server stops.
    server.read_request(conn)
    server.event(f"received {server.connection_number(conn)}").set()
    server.wait()


async def _wait(server: ScriptedServer, name: str) -> None:
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, server.event(name).wait, 5)


@pytest.mark.squall_only
async def test_close_fails_every_fetch_in_flight(make_client: Any, scripted: Any) -> None:
    server = scripted(_hold)
    client = make_client(max_clients=2)
    # Two fetches waiting for their responses and one waiting in the max_clients queue.
    futures = [client.fetch(server.url + f"/{i}", request_timeout=10) for i in range(3)]
    await _wait(server, "received 1")
    await _wait(server, "received 2")
    client.close()
    results = await asyncio.gather(*futures, return_exceptions=True)
    for result in results:  # the queued one too, once a slot frees
        assert type(result) is HTTPStreamClosedError, repr(result)
        assert str(result) == "The client was closed"


def _keep_alive(conn: socket.socket, server: ScriptedServer) -> None:
    while server.read_request(conn):
        conn.sendall(response(b"ok"))


@pytest.mark.squall_only
async def test_close_while_connecting_fails_with_the_client_closed(
    make_client: Any, scripted: Any
) -> None:
    server = scripted(_keep_alive)
    client = make_client()
    future = client.fetch(server.url + "/", request_timeout=10)
    await asyncio.sleep(0)  # the fetch is on its way (admitted, dialling)
    client.close()
    with pytest.raises(HTTPStreamClosedError, match="The client was closed"):
        await future


@simple_only
async def test_max_clients_queue_and_active(make_client: Any, scripted: Any) -> None:
    # Tornado's SimpleAsyncHTTPClient attributes: max_clients, and the sized
    # ``active`` (fetches running) and ``queue`` (fetches waiting for a slot).
    server = scripted(_hold)
    client = make_client(max_clients=2)
    assert client.max_clients == 2
    assert len(client.active) == 0 and len(client.queue) == 0
    futures = [client.fetch(server.url + f"/{i}", request_timeout=10) for i in range(5)]
    await _wait(server, "received 1")
    await _wait(server, "received 2")
    assert len(client.active) == 2
    assert len(client.queue) == 3
    client.close()
    await asyncio.gather(*futures, return_exceptions=True)


@pytest.mark.squall_only  # Tornado's simple client raises the bare OSError
async def test_refused_connection_names_errno_and_strerror(client: Any, closed_port: int) -> None:
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(f"http://127.0.0.1:{closed_port}/")
    text = f"[Errno {errno.ECONNREFUSED}] {os.strerror(errno.ECONNREFUSED)}"
    assert text in str(info.value)
    assert isinstance(info.value, ConnectionRefusedError)
    assert info.value.errno == errno.ECONNREFUSED

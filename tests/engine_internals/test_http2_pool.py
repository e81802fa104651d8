"""The simple engine's HTTP/2 pool over real sockets: idle expiry, close().

Scripted h2c peers (``servers/h2_scripted.H2Peer``) answer every request and
note when the client closes the connection.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest

from squall._errors import HTTPStreamClosedError
from squall.simple_httpclient import SimpleAsyncHTTPClient
from tests.servers.h2_scripted import H2Peer
from tests.servers.scripted import Handler, ScriptedServer

Scripted = Callable[[Handler], ScriptedServer]
OPTIONS: dict[str, Any] = {"http_version": "2", "request_timeout": 10}


def answering_handler(conn: socket.socket, server: ScriptedServer) -> None:
    """Answers each request with the connection's number; notes the client's close."""
    peer = H2Peer(conn)
    number = server.connection_number(conn)
    while sid := peer.read_request():
        if server.event("hold").is_set():
            continue  # never answered
        peer.answer(sid, b"conn %d" % number)
    server.event(f"closed {number}").set()


async def wait_for(predicate: Callable[[], bool]) -> None:
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never happened")


async def test_idle_http2_connections_expire(scripted: Scripted) -> None:
    server = scripted(answering_handler)
    client = SimpleAsyncHTTPClient(force_instance=True, idle_timeout=0.05)
    try:
        assert (await client.fetch(server.url + "/", **OPTIONS)).body == b"conn 1"
        await wait_for(server.event("closed 1").is_set)
        assert (await client.fetch(server.url + "/", **OPTIONS)).body == b"conn 2"
    finally:
        client.close()


async def test_close_fails_streams_in_flight(scripted: Scripted) -> None:
    server = scripted(answering_handler)
    client = SimpleAsyncHTTPClient(force_instance=True)
    assert (await client.fetch(server.url + "/", **OPTIONS)).body == b"conn 1"
    server.event("hold").set()
    pending = asyncio.ensure_future(client.fetch(server.url + "/", **OPTIONS))
    await asyncio.sleep(0.05)
    client.close()
    with pytest.raises(HTTPStreamClosedError):
        await pending
    await wait_for(server.event("closed 1").is_set)
    assert server.connections == 1  # a closed client sends nothing again, dials nothing

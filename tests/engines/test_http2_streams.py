"""How many streams one HTTP/2 connection carries: as many as the server allows, on both
engines (libcurl's own default cap of 100 would open a second connection)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from squall.httpclient import HTTPClientError, HTTPTimeoutError
from tests.servers.h2_scripted import H2Peer
from tests.servers.scripted import ScriptedServer

pytestmark = pytest.mark.squall_only  # Tornado's simple client has no HTTP/2

MAX_CONCURRENT_STREAMS = 0x3
IN_FLIGHT = 150  # over libcurl's default of 100, under the server's 300


async def test_the_servers_stream_limit_decides(make_client: Any, scripted: Any) -> None:
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        peer = H2Peer(conn, settings={MAX_CONCURRENT_STREAMS: 300})
        peer.answer(peer.read_request(), b"first")
        # Nothing is answered until all of them are in flight on this connection.
        waiting = [peer.read_request() for _ in range(IN_FLIGHT)]
        if all(waiting):
            for sid in waiting:
                peer.answer(sid, b"1")
        peer.drain()

    server = scripted(handler)
    client = make_client(max_clients=IN_FLIGHT)
    options: dict[str, Any] = {"http_version": "2", "request_timeout": 10}
    assert (await client.fetch(server.url + "/", **options)).body == b"first"
    fetches = (client.fetch(server.url + "/", **options) for _ in range(IN_FLIGHT))
    results = await asyncio.gather(*fetches)
    assert [r.body for r in results] == [b"1"] * IN_FLIGHT
    assert server.connections == 1


async def test_a_goaway_mid_response_is_worded(make_client: Any, scripted: Any) -> None:
    # ENHANCE_YOUR_CALM (0xb) after the head, for the stream being answered: the
    # server processed it, so nothing is sent again; the message says what happened.
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        peer = H2Peer(conn)
        if sid := peer.read_request():
            peer.frames(peer.headers(sid), peer.goaway(sid, 0xB))
            peer.drain()

    client = make_client()
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(scripted(handler).url + "/", http_version="2", request_timeout=10)
    error = info.value
    assert error.code == 599 and not isinstance(error, HTTPTimeoutError), repr(error)
    assert "127.0.0.1:" in error.message and not error.message.rstrip().endswith(":"), error

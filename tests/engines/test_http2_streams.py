"""How many streams one HTTP/2 connection carries: as many as the server allows, on both
engines (libcurl's own default cap of 100 would open a second connection)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

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

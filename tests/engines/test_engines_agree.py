"""Behaviours where the engines used to differ (issue 8): one behaviour, one wording each.

Where Tornado has the behaviour, its observable result is the one kept: a decoded
body loses its Content-Encoding (X-Consumed-Content-Encoding, as Tornado's simple
client), a ``str`` written by a body_producer is sent UTF-8 encoded, OS errors
carry ``errno``; a client closed with fetches in flight fails them with one
message, and a reply that is not HTTP names the peer.
"""

from __future__ import annotations

import asyncio
import errno
import json
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from squall._errors import HTTPStreamClosedError, RemoteProtocolError
from tests.servers.app import AppServer
from tests.servers.scripted import reply_once

pytestmark = pytest.mark.squall_only


def _known_gap(request: pytest.FixtureRequest, engine: str, on: str, reason: str) -> None:
    """Expect this run to fail (strictly) on the engine kind ``on``: fixed by its owner."""
    if on in engine.lower():
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


@pytest.mark.over_http2
async def test_decoded_body_drops_its_content_encoding(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(app_server.http_url + "/encoded?coding=gzip")
    assert response.headers.get("X-Encoded") == "gzip"  # the server did compress it
    assert "Content-Encoding" not in response.headers
    assert response.headers["X-Consumed-Content-Encoding"] == "gzip"


@pytest.mark.over_http2
async def test_undecoded_body_keeps_its_content_encoding(
    client: Any, app_server: AppServer
) -> None:
    url = app_server.http_url + "/encoded?coding=gzip&force=1"
    response = await client.fetch(url, decompress_response=False)
    assert response.headers["Content-Encoding"] == "gzip"
    assert "X-Consumed-Content-Encoding" not in response.headers


@pytest.mark.over_http2
async def test_body_producer_writing_str_is_encoded(client: Any, app_server: AppServer) -> None:
    async def produce(write: Callable[[Any], Awaitable[None]]) -> None:
        await write("caf\u00e9 ")
        await write(b"bytes")

    response = await client.fetch(
        app_server.http_url + "/echo", method="POST", body_producer=produce
    )
    assert json.loads(response.body)["body"] == "caf\u00e9 bytes".encode().decode("latin-1")


async def test_connection_refused_carries_errno(client: Any, closed_port: int) -> None:
    with pytest.raises(ConnectionRefusedError) as info:
        await client.fetch(f"http://127.0.0.1:{closed_port}/")
    assert info.value.errno == errno.ECONNREFUSED
    assert info.value.strerror


async def test_name_resolution_failure_carries_errno(client: Any) -> None:
    with pytest.raises(socket.gaierror) as info:
        await client.fetch("http://nonexistent.invalid/")
    assert info.value.errno is not None and info.value.errno < 0  # an EAI_* code
    assert info.value.strerror


@pytest.mark.over_http2
async def test_close_fails_fetches_in_flight(
    make_client: Any, app_server: AppServer, engine: str, request: pytest.FixtureRequest
) -> None:
    client = make_client()
    fetches = [
        asyncio.ensure_future(client.fetch(app_server.http_url + "/slow?delay=5")) for _ in range(3)
    ]
    await asyncio.sleep(0.2)  # under way: connected, waiting for the answer
    client.close()
    results = await asyncio.gather(*fetches, return_exceptions=True)
    assert [(type(r), str(r)) for r in results] == [
        (HTTPStreamClosedError, "The client was closed")
    ] * len(fetches)


@pytest.mark.parametrize("reply", [b"HELLO THERE\r\n\r\n", b"garbage"], ids=["words", "bytes"])
async def test_garbage_reply_names_the_peer(
    client: Any, scripted: Any, engine: str, request: pytest.FixtureRequest, reply: bytes
) -> None:
    server = scripted(reply_once(reply, close=False))
    with pytest.raises(RemoteProtocolError) as info:
        await client.fetch(server.url + "/", request_timeout=2)
    assert (
        str(info.value) == f"Malformed HTTP response from 127.0.0.1:{server.port}: Expected HTTP/"
    )

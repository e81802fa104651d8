"""connect_timeout, request_timeout and the max_clients queue timeout.

No timing assertions: each test only checks that the right error comes out
(the async runner bounds every test, so a missing timeout fails as a hang).
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from squall._errors import HTTPClientError, HTTPTimeoutError
from tests.servers.app import AppServer
from tests.servers.scripted import ScriptedServer, response


def _assert_timeout(exc: BaseException, phase: str | None = None) -> None:
    assert isinstance(exc, HTTPTimeoutError), repr(exc)
    assert isinstance(exc, HTTPClientError) and exc.code == 599
    assert isinstance(exc, TimeoutError)
    if phase is not None and hasattr(exc, "phase"):
        assert exc.phase == phase, repr(exc)


async def test_connect_timeout(client: Any, blackhole_port: int) -> None:
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(
            f"http://127.0.0.1:{blackhole_port}/", connect_timeout=0.3, request_timeout=10
        )
    _assert_timeout(info.value, "connect")
    assert str(blackhole_port) in str(info.value) or "connect" in str(info.value).lower()


def _silent_tls_peer(conn: socket.socket, server: ScriptedServer) -> None:
    # Accepts TCP, then never answers the ClientHello.
    server.wait()


async def test_connect_timeout_covers_tls_handshake(client: Any, scripted: Any) -> None:
    server = scripted(_silent_tls_peer)
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(
            f"https://127.0.0.1:{server.port}/", connect_timeout=0.3, request_timeout=10
        )
    _assert_timeout(info.value)
    assert getattr(info.value, "phase", "tls") in ("tls", "connect")


@pytest.mark.over_http2
async def test_request_timeout_slow_server(client: Any, app_server: AppServer) -> None:
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(app_server.http_url + "/slow?delay=10", request_timeout=0.3)
    _assert_timeout(info.value, "request")


def _never_answers(conn: socket.socket, server: ScriptedServer) -> None:
    server.read_request(conn)
    server.wait()


async def test_request_timeout_silent_peer(client: Any, scripted: Any) -> None:
    server = scripted(_never_answers)
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(server.url + "/", request_timeout=0.3)
    _assert_timeout(info.value, "request")


def _trickles_forever(conn: socket.socket, server: ScriptedServer) -> None:
    server.read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
    while not server.wait(0.02):
        conn.sendall(b"x")


async def test_request_timeout_bounds_a_trickling_body(client: Any, scripted: Any) -> None:
    server = scripted(_trickles_forever)
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(server.url + "/", request_timeout=0.5)
    _assert_timeout(info.value, "request")


def _trickles_briefly(conn: socket.socket, server: ScriptedServer) -> None:
    server.read_request(conn)
    for byte in response(b"slowly but surely"):
        conn.sendall(bytes([byte]))
        server.wait(0.002)


async def test_trickled_response_completes(client: Any, scripted: Any) -> None:
    server = scripted(_trickles_briefly)
    result = await client.fetch(server.url + "/", request_timeout=10)
    assert result.body == b"slowly but surely"


@pytest.mark.over_http2
async def test_zero_means_no_timeout(client: Any, app_server: AppServer) -> None:
    result = await client.fetch(
        app_server.http_url + "/slow?delay=0.2", request_timeout=0, connect_timeout=0
    )
    assert result.body == b"slow"


@pytest.mark.over_http2
async def test_timeout_from_client_defaults(make_client: Any, app_server: AppServer) -> None:
    client = make_client(defaults={"request_timeout": 0.3})
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(app_server.http_url + "/slow?delay=10")
    _assert_timeout(info.value)


@pytest.mark.over_http2
@pytest.mark.squall_only
async def test_queue_timeout(make_client: Any, app_server: AppServer) -> None:
    client = make_client(max_clients=1)
    blocker = client.fetch(app_server.http_url + "/slow?delay=3", request_timeout=10)
    await asyncio.sleep(0.05)  # let the first fetch take the only slot
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(app_server.http_url + "/echo", connect_timeout=0.2, request_timeout=0.2)
    _assert_timeout(info.value, "queue")
    assert "Timeout in request queue" in str(info.value)
    assert info.value.response is not None and info.value.response.start_time is None
    blocker.cancel()


@pytest.mark.over_http2
async def test_timeout_leaves_client_usable(client: Any, app_server: AppServer) -> None:
    with pytest.raises(HTTPClientError):
        await client.fetch(app_server.http_url + "/slow?delay=10", request_timeout=0.2)
    result = await client.fetch(app_server.http_url + "/echo")
    assert result.code == 200


@pytest.mark.over_http2
async def test_timeout_error_has_response(client: Any, app_server: AppServer) -> None:
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(app_server.http_url + "/slow?delay=10", request_timeout=0.2)
    assert info.value.response is not None and info.value.response.code == 599


def test_blocking_client_timeout(blocking_client: Any, app_server: AppServer) -> None:
    with pytest.raises(HTTPClientError) as info:
        blocking_client.fetch(app_server.http_url + "/slow?delay=10", request_timeout=0.2)
    _assert_timeout(info.value)

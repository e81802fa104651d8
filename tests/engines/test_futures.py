"""fetch() returns an asyncio.Future: cancel, done callbacks, close() mid-flight, defaults."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from squall.httpclient import HTTPClientError, HTTPResponse
from tests.servers.app import AppServer
from tests.servers.helpers import echoed, echoed_headers, sockets_connected_to
from tests.servers.scripted import ScriptedServer, response


def _answer_after_event(conn: socket.socket, server: ScriptedServer) -> None:
    # Hold the first request until the test says so; answer anything after it.
    server.read_request(conn)
    server.event("received").set()
    server.event("go").wait(10)
    conn.sendall(response(b"late"))
    server.answer_requests(conn, response(b"later"))


async def _wait(server: ScriptedServer, name: str) -> None:
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, server.event(name).wait, 5)


@pytest.mark.over_http2
@pytest.mark.squall_only
async def test_fetch_returns_a_future_with_done_callbacks(
    client: Any, app_server: AppServer
) -> None:
    future = client.fetch(app_server.http_url + "/echo")
    assert isinstance(future, asyncio.Future)
    seen: list[int] = []
    future.add_done_callback(lambda f: seen.append(f.result().code))
    await future
    await asyncio.sleep(0)
    assert seen == [200]


@pytest.mark.squall_only
async def test_cancel_stops_the_request_and_frees_its_socket(client: Any, scripted: Any) -> None:
    server = scripted(_answer_after_event)
    future = client.fetch(server.url + "/")
    await _wait(server, "received")
    assert sockets_connected_to(server.port) == 1
    future.cancel()
    with pytest.raises(asyncio.CancelledError):
        await future
    for _ in range(5):
        await asyncio.sleep(0)
    # The half-done exchange cannot be reused: its connection is closed.
    assert sockets_connected_to(server.port) == 0
    server.event("go").set()


@pytest.mark.squall_only
async def test_close_with_a_fetch_in_flight_fails_it(make_client: Any, scripted: Any) -> None:
    server = scripted(_answer_after_event)
    client = make_client()
    future = client.fetch(server.url + "/")
    await _wait(server, "received")
    client.close()
    with pytest.raises((HTTPClientError, asyncio.CancelledError)):
        await asyncio.wait_for(future, 5)
    for _ in range(5):
        await asyncio.sleep(0)
    assert sockets_connected_to(server.port) == 0
    server.event("go").set()


@pytest.mark.over_http2
async def test_client_defaults_apply_where_the_request_is_silent(
    make_client: Any, app_server: AppServer
) -> None:
    client = make_client(defaults={"user_agent": "from-defaults", "request_timeout": 5.0})
    data = echoed(await client.fetch(app_server.http_url + "/echo"))
    assert echoed_headers(data, "User-Agent") == ["from-defaults"]
    data = echoed(await client.fetch(app_server.http_url + "/echo", user_agent="mine"))
    assert echoed_headers(data, "User-Agent") == ["mine"]


@pytest.mark.over_http2
@pytest.mark.squall_only
async def test_redirect_time_is_reported(client: Any, app_server: AppServer) -> None:
    result: HTTPResponse = await client.fetch(app_server.http_url + "/chain/2")
    assert result.code == 200
    info = result.time_info
    assert info["redirect"] > 0
    assert info["total"] >= info["redirect"]
    assert result.request_time is not None and result.request_time >= info["redirect"]

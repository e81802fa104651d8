"""The simple engine's connection pool over real 127.0.0.1 sockets: reuse, limits,
idle closes and retries, flow control (the pool's pure decisions: tests/unit/test_pool.py)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from squall._errors import HTTPConnectionError, HTTPStreamClosedError
from squall.simple_httpclient import SimpleAsyncHTTPClient
from tests.servers.helpers import FixedResolver
from tests.servers.scripted import Handler, ScriptedServer, reply_each, response

Scripted = Callable[[Handler], ScriptedServer]


def simple_client(**kwargs: Any) -> contextlib.closing[SimpleAsyncHTTPClient]:
    """A force_instance client, closed as its ``with`` block ends.

    Closed inside the test rather than by a fixture: these tests run under
    ``asyncio.run``, whose loop is gone before fixtures tear down, and some
    check the pool after the close.
    """
    return contextlib.closing(SimpleAsyncHTTPClient(force_instance=True, **kwargs))


keep_alive_handler = reply_each(lambda _head, number: response(b"conn %d" % number))


def drop_second_request_handler(conn: socket.socket, server: ScriptedServer) -> None:
    """Answers once, then closes on receiving the next request: the race where a
    server's idle close crosses the client's next request, made deterministic."""
    if server.read_request(conn):
        conn.sendall(response(b"ok"))
        server.read_request(conn)


async def test_sequential_requests_reuse_one_connection(scripted: Scripted) -> None:
    server = scripted(keep_alive_handler)
    with simple_client() as client:
        bodies = [(await client.fetch(server.url + "/")).body for _ in range(5)]
        assert bodies == [b"conn 1"] * 5
        assert server.connections == 1
        assert "0 active, 1 idle" in repr(client)
    assert "0 active, 0 idle" in repr(client)


async def test_per_host_limit_over_sockets(scripted: Scripted) -> None:
    server = scripted(keep_alive_handler)
    with simple_client(max_connections_per_host=2) as client:
        responses = await asyncio.gather(*(client.fetch(server.url + "/") for _ in range(8)))
        assert all(r.code == 200 for r in responses)
        assert server.connections <= 2
        assert "0 active, 2 idle" in repr(client) or "0 active, 1 idle" in repr(client)


def close_after_one_handler(conn: socket.socket, server: ScriptedServer) -> None:
    """Answers once with keep-alive, then closes silently: a server idle timeout."""
    if server.read_request(conn):
        conn.sendall(response(b"ok"))
        conn.close()
        server.event("closed").set()


async def test_get_after_an_idle_close_uses_a_new_connection(scripted: Scripted) -> None:
    server = scripted(close_after_one_handler)
    with simple_client() as client:
        url = server.url + "/"
        assert (await client.fetch(url)).body == b"ok"
        loop = asyncio.get_running_loop()
        assert await loop.run_in_executor(None, server.event("closed").wait, 5)
        # The loop has read the close meanwhile: the idle connection is not used,
        # and the second GET goes to a new connection, sent once.
        assert (await client.fetch(url)).body == b"ok"
        assert server.connections == 2 and len(server.requests) == 2


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_request_crossing_an_idle_close_is_not_resent(
    scripted: Scripted, method: str
) -> None:
    server = scripted(drop_second_request_handler)
    with simple_client() as client:
        url = server.url + "/"
        assert (
            await client.fetch(url, method=method, body=b"x" if method == "POST" else None)
        ).body == b"ok"
        with pytest.raises(HTTPConnectionError):
            await client.fetch(url, method=method, body=b"y" if method == "POST" else None)
        assert server.connections == 1


async def test_idle_connections_expire(scripted: Scripted) -> None:
    server = scripted(keep_alive_handler)
    with simple_client(idle_timeout=0.05) as client:
        url = server.url + "/"
        await client.fetch(url)
        for _ in range(100):
            if "0 idle" in repr(client):
                break
            await asyncio.sleep(0.02)
        assert "0 active, 0 idle" in repr(client)
        assert (await client.fetch(url)).body == b"conn 2"


# -- connection behaviour over real sockets ------------------------------------------


def slow_reader_handler(conn: socket.socket, server: ScriptedServer) -> None:
    """Reads nothing for a while (the client's buffers fill), then drains the chunked body."""
    server.read_request(conn)  # the head only: a chunked body has no Content-Length
    server.wait(0.3)
    tail = b""
    while not tail.endswith(b"0\r\n\r\n"):
        chunk = conn.recv(1 << 20)
        if not chunk:
            return
        tail = tail[-5:] + chunk
    conn.sendall(response(b"done"))


async def test_body_producer_write_applies_flow_control(scripted: Scripted) -> None:
    server = scripted(slow_reader_handler)
    pending_seen: list[bool] = []

    async def producer(write: Callable[[bytes], Awaitable[None]]) -> None:
        for _ in range(64):
            future = write(b"x" * 256 * 1024)
            assert isinstance(future, asyncio.Future)  # the simple engine's write
            pending_seen.append(not future.done())
            await future

    with simple_client() as client:
        response_ = await client.fetch(server.url + "/", method="POST", body_producer=producer)
        assert response_.body == b"done"
        # 16 MiB cannot all fit in socket buffers: some write had to wait.
        assert any(pending_seen)


def big_body_handler(conn: socket.socket, server: ScriptedServer) -> None:
    if server.read_request(conn):
        conn.sendall(response(b"y" * (4 << 20)))


async def test_coroutine_streaming_callback_runs_in_order(scripted: Scripted) -> None:
    server = scripted(big_body_handler)
    running: list[int] = []
    received: list[int] = []

    async def on_chunk(chunk: bytes) -> None:
        assert not running, "a chunk was delivered before the previous one was handled"
        running.append(1)
        await asyncio.sleep(0)
        received.append(len(chunk))
        running.pop()

    with simple_client() as client:
        response_ = await client.fetch(server.url + "/", streaming_callback=on_chunk)
        assert response_.body == b""
        assert sum(received) == 4 << 20
        # The connection is clean afterwards and goes back to the pool.
        assert "0 active, 1 idle" in repr(client)


async def test_next_address_is_tried_when_the_first_refuses(
    scripted: Scripted, closed_port: int
) -> None:
    server = scripted(keep_alive_handler)
    resolver = FixedResolver(
        (socket.AF_INET, ("127.0.0.1", closed_port)), (socket.AF_INET, ("127.0.0.1", server.port))
    )
    with simple_client(resolver=resolver) as client:
        response_ = await client.fetch(f"http://example.invalid:{server.port}/")
        assert response_.body == b"conn 1"


async def test_network_interface_must_be_an_ip_literal() -> None:
    with (
        simple_client() as client,
        pytest.raises(ValueError, match="Unrecognized IPv4 or IPv6 address"),
    ):
        await client.fetch("http://127.0.0.1:9/", network_interface="eth0")


async def test_http3_is_refused_before_io() -> None:
    with simple_client() as client, pytest.raises(ValueError, match="use CurlAsyncHTTPClient"):
        await client.fetch("http://127.0.0.1:9/", http_version="3")


async def test_coroutine_streaming_callback_pauses_reading(scripted: Scripted) -> None:
    size = 64 << 20  # far more than the kernel's socket buffers hold

    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        if server.read_request(conn):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
            chunk = b"z" * (1 << 20)
            for _ in range(size >> 20):
                conn.sendall(chunk)
            server.event("sent_all").set()

    server = scripted(handler)
    seen = 0
    stalled_server = False

    async def on_chunk(chunk: bytes) -> None:
        nonlocal seen, stalled_server
        if not seen:
            # While this first chunk is being handled nothing more is read, so
            # the server cannot finish sending, however long we wait.
            await asyncio.sleep(0.3)
            stalled_server = not server.event("sent_all").is_set()
        seen += len(chunk)

    with simple_client(max_body_size=size) as client:
        await client.fetch(server.url + "/", streaming_callback=on_chunk, request_timeout=60)
        assert seen == size
        assert stalled_server


def big_then_small_handler(conn: socket.socket, server: ScriptedServer) -> None:
    """A large Content-Length body (received without the parser), then a small one."""
    if server.read_request(conn):
        conn.sendall(response(bytes(range(256)) * (12 << 12)))  # 12 MiB, not all-equal bytes
    if server.read_request(conn):
        conn.sendall(response(b"small"))


async def test_large_body_then_reuse(scripted: Scripted) -> None:
    server = scripted(big_then_small_handler)
    with simple_client() as client:
        url = server.url + "/"
        response_ = await client.fetch(url)
        assert response_.body == bytes(range(256)) * (12 << 12)
        assert (await client.fetch(url)).body == b"small"
        assert server.connections == 1


def truncated_big_body_handler(conn: socket.socket, server: ScriptedServer) -> None:
    if server.read_request(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (8 << 20))
        conn.sendall(b"x" * (3 << 20))


async def test_large_body_cut_short_is_an_error(scripted: Scripted) -> None:
    server = scripted(truncated_big_body_handler)
    with simple_client() as client:
        with pytest.raises(HTTPStreamClosedError, match="body was complete"):
            await client.fetch(server.url + "/")
        assert "0 active, 0 idle" in repr(client)

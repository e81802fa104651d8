"""Decompression bombs from a real server, per engine and coding: memory stays bounded.

A small compressed body that decodes to a huge one (zeros compress 1000:1 with
gzip, 32768:1 with zstd and far more with brotli) must never be expanded in
one go. With a ``streaming_callback`` the callback gets bounded pieces and the
peak stays small whatever the ratio; without one, a body decoding past
``max_body_size`` is refused having held at most about that much. A slow
coroutine callback gets back-pressure: the engine awaits it piece by piece and
reads no further meanwhile, so the peak stays small however slow it is. Peaks
are Python allocations (tracemalloc), measured around the fetch alone.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import socket
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from squall._errors import HTTPClientError
from tests.servers.h2_scripted import H2Peer
from tests.servers.helpers import compress
from tests.servers.scripted import ScriptedServer

MiB = 1024 * 1024
# Tornado decodes gzip (and its curl client deflate too): br and zstd are squall's own.
CODINGS = [
    "gzip",
    pytest.param("deflate", marks=pytest.mark.squall_only("simple")),
    pytest.param("br", marks=pytest.mark.squall_only),
    pytest.param("zstd", marks=pytest.mark.squall_only),
]


@functools.cache
def bomb(coding: str, size: int) -> bytes:
    """``size`` zero bytes in ``coding``: a ratio near each coder's highest (brotli's
    best level would take 20 s here for no higher ratio worth having)."""
    level = {"gzip": 9, "deflate": 9, "br": 5, "zstd": 3}[coding]
    return compress(coding, bytes(size), level)


def serve(scripted: Callable[..., ScriptedServer], coding: str, body: bytes) -> ScriptedServer:
    encoding = f"Content-Encoding: {coding}\r\n" if coding else ""
    head = (
        f"HTTP/1.1 200 OK\r\n{encoding}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()

    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        server.read_request(conn)
        conn.sendall(head)
        conn.sendall(body)  # not joined to the head: a copy would count in the peak

    return scripted(handler)


@pytest.mark.parametrize("coding", CODINGS)
async def test_streamed_bomb_arrives_in_bounded_pieces(
    client: Any, scripted: Callable[..., ScriptedServer], coding: str
) -> None:
    size = 64 * MiB
    server = serve(scripted, coding, bomb(coding, size))
    received = 0
    largest = 0

    def on_chunk(chunk: bytes) -> None:
        nonlocal received, largest
        received += len(chunk)
        largest = max(largest, len(chunk))

    tracemalloc.start()
    try:
        response = await client.fetch(server.url, streaming_callback=on_chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.code == 200
    assert received == size
    assert largest <= 1 * MiB
    assert peak < 16 * MiB, f"{coding}: peak {peak / MiB:.1f} MiB to stream the bomb"


@pytest.mark.parametrize("coding", CODINGS)
async def test_buffered_bomb_is_refused_near_max_body_size(
    client: Any, scripted: Callable[..., ScriptedServer], coding: str
) -> None:
    # Default limits: max_body_size = max_buffer_size = 100 MiB.
    limit = 100 * MiB
    server = serve(scripted, coding, bomb(coding, 256 * MiB))
    tracemalloc.start()
    try:
        with pytest.raises(HTTPClientError) as info:
            await client.fetch(server.url)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.code == 599
    # What was decoded before the refusal is held (it might have been a real body),
    # and hardly more: never the 256 MiB, nor a copy of the 100 MiB. Tornado's curl
    # client lets its BytesIO grow by an eighth at a time: up to 112.5 MiB.
    assert peak < limit + limit // 8 + 4 * MiB, f"{coding}: peak {peak / MiB:.1f} MiB"
    if type(client).__module__.startswith("squall."):
        # squall grows no buffer past the limit (squall._bodies.cap_at_limit); the
        # zstd decoder itself holds up to 4 MiB of decoded output.
        assert peak < limit + 5 * MiB, f"{coding}: peak {peak / MiB:.1f} MiB to refuse a bomb"


@functools.cache
def plain_body(size: int) -> bytes:
    """``size`` bytes no two MiB of which are alike: pieces out of order show."""
    block = os.urandom(MiB - 8)
    return b"".join(i.to_bytes(8, "big") + block for i in range(size // MiB))


@pytest.mark.squall_only  # Tornado's clients do not await a streaming_callback
@pytest.mark.parametrize("coding", [*CODINGS, pytest.param("", id="plain")])
async def test_slow_coroutine_callback_holds_a_bounded_amount(
    client: Any, scripted: Callable[..., ScriptedServer], coding: str
) -> None:
    # One read of a bomb decodes to many MiB: the engine must not decode it all,
    # nor call the callback for every piece, before the first piece is consumed.
    size = 64 * MiB
    expected = plain_body(size) if not coding else bytes(size)
    body = bomb(coding, size) if coding else expected
    server = serve(scripted, coding, body)
    digest = hashlib.sha256()
    received = 0
    running = 0

    async def slow(chunk: bytes) -> None:
        nonlocal received, running
        running += 1
        assert running == 1, "a piece delivered before the previous one was consumed"
        for _ in range(3):
            await asyncio.sleep(0)
        digest.update(chunk)
        received += len(chunk)
        running -= 1

    want = hashlib.sha256(expected).hexdigest()
    tracemalloc.start()
    try:
        response = await client.fetch(server.url, streaming_callback=slow, request_timeout=120)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.code == 200
    assert received == size
    assert digest.hexdigest() == want  # every byte, in order
    assert peak < 16 * MiB, f"{coding or 'plain'}: peak {peak / MiB:.1f} MiB for a slow callback"


@pytest.mark.parametrize("framing", ["gzip", "chunked"])
async def test_a_grown_body_near_the_limit_arrives_whole(
    make_client: Any, scripted: Callable[..., ScriptedServer], framing: str
) -> None:
    # Past four fifths of the limit, a growing buffer is given the limit as its
    # capacity (squall._bodies.cap_at_limit): every byte must still be there.
    limit = 8 * MiB
    body = plain_body(7 * MiB) + b"tail"
    if framing == "gzip":
        server = serve(scripted, "gzip", compress("gzip", body, 1))
    else:
        chunks = b"".join(
            b"%x\r\n%s\r\n" % (len(body[i : i + MiB]), body[i : i + MiB])
            for i in range(0, len(body), MiB)
        )
        head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"

        def handler(conn: socket.socket, server: ScriptedServer) -> None:
            server.read_request(conn)
            conn.sendall(head + chunks + b"0\r\n\r\n")

        server = scripted(handler)
    client = make_client(max_body_size=limit)
    response = await client.fetch(server.url)
    assert response.body == body


@pytest.mark.squall_only  # Tornado's clients do not await a streaming_callback
@pytest.mark.parametrize("framing", ["chunked", "until-close", "truncated-gzip"])
async def test_slow_coroutine_callback_gets_held_pieces_in_order(
    client: Any, scripted: Callable[..., ScriptedServer], framing: str
) -> None:
    # What arrives while the callback waits (many chunks in one read, the end of
    # the body, a decoding error) is delivered, or reported, only after it.
    body = b"".join(b"%05d" % i for i in range(2000))
    if framing == "chunked":
        head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        data = b"".join(b"5\r\n%s\r\n" % body[i : i + 5] for i in range(0, len(body), 5))
        data += b"0\r\n\r\n"
    elif framing == "until-close":
        head, data = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", body
    else:
        head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n"
        data = compress("gzip", body)[:-8]  # no trailer: a truncated stream

    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        server.read_request(conn)
        conn.sendall(head + data)

    server = scripted(handler)
    received: list[bytes] = []

    async def slow(chunk: bytes) -> None:
        for _ in range(3):
            await asyncio.sleep(0)
        received.append(chunk)

    if framing == "truncated-gzip":
        with pytest.raises(HTTPClientError) as info:
            await client.fetch(server.url, streaming_callback=slow)
        assert info.value.code == 599
        assert b"".join(received) == body[: len(b"".join(received))]
        return
    response = await client.fetch(server.url, streaming_callback=slow)
    assert response.code == 200
    assert b"".join(received) == body


# -- over HTTP/2, from a frame-level peer that keeps to the client's windows ---------


def serve_h2(scripted: Callable[..., ScriptedServer], routes: dict[str, Any]) -> ScriptedServer:
    """An h2c server (prior knowledge) answering each path with ``(coding, body)``."""

    def respond(path: str) -> tuple[list[tuple[str, str]], bytes]:
        coding, body = routes[path]
        head = [("content-length", str(len(body)))]
        return [*head, ("content-encoding", coding)] if coding else head, body

    return scripted(lambda conn, server: H2Peer(conn).serve(respond))


@pytest.mark.squall_only  # Tornado's clients have no HTTP/2
@pytest.mark.parametrize("coding", ["gzip", pytest.param("", id="plain")])
async def test_slow_coroutine_callback_over_http2_holds_its_stream_alone(
    client: Any, scripted: Callable[..., ScriptedServer], coding: str
) -> None:
    # The bomb's frames are decoded one piece at a time as the callback takes them,
    # and a frame's flow credit comes back only once it is delivered: the peer
    # stops sending this stream (its window closes), and this stream only. While
    # the callback waits on its first piece, another stream on the same connection
    # (past its own window) must flow to its end.
    size = 64 * MiB
    expected = plain_body(size) if not coding else bytes(size)
    side = plain_body(4 * MiB)
    routes = {"/bomb": (coding, bomb(coding, size) if coding else expected), "/side": ("", side)}
    server = serve_h2(scripted, routes)
    options: dict[str, Any] = {"http_version": "2", "request_timeout": 120}
    digest, side_digest = hashlib.sha256(), hashlib.sha256()
    received = 0
    running = 0
    side_code = 0

    async def slow(chunk: bytes) -> None:
        nonlocal received, running, side_code
        running += 1
        assert running == 1, "a piece delivered before the previous one was consumed"
        if not received:
            reply = await client.fetch(
                server.url + "/side", streaming_callback=side_digest.update, **options
            )
            side_code = reply.code
        for _ in range(3):
            await asyncio.sleep(0)
        digest.update(chunk)
        received += len(chunk)
        running -= 1

    want = hashlib.sha256(expected).hexdigest()
    tracemalloc.start()
    try:
        response = await client.fetch(server.url + "/bomb", streaming_callback=slow, **options)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.code == 200
    assert received == size
    assert digest.hexdigest() == want  # every byte, in order
    assert side_code == 200
    assert side_digest.hexdigest() == hashlib.sha256(side).hexdigest()
    assert server.connections == 1  # the other stream was on the same connection
    assert peak < 16 * MiB, f"{coding or 'plain'}: peak {peak / MiB:.1f} MiB for a slow callback"


@pytest.mark.squall_only  # Tornado's clients have no HTTP/2
async def test_buffered_bomb_over_http2_is_refused_near_max_body_size(
    client: Any, scripted: Callable[..., ScriptedServer]
) -> None:
    limit = 100 * MiB  # the default max_body_size
    server = serve_h2(scripted, {"/": ("gzip", bomb("gzip", 256 * MiB))})
    tracemalloc.start()
    try:
        with pytest.raises(HTTPClientError) as info:
            await client.fetch(server.url + "/", http_version="2", request_timeout=60)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.code == 599
    assert peak < limit + 5 * MiB, f"peak {peak / MiB:.1f} MiB to refuse a bomb over HTTP/2"

"""Large Content-Length bodies buffered in their final memory (huge-page advised from
HUGE_PAGES_MIN on), per engine: intact and reusable, a body cut short, a body larger
than its Content-Length (libcurl told to decode it itself), and a second final response."""

from __future__ import annotations

import gzip
import random
import socket
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from squall._errors import HTTPClientError
from squall._hugepages import HUGE_PAGES_MIN
from tests.conftest import curl_only
from tests.servers.scripted import ScriptedServer, reply_each

SIZE = HUGE_PAGES_MIN + 3 * 4096 + 7
BODY = bytes(range(256)) * (SIZE // 256) + b"z" * (SIZE % 256)


@pytest.mark.squall_only("curl")  # max_buffer_size: Tornado has it on its simple client only
async def test_large_body_is_intact_and_connection_reusable(
    make_client: Callable[..., Any], scripted: Callable[..., ScriptedServer]
) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % SIZE
    server = scripted(reply_each((head + BODY[:1000], BODY[1000:])))
    client = make_client(max_buffer_size=2 * SIZE)
    for _ in range(3):
        response = await client.fetch(server.url)
        assert response.body == BODY
        assert response.buffer.read() == BODY  # the buffer is at 0 and holds all of it
        assert response.buffer.getvalue() is response.body  # no copy was left behind


@pytest.mark.squall_only  # squall's own memory behaviour (Tornado's clients copy)
async def test_large_body_is_received_without_a_copy(
    make_client: Callable[..., Any], scripted: Callable[..., ScriptedServer]
) -> None:
    # The body is written into its final memory as it arrives: a second copy of it
    # at any moment (a buffer that grows, or a BytesIO unsharing its bytes) would
    # cost page faults and a memcpy on every large download.
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % SIZE
    server = scripted(reply_each((head, BODY)))
    client = make_client(max_buffer_size=2 * SIZE)
    await client.fetch(server.url)  # the connection is open and the pools are warm
    tracemalloc.start()
    try:
        response = await client.fetch(server.url)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.body == BODY
    # The body, plus what arrives before its memory is set up: the first read (the
    # simple engine's 1 MiB read buffer, as bytes, and the body part cut from it).
    # A second copy of the body would be SIZE more.
    assert peak < SIZE + 3 * 1024 * 1024 < 2 * SIZE, f"{peak} bytes for a body of {SIZE}"


@pytest.mark.squall_only("curl")  # max_buffer_size: Tornado has it on its simple client only
async def test_large_body_cut_short_is_an_error(
    make_client: Callable[..., Any], scripted: Callable[..., ScriptedServer]
) -> None:
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        if server.read_request(conn):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % SIZE)
            conn.sendall(BODY[: SIZE // 2])

    client = make_client(max_buffer_size=2 * SIZE)
    with pytest.raises(HTTPClientError):
        await client.fetch(scripted(handler).url)


@curl_only
@pytest.mark.squall_only  # max_buffer_size: Tornado's curl client has no such option
async def test_curl_body_larger_than_its_content_length(
    make_client: Callable[..., Any], scripted: Callable[..., ScriptedServer]
) -> None:
    # libcurl decodes when told to (squall does not ask it): the bytes delivered then
    # exceed Content-Length, which counts the encoded bytes.
    import pycurl

    big = random.Random(1).randbytes(SIZE) + bytes(SIZE)  # half incompressible
    encoded = gzip.compress(big, compresslevel=1)
    assert HUGE_PAGES_MIN <= len(encoded) < len(big)

    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        if server.read_request(conn):
            head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
            conn.sendall(head % len(encoded) + encoded)

    def prepare(curl: Any) -> None:
        curl.setopt(pycurl.ENCODING, "gzip")

    client = make_client(max_buffer_size=4 * SIZE)
    response = await client.fetch(
        scripted(handler).url, prepare_curl_callback=prepare, decompress_response=False
    )
    assert response.body == big

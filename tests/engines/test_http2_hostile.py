"""Hostile HTTP/2 servers, scripted frame by frame: each ends in a clear 599, never a hang.

The peers (``servers/h2_scripted.H2Peer``) speak clear-text HTTP/2 and the
client uses prior knowledge (``http_version="2"`` on an http:// URL). Every
fetch has a generous request_timeout only as a backstop: a test that expects a
protocol error fails if it gets a timeout instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import h2.exceptions
import pytest
from hyperframe.frame import Frame, HeadersFrame, WindowUpdateFrame

from squall._errors import HTTPClientError, HTTPStreamClosedError, HTTPTimeoutError
from tests.conftest import simple_only
from tests.servers.h2_scripted import OK_HEAD, H2Peer
from tests.servers.scripted import ScriptedServer

pytestmark = pytest.mark.squall_only  # Tornado's simple client has no HTTP/2

BACKSTOP = 10.0
PROTOCOL_ERROR, INTERNAL_ERROR, REFUSED_STREAM = 0x1, 0x2, 0x7
MAX_CONCURRENT_STREAMS, INITIAL_WINDOW_SIZE = 0x3, 0x4


async def fetch_error(client: Any, server: ScriptedServer, **kwargs: Any) -> HTTPClientError:
    """The 599 a fetch from ``server`` over HTTP/2 ends in (a timeout fails the test)."""
    options: dict[str, Any] = {"http_version": "2", "request_timeout": BACKSTOP, **kwargs}
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(server.url + "/", **options)
    assert info.value.code == 599, repr(info.value)
    return info.value


async def test_malformed_frame(client: Any, scripted: Any) -> None:
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        peer = H2Peer(conn)
        if peer.read_request():
            # A SETTINGS frame whose length is not a multiple of 6 (RFC 9113 §6.5).
            peer.send_bytes(b"\x00\x00\x05\x04\x00\x00\x00\x00\x00" + b"\x00" * 5)
            peer.drain()

    error = await fetch_error(client, scripted(handler))
    assert not isinstance(error, HTTPTimeoutError), repr(error)


async def test_data_on_stream_zero(client: Any, scripted: Any) -> None:
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        peer = H2Peer(conn)
        if sid := peer.read_request():
            peer.frames(peer.headers(sid))
            peer.send_bytes(b"\x00\x00\x03\x00\x00\x00\x00\x00\x00abc")  # DATA on stream 0
            peer.drain()

    error = await fetch_error(client, scripted(handler))
    assert not isinstance(error, HTTPTimeoutError), repr(error)


async def test_continuation_flood(client: Any, scripted: Any) -> None:
    # HEADERS without END_HEADERS, then CONTINUATION frames without end: the
    # client must give up on the header block rather than buffer it forever.
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        peer = H2Peer(conn)
        if sid := peer.read_request():
            peer.frames(peer.headers(sid, OK_HEAD, end_headers=False))
            filler = peer.block([("x-filler", "a" * 1000)])
            for _ in range(100_000):
                if not peer.send_bytes(peer.continuation(sid, filler).serialize()):
                    return
            peer.drain()

    error = await fetch_error(client, scripted(handler))
    assert not isinstance(error, HTTPTimeoutError), repr(error)


async def test_hpack_bomb(client: Any, scripted: Any) -> None:
    # One big header in the dynamic table, then referenced over and over: a
    # small block that decodes to megabytes. max_header_size bounds it.
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        peer = H2Peer(conn)
        if sid := peer.read_request():
            first = peer.block([("x-bomb", "b" * 3000)])  # enters the dynamic table
            again = peer.block([("x-bomb", "b" * 3000)]) * 2000  # 1 byte each: index 62
            block = peer.block(OK_HEAD) + first + again
            step = 16000
            pieces = [block[i : i + step] for i in range(0, len(block), step)]
            frames: list[Frame] = [HeadersFrame(sid, data=pieces[0], flags=set())]
            for i, piece in enumerate(pieces[1:], 2):
                frames.append(peer.continuation(sid, piece, end=i == len(pieces)))
            peer.frames(*frames)
            peer.drain()

    error = await fetch_error(client, scripted(handler))
    assert not isinstance(error, HTTPTimeoutError), repr(error)


async def test_window_never_opens(client: Any, scripted: Any) -> None:
    # The server allows no stream data and never sends WINDOW_UPDATE: the upload
    # cannot progress, and the request deadline ends it.
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        peer = H2Peer(conn, settings={INITIAL_WINDOW_SIZE: 0})
        # The client may send 64 KiB before our SETTINGS reach it (RFC 9113 §6.9.2),
        # which h2 takes as a window below 0: that does not matter here.
        with contextlib.suppress(h2.exceptions.FlowControlError):
            peer.read_request()
        peer.drain()

    error = await fetch_error(
        client, scripted(handler), method="POST", body=b"x" * 100_000, request_timeout=1
    )
    assert isinstance(error, HTTPTimeoutError), repr(error)


async def test_data_beyond_the_window(client: Any, scripted: Any) -> None:
    # The server ignores flow control and sends far past the client's windows.
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        peer = H2Peer(conn)
        if sid := peer.read_request():
            peer.frames(peer.headers(sid))
            chunk = peer.data(sid, b"z" * 16384).serialize()
            for _ in range(64 * 1024 * 1024 // 16384):
                if not peer.send_bytes(chunk):
                    return
            peer.drain()

    error = await fetch_error(client, scripted(handler))
    assert not isinstance(error, HTTPTimeoutError), repr(error)


async def test_goaway_mid_response(client: Any, scripted: Any) -> None:
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        peer = H2Peer(conn)
        if sid := peer.read_request():
            peer.frames(peer.headers(sid), peer.data(sid, b"partial"))
            peer.frames(peer.goaway(sid, INTERNAL_ERROR))
            conn.close()

    error = await fetch_error(client, scripted(handler))
    assert isinstance(error, HTTPStreamClosedError), repr(error)


async def test_graceful_goaway_lets_the_stream_finish(client: Any, scripted: Any) -> None:
    # GOAWAY(NO_ERROR) naming our stream as processed: the response completes.
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        peer = H2Peer(conn)
        if sid := peer.read_request():
            peer.frames(peer.headers(sid), peer.data(sid, b"first "))
            peer.frames(peer.goaway(sid), peer.data(sid, b"second", end=True))
            peer.drain()

    server = scripted(handler)
    response = await client.fetch(server.url + "/", http_version="2", request_timeout=BACKSTOP)
    assert response.body == b"first second"


async def test_goaway_before_the_stream_is_retried_elsewhere(client: Any, scripted: Any) -> None:
    # The first connection says GOAWAY(last_stream_id=0): the server never saw the
    # request, so it is sent again on a new connection, which answers.
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        peer = H2Peer(conn)
        sid = peer.read_request()
        if not sid:
            return
        if server.connection_number(conn) == 1:
            peer.frames(peer.goaway(0))
            peer.drain()
            return
        peer.frames(peer.headers(sid), peer.data(sid, b"from the second", end=True))
        peer.drain()

    server = scripted(handler)
    response = await client.fetch(server.url + "/", http_version="2", request_timeout=BACKSTOP)
    assert response.body == b"from the second"
    assert server.connections == 2


@pytest.mark.parametrize("code", [INTERNAL_ERROR, REFUSED_STREAM], ids=["internal", "refused"])
async def test_reset_on_every_stream(client: Any, scripted: Any, code: int) -> None:
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        peer = H2Peer(conn)
        while sid := peer.read_request():
            peer.frames(peer.rst(sid, code))

    error = await fetch_error(client, scripted(handler))
    assert isinstance(error, HTTPStreamClosedError), repr(error)


async def test_settings_flood(client: Any, scripted: Any) -> None:
    # Thousands of SETTINGS frames before the answer: acked, bounded, and the
    # response still arrives (or the client refuses the flood with a 599).
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        peer = H2Peer(conn)
        if sid := peer.read_request():
            flood = peer.settings({INITIAL_WINDOW_SIZE: 65535}).serialize() * 5000
            peer.send_bytes(flood)
            peer.frames(peer.headers(sid), peer.data(sid, b"done", end=True))
            peer.drain()

    server = scripted(handler)
    try:
        response = await client.fetch(server.url + "/", http_version="2", request_timeout=BACKSTOP)
    except HTTPClientError as exc:
        assert exc.code == 599 and not isinstance(exc, HTTPTimeoutError), repr(exc)
    else:
        assert response.body == b"done"


@simple_only  # max_connections_per_host is the simple engine's argument
async def test_streams_counted_against_the_servers_limit(make_client: Any, scripted: Any) -> None:
    # The server allows 2 concurrent streams and the client 1 connection: of 6
    # requests at once, 2 are in flight at a time and the others wait for a slot
    # (h2 in server mode, which answers here, fails the handler if a third opens).
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        peer = H2Peer(conn, settings={MAX_CONCURRENT_STREAMS: 2})
        peer.answer(peer.read_request(), b"1")  # the first request, alone
        answered = 1
        while answered < 7:
            pair = [peer.read_request(), peer.read_request()]
            if not all(pair):
                return
            for sid in pair:
                peer.answer(sid, b"1")
            answered += 2

    server = scripted(handler)
    client = make_client(max_connections_per_host=1)
    options: dict[str, Any] = {"http_version": "2", "request_timeout": BACKSTOP}
    assert (await client.fetch(server.url + "/", **options)).body == b"1"
    results = await asyncio.gather(*(client.fetch(server.url + "/", **options) for _ in range(6)))
    assert [r.body for r in results] == [b"1"] * 6
    assert server.connections == 1


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_connection_lost_before_an_answer(client: Any, scripted: Any, method: str) -> None:
    # The server answers once, then reads the next request on the kept connection
    # and drops it unanswered, without a GOAWAY: the server may have acted on the
    # request, so it is not sent again, whatever its method (at most once, as on
    # HTTP/1.1: squall._resend, test_resend.py). Only what the server says it never
    # processed (GOAWAY above it, REFUSED_STREAM) is sent again.
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        peer = H2Peer(conn)
        sid = peer.read_request()
        if server.connection_number(conn) == 1:
            peer.answer(sid, b"first")
            peer.read_request()
            return  # closed without an answer
        while sid:
            peer.answer(sid, b"again")
            sid = peer.read_request()

    server = scripted(handler)
    options: dict[str, Any] = {"http_version": "2", "request_timeout": BACKSTOP}
    assert (await client.fetch(server.url + "/", **options)).body == b"first"
    body = b"x" if method == "POST" else None
    error = await fetch_error(client, server, method=method, body=body)
    assert isinstance(error, HTTPStreamClosedError), repr(error)
    assert server.connections == 1
    # The client goes on, on a new connection.
    assert (await client.fetch(server.url + "/", **options)).body == b"again"


async def test_connect_timeout_over_http2(client: Any, blackhole_port: int) -> None:
    with pytest.raises(HTTPTimeoutError) as info:
        await client.fetch(
            f"http://127.0.0.1:{blackhole_port}/",
            http_version="2",
            connect_timeout=0.5,
            request_timeout=BACKSTOP,
        )
    assert info.value.phase == "connect", repr(info.value)


async def test_reset_in_the_same_read_as_a_window_for_a_waiting_upload(
    client: Any, scripted: Any
) -> None:
    # The upload waits on the windows. One write from the server opens the
    # connection window, answers, and resets the stream with NO_ERROR (RFC 9113
    # §8.1: the rest of the upload is not wanted): the window must not pump a
    # stream the reset in the same read has closed, and the answer stands.
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        # A wide stream window: the connection's (65535) is what holds the upload.
        peer = H2Peer(conn, settings={INITIAL_WINDOW_SIZE: 1 << 24})
        sid = peer.read_request()
        window = WindowUpdateFrame(0, window_increment=1 << 20)
        peer.frames(window, peer.headers(sid), peer.data(sid, b"early", end=True), peer.rst(sid, 0))
        peer.drain()

    server = scripted(handler)
    body = b"u" * (1 << 20)
    response = await client.fetch(
        server.url + "/", method="POST", body=body, http_version="2", request_timeout=BACKSTOP
    )
    assert response.body == b"early"


def _trailed(fields: list[tuple[str, str]]) -> Any:
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        peer = H2Peer(conn)
        while sid := peer.read_request():
            head = peer.headers(sid)  # encoded first: HPACK's table follows the order
            trailers = peer.headers(sid, fields, end_stream=True)
            peer.frames(head, peer.data(sid, b"body"), trailers)

    return handler


async def test_trailers_are_dropped(client: Any, scripted: Any) -> None:
    # As over HTTP/1.1 (chunked trailers), and as Tornado: the body is whole,
    # the trailer fields reach neither the headers nor header_callback.
    server = scripted(_trailed([("x-checksum", "c0ffee"), ("grpc-status", "0")]))
    lines: list[str] = []
    for _ in range(2):  # and the connection goes on after them
        response = await client.fetch(
            server.url + "/",
            http_version="2",
            header_callback=lines.append,
            request_timeout=BACKSTOP,
        )
        assert response.body == b"body"
        assert "X-Checksum" not in response.headers
    assert not [line for line in lines if line.startswith(("x-checksum", "grpc-status"))]
    assert server.connections == 1


async def test_trailers_with_a_pseudo_header_are_an_error(client: Any, scripted: Any) -> None:
    # RFC 9113 §8.1: pseudo-header fields in trailers make the response malformed.
    server = scripted(_trailed([(":status", "200")]))
    await fetch_error(client, server)

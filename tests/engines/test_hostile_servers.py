"""Broken and hostile HTTP/1.1 servers: each engine must fail the same, clear way.

Bad input from a server ends in a 599 leaf of ``HTTPClientError`` that names
the cause (never a hang, a leaked socket, a silent wrong answer or a bare
builtin exception), and both engines agree on the result and the class.

Known bugs are pinned by the ``known_gap`` marker (see tests/README.md): a
strict xfail on the engines that get it wrong today only, so a fix turns that
run into an XPASS, which fails the suite until the marker goes.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import sys
from typing import Any

import pytest

from squall._errors import (
    HTTPClientError,
    HTTPStreamClosedError,
    HTTPTimeoutError,
    RemoteProtocolError,
    ResponseTooLargeError,
)
from tests.servers.scripted import Handler, ScriptedServer, reply_each, reply_once, response

# What these tests pin is squall's own contract (error classes, the two engines agreeing).
pytestmark = pytest.mark.squall_only

OK_2 = b"\r\nContent-Length: 2\r\n\r\nok"
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


def _target(head: bytes) -> bytes:
    return head.split(b" ", 2)[1]


async def _fails(fetch: Any, cls: type[BaseException]) -> HTTPClientError:
    with pytest.raises(HTTPClientError) as info:
        await fetch
    exc = info.value
    assert isinstance(exc, cls), repr(exc)
    assert exc.code == 599 and str(exc), repr(exc)
    return exc


# -- scenarios both engines get right --------------------------------------------------


def _headers_forever(conn: socket.socket, server: ScriptedServer) -> None:
    server.read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    count = 0
    while not server.wait(0.05):
        conn.sendall(b"X-%d: v\r\n" % count)
        count += 1


async def test_endless_header_trickle_times_out(client: Any, scripted: Any) -> None:
    server = scripted(_headers_forever)
    exc = await _fails(client.fetch(server.url + "/", request_timeout=0.5), HTTPTimeoutError)
    assert getattr(exc, "phase", "request") == "request"


async def test_short_body_times_out_and_the_next_fetch_uses_a_new_connection(
    client: Any, scripted: Any
) -> None:
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        if server.connection_number(conn) == 1:
            server.read_request(conn)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
            server.wait()
            return
        server.answer_requests(conn, response(b"fresh"))

    server = scripted(handler)
    await _fails(client.fetch(server.url + "/", request_timeout=0.5), HTTPTimeoutError)
    assert (await client.fetch(server.url + "/", request_timeout=5)).body == b"fresh"
    assert server.connections == 2


async def test_no_reuse_after_a_body_framed_by_the_close(client: Any, scripted: Any) -> None:
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        number = server.connection_number(conn)
        server.read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\n\r\nuntil-close-%d" % number)
        conn.shutdown(socket.SHUT_WR)  # ends the body; reading on shows a reuse attempt
        if server.read_request(conn):
            server.event("reused").set()

    server = scripted(handler)
    for number in (1, 2):
        result = await client.fetch(server.url + "/", request_timeout=5)
        assert result.body == b"until-close-%d" % number
    assert not server.event("reused").is_set()


@pytest.mark.parametrize(
    ("method", "first"),
    [
        ("GET", b"HTTP/1.1 204 No Content\r\n\r\nstray bytes after a 204"),
        ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
    ],
    ids=["204-then-bytes", "head-with-body"],
)
async def test_no_reuse_after_unframed_bytes(
    client: Any, scripted: Any, method: str, first: bytes
) -> None:
    # The server keeps the connection open; leftovers must not become the next response.
    def answer(head: bytes, number: int) -> bytes:
        return first if _target(head) == b"/first" else response(b"%d" % number)

    server = scripted(reply_each(answer))
    result = await client.fetch(server.url + "/first", method=method, request_timeout=5)
    assert result.body == b""
    assert (await client.fetch(server.url + "/next", request_timeout=5)).body == b"2"


async def test_304_with_content_length_keeps_the_connection(client: Any, scripted: Any) -> None:
    def answer(head: bytes, number: int) -> bytes:
        if _target(head) == b"/cached":
            return b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"
        return response(b"%d" % number)

    server = scripted(reply_each(answer))
    cached = await client.fetch(server.url + "/cached", raise_error=False, request_timeout=5)
    assert (cached.code, cached.body) == (304, b"")
    assert (await client.fetch(server.url + "/", request_timeout=5)).body == b"1"


async def test_chunk_extensions_and_trailers(client: Any, scripted: Any) -> None:
    body = b'3;ext=1;q="a b"\r\nabc\r\n2\r\nde\r\n0;last\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n'
    server = scripted(reply_each(CHUNKED + body))
    for _ in range(2):
        result = await client.fetch(server.url + "/", request_timeout=5)
        assert result.body == b"abcde"
        assert "X-Trailer" not in result.headers  # trailers are dropped, as Tornado does
    assert server.connections == 1


@pytest.mark.parametrize("size", [b"ffffffffffffffffff", b"10000000000000000"])
async def test_chunk_size_overflow(client: Any, scripted: Any, size: bytes) -> None:
    reply = CHUNKED + size + b"\r\nabc"
    server = scripted(reply_once(reply, close=False))
    await _fails(client.fetch(server.url + "/", request_timeout=5), RemoteProtocolError)


@pytest.mark.parametrize("value", [b"a\x00b", b"\x00"], ids=["value", "alone"])
async def test_nul_in_header_is_refused(client: Any, scripted: Any, value: bytes) -> None:
    server = scripted(reply_once(b"HTTP/1.1 200 OK\r\nX-Nul: " + value + OK_2, close=False))
    await _fails(client.fetch(server.url + "/", request_timeout=5), RemoteProtocolError)


async def test_raw_octets_and_repeated_set_cookie(client: Any, scripted: Any) -> None:
    head = b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Raw: caf\xc3\xa9 \xff\r\nSet-Cookie: b=2, c=3"
    server = scripted(reply_once(head + OK_2, close=False))
    result = await client.fetch(server.url + "/", request_timeout=5)
    assert result.headers.get_list("Set-Cookie") == ["a=1", "b=2, c=3"]
    assert result.headers["X-Raw"] == "caf\xc3\xa9 \xff"  # octets kept, as latin-1


async def test_many_small_headers_over_max_header_size(make_client: Any, scripted: Any) -> None:
    fields = b"".join(b"X-H%d: v\r\n" % i for i in range(3000))
    server = scripted(
        reply_once(b"HTTP/1.1 200 OK\r\n" + fields + b"Content-Length: 2\r\n\r\nok", close=False)
    )
    client = make_client(max_header_size=4096)
    await _fails(client.fetch(server.url + "/", request_timeout=5), ResponseTooLargeError)


async def test_redirect_loop_stops_at_max_redirects(client: Any, scripted: Any) -> None:
    loop = b"HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n"
    server = scripted(reply_each(loop))
    result = await client.fetch(
        server.url + "/loop", max_redirects=3, raise_error=False, request_timeout=5
    )
    assert (result.code, result.headers["Location"]) == (302, "/loop")
    assert len(server.requests) == 4  # the first request and three redirects


async def test_redirect_with_dot_segments(client: Any, scripted: Any) -> None:
    def answer(head: bytes, number: int) -> bytes:
        if _target(head).startswith(b"/a/b/c/"):
            location = b"Location: ../../x/./y/../z?q=1#frag"
            return b"HTTP/1.1 302 Found\r\n" + location + b"\r\nContent-Length: 0\r\n\r\n"
        return response(_target(head))

    server = scripted(reply_each(answer))
    result = await client.fetch(server.url + "/a/b/c/d", request_timeout=5)
    assert result.body == b"/a/x/z?q=1"


async def test_early_response_to_a_large_upload(client: Any, scripted: Any) -> None:
    # The server refuses from the head alone and closes while the body is still going up.
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        if not server.read_head(conn):  # the body is left unread
            return
        conn.sendall(response(b"too big", "413 Payload Too Large", ["Connection: close"]))

    server = scripted(handler)
    result = await client.fetch(
        server.url + "/", method="POST", body=b"x" * 8_000_000, raise_error=False, request_timeout=5
    )
    assert (result.code, result.body) == (413, b"too big")


# -- known bugs ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_non_idempotent_request_is_not_resent(
    client: Any, scripted: Any, engine: str, request: pytest.FixtureRequest, method: str
) -> None:
    # The server takes the second request on the kept-alive connection, then closes
    # without answering: it may have acted on it, so it must not be sent again.
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        if server.connection_number(conn) > 1:
            server.answer_requests(conn, response(b"resent"))
            return
        server.read_request(conn)
        conn.sendall(response(b"first"))
        server.read_request(conn)

    server = scripted(handler)
    url = server.url + "/"
    assert (await client.fetch(url, method=method, body=b"x", request_timeout=5)).body == b"first"
    await _fails(
        client.fetch(url, method=method, body=b"x", request_timeout=5), HTTPStreamClosedError
    )
    assert len(server.requests) == 2 and server.connections == 1


async def test_content_length_over_the_limit_is_refused_at_once(
    make_client: Any, scripted: Any, engine: str, request: pytest.FixtureRequest
) -> None:
    server = scripted(
        reply_once(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nab", close=False)
    )
    client = make_client(max_body_size=1000)
    await _fails(client.fetch(server.url + "/", request_timeout=2), ResponseTooLargeError)


@pytest.mark.parametrize("length", [b"99999999999999999999999", b"9223372036854775808"])
async def test_overflowing_content_length(
    client: Any, scripted: Any, engine: str, request: pytest.FixtureRequest, length: bytes
) -> None:
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: " + length + b"\r\n\r\nok"
    server = scripted(reply_once(reply))
    await _fails(client.fetch(server.url + "/", request_timeout=2), RemoteProtocolError)


async def test_announced_length_is_not_preallocated_blindly(
    make_client: Any, scripted: Any, engine: str, request: pytest.FixtureRequest
) -> None:
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\nok" % sys.maxsize
    server = scripted(reply_once(reply))
    client = make_client(max_body_size=sys.maxsize, max_buffer_size=sys.maxsize)
    await _fails(client.fetch(server.url + "/", request_timeout=2), HTTPStreamClosedError)


@pytest.mark.parametrize("close", [False, True], ids=["gzip-chunked", "chunked-gzip-close"])
async def test_unsupported_transfer_coding(
    client: Any, scripted: Any, engine: str, request: pytest.FixtureRequest, close: bool
) -> None:
    coded = gzip.compress(b"hello world")
    if close:
        reply = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n" + coded
    else:
        framed = b"%x\r\n%b\r\n0\r\n\r\n" % (len(coded), coded)
        reply = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + framed
    server = scripted(reply_once(reply, close))
    await _fails(client.fetch(server.url + "/", request_timeout=2), RemoteProtocolError)


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: 5\r\n\r\nhello",
        b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ],
    ids=["content-length", "chunked"],
)
async def test_204_announcing_a_body(
    client: Any, scripted: Any, engine: str, request: pytest.FixtureRequest, framing: bytes
) -> None:
    server = scripted(reply_once(b"HTTP/1.1 204 No Content\r\n" + framing, close=False))
    await _fails(client.fetch(server.url + "/", request_timeout=2), RemoteProtocolError)


async def test_too_many_informational_responses(
    client: Any, scripted: Any, engine: str, request: pytest.FixtureRequest
) -> None:
    server = scripted(
        reply_once(b"HTTP/1.1 100 Continue\r\n\r\n" * 11 + response(b"final"), close=False)
    )
    exc = await _fails(client.fetch(server.url + "/", request_timeout=2), RemoteProtocolError)
    assert "1xx" in str(exc)


@pytest.mark.parametrize("upgrade", [True, False], ids=["with-upgrade", "bare"])
async def test_unrequested_switching_protocols(
    client: Any, scripted: Any, engine: str, request: pytest.FixtureRequest, upgrade: bool
) -> None:
    fields = b"Upgrade: websocket\r\nConnection: Upgrade\r\n" if upgrade else b""
    reply = b"HTTP/1.1 101 Switching Protocols\r\n" + fields + b"\r\n" + response(b"final")
    server = scripted(reply_once(reply, close=False))
    exc = await _fails(client.fetch(server.url + "/", request_timeout=2), RemoteProtocolError)
    assert "101" in str(exc)


def _redirect_to(location: bytes) -> Handler:
    def answer(head: bytes, number: int) -> bytes:
        if _target(head) == b"/start":
            return (
                b"HTTP/1.1 302 Found\r\nLocation: "
                + location
                + b"\r\nContent-Length: 4\r\n\r\nredi"
            )
        return response(_target(head))

    return reply_each(answer)


@pytest.mark.parametrize("location", [b"http://[::1", b"http://127.0.0.1:99999/"])
async def test_unusable_location_returns_the_redirect(
    client: Any, scripted: Any, engine: str, request: pytest.FixtureRequest, location: bytes
) -> None:
    server = scripted(_redirect_to(location))
    result = await client.fetch(server.url + "/start", raise_error=False, request_timeout=2)
    assert (result.code, result.headers["Location"]) == (302, location.decode())


@pytest.mark.parametrize(
    ("location", "path"),
    [(b"/caf\xc3\xa9", b"/caf%C3%A9"), (b"/sp ace", b"/sp%20ace")],
    ids=["non-ascii", "space"],
)
async def test_location_octets_are_percent_encoded(
    client: Any,
    scripted: Any,
    engine: str,
    request: pytest.FixtureRequest,
    location: bytes,
    path: bytes,
) -> None:
    server = scripted(_redirect_to(location))
    assert (await client.fetch(server.url + "/start", request_timeout=2)).body == path


@pytest.mark.parametrize(
    "reply",
    [
        b"",
        b"HTTP/1.1 200 OK\r\nContent-Le",
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nhel",
    ],
    ids=["nothing", "mid-headers", "mid-body", "mid-chunk"],
)
async def test_premature_close_is_stream_closed(
    client: Any, scripted: Any, engine: str, request: pytest.FixtureRequest, reply: bytes
) -> None:
    server = scripted(reply_once(reply))
    exc = await _fails(client.fetch(server.url + "/", request_timeout=2), HTTPStreamClosedError)
    assert type(exc) is HTTPStreamClosedError, "a close is not a malformed message"


MALFORMED = {
    "space-before-colon": b"HTTP/1.1 200 OK\r\nX-Sp : v" + OK_2,
    "bare-lf": b"HTTP/1.1 200 OK\nX-Lf: a\nContent-Length: 2\n\nok",
    "control-char": b"HTTP/1.1 200 OK\r\nX-Ctl: a\x01b" + OK_2,
    "del-char": b"HTTP/1.1 200 OK\r\nX-Del: a\x7fb" + OK_2,
    "bad-name-token": b"HTTP/1.1 200 OK\r\nX(bad): v" + OK_2,
    "chunk-size-space": CHUNKED + b"3 \r\nabc\r\n0\r\n\r\n",
    "trailer-named-http": CHUNKED + b"4\r\nreal\r\n0\r\nHTTP/1.1: 500\r\n\r\n",
    "unknown-version": b"HTTP/3.1 200 OK" + OK_2,
    "four-digit-status": b"HTTP/1.1 2000 OK" + OK_2,
    "lowercase-protocol": b"http/1.1 200 OK" + OK_2,
}


MALFORMED_GAPS = {
    "chunk-size-space": pytest.mark.known_gap(
        "curl", reason="libcurl reads chunk sizes itself: a space after one passes"
    ),
}


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(reply, id=name, marks=MALFORMED_GAPS.get(name, ()))
        for name, reply in MALFORMED.items()
    ],
)
async def test_malformed_response_refused_by_both(client: Any, scripted: Any, reply: bytes) -> None:
    server = scripted(reply_once(reply, close=False))
    await _fails(client.fetch(server.url + "/", request_timeout=2), RemoteProtocolError)


async def test_no_socket_left_after_refusals(client: Any, scripted: Any) -> None:
    from tests.servers.helpers import sockets_connected_to

    server = scripted(reply_once(b"HELLO THERE\r\n\r\n", close=False))
    for _ in range(3):
        await _fails(client.fetch(server.url + "/", request_timeout=2), RemoteProtocolError)
    await asyncio.sleep(0.05)
    assert sockets_connected_to(server.port) == 0


async def test_folded_header_line_is_joined(client: Any, scripted: Any) -> None:
    # RFC 9112 section 5.2: a user agent replaces an obs-fold with SP (libcurl does;
    # llhttp refuses it, so the simple engine parses such a head again).
    head = b"HTTP/1.1 200 OK\r\nX-Folded: first\r\n  second\r\nContent-Length: 2\r\n\r\nok"
    server = scripted(reply_each(head))
    for _ in range(2):
        result = await client.fetch(server.url + "/", request_timeout=5)
        assert result.headers["X-Folded"] == "first second" and result.body == b"ok"
    assert server.connections == 1

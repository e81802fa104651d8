"""The context size and timeout errors carry: ``.option`` and ``.limit`` (issue 14).

Each error kind is triggered against a real (scripted) server on both engines;
the test checks the option named, its value (the same on both engines), and that
the message is still the one it was: the attributes add context, the wording
does not change. No timings are asserted: a short timeout only has to fire.
"""

from __future__ import annotations

import asyncio
import gzip
import pickle
import socket
from typing import Any

import pytest

from squall._errors import (
    HTTPClientError,
    HTTPConnectionRefusedError,
    HTTPTimeoutError,
    ResponseTooLargeError,
)
from tests.servers.h2_scripted import OK_HEAD, H2Peer
from tests.servers.scripted import ScriptedServer, reply_once, response

pytestmark = pytest.mark.squall_only  # Tornado's errors have no .option or .limit

LIMIT = 1000  # max_body_size in the size tests
HEADER_LIMIT = 4096  # max_header_size in the size tests
BACKSTOP = 10.0  # a timeout that is not the one under test
HANG = 3.0  # how long a fetch that should have timed out may hang before it fails the test


async def _error(fetch: Any, cls: type[HTTPClientError]) -> HTTPClientError:
    with pytest.raises(HTTPClientError) as info:
        await fetch
    error = info.value
    assert isinstance(error, cls), repr(error)
    assert error.code == 599, repr(error)
    # The context survives a pickle, as the rest of the error does.
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.option, copy.limit) == (error.option, error.limit)
    return error


def _never_answers(conn: socket.socket, server: ScriptedServer) -> None:
    server.read_request(conn)
    server.wait()


def _silent_tls_peer(conn: socket.socket, server: ScriptedServer) -> None:
    server.wait()  # accepts TCP, never answers the ClientHello


def _h2_reply(*frames: Any) -> Any:
    """An HTTP/2 peer (prior knowledge) answering the first request with ``frames(peer, sid)``."""

    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        peer = H2Peer(conn)
        if sid := peer.read_request():
            peer.frames(*(frame(peer, sid) for frame in frames))
            peer.drain()

    return handler


# -- timeouts ------------------------------------------------------------------------


async def test_connect_timeout(client: Any, blackhole_port: int) -> None:
    fetch = client.fetch(
        f"http://127.0.0.1:{blackhole_port}/", connect_timeout=0.3, request_timeout=BACKSTOP
    )
    error = await _error(fetch, HTTPTimeoutError)
    assert error.message == f"Timeout while connecting to 127.0.0.1:{blackhole_port}"
    assert (error.option, error.limit) == ("connect_timeout", 0.3)


async def test_request_timeout_while_connecting(client: Any, blackhole_port: int) -> None:
    # The smaller of the two bounds the connection (Tornado's rule): request_timeout here.
    fetch = client.fetch(
        f"http://127.0.0.1:{blackhole_port}/", connect_timeout=BACKSTOP, request_timeout=0.3
    )
    error = await _error(fetch, HTTPTimeoutError)
    assert error.message == f"Timeout while connecting to 127.0.0.1:{blackhole_port}"
    assert (error.option, error.limit) == ("request_timeout", 0.3)


async def test_tls_handshake_timeout(client: Any, scripted: Any) -> None:
    server = scripted(_silent_tls_peer)
    fetch = client.fetch(
        f"https://127.0.0.1:{server.port}/", connect_timeout=0.3, request_timeout=BACKSTOP
    )
    error = await _error(fetch, HTTPTimeoutError)
    assert error.message == f"Timeout during TLS handshake with 127.0.0.1:{server.port}"
    assert (error.option, error.limit) == ("connect_timeout", 0.3)


class _SilentResolver:
    """A resolver that never answers (the ``resolver`` option)."""

    async def resolve(self, host: str, port: int, family: int = 0) -> list[tuple[int, Any]]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_resolve_timeout(make_client: Any) -> None:
    client = make_client(resolver=_SilentResolver())
    fetch = client.fetch("http://example.test/", connect_timeout=0.3, request_timeout=BACKSTOP)
    # A hang fails here, not at the runner's limit: the curl gap stays cheap.
    error = await _error(asyncio.wait_for(fetch, HANG), HTTPTimeoutError)
    assert error.message == "Timeout while resolving example.test"
    assert (error.option, error.limit) == ("connect_timeout", 0.3)


async def test_request_timeout(client: Any, scripted: Any) -> None:
    server = scripted(_never_answers)
    fetch = client.fetch(server.url + "/", connect_timeout=BACKSTOP, request_timeout=0.3)
    error = await _error(fetch, HTTPTimeoutError)
    assert error.message == "Timeout during request"
    assert (error.option, error.limit) == ("request_timeout", 0.3)


async def test_request_timeout_over_http2(client: Any, scripted: Any) -> None:
    server = scripted(_h2_reply())
    fetch = client.fetch(server.url + "/", http_version="2", request_timeout=0.3)
    error = await _error(fetch, HTTPTimeoutError)
    assert error.message == "Timeout during request"
    assert (error.option, error.limit) == ("request_timeout", 0.3)


async def test_queue_timeout(make_client: Any, scripted: Any) -> None:
    # Tornado's queue timeout is the smaller non-zero of the two: connect_timeout here.
    server = scripted(_never_answers)
    client = make_client(max_clients=1)
    blocker = asyncio.ensure_future(client.fetch(server.url + "/", request_timeout=BACKSTOP))
    await asyncio.sleep(0.05)  # the first fetch takes the only slot
    try:
        fetch = client.fetch(server.url + "/", connect_timeout=0.2, request_timeout=BACKSTOP)
        error = await _error(fetch, HTTPTimeoutError)
    finally:
        blocker.cancel()
    assert error.message == "Timeout in request queue"
    assert (error.option, error.limit) == ("connect_timeout", 0.2)


# -- sizes ---------------------------------------------------------------------------


async def test_announced_length_over_max_body_size(
    make_client: Any, scripted: Any, engine: str
) -> None:
    server = scripted(reply_once(response(b"x" * (LIMIT + 1)), close=False))
    client = make_client(max_body_size=LIMIT)
    error = await _error(client.fetch(server.url + "/"), ResponseTooLargeError)
    assert (
        error.message == f"Content-Length too long ({LIMIT + 1} > max_body_size of {LIMIT} bytes)"
    )
    assert (error.option, error.limit) == ("max_body_size", LIMIT)


async def test_body_over_max_body_size(make_client: Any, scripted: Any) -> None:
    # No length announced: the body is counted as it arrives.
    body = b"x" * (LIMIT * 3)
    server = scripted(reply_once(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body))
    client = make_client(max_body_size=LIMIT)
    error = await _error(client.fetch(server.url + "/"), ResponseTooLargeError)
    assert error.message == f"Body too long (over max_body_size of {LIMIT} bytes)"
    assert (error.option, error.limit) == ("max_body_size", LIMIT)


async def test_decoded_body_over_max_body_size(
    make_client: Any, scripted: Any, engine: str
) -> None:
    coded = gzip.compress(b"x" * (LIMIT * 50))
    server = scripted(reply_once(response(coded, headers=["Content-Encoding: gzip"]), close=False))
    client = make_client(max_body_size=LIMIT)
    error = await _error(client.fetch(server.url + "/"), ResponseTooLargeError)
    assert error.message == f"decompressed body too large (over max_body_size of {LIMIT} bytes)"
    assert (error.option, error.limit) == ("max_body_size", LIMIT)


async def test_head_over_max_header_size(make_client: Any, scripted: Any, engine: str) -> None:
    big = "X-Big: " + "b" * (HEADER_LIMIT * 2)
    server = scripted(reply_once(response(headers=[big]), close=False))
    client = make_client(max_header_size=HEADER_LIMIT)
    error = await _error(client.fetch(server.url + "/"), ResponseTooLargeError)
    assert (
        error.message == f"Header section too long (over max_header_size of {HEADER_LIMIT} bytes)"
    )
    assert (error.option, error.limit) == ("max_header_size", HEADER_LIMIT)


async def test_body_over_max_body_size_over_http2(make_client: Any, scripted: Any) -> None:
    server = scripted(
        _h2_reply(
            lambda peer, sid: peer.headers(sid),
            lambda peer, sid: peer.data(sid, b"x" * (LIMIT * 3)),
        )
    )
    client = make_client(max_body_size=LIMIT)
    fetch = client.fetch(server.url + "/", http_version="2", request_timeout=BACKSTOP)
    error = await _error(fetch, ResponseTooLargeError)
    assert error.message == f"Body too long (over max_body_size of {LIMIT} bytes)"
    assert (error.option, error.limit) == ("max_body_size", LIMIT)


async def test_head_over_max_header_size_over_http2(
    make_client: Any, scripted: Any, engine: str
) -> None:
    big = [*OK_HEAD, ("x-big", "b" * (HEADER_LIMIT * 2))]
    server = scripted(_h2_reply(lambda peer, sid: peer.headers(sid, big, end_stream=True)))
    client = make_client(max_header_size=HEADER_LIMIT)
    fetch = client.fetch(server.url + "/", http_version="2", request_timeout=BACKSTOP)
    error = await _error(fetch, ResponseTooLargeError)
    # jh2's HPACK decoder refuses the list on the simple engine: the same words.
    assert (
        error.message == f"Header section too long (over max_header_size of {HEADER_LIMIT} bytes)"
    )
    assert (error.option, error.limit) == ("max_header_size", HEADER_LIMIT)


# -- no context ----------------------------------------------------------------------


async def test_other_errors_name_no_option(client: Any, dead_url: str, scripted: Any) -> None:
    refused = await _error(client.fetch(dead_url), HTTPConnectionRefusedError)
    assert (refused.option, refused.limit) == (None, None)
    server = scripted(reply_once(response(b"gone", status="404 Not Found"), close=False))
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(server.url + "/")
    assert info.value.code == 404
    assert (info.value.option, info.value.limit) == (None, None)

"""Response and request bodies: streaming, header lines, producers, limits, decoding."""

from __future__ import annotations

import asyncio
import gzip
import socket
import zlib
from collections.abc import Callable
from typing import Any

import pytest

from squall._errors import HTTPClientError, ResponseTooLargeError
from tests.servers.app import AppServer
from tests.servers.helpers import echoed, echoed_headers
from tests.servers.routes import ENCODED_TEXT, large_body
from tests.servers.scripted import ScriptedServer, reply_each, response

SIZE = 300_000


@pytest.mark.over_http2
async def test_streaming_callback(client: Any, app_server: AppServer) -> None:
    chunks: list[bytes] = []
    response = await client.fetch(
        app_server.http_url + f"/large?size={SIZE}", streaming_callback=chunks.append
    )
    assert b"".join(chunks) == large_body(SIZE)
    assert response.body == b""


@pytest.mark.over_http2
async def test_streaming_callback_chunked(client: Any, app_server: AppServer) -> None:
    chunks: list[bytes] = []
    await client.fetch(
        app_server.http_url + "/chunked?chunks=5&size=3", streaming_callback=chunks.append
    )
    assert b"".join(chunks) == b"aaabbbcccdddeee"


@pytest.mark.over_http2
@pytest.mark.squall_only
async def test_coroutine_streaming_callback(client: Any, app_server: AppServer) -> None:
    chunks: list[bytes] = []

    async def slow_consumer(chunk: bytes) -> None:
        await asyncio.sleep(0.001)
        chunks.append(chunk)

    response = await client.fetch(
        app_server.http_url + f"/large?size={SIZE}", streaming_callback=slow_consumer
    )
    assert b"".join(chunks) == large_body(SIZE)
    assert response.body == b""


@pytest.mark.over_http2
async def test_connection_reused_after_coroutine_streaming_callback(
    client: Any, app_server: AppServer
) -> None:
    # The body's last chunk goes to a coroutine callback, which pauses reading;
    # the connection must go back to the pool reading again.

    async def consumer(chunk: bytes) -> None:
        await asyncio.sleep(0)

    await client.fetch(app_server.http_url + f"/large?size={SIZE}", streaming_callback=consumer)
    response = await client.fetch(app_server.http_url + "/echo", request_timeout=5)
    assert response.code == 200


async def test_header_callback(client: Any, app_server: AppServer) -> None:
    lines: list[str] = []
    response = await client.fetch(app_server.http_url + "/cookies", header_callback=lines.append)
    assert lines[0].startswith("HTTP/1.1 200")
    assert lines[-1] == "\r\n"
    assert all(line.endswith("\r\n") for line in lines)
    lowered = [line.lower() for line in lines]
    assert "set-cookie: a=1; path=/\r\n" in lowered
    assert "set-cookie: b=2; path=/\r\n" in lowered
    assert response.body == b"cookies"


@pytest.mark.over_http2
async def test_header_callback_lines_feed_parse_line(client: Any, app_server: AppServer) -> None:
    # Tornado's documented use: every line after the status line, the final
    # "\r\n" included, goes to HTTPHeaders.parse_line as it is.
    from squall.httputil import HTTPHeaders

    headers = HTTPHeaders()

    def on_line(line: str) -> None:
        if not line.startswith("HTTP/"):
            headers.parse_line(line)

    response = await client.fetch(app_server.http_url + "/cookies", header_callback=on_line)
    assert headers.get_list("Set-Cookie") == response.headers.get_list("Set-Cookie")
    assert sorted(headers.get_all()) == sorted(response.headers.get_all())


@pytest.mark.over_http2
async def test_header_callback_with_streaming(client: Any, app_server: AppServer) -> None:
    events: list[str] = []
    await client.fetch(
        app_server.http_url + "/chunked?chunks=2&size=2",
        header_callback=lambda line: events.append("header"),
        streaming_callback=lambda chunk: events.append("body"),
    )
    assert events[0] == "header" and events[-1] == "body"
    assert events.index("body") > max(i for i, e in enumerate(events) if e == "header")


@pytest.mark.squall_only("curl")  # body_producer: Tornado has it on its simple client only
@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "chunked"])
async def test_body_producer(
    client: Any, app_server: AppServer, engine: str, with_length: bool
) -> None:
    async def producer(write: Callable[[bytes], Any]) -> None:
        for part in (b"first-", b"second-", b"third"):
            await write(part)

    headers = {"Content-Length": "18"} if with_length else {}
    response = await client.fetch(
        app_server.http_url + "/echo", method="POST", body_producer=producer, headers=headers
    )
    data = echoed(response)
    assert data["body"] == "first-second-third"
    if not with_length:
        assert echoed_headers(data, "Transfer-Encoding") == ["chunked"]


@pytest.mark.over_http2
@pytest.mark.squall_only("curl")  # body_producer: Tornado has it on its simple client only
async def test_body_producer_large(client: Any, app_server: AppServer) -> None:
    block = b"z" * 65536

    async def producer(write: Callable[[bytes], Any]) -> None:
        for _ in range(40):
            await write(block)

    response = await client.fetch(
        app_server.http_url + "/echo", method="PUT", body_producer=producer
    )
    assert len(echoed(response)["body"]) == 40 * len(block)


@pytest.mark.over_http2
@pytest.mark.squall_only("curl")  # expect_100_continue: Tornado has it on its simple client only
async def test_expect_100_continue(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(
        app_server.http_url + "/echo", method="POST", body=b"after-100", expect_100_continue=True
    )
    data = echoed(response)
    assert data["body"] == "after-100"
    assert echoed_headers(data, "Expect") == ["100-continue"]


async def _assert_too_large(fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as info:
        await fetch
    assert info.value.code == 599
    assert isinstance(info.value, ResponseTooLargeError)


@pytest.mark.over_http2
async def test_max_body_size(make_client: Any, app_server: AppServer) -> None:
    client = make_client(max_body_size=10_000)
    await _assert_too_large(client.fetch(app_server.http_url + f"/large?size={SIZE}"))
    ok = await client.fetch(app_server.http_url + "/large?size=5000")
    assert ok.body == large_body(5000)


@pytest.mark.over_http2
async def test_max_body_size_applies_when_streaming(
    make_client: Any, app_server: AppServer
) -> None:
    client = make_client(max_body_size=10_000)
    url = app_server.http_url + f"/large?size={SIZE}"
    fetch = client.fetch(url, streaming_callback=lambda chunk: None)
    await _assert_too_large(fetch)


@pytest.mark.over_http2
async def test_max_body_size_on_chunked_body(make_client: Any, app_server: AppServer) -> None:
    client = make_client(max_body_size=1000)
    await _assert_too_large(client.fetch(app_server.http_url + "/chunked?chunks=20&size=100"))


@pytest.mark.over_http2
@pytest.mark.squall_only
async def test_max_buffer_size_limits_buffered_body(
    make_client: Any, app_server: AppServer
) -> None:
    client = make_client(max_buffer_size=10_000)
    await _assert_too_large(client.fetch(app_server.http_url + f"/large?size={SIZE}"))


@pytest.mark.over_http2
@pytest.mark.squall_only
async def test_max_buffer_size_does_not_limit_streaming(
    make_client: Any, app_server: AppServer
) -> None:
    client = make_client(max_buffer_size=10_000, max_body_size=10 * SIZE)
    chunks: list[bytes] = []
    await client.fetch(
        app_server.http_url + f"/large?size={SIZE}", streaming_callback=chunks.append
    )
    assert sum(map(len, chunks)) == SIZE


@pytest.mark.squall_only
@pytest.mark.over_http2
async def test_max_header_size(make_client: Any, app_server: AppServer) -> None:
    client = make_client(max_header_size=4096)
    await _assert_too_large(client.fetch(app_server.http_url + "/bigheader?size=20000"))
    ok = await client.fetch(app_server.http_url + "/bigheader?size=1000")
    assert len(ok.headers["X-Big"]) == 1000


@pytest.mark.squall_only
@pytest.mark.over_http2
@pytest.mark.known_gap(
    "curl",
    http_version="2",
    reason="nghttp2 refuses the header block itself (COMPRESSION_ERROR): libcurl reports"
    " an HTTP/2 error, not the header size",
)
async def test_default_max_header_size_is_64k(client: Any, app_server: AppServer) -> None:
    await _assert_too_large(client.fetch(app_server.http_url + "/bigheader?size=100000"))
    ok = await client.fetch(app_server.http_url + "/bigheader?size=30000")
    assert len(ok.headers["X-Big"]) == 30000


@pytest.mark.over_http2
@pytest.mark.parametrize("coding", ["gzip", "deflate"])
async def test_decompress_forced(client: Any, app_server: AppServer, coding: str) -> None:
    response = await client.fetch(app_server.http_url + f"/encoded?coding={coding}&force=1")
    assert response.body == ENCODED_TEXT


@pytest.mark.parametrize(
    "coding",
    [
        "gzip",
        # br and zstd are squall's own: Tornado's clients ask for gzip (and deflate) only.
        pytest.param("br", marks=pytest.mark.squall_only),
        pytest.param("zstd", marks=pytest.mark.squall_only),
    ],
)
@pytest.mark.over_http2
async def test_decompress_negotiated(
    client: Any, app_server: AppServer, engine: str, coding: str
) -> None:
    response = await client.fetch(app_server.http_url + f"/encoded?coding={coding}")
    assert response.body == ENCODED_TEXT
    # brotli and zstandard are installed, so both engines must ask for br and zstd;
    # pycurl's libcurl has no zstd, so the curl engine has to ask and decode it itself.
    assert response.headers["X-Encoded"] == coding


async def test_decompress_every_gzip_member(client: Any, scripted: Any) -> None:
    # `cat a.gz b.gz` is one gzip body (RFC 1952 section 2.2): no member may be dropped.
    body = gzip.compress(b"first, ") + gzip.compress(ENCODED_TEXT) + b"\0\0"

    server = scripted(reply_each(response(body, headers=["Content-Encoding: gzip"])))
    for _ in range(2):  # and the connection stays usable
        result = await client.fetch(server.url + "/", request_timeout=5)
        assert result.body == b"first, " + ENCODED_TEXT
    assert server.connections == 1


@pytest.mark.over_http2
async def test_decompress_false_returns_raw_body(client: Any, app_server: AppServer) -> None:
    response = await client.fetch(
        app_server.http_url + "/encoded?coding=gzip&force=1", decompress_response=False
    )
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.body) == ENCODED_TEXT


@pytest.mark.over_http2
async def test_decompress_false_sends_no_accept_encoding(
    client: Any, app_server: AppServer
) -> None:
    response = await client.fetch(app_server.http_url + "/echo", decompress_response=False)
    assert not any("gzip" in v for v in echoed_headers(echoed(response), "Accept-Encoding"))
    response = await client.fetch(app_server.http_url + "/echo")
    assert any("gzip" in v for v in echoed_headers(echoed(response), "Accept-Encoding"))


@pytest.mark.over_http2
async def test_decompress_streaming(client: Any, app_server: AppServer) -> None:
    chunks: list[bytes] = []
    await client.fetch(
        app_server.http_url + "/encoded?coding=deflate&force=1", streaming_callback=chunks.append
    )
    assert b"".join(chunks) == ENCODED_TEXT


@pytest.mark.over_http2
async def test_max_body_size_counts_decoded_bytes(make_client: Any, app_server: AppServer) -> None:
    # The gzip body is tiny on the wire; the limit is on what it decodes to.
    assert len(zlib.compress(ENCODED_TEXT)) < 1000 < len(ENCODED_TEXT)
    client = make_client(max_body_size=1000)
    await _assert_too_large(client.fetch(app_server.http_url + "/encoded?coding=gzip&force=1"))


@pytest.mark.squall_only("curl")  # expect_100_continue: Tornado has it on its simple client only
async def test_expect_100_continue_final_answer_first(client: Any, scripted: Any) -> None:
    # The server refuses from the headers alone; the client must take that answer
    # (and not wait forever to send a body nobody will read).
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        if not server.read_head(conn):  # the body is left unread
            return
        conn.sendall(response(b"no", "401 Unauthorized", ["Connection: close"]))
        server.wait()

    server = scripted(handler)
    result = await client.fetch(
        server.url + "/",
        method="PUT",
        body=b"x" * 100_000,
        expect_100_continue=True,
        raise_error=False,
    )
    assert (result.code, result.body) == (401, b"no")
    assert b"expect: 100-continue" in server.requests[0].lower()


@pytest.mark.over_http2
async def test_concurrent_fetches(client: Any, app_server: AppServer) -> None:
    urls = [app_server.http_url + f"/echo?n={i}" for i in range(20)]
    results = await asyncio.gather(*(client.fetch(url) for url in urls))
    assert [echoed(r)["query"] for r in results] == [f"n={i}" for i in range(20)]

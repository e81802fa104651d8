"""Failures without an HTTP response: each is a 599 leaf that also is the matching builtin."""

from __future__ import annotations

import socket
import ssl
from typing import Any

import pytest

from squall._decoding import SUPPORTED
from squall._errors import (
    HTTPCertificateError,
    HTTPClientError,
    HTTPConnectionRefusedError,
    HTTPNameResolutionError,
    HTTPStreamClosedError,
    RemoteProtocolError,
    ResponseTooLargeError,
)
from tests.servers.app import AppServer
from tests.servers.helpers import compress
from tests.servers.scripted import reply_once, response


def _assert_599(exc: BaseException, cls: type[BaseException]) -> None:
    assert isinstance(exc, cls), repr(exc)
    assert isinstance(exc, HTTPClientError) and exc.code == 599, repr(exc)
    assert str(exc), "the message must name the cause"


async def test_connection_refused(client: Any, closed_port: int) -> None:
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(f"http://127.0.0.1:{closed_port}/")
    _assert_599(info.value, HTTPConnectionRefusedError)
    assert isinstance(info.value, ConnectionRefusedError)
    assert info.value.__cause__ is not None or "curl" in type(info.value).__module__


async def test_name_resolution_failure(client: Any) -> None:
    with pytest.raises(HTTPClientError) as info:
        await client.fetch("http://nonexistent.invalid/")
    _assert_599(info.value, HTTPNameResolutionError)
    assert isinstance(info.value, socket.gaierror)
    assert "nonexistent.invalid" in str(info.value)


@pytest.mark.over_http2
async def test_certificate_verification_failure(client: Any, app_server: AppServer) -> None:
    # The default trust store does not know the test CA.
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(app_server.https_url + "/echo")
    _assert_599(info.value, HTTPCertificateError)
    assert isinstance(info.value, ssl.SSLCertVerificationError)


async def test_error_response_carries_599(client: Any, closed_port: int) -> None:
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(f"http://127.0.0.1:{closed_port}/", raise_error=False)
    assert info.value.response is not None
    assert info.value.response.code == 599
    assert info.value.response.error is info.value


MALFORMED = {
    "garbage-status-line": b"HELLO THERE\r\n\r\n",
    "bad-status-code": b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n",
    "unequal-content-lengths": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde"
    ),
    "te-and-cl": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n"
    ),
    "bad-chunk-size": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"
    ),
    "header-without-colon": b"HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n",
    "negative-content-length": b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
}


@pytest.mark.parametrize("reply", list(MALFORMED.values()), ids=list(MALFORMED))
async def test_malformed_response(client: Any, scripted: Any, reply: bytes) -> None:
    server = scripted(reply_once(reply, close=False))
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(server.url + "/", request_timeout=5)
    _assert_599(info.value, RemoteProtocolError)


@pytest.mark.parametrize("coding", SUPPORTED)
async def test_truncated_compressed_body(client: Any, scripted: Any, coding: str) -> None:
    # The framing is intact (Content-Length matches what is sent) but the compressed
    # stream stops early: a shorter body must not pass for the whole one.
    encoded = compress(coding, b"squall " * 2000)
    cut = encoded[: len(encoded) - 8]
    head = f"HTTP/1.1 200 OK\r\nContent-Encoding: {coding}\r\nContent-Length: {len(cut)}\r\n\r\n"
    server = scripted(reply_once(head.encode() + cut, close=False))
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(server.url + "/", request_timeout=5)
    _assert_599(info.value, RemoteProtocolError)
    assert coding in str(info.value) and "truncated" in str(info.value)


async def test_closed_before_response(client: Any, scripted: Any) -> None:
    server = scripted(reply_once(b""))
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(server.url + "/")
    _assert_599(info.value, HTTPStreamClosedError)
    assert server.connections == 1, "a fresh connection that fails must not be retried"


async def test_closed_mid_headers(client: Any, scripted: Any) -> None:
    server = scripted(reply_once(b"HTTP/1.1 200 OK\r\nContent-Le"))
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(server.url + "/")
    _assert_599(info.value, HTTPStreamClosedError)


async def test_closed_mid_body(client: Any, scripted: Any) -> None:
    server = scripted(reply_once(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly some"))
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(server.url + "/")
    _assert_599(info.value, HTTPStreamClosedError)


async def test_closed_mid_chunked_body(client: Any, scripted: Any) -> None:
    reply = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
    server = scripted(reply_once(reply))
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(server.url + "/")
    _assert_599(info.value, HTTPStreamClosedError)


async def test_oversized_response_headers(client: Any, scripted: Any) -> None:
    reply = b"HTTP/1.1 200 OK\r\n" + b"X-Filler: " + b"f" * 200_000 + b"\r\n\r\n"
    server = scripted(reply_once(reply, close=False))
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(server.url + "/", request_timeout=5)
    _assert_599(info.value, ResponseTooLargeError)


async def test_body_until_close_is_accepted(client: Any, scripted: Any) -> None:
    server = scripted(reply_once(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nread to the end"))
    result = await client.fetch(server.url + "/")
    assert result.body == b"read to the end"


async def test_custom_reason_phrase(client: Any, scripted: Any) -> None:
    server = scripted(reply_once(response(b"fine", status="299 Fine Thanks")))
    result = await client.fetch(server.url + "/")
    assert (result.code, result.reason, result.body) == (299, "Fine Thanks", b"fine")


async def test_interim_100_response_is_skipped(client: Any, scripted: Any) -> None:
    reply = b"HTTP/1.1 100 Continue\r\n\r\n" + response(b"final")
    server = scripted(reply_once(reply))
    result = await client.fetch(server.url + "/")
    assert (result.code, result.body) == (200, b"final")


async def test_client_usable_after_protocol_error(client: Any, scripted: Any) -> None:
    bad = scripted(reply_once(MALFORMED["garbage-status-line"]))
    good = scripted(reply_once(response(b"fine")))
    with pytest.raises(HTTPClientError):
        await client.fetch(bad.url + "/")
    assert (await client.fetch(good.url + "/")).body == b"fine"

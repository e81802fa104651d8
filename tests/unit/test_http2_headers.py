"""squall._http2.headers: the request's header list and the response head (pure)."""

from __future__ import annotations

import pytest

from squall._errors import RemoteProtocolError
from squall._http2.headers import request_header_list, response_head
from squall._request import HTTPRequest


def test_pseudo_headers_first_then_lowered_fields() -> None:
    request = HTTPRequest("https://example.com:8443/a/b?c=d", method="POST", body=b"x").resolved({})
    fields = [("Host", "example.com:8443"), ("X-Mixed-Case", "Value"), ("Content-Length", "1")]
    assert request_header_list(request, fields) == [
        (b":method", b"POST"),
        (b":scheme", b"https"),
        (b":authority", b"example.com:8443"),
        (b":path", b"/a/b?c=d"),
        (b"x-mixed-case", b"Value"),
        (b"content-length", b"1"),
    ]


def test_values_lose_surrounding_whitespace() -> None:
    # RFC 9113 §8.2.1: a value with whitespace at either end is malformed.
    request = HTTPRequest("http://example.com/").resolved({})
    assert request_header_list(request, [("X-Pad", " v \t")])[-1] == (b"x-pad", b"v")


def test_connection_specific_fields_are_dropped() -> None:
    request = HTTPRequest("http://example.com/").resolved({})
    fields = [
        ("Host", "other.example"),
        ("Connection", "keep-alive"),
        ("Keep-Alive", "timeout=5"),
        ("Proxy-Connection", "keep-alive"),
        ("Transfer-Encoding", "chunked"),
        ("Upgrade", "h2c"),
        ("TE", "gzip"),
        ("Accept", "*/*"),
    ]
    header_list = request_header_list(request, fields)
    assert (b":authority", b"other.example") in header_list  # the caller's Host wins
    assert [name for name, _ in header_list if not name.startswith(b":")] == [b"accept"]
    kept = request_header_list(request, [("TE", "trailers")])
    assert (b"te", b"trailers") in kept


def test_response_head_and_header_lines() -> None:
    head = response_head([(b":status", b"404"), (b"x-a", b"1"), (b"x-a", b"2")], "h:1")
    assert head.status_code == 404
    assert head.headers.get_list("X-A") == ["1", "2"]
    assert head.header_lines() == ["HTTP/2 404 \r\n", "x-a: 1\r\n", "x-a: 2\r\n", "\r\n"]


@pytest.mark.parametrize("status", [b"", b"20", b"abc", b"2000"])
def test_response_head_without_a_valid_status(status: bytes) -> None:
    header_list = [(b":status", status)] if status else [(b"x", b"y")]
    with pytest.raises(RemoteProtocolError, match="h:1"):
        response_head(header_list, "h:1")

"""The curl engine's head reader, fed header lines as libcurl hands them (no libcurl)."""

from __future__ import annotations

import pytest

from squall._curl.head import BodyTooLargeError, Head, HeadReader
from squall._errors import CurlError, RemoteProtocolError, ResponseTooLargeError
from squall._framing import CHUNKED, UNTIL_CLOSE
from squall._request import HTTPRequest

WHERE = "127.0.0.1:8080"


def reader(method: str = "GET", body_limit: int = 1000, **options: object) -> HeadReader:
    request = HTTPRequest("http://127.0.0.1:8080/", method=method, **options)  # type: ignore[arg-type]
    return HeadReader(request, header_limit=200, body_limit=body_limit)


def feed(head: HeadReader, *lines: bytes) -> Head | None:
    head.lines.extend(lines)
    return head.read()


def test_a_final_head() -> None:
    head = reader()
    assert feed(head, b"HTTP/1.1 200 OK\r\n", b"Content-Type: text/plain\r\n") is None
    before = head.complete
    result = feed(head, b"Content-Length: 5\r\n", b"\r\n")
    assert (before, head.complete) == (False, True)
    assert result is not None
    assert (result.code, result.reason, result.length, result.follow) == (200, "OK", 5, False)
    assert result.headers["Content-Type"] == "text/plain"
    assert result.lines[0] == b"HTTP/1.1 200 OK\r\n" and len(result.lines) == 3
    assert head.seen == len(head.lines) and feed(head) is None


def test_framing_of_the_body() -> None:
    chunked = feed(reader(), b"HTTP/1.1 200 OK\r\n", b"Transfer-Encoding: chunked\r\n", b"\r\n")
    assert chunked is not None and chunked.length == CHUNKED
    close = feed(reader(), b"HTTP/1.0 200 OK\r\n", b"\r\n")
    assert close is not None and close.length == UNTIL_CLOSE
    head = feed(reader("HEAD"), b"HTTP/1.1 200 OK\r\n", b"Content-Length: 99999\r\n", b"\r\n")
    assert head is not None and head.length == 0
    empty = feed(reader(), b"HTTP/1.1 304 Not Modified\r\n", b"Content-Length: 99999\r\n", b"\r\n")
    assert empty is not None and empty.length == 0


def test_interim_responses_then_the_final_one() -> None:
    head = reader()
    assert feed(head, b"HTTP/1.1 100 Continue\r\n", b"\r\n") is None
    assert not head.complete
    result = feed(head, b"HTTP/1.1 201 Created\r\n", b"\r\n")
    assert result is not None and result.code == 201 and result.reason == "Created"


def test_too_many_interim_responses() -> None:
    head = reader()
    for _ in range(10):
        feed(head, b"HTTP/1.1 102 Processing\r\n", b"\r\n")
    with pytest.raises(RemoteProtocolError, match="Too many 1xx"):
        feed(head, b"HTTP/1.1 103 Early Hints\r\n", b"\r\n")


def test_the_last_final_head_counts() -> None:
    # libcurl answering an authentication challenge itself: two final heads.
    head = reader()
    first = feed(head, b"HTTP/1.1 401 Unauthorized\r\n", b"Content-Length: 0\r\n", b"\r\n")
    assert first is not None and first.code == 401
    second = feed(head, b"HTTP/1.1 200 OK\r\n", b"Content-Length: 2\r\n", b"\r\n")
    assert second is not None and second.code == 200 and head.complete


def test_trailers_are_checked_and_dropped() -> None:
    head = reader()
    feed(head, b"HTTP/1.1 200 OK\r\n", b"Transfer-Encoding: chunked\r\n", b"\r\n")
    assert feed(head, b"X-Checksum: abc\r\n") is None
    with pytest.raises(RemoteProtocolError, match="bad trailer line"):
        feed(head, b"bad trailer\r\n")


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        ([b"HTTP/1.1 2000 OK\r\n"], "bad status line"),
        ([b"HTTP/1.1 200 OK\r\n", b"X(bad): v\r\n"], "bad header line"),
        ([b"HTTP/1.1 200 OK\r\n", b"X-Lf: v\n"], "not ended by CRLF"),
        ([b"HTTP/1.1 200 OK\r\n", b"X-A: v\r\n", b"\n"], "ends in LF"),
        ([b"HTTP/1.1 101 Switching Protocols\r\n"], "101"),
        ([b"HTTP/1.1 204 No Content\r\n", b"Content-Length: 1\r\n"], "204"),
        (
            [b"HTTP/1.1 200 OK\r\n", b"Content-Length: 2\r\n", b"Transfer-Encoding: chunked\r\n"],
            "Message with both Transfer-Encoding and Content-Length",
        ),
        (
            [b"HTTP/1.1 200 OK\r\n", b"Transfer-Encoding: gzip, chunked\r\n"],
            "Unsupported Transfer-Encoding",
        ),
        ([b"HTTP/1.1 200 OK\r\n", b"Content-Length: 1x\r\n"], "Content-Length"),
    ],
)
def test_malformed_heads_name_the_peer(lines: list[bytes], reason: str) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        feed(reader(), *lines, b"\r\n")
    assert str(info.value).startswith(f"Malformed HTTP response from {WHERE}: ")
    assert reason in str(info.value)


def test_header_section_over_the_limit() -> None:
    head = reader()
    with pytest.raises(ResponseTooLargeError, match="max_header_size of 200"):
        feed(head, b"HTTP/1.1 200 OK\r\n", *[b"X-Filler: %03d\r\n" % i for i in range(20)])


def test_announced_length_over_the_limit_is_a_curl_error() -> None:
    with pytest.raises(BodyTooLargeError) as info:
        feed(reader(), b"HTTP/1.1 200 OK\r\n", b"Content-Length: 1001\r\n", b"\r\n")
    exc = info.value
    assert isinstance(exc, CurlError) and isinstance(exc, ResponseTooLargeError)
    assert exc.errno == 23 and exc.code == 599 and "max_body_size" in str(exc)


def test_announced_length_of_a_decoded_or_followed_body_is_not_checked() -> None:
    gzip = [b"HTTP/1.1 200 OK\r\n", b"Content-Encoding: gzip\r\n", b"Content-Length: 5000\r\n"]
    result = feed(reader(decompress_response=True), *gzip, b"\r\n")
    assert result is not None and result.length == 5000
    redirect = [b"HTTP/1.1 302 Found\r\n", b"Location: /next\r\n", b"Content-Length: 5000\r\n"]
    result = feed(reader(follow_redirects=True, max_redirects=5), *redirect, b"\r\n")
    assert result is not None and result.follow

"""The sans-IO HTTP/1.1 client protocol, bytes in and bytes out (no sockets)."""

from __future__ import annotations

import pytest

from squall._errors import HTTPStreamClosedError, RemoteProtocolError, ResponseTooLargeError
from squall._http1.protocol import (
    END_OF_MESSAGE,
    ClientProtocol,
    Event,
    InformationalResponse,
    Response,
)

HOST = [("Host", "example.com")]


def started(method: str = "GET", max_header_size: int = 65536) -> ClientProtocol:
    proto = ClientProtocol(max_header_size)
    proto.start_request(method, "/", HOST)
    return proto


def feed_all(proto: ClientProtocol, *chunks: bytes) -> list[Event]:
    events: list[Event] = []
    for chunk in chunks:
        events.extend(proto.receive_data(chunk))
    return events


def body_of(events: list[Event]) -> bytes:
    return b"".join(e for e in events if isinstance(e, bytes))


# -- sending -----------------------------------------------------------------------


def test_request_head_and_body_are_one_buffer() -> None:
    proto = ClientProtocol()
    data = proto.start_request("POST", "/a?b=1", [*HOST, ("Content-Length", "3")], b"abc")
    assert data == b"POST /a?b=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\n\r\nabc"


def test_chunked_request_framing() -> None:
    proto = ClientProtocol()
    head = proto.start_request("PUT", "/", HOST, chunked=True)
    assert head.endswith(b"Transfer-Encoding: chunked\r\n\r\n")
    assert proto.frame(b"hello") == b"5\r\nhello\r\n"
    assert proto.frame(b"") == b""  # an empty chunk would end the body early
    assert proto.end_request() == b"0\r\n\r\n"


def test_unchunked_stream_passes_through() -> None:
    proto = ClientProtocol()
    proto.start_request("PUT", "/", [*HOST, ("Content-Length", "5")])
    assert proto.frame(b"hello") == b"hello"
    assert proto.end_request() == b""


@pytest.mark.parametrize(
    ("method", "target", "headers", "needle"),
    [
        ("GET", "/", [("X-A", "b\r\nX-Evil: 1")], "header value"),
        ("GET", "/", [("X-A\n", "b")], "header name"),
        ("GET", "/", [("X-A", "b\0")], "header value"),
        ("GET", "/a\r\nX: y", [], "request target"),
        ("GE T", "/", [], "method"),
    ],
)
def test_injection_is_refused(
    method: str, target: str, headers: list[tuple[str, str]], needle: str
) -> None:
    with pytest.raises(ValueError, match=needle):
        ClientProtocol().start_request(method, target, [*HOST, *headers])


def test_new_request_before_response_is_a_local_error() -> None:
    proto = started()
    with pytest.raises(RuntimeError):
        proto.start_request("GET", "/", HOST)


# -- framing (RFC 9112 §6.3) -----------------------------------------------------------


def test_content_length_body_split_anywhere() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello"
    for cut in range(1, len(raw)):
        proto = started()
        events = feed_all(proto, raw[:cut], raw[cut:])
        response = events[0]
        assert isinstance(response, Response)
        assert response.status_code == 200
        assert response.reason == "OK"
        assert response.headers["x-a"] == "1"
        assert body_of(events) == b"hello"
        assert events[-1] is END_OF_MESSAGE
        assert proto.keep_alive


def test_chunked_body_and_trailers_dropped() -> None:
    proto = started()
    events = feed_all(
        proto,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
        b"2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n",
    )
    assert body_of(events) == b"abcde"
    assert events[-1] is END_OF_MESSAGE
    response = events[0]
    assert isinstance(response, Response)
    assert "X-Trailer" not in response.headers
    assert proto.keep_alive


def test_body_until_close() -> None:
    proto = started()
    events = feed_all(proto, b"HTTP/1.1 200 OK\r\n\r\nsome", b" data")
    assert events[-1] is not END_OF_MESSAGE
    assert proto.receive_eof() == [END_OF_MESSAGE]
    assert body_of(events) == b"some data"
    assert not proto.keep_alive


# A close cuts a response short: HTTPStreamClosedError exactly, not the RemoteProtocolError
# subclass (what arrived was well formed), as with the curl engine.


def test_truncated_content_length_body_is_an_error() -> None:
    proto = started()
    proto.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    with pytest.raises(HTTPStreamClosedError, match="body was complete") as info:
        proto.receive_eof()
    assert type(info.value) is HTTPStreamClosedError
    assert not proto.keep_alive


def test_truncated_chunked_body_is_an_error() -> None:
    proto = started()
    proto.receive_data(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc")
    with pytest.raises(HTTPStreamClosedError, match="body was complete") as info:
        proto.receive_eof()
    assert type(info.value) is HTTPStreamClosedError


def test_eof_before_headers_is_an_error() -> None:
    proto = started()
    proto.receive_data(b"HTTP/1.1 200 OK\r\nContent-")
    with pytest.raises(HTTPStreamClosedError, match="headers were complete") as info:
        proto.receive_eof()
    assert type(info.value) is HTTPStreamClosedError


def test_eof_before_any_byte_is_an_error() -> None:
    with pytest.raises(HTTPStreamClosedError, match="without a response") as info:
        started().receive_eof()
    assert type(info.value) is HTTPStreamClosedError


def test_head_response_has_no_body_and_connection_is_reused() -> None:
    proto = started("HEAD")
    events = proto.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    assert [type(e) for e in events] == [Response, type(END_OF_MESSAGE)]
    assert proto.keep_alive
    proto.start_request("GET", "/", HOST)
    events = proto.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert body_of(events) == b"ok"


def test_head_response_followed_by_a_body_poisons_the_connection() -> None:
    proto = started("HEAD")
    events = proto.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc")
    assert events[-1] is END_OF_MESSAGE
    assert body_of(events) == b""
    assert not proto.keep_alive


@pytest.mark.parametrize("code", [204, 304])
def test_no_body_codes(code: int) -> None:
    proto = started()
    length = b"Content-Length: 10\r\n" if code == 304 else b""
    events = proto.receive_data(b"HTTP/1.1 %d X\r\n%b\r\n" % (code, length))
    assert events[-1] is END_OF_MESSAGE
    assert proto.keep_alive


def test_keep_alive_verdicts() -> None:
    cases = {
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n": True,
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n": False,
        b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n": False,
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n": True,
    }
    for raw, expected in cases.items():
        proto = started()
        assert proto.receive_data(raw)[-1] is END_OF_MESSAGE
        assert proto.keep_alive is expected, raw


def test_extra_bytes_after_response_poison_the_connection() -> None:
    proto = started()
    events = proto.receive_data(
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    )
    assert [e for e in events if isinstance(e, Response)].__len__() == 1
    assert events[-1] is END_OF_MESSAGE
    assert not proto.keep_alive


def test_unsolicited_bytes_when_idle() -> None:
    proto = started()
    proto.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert proto.receive_data(b"HTTP/1.1 408 Request Timeout\r\n\r\n") == []
    assert not proto.keep_alive


def test_response_started_flag() -> None:
    proto = started()
    assert not proto.response_started
    proto.receive_data(b"H")
    assert proto.response_started


# -- 1xx -----------------------------------------------------------------------------------


def test_informational_responses_are_reported_then_skipped() -> None:
    proto = started()
    events = proto.receive_data(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"
    )
    codes = [e.status_code for e in events if isinstance(e, Response)]
    assert codes == [100, 103, 200]
    assert isinstance(events[0], InformationalResponse)
    assert not isinstance(events[2], InformationalResponse)
    assert body_of(events) == b"x"


def test_too_many_informational_responses() -> None:
    proto = started()
    with pytest.raises(RemoteProtocolError, match="Too many 1xx"):
        proto.receive_data(b"HTTP/1.1 100 Continue\r\n\r\n" * 11)


@pytest.mark.parametrize("fields", [b"Upgrade: x\r\nConnection: upgrade\r\n", b""])
def test_unrequested_upgrade_is_refused(fields: bytes) -> None:
    proto = started()
    with pytest.raises(RemoteProtocolError, match="Unexpected 101"):
        proto.receive_data(b"HTTP/1.1 101 Switching\r\n" + fields + b"\r\n")
    assert not proto.keep_alive


def test_chunked_is_the_one_transfer_coding_accepted() -> None:
    proto = started()
    events = proto.receive_data(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    )
    assert (body_of(events), events[-1]) == (b"ok", END_OF_MESSAGE)


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc",
            "Multiple unequal Content-Lengths",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            "both Transfer-Encoding and Content-Length",
        ),
        (
            b"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\nabc",
            "204 should not have body",
        ),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
            "Unsupported Transfer-Encoding: gzip, chunked",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            "Unsupported Transfer-Encoding: ",
        ),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "Unsupported Transfer-Encoding: "),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "Unsupported Transfer-Encoding",
        ),
        (b"HTTP/1.1 200 OK\r\n X: a\r\n\r\n", "Unexpected space after start line"),
        (  # a fold is joined in a head (RFC 9112 section 5.2), not in trailers
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: a\r\n b\r\n\r\n",
            "whitespace at the start of a header line",
        ),
        (b"SMTP ready\r\n\r\n", "Malformed HTTP response"),
    ],
)
def test_protocol_errors_name_the_reason(raw: bytes, reason: str) -> None:
    proto = started()
    with pytest.raises(RemoteProtocolError, match=reason):
        proto.receive_data(raw)
    assert not proto.keep_alive


def test_header_section_too_large_in_one_read() -> None:
    proto = started(max_header_size=1024)
    raw = b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 2000 + b"\r\nContent-Length: 0\r\n\r\n"
    with pytest.raises(ResponseTooLargeError, match="max_header_size"):
        proto.receive_data(raw)


def test_header_section_too_large_across_reads() -> None:
    proto = started(max_header_size=1024)
    proto.receive_data(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(ResponseTooLargeError):
        for _ in range(100):
            proto.receive_data(b"X-Many: " + b"b" * 50 + b"\r\n")


def test_large_body_does_not_count_as_header() -> None:
    proto = started(max_header_size=1024)
    body = b"z" * 5000
    events = proto.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + body)
    assert body_of(events) == body


def test_header_lines_for_header_callback() -> None:
    proto = started()
    events = proto.receive_data(b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nContent-Length: 0\r\n\r\n")
    response = events[0]
    assert isinstance(response, Response)
    assert response.header_lines() == [
        "HTTP/1.1 200 OK\r\n",
        "A: 1\r\n",
        "B: 2\r\n",
        "Content-Length: 0\r\n",
        "\r\n",
    ]


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nX: a\r\n\t  b\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 2\r\n\r\nok",
    ],
)
@pytest.mark.parametrize("step", [1, 7, 1000])
def test_folded_header_lines_are_joined(raw: bytes, step: int) -> None:
    # RFC 9112 section 5.2: a user agent replaces an obs-fold with SP, whatever the reads.
    proto = started()
    events = [e for i in range(0, len(raw), step) for e in proto.receive_data(raw[i : i + step])]
    response = next(e for e in events if type(e) is Response)  # not the 100
    assert response.headers["X"] == "a b"
    assert b"".join(e for e in events if isinstance(e, bytes)) == b"ok"
    assert events[-1] is END_OF_MESSAGE and proto.keep_alive

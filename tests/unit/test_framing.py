"""squall._framing: the response rules both engines enforce, checked against llhttp.

The curl engine applies these patterns to what libcurl lets through; the simple
engine's parser is llhttp (through httptools). So each pattern must accept what
llhttp accepts and refuse what it refuses, on the lines below.
"""

from __future__ import annotations

import httptools
import pytest

from squall._errors import RemoteProtocolError
from squall._framing import (
    FIELD_BLOCK,
    FIELD_LINE,
    MAX_CONTENT_LENGTH,
    STATUS_LINE,
    content_length,
)


class _Sink:
    """httptools callbacks: none needed."""


def _llhttp_accepts(head: bytes) -> bool:
    parser = httptools.HttpResponseParser(_Sink())
    try:
        parser.feed_data(head)
    except httptools.HttpParserError:
        return False
    return True


STATUS_LINES = [
    b"HTTP/1.1 200 OK\r\n",
    b"HTTP/1.0 404 Not Found\r\n",
    b"HTTP/1.1 200\r\n",
    b"HTTP/1.1 200 \r\n",
    b"HTTP/1.1 599 any \x01 reason \xff\r\n",
    b"HTTP/1.1 999 X\r\n",
    b"HTTP/0.9 200 OK\r\n",
    b"HTTP/2.0 200 OK\r\n",
    b"HTTP/1.2 200 OK\r\n",
    b"HTTP/3.1 200 OK\r\n",
    b"HTTP/3.0 200 OK\r\n",
    b"HTTP/1.1 2000 OK\r\n",
    b"HTTP/1.1 20 OK\r\n",
    b"HTTP/1.1 2x0 OK\r\n",
    b"HTTP/1.1  200 OK\r\n",
    b"HTTP/1.1\t200 OK\r\n",
    b"HTTP/1.1 200OK\r\n",
    b"http/1.1 200 OK\r\n",
    b"HTTP/1.1 200 OK\n",
    b"HTTP/1.1 200 O\rK\r\n",
    b"ICY 200 OK\r\n",
]


@pytest.mark.parametrize("line", STATUS_LINES)
def test_status_line_as_llhttp(line: bytes) -> None:
    expected = _llhttp_accepts(line + b"Content-Length: 0\r\n\r\n")
    assert (STATUS_LINE.fullmatch(line) is not None) == expected


@pytest.mark.parametrize("line", [b"HTTP/2 200 \r\n", b"HTTP/3 404 \r\n"])
def test_status_lines_libcurl_writes_for_http2_and_http3(line: bytes) -> None:
    match = STATUS_LINE.fullmatch(line)
    assert match is not None and match[1] == line[7:10]


def test_status_code_and_reason_groups() -> None:
    match = STATUS_LINE.fullmatch(b"HTTP/1.1 201 Made It\r\n")
    assert match is not None and (match[1], match[2]) == (b"201", b"Made It")
    match = STATUS_LINE.fullmatch(b"HTTP/1.1 204\r\n")
    assert match is not None and match[2] is None


FIELD_LINES = [
    b"Content-Type: text/html\r\n",
    b"X:\r\n",
    b"X:v\r\n",
    b"X:   spaced value   \r\n",
    b"X: a\tb\r\n",
    b"X-Raw: caf\xc3\xa9 \xff\r\n",
    b"!#$%&'*+-.^_`|~09az: v\r\n",
    b"X-Sp : v\r\n",
    b"X\t: v\r\n",
    b": v\r\n",
    b"X(bad): v\r\n",
    b"X\xff: v\r\n",
    b"no colon\r\n",
    b" folded\r\n",
    b"X-Ctl: a\x01b\r\n",
    b"X-Del: a\x7fb\r\n",
    b"X-Nul: \x00\r\n",
    b"X-Cr: a\rb\r\n",
    b"X-Lf: a\n",
    b"HTTP/1.1: 500\r\n",
]


@pytest.mark.parametrize("line", FIELD_LINES)
def test_field_line_as_llhttp(line: bytes) -> None:
    expected = _llhttp_accepts(b"HTTP/1.1 200 OK\r\n" + line + b"Content-Length: 0\r\n\r\n")
    assert (FIELD_LINE.fullmatch(line) is not None) == expected


@pytest.mark.parametrize("line", FIELD_LINES)
def test_trailer_line_as_llhttp(line: bytes) -> None:
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n"
    expected = _llhttp_accepts(chunked + line + b"\r\n")
    assert (FIELD_LINE.fullmatch(line) is not None) == expected


def test_field_block_is_every_line_a_field_line() -> None:
    good = [line for line in FIELD_LINES if FIELD_LINE.fullmatch(line)]
    bad = [line for line in FIELD_LINES if not FIELD_LINE.fullmatch(line)]
    assert len(good) > 5 and len(bad) > 5
    head = b"HTTP/1.1 200 OK\r\n"
    assert FIELD_BLOCK.fullmatch(head + b"".join(good), len(head))
    assert FIELD_BLOCK.fullmatch(b"")
    for line in bad:
        assert FIELD_BLOCK.fullmatch(b"".join([*good[:2], line, *good[2:]])) is None


@pytest.mark.parametrize(
    ("values", "length"),
    [(["0"], 0), (["2"], 2), (["0002"], 2), ([str(MAX_CONTENT_LENGTH)], 2**64 - 1)],
)
def test_content_length(values: list[str], length: int) -> None:
    assert content_length(values) == length
    fields = "".join(f"Content-Length: {value}\r\n" for value in values)
    assert _llhttp_accepts(b"HTTP/1.1 200 OK\r\n" + fields.encode("latin-1") + b"\r\n")


@pytest.mark.parametrize("values", [["2", "2"], ["2, 2"], ["2,2", " 2"]])
def test_equal_content_lengths_are_one(values: list[str]) -> None:
    # RFC 9110 section 8.6; llhttp refuses these, the simple engine rewrites the head.
    assert content_length(values) == 2


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        (["2", "3"], "Multiple unequal Content-Lengths"),
        (["2, 3"], "Multiple unequal Content-Lengths"),
        (["+2"], "Invalid character"),
        (["-1"], "Invalid character"),
        (["0x10"], "Invalid character"),
        (["\xb2"], "Invalid character"),  # a digit to str.isdigit(), not to HTTP
        ([""], "Empty"),
        ([str(2**64)], "overflow"),
        (["99999999999999999999999"], "overflow"),
    ],
)
def test_content_length_refused(values: list[str], reason: str) -> None:
    with pytest.raises(RemoteProtocolError, match=reason):
        content_length(values)
    fields = "".join(f"Content-Length: {value}\r\n" for value in values)
    assert not _llhttp_accepts(b"HTTP/1.1 200 OK\r\n" + fields.encode("latin-1") + b"\r\n")

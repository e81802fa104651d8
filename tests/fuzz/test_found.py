"""What the fuzzer found, as regular tests: each input it crashed on, and the bug
behind it pinned on its own.

Every file in ``found/`` (``<target>-<hash>``, libFuzzer's crash input) replays
through its target; the tests below state each bug plainly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from squall._errors import RemoteProtocolError, ResponseTooLargeError
from squall._headers import HTTPHeaders
from squall._http1.protocol import ClientProtocol, Response
from squall._urls import parse_url
from tests.fuzz.targets import TARGETS, _pieces
from tests.servers.scripted import reply_once

FOUND = sorted((Path(__file__).parent / "found").iterdir())


@pytest.mark.parametrize("path", FOUND, ids=[path.name[:24] for path in FOUND])
def test_found_input_replays(path: Path) -> None:
    TARGETS[path.name.rpartition("-")[0]](path.read_bytes())


def test_value_loses_trailing_white_space() -> None:
    # llhttp keeps the OWS after a field value; it is not part of the value
    # (RFC 9112 section 5), and the curl engine and parse_line drop it.
    protocol = ClientProtocol()
    protocol.start_request("GET", "/", [("Host", "a.test")])
    raw = b"HTTP/1.1 200 OK\r\nX-A: v \t\r\nX-B: \r\nContent-Length: 0\r\n\r\n"
    (head, _) = protocol.receive_data(raw)
    assert isinstance(head, Response)
    assert list(head.headers.get_all()) == [("X-A", "v"), ("X-B", ""), ("Content-Length", "0")]
    assert head.header_lines()[1] == "X-A: v\r\n"


async def test_engines_agree_on_trailing_white_space(make_client: Any, scripted: Any) -> None:
    server = scripted(reply_once(b"HTTP/1.1 200 OK\r\nX-A: v  \r\nContent-Length: 2\r\n\r\nok"))
    response = await make_client().fetch(server.url + "/")
    assert response.headers.get_list("X-A") == ["v"]


def test_idna_mapping_to_a_space_is_refused() -> None:
    # NFKC maps U+02DA (ring above) to a space and a combining ring: the host
    # 'xn--tt 1-7wc' would have reached the Host header with a space in it.
    with pytest.raises(ValueError, match="invalid character ' ' in the host"):
        parse_url("http://tt\u02da1/")


@pytest.mark.parametrize("name", ["\x1e", "\xa0", "X\x1c"])
def test_header_name_keeps_octets_python_calls_white_space(name: str) -> None:
    # str.strip() ate \x1c-\x1f and \xa0 from a name, and could leave it empty
    # (then str() of the headers did not parse back).
    headers = HTTPHeaders()
    headers.parse_line(f"{name}: v")
    assert list(headers.get_all()) == [(name, "v")]


@pytest.mark.parametrize("block", [":v\r\n", "A: 1\r\n:v\r\n"])
def test_header_line_without_a_name_is_refused(block: str) -> None:
    with pytest.raises(ValueError, match="no field name"):
        HTTPHeaders.parse(block)


@pytest.mark.parametrize("size", [0, 1, 7])
def test_fold_after_empty_lines_is_joined(size: int) -> None:
    # llhttp skips empty lines before the status line; the fold fallback took the
    # first CRLFCRLF for the head's end, never joined the fold, and parsed the head
    # again and again (RecursionError).
    raw = b"\r\n\r\nHTTP/1.1 200 OK\r\nX-F: a\r\n  b\r\nContent-Length: 1\r\n\r\nx"
    protocol = ClientProtocol()
    protocol.start_request("GET", "/", [("Host", "a.test")])
    events = [event for read in _pieces(raw, size) for event in protocol.receive_data(read)]
    head = events[0]
    assert isinstance(head, Response) and head.headers["X-F"] == "a b"
    assert b"".join(e for e in events if isinstance(e, bytes)) == b"x"


def test_head_limit_in_a_refolded_head_after_a_1xx_fails() -> None:
    # Our error inside an httptools callback was found through __context__, which
    # the fold fallback's re-parse (inside an except block) replaced: the response
    # then ended silently, with no final response and no error.
    raw = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n </b>\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nX-Pad: " + b"p" * 64 + b"\r\n\r\n"
    )
    protocol = ClientProtocol(max_header_size=64)
    protocol.start_request("GET", "/", [("Host", "a.test")])
    with pytest.raises(ResponseTooLargeError, match="max_header_size"):
        protocol.receive_data(raw)


def test_callback_error_survives_a_callers_except_block() -> None:
    protocol = ClientProtocol()
    protocol.start_request("GET", "/", [("Host", "a.test")])
    try:
        raise KeyError("the caller's own")
    except KeyError:
        with pytest.raises(RemoteProtocolError, match="204 should not have body"):
            protocol.receive_data(b"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\nabc")


@pytest.mark.parametrize("url", ["http://[::%\u00e9]/", "http://[fe80::1%25a\udcff]:8/"])
def test_ipv6_zone_id_outside_unreserved_is_refused(url: str) -> None:
    # ipaddress accepts any zone id: non-ASCII ones reached the Host header.
    with pytest.raises(ValueError, match="invalid IPv6 zone id"):
        parse_url(url)


def test_ipv6_zone_id_of_unreserved_characters_is_kept() -> None:
    assert parse_url("http://[fe80::1%25eth0]/").netloc == "[fe80::1%25eth0]"

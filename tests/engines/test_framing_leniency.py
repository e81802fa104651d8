"""What real servers send that is valid HTTP, though llhttp's defaults refuse it.

Both engines accept it, as Tornado and libcurl do: equal duplicate
Content-Length values (RFC 9110 section 8.6) and whitespace in chunk extensions
(RFC 9112 section 7.1.1: BWS around ";" and "="). Unequal lengths stay refused.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from squall._errors import HTTPClientError, RemoteProtocolError
from tests.servers.scripted import ScriptedServer, reply_once

CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

# squall's contract: accepted and the connection reused (Tornado reuses none, and its
# simple client refuses every chunk extension).
pytestmark = pytest.mark.squall_only


def _serve(reply: bytes) -> Any:
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        while server.read_request(conn):
            conn.sendall(reply)

    return handler


EQUAL_LENGTHS = {
    "list": b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok",
    "list-no-space": b"HTTP/1.1 200 OK\r\nContent-Length: 2,2,2\r\n\r\nok",
    "two-fields": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
    "apart": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\r\ncontent-length:2\r\n\r\nok",
}


@pytest.mark.parametrize("reply", list(EQUAL_LENGTHS.values()), ids=list(EQUAL_LENGTHS))
async def test_equal_duplicate_content_lengths_are_one(
    client: Any, scripted: Any, reply: bytes
) -> None:
    server = scripted(_serve(reply))
    for _ in range(2):  # the length framed the body: the connection is reused
        result = await client.fetch(server.url + "/", request_timeout=5)
        assert result.body == b"ok"
        assert result.headers.get_list("Content-Length") == ["2"], "one value, as Tornado shows"
    assert server.connections == 1


UNEQUAL_LENGTHS = {
    "list": b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok",
    "two-fields": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
    "empty-member": b"HTTP/1.1 200 OK\r\nContent-Length: 2,\r\n\r\nok",
}


@pytest.mark.parametrize("reply", list(UNEQUAL_LENGTHS.values()), ids=list(UNEQUAL_LENGTHS))
async def test_unequal_content_lengths_are_refused(
    client: Any, scripted: Any, reply: bytes
) -> None:
    server = scripted(reply_once(reply, close=False))
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(server.url + "/", request_timeout=5)
    assert isinstance(info.value, RemoteProtocolError), repr(info.value)


BWS_EXTENSIONS = {
    "before-semicolon": b"6 ;q=x\r\nabcdef\r\n0\r\n\r\n",
    "around-semicolon": b'6 ; q="x"\r\nabcdef\r\n0\r\n\r\n',
    "around-equals": b"6;q = x ; r\r\nabcdef\r\n0\r\n\r\n",
    "tab": b"6\t;\tq\r\nabcdef\r\n0 ; last\r\n\r\n",
    "later-chunk": b'3\r\nabc\r\n3 ; q="x"\r\ndef\r\n0\r\n\r\n',
}


@pytest.mark.parametrize("body", list(BWS_EXTENSIONS.values()), ids=list(BWS_EXTENSIONS))
@pytest.mark.parametrize("split", [False, True], ids=["one-read", "byte-reads"])
async def test_chunk_extensions_with_whitespace_are_ignored(
    client: Any, scripted: Any, body: bytes, split: bool
) -> None:
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        while server.read_request(conn):
            if not split:
                conn.sendall(CHUNKED + body)
                continue
            conn.sendall(CHUNKED)
            for i in range(len(body)):  # every line split at every place
                conn.sendall(body[i : i + 1])

    server = scripted(handler)
    for _ in range(2):
        result = await client.fetch(server.url + "/", request_timeout=5)
        assert result.body == b"abcdef"
    assert server.connections == 1

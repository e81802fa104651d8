"""What each engine sends to a SOCKS proxy, byte by byte (both engines).

Scripted SOCKS servers record the handshake (address types, the name or the
address, the credentials) and then answer the HTTP request themselves.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from squall._errors import HTTPClientError
from tests.servers.scripted import ScriptedServer, response

# squall's own contract on the wire (Tornado's simple client has no proxies at all).
pytestmark = pytest.mark.squall_only

ORIGIN = "origin.squall.test"  # never resolved: only the proxy is dialled


def _recv(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        assert chunk, "the client closed during the handshake"
        data += chunk
    return data


def _socks5_proxy(credentials: tuple[bytes, bytes] | None = None) -> Any:
    """A SOCKS5 server that records the requested address, then answers HTTP itself."""
    seen: list[Any] = []

    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        _version, count = _recv(conn, 2)
        methods = _recv(conn, count)
        if credentials is None:
            conn.sendall(b"\x05\x00")
        else:
            assert b"\x02" in methods
            conn.sendall(b"\x05\x02")
            _, size = _recv(conn, 2)
            user = _recv(conn, size)
            password = _recv(conn, _recv(conn, 1)[0])
            seen.append((user, password))
            if (user, password) != credentials:
                conn.sendall(b"\x01\x01")
                return
            conn.sendall(b"\x01\x00")
        _, _command, _, kind = _recv(conn, 4)
        if kind == 1:
            address: Any = socket.inet_ntoa(_recv(conn, 4))
        elif kind == 4:
            address = socket.inet_ntop(socket.AF_INET6, _recv(conn, 16))
        else:
            address = _recv(conn, _recv(conn, 1)[0]).decode()
        port = int.from_bytes(_recv(conn, 2), "big")
        seen.append((kind, address, port))
        conn.sendall(b"\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x50")
        while server.read_request(conn):
            conn.sendall(response(b"socks"))

    handler.seen = seen  # type: ignore[attr-defined]
    return handler


@pytest.mark.parametrize(
    "scheme, expected",
    [
        ("socks5h", {(3, "localhost", 8080)}),
        ("socks5", {(1, "127.0.0.1", 8080), (4, "::1", 8080)}),  # the name resolved here
    ],
)
async def test_socks5_resolves_locally_and_socks5h_on_the_proxy(
    client: Any, scripted: Any, scheme: str, expected: set[tuple[int, str, int]]
) -> None:
    handler = _socks5_proxy()
    server = scripted(handler)
    reply = await client.fetch(
        "http://localhost:8080/", proxy_host=f"{scheme}://127.0.0.1", proxy_port=server.port
    )
    assert reply.body == b"socks"
    (seen,) = handler.seen
    assert seen in expected


async def test_socks5_credentials_in_proxy_host_are_percent_decoded(
    client: Any, scripted: Any
) -> None:
    handler = _socks5_proxy((b"us@er", b"p:ss word"))
    server = scripted(handler)
    reply = await client.fetch(
        f"http://{ORIGIN}/", proxy_host=f"socks5h://us%40er:p%3Ass%20word@127.0.0.1:{server.port}"
    )
    assert reply.body == b"socks"
    assert handler.seen == [(b"us@er", b"p:ss word"), (3, ORIGIN, 80)]


async def test_socks5_refused_credentials_fail_the_request(client: Any, scripted: Any) -> None:
    server = scripted(_socks5_proxy((b"user", b"right")))
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(
            f"http://{ORIGIN}/", proxy_host=f"socks5h://user:wrong@127.0.0.1:{server.port}"
        )
    assert info.value.code == 599


async def test_socks4a_sends_the_name_to_the_proxy(client: Any, scripted: Any) -> None:
    seen: list[Any] = []

    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        head = _recv(conn, 8)
        data = b""
        while data.count(b"\x00") < 2:
            data += conn.recv(1)
        _user_id, name, _ = data.split(b"\x00")
        seen.append((head[:2], int.from_bytes(head[2:4], "big"), head[4:8], name))
        conn.sendall(b"\x00\x5a" + b"\x00" * 6)
        while server.read_request(conn):
            conn.sendall(response(b"socks4a"))

    server = scripted(handler)
    reply = await client.fetch(
        f"http://{ORIGIN}:8080/", proxy_host=f"socks4a://127.0.0.1:{server.port}"
    )
    assert reply.body == b"socks4a"
    # An invalid IP 0.0.0.x says "the name follows" (SOCKS4a).
    ((command, port, ip, name),) = seen
    assert (command, port, name) == (b"\x04\x01", 8080, ORIGIN.encode())
    assert ip[:3] == b"\x00\x00\x00" and ip[3] != 0

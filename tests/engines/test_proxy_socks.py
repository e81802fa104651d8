"""A SOCKS proxy's refusals, and the SOCKS4 user id, the same on both engines.

Scripted SOCKS servers answer each step of the handshake as a real one may fail
it (refused credentials, a closed connection, each reply code); pproxy with
``--auth 0`` is the real proxy that drops a connection with wrong credentials.
Both engines raise the same class with the same words for each failure (the
curl engine keeps libcurl's code on the chained ``CurlError``).
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from squall._errors import (
    CurlError,
    HTTPConnectionError,
    HTTPConnectionRefusedError,
    HTTPStreamClosedError,
)
from tests.conftest import _free_port, _subprocess_server
from tests.servers.helpers import PROXY_PASSWORD, PROXY_USER
from tests.servers.scripted import ScriptedServer, response

# Tornado's simple client has no proxies; its curl client raises bare CurlErrors.
pytestmark = pytest.mark.squall_only

ORIGIN = "origin.squall.test"  # never resolved: only the proxy is dialled


def _recv(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return data
        data += chunk
    return data


def _socks5(
    step: str, code: int = 0, seen: list[str] | None = None
) -> Callable[[socket.socket, ScriptedServer], None]:
    """A SOCKS5 server that fails at ``step``: "methods" (none acceptable),
    "close" (drops the connection after the credentials), "credentials" (refuses
    them), or "reply" (answers the CONNECT with reply ``code``); ``seen`` gets
    the addresses asked for."""

    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        _version, count = _recv(conn, 2)
        methods = _recv(conn, count)
        if step == "methods":
            conn.sendall(b"\x05\xff")
            return
        if b"\x02" in methods:
            conn.sendall(b"\x05\x02")
            _, size = _recv(conn, 2)
            _recv(conn, size)
            _recv(conn, _recv(conn, 1)[0])
            if step == "close":
                return
            if step == "credentials":
                conn.sendall(b"\x01\x01")
                return
            conn.sendall(b"\x01\x00")
        else:
            conn.sendall(b"\x05\x00")
        _, _command, _, kind = _recv(conn, 4)
        address = _recv(conn, _recv(conn, 1)[0] if kind == 3 else {1: 4, 4: 16}[kind])
        _recv(conn, 2)
        if seen is not None:
            family = {1: socket.AF_INET, 4: socket.AF_INET6}.get(kind)
            seen.append(address.decode() if family is None else socket.inet_ntop(family, address))
        conn.sendall(b"\x05" + bytes([code]) + b"\x00\x01\x7f\x00\x00\x01\x00\x50")
        while code == 0 and server.read_request(conn):
            conn.sendall(response(b"socks"))

    return handler


SOCKS5_FAILURES = [
    pytest.param(
        "close",
        0,
        HTTPStreamClosedError,
        "{proxy} closed the connection during the handshake",
        id="closed-after-credentials",
    ),
    pytest.param(
        "credentials",
        0,
        HTTPConnectionError,
        "{proxy} refused the SOCKS5 user name and password",
        id="credentials-refused",
    ),
    pytest.param(
        "methods",
        0,
        HTTPConnectionError,
        "{proxy} accepts none of our SOCKS5 authentication methods",
        id="no-method",
    ),
    pytest.param(
        "reply",
        5,
        HTTPConnectionRefusedError,
        f"Connection refused by {ORIGIN}:80 (through {{proxy}})",
        id="origin-refused",
    ),
    pytest.param(
        "reply",
        4,
        HTTPConnectionError,
        f"{{proxy}} could not connect to {ORIGIN}:80: SOCKS5 host unreachable",
        id="host-unreachable",
    ),
    pytest.param(
        "reply",
        1,
        HTTPConnectionError,
        f"{{proxy}} could not connect to {ORIGIN}:80: SOCKS5 general server failure",
        id="server-failure",
    ),
    pytest.param(
        "reply",
        2,
        HTTPConnectionError,
        f"{{proxy}} could not connect to {ORIGIN}:80: SOCKS5 connection not allowed by ruleset",
        id="not-allowed",
    ),
]


def _check(error: BaseException, cls: type[Exception], text: str, engine: str) -> None:
    assert type(error) is cls, repr(error)
    assert str(error) == text
    assert "wrong" not in repr(error)  # never the password
    if "curl" in engine:
        # libcurl's own code stays reachable, as for every mapped curl error.
        assert isinstance(error.__cause__, CurlError) and error.__cause__.errno == 97


@pytest.mark.parametrize("step, code, cls, words", SOCKS5_FAILURES)
async def test_socks5_failures_read_the_same(
    client: Any,
    scripted: Any,
    engine: str,
    step: str,
    code: int,
    cls: type[Exception],
    words: str,
) -> None:
    server = scripted(_socks5(step, code))
    with pytest.raises(HTTPConnectionError) as info:
        await client.fetch(
            f"http://{ORIGIN}/", proxy_host=f"socks5h://user:wrong@127.0.0.1:{server.port}"
        )
    _check(info.value, cls, words.format(proxy=f"proxy 127.0.0.1:{server.port}"), engine)


async def test_socks4_rejection_reads_the_same(client: Any, scripted: Any, engine: str) -> None:
    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        _recv(conn, 8)
        data = b""
        while data.count(b"\x00") < 2:
            data += conn.recv(1)
        conn.sendall(b"\x00\x5b" + b"\x00" * 6)

    server = scripted(handler)
    with pytest.raises(HTTPConnectionError) as info:
        await client.fetch(f"http://{ORIGIN}/", proxy_host=f"socks4a://127.0.0.1:{server.port}")
    where = f"proxy 127.0.0.1:{server.port}"
    text = f"{where} could not connect to {ORIGIN}:80: SOCKS4 request rejected or failed"
    _check(info.value, HTTPConnectionError, text, engine)


@pytest.mark.parametrize("username", [None, "alice"])
async def test_socks4_user_id(client: Any, scripted: Any, username: str | None) -> None:
    seen: list[bytes] = []

    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        _recv(conn, 8)
        data = b""
        while data.count(b"\x00") < 2:
            data += conn.recv(1)
        seen.append(data.split(b"\x00")[0])
        conn.sendall(b"\x00\x5a" + b"\x00" * 6)
        while server.read_request(conn):
            conn.sendall(response(b"socks4a"))

    server = scripted(handler)
    options: dict[str, Any] = {"proxy_host": f"socks4a://127.0.0.1:{server.port}"}
    if username is not None:
        options.update(proxy_username=username, proxy_password="")
    reply = await client.fetch(f"http://{ORIGIN}/", **options)
    assert reply.body == b"socks4a"
    # Empty without a user name, as curl and most SOCKS clients send it.
    assert seen == [(username or "").encode()]


@pytest.fixture(scope="module")
def pproxy_auth0() -> Iterator[tuple[str, int]]:
    """pproxy as a SOCKS5 proxy with credentials, remembering no authenticated client
    (``--auth 0``: by default it lets an IP that authenticated once in without them)."""
    port = _free_port()
    listen = f"socks5://127.0.0.1:{port}#{PROXY_USER}:{PROXY_PASSWORD}"
    argv = ["pproxy", "-l", listen, "--auth", "0"]
    script = (
        "import sys; sys.modules['uvloop'] = None; from pproxy.server import main;"
        f"sys.argv = {argv!r}; main()"
    )
    with _subprocess_server([sys.executable, "-c", script], port):
        yield "127.0.0.1", port


async def test_pproxy_refusing_socks5_credentials(
    client: Any, pproxy_auth0: tuple[str, int], engine: str
) -> None:
    host, port = pproxy_auth0
    with pytest.raises(HTTPConnectionError) as info:
        await client.fetch(
            f"http://{ORIGIN}/", proxy_host=f"socks5h://{PROXY_USER}:wrong@{host}:{port}"
        )
    # pproxy drops the connection rather than answering the credentials.
    text = f"proxy {host}:{port} closed the connection during the handshake"
    _check(info.value, HTTPStreamClosedError, text, engine)


async def test_socks5_asks_for_the_first_address_of_the_system_resolver(
    client: Any, scripted: Any
) -> None:
    # socks5:// resolves the origin's name here: both engines ask the proxy for
    # the first address getaddrinfo gives (libcurl alone would answer
    # "localhost" itself, ::1 first, though the hosts file may say 127.0.0.1).
    seen: list[str] = []
    server = scripted(_socks5("reply", 0, seen))
    infos = socket.getaddrinfo("localhost", 8080, type=socket.SOCK_STREAM)
    reply = await client.fetch(
        "http://localhost:8080/", proxy_host=f"socks5://127.0.0.1:{server.port}"
    )
    assert reply.body == b"socks"
    assert seen == [infos[0][4][0]]


async def test_socks4_asks_for_an_ipv4_address(client: Any, scripted: Any) -> None:
    seen: list[bytes] = []

    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        head = _recv(conn, 8)
        while not conn.recv(1).endswith(b"\x00"):
            pass
        seen.append(head[4:8])
        conn.sendall(b"\x00\x5a" + b"\x00" * 6)
        while server.read_request(conn):
            conn.sendall(response(b"socks4"))

    server = scripted(handler)
    infos = socket.getaddrinfo("localhost", 80, socket.AF_INET, socket.SOCK_STREAM)
    reply = await client.fetch("http://localhost/", proxy_host=f"socks4://127.0.0.1:{server.port}")
    assert reply.body == b"socks4"
    assert seen == [socket.inet_aton(str(infos[0][4][0]))]

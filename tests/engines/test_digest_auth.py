"""auth_mode="digest" for origins (RFC 7616), both engines.

Against the hypercorn digest server (tests/servers/digest.py, MD5 and qop=auth)
and against scripted servers that check each Authorization value with their
own hashing: the other algorithms and their -sess variants, stale nonces,
userhash, and a body_producer that must run only once the challenge is met.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from squall._errors import HTTPClientError
from tests.servers.digest import DIGEST_PASSWORD, DIGEST_USER, DigestServer, parse_digest
from tests.servers.scripted import ScriptedServer, response
from tests.servers.tls import Certs

# Tornado's simple client has no digest auth: on it, these are squall's own.
pytestmark = pytest.mark.squall_only("simple")

CREDENTIALS = {
    "auth_username": DIGEST_USER,
    "auth_password": DIGEST_PASSWORD,
    "auth_mode": "digest",
}


@pytest.fixture(scope="module")
def digest_server(certs: Certs) -> Iterator[DigestServer]:
    server = DigestServer(certs)
    server.start()
    yield server
    server.stop()


async def test_digest_auth_against_the_digest_server(
    client: Any, digest_server: DigestServer
) -> None:
    app = digest_server.digest
    url = digest_server.http_url + "/secret?x=1"
    reply = await client.fetch(url, method="POST", body=b"payload", **CREDENTIALS)
    assert json.loads(reply.body) == {
        "user": DIGEST_USER,
        "method": "POST",
        "target": "/secret?x=1",
        "body": "payload",
    }
    assert "WWW-Authenticate" not in reply.headers  # the answered 401 is not the response
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(url, **{**CREDENTIALS, "auth_password": "wrong"})
    assert info.value.code == 401
    assert app.accepted >= 1


@pytest.mark.squall_only  # Tornado's curl client answers a fresh challenge each time
async def test_later_requests_are_signed_without_a_new_challenge(
    client: Any, digest_server: DigestServer
) -> None:
    app = digest_server.digest
    url = digest_server.http_url + "/again"
    await client.fetch(url, **CREDENTIALS)
    challenges = app.challenges
    for _ in range(3):
        await client.fetch(url + "?n", **CREDENTIALS)
    assert app.challenges == challenges


# -- scripted digest servers --------------------------------------------------------

_HASHES = {"MD5": "md5", "SHA-256": "sha256"}


def _expected(params: dict[str, str], method: str, algorithm: str, password: str) -> str:
    base = algorithm.removesuffix("-sess")

    def h(text: str) -> str:
        return hashlib.new(_HASHES[base], text.encode()).hexdigest()

    user = params.get("username", "")
    if params.get("userhash") == "true":
        user = DIGEST_USER  # the server knows whose hash it is
        assert params["username"] == h(f"{DIGEST_USER}:realm")
    ha1 = h(f"{user}:realm:{password}")
    if algorithm.endswith("-sess"):
        ha1 = h(f"{ha1}:{params['nonce']}:{params['cnonce']}")
    ha2 = h(f"{method}:{params['uri']}")
    return h(f"{ha1}:{params['nonce']}:{params['nc']}:{params['cnonce']}:auth:{ha2}")


class _DigestScript:
    """A scripted origin: challenges, then checks every Authorization it gets."""

    def __init__(self, algorithm: str, stale_once: bool = False, userhash: bool = False) -> None:
        self.algorithm = algorithm
        self.stale_once = stale_once
        self.userhash = userhash
        self.nonce = secrets.token_hex(8)
        self.seen: list[dict[str, str] | None] = []
        self.bodies: list[bytes] = []

    def challenge(self, stale: bool = False) -> bytes:
        self.nonce = secrets.token_hex(8)
        value = (
            f'Digest realm="realm", qop="auth", nonce="{self.nonce}", algorithm={self.algorithm}'
        )
        if stale:
            value += ", stale=true"
        if self.userhash:
            value += ", userhash=true"
        return response(b"denied", "401 Unauthorized", [f"WWW-Authenticate: {value}"])

    def __call__(self, conn: socket.socket, server: ScriptedServer) -> None:
        buffer = bytearray()
        while head := _read_head(conn, buffer):
            lines = head.decode("latin-1").split("\r\n")
            method = lines[0].split(" ")[0]
            fields = {
                k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])
            }
            params = parse_digest(fields.get("authorization", ""))
            self.seen.append(params)
            if "100-continue" in fields.get("expect", "") and params is None:
                conn.sendall(self.challenge())  # before the body: it is never sent
                return
            if fields.get("expect") == "100-continue":
                conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.bodies.append(_read_body(conn, fields, buffer))
            if params is None or params.get("nonce") != self.nonce:
                conn.sendall(self.challenge())
            elif params["response"] != _expected(params, method, self.algorithm, DIGEST_PASSWORD):
                conn.sendall(response(b"wrong", "403 Forbidden"))
            elif self.stale_once:
                self.stale_once = False
                conn.sendall(self.challenge(stale=True))
            else:
                conn.sendall(response(b"welcome"))


def _read_head(conn: socket.socket, buffer: bytearray) -> bytes:
    """One request head from ``buffer`` and the socket; what follows stays in ``buffer``."""
    while b"\r\n\r\n" not in buffer:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    buffer[:] = rest
    return head


def _read_body(conn: socket.socket, fields: dict[str, str], buffer: bytearray) -> bytes:
    chunked = fields.get("transfer-encoding") == "chunked"
    size = int(fields.get("content-length", "0"))
    while (b"0\r\n\r\n" not in buffer) if chunked else len(buffer) < size:
        chunk = conn.recv(65536)
        if not chunk:
            break
        buffer += chunk
    end = buffer.index(b"0\r\n\r\n") + 5 if chunked else size
    body = bytes(buffer[:end])
    del buffer[:end]
    return body


@pytest.mark.parametrize("algorithm", ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess"])
async def test_digest_algorithms(client: Any, scripted: Any, algorithm: str) -> None:
    script = _DigestScript(algorithm)
    server = scripted(script)
    reply = await client.fetch(server.url + "/a?b=c", **CREDENTIALS)
    assert reply.body == b"welcome"
    signed = script.seen[-1]
    assert signed is not None
    assert (signed["uri"], signed["qop"], signed["nc"]) == ("/a?b=c", "auth", "00000001")
    assert signed["algorithm"] == algorithm


async def test_stale_nonce_is_answered_once(client: Any, scripted: Any) -> None:
    script = _DigestScript("SHA-256", stale_once=True)
    server = scripted(script)
    reply = await client.fetch(server.url + "/", **CREDENTIALS)
    assert reply.body == b"welcome"
    # Unsigned, signed (stale nonce), signed with the new nonce.
    assert [p is not None for p in script.seen] == [False, True, True]
    assert script.seen[1]["nonce"] != script.seen[2]["nonce"]  # type: ignore[index]


async def test_userhash(client: Any, scripted: Any) -> None:
    script = _DigestScript("SHA-256", userhash=True)
    server = scripted(script)
    reply = await client.fetch(server.url + "/", **CREDENTIALS)
    assert reply.body == b"welcome"
    assert script.seen[-1]["userhash"] == "true"  # type: ignore[index]


@pytest.mark.squall_only  # as above
async def test_nonce_count_goes_up_on_reuse(client: Any, scripted: Any) -> None:
    script = _DigestScript("MD5")
    server = scripted(script)
    for _ in range(3):
        assert (await client.fetch(server.url + "/", **CREDENTIALS)).body == b"welcome"
    counts = [p["nc"] for p in script.seen if p is not None]
    assert counts == ["00000001", "00000002", "00000003"]


@pytest.mark.squall_only  # Tornado's curl client takes no body_producer
async def test_body_producer_runs_only_for_the_signed_request(client: Any, scripted: Any) -> None:
    script = _DigestScript("MD5")
    server = scripted(script)
    calls = 0

    async def produce(write: Callable[[bytes], Awaitable[None]]) -> None:
        nonlocal calls
        calls += 1
        await write(b"streamed body")

    reply = await client.fetch(
        server.url + "/upload", method="POST", body_producer=produce, **CREDENTIALS
    )
    assert reply.body == b"welcome"
    assert calls == 1
    assert script.bodies[-1].count(b"streamed body") == 1


# -- digest to a proxy (plain http forwarded) -------------------------------------------


@pytest.fixture(scope="module")
def digest_proxy(certs: Certs) -> Iterator[DigestServer]:
    server = DigestServer(certs, proxy=True)
    server.start()
    yield server
    server.stop()


async def test_digest_proxy_auth_for_forwarded_requests(
    client: Any, digest_proxy: DigestServer
) -> None:
    # The digest "proxy" answers proxied requests itself (see tests/servers/digest.py).
    url = "http://origin.test/through?y=2"
    options: dict[str, Any] = {
        "proxy_host": "127.0.0.1",
        "proxy_port": digest_proxy.http_port,
        "proxy_username": DIGEST_USER,
        "proxy_auth_mode": "digest",
    }
    reply = await client.fetch(url, proxy_password=DIGEST_PASSWORD, **options)
    data = json.loads(reply.body)
    assert (data["user"], data["target"]) == (DIGEST_USER, url)
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(url, proxy_password="wrong", **options)
    assert info.value.code == 407

"""HTTP CONNECT tunnels (RFC 9110 §9.3.6) on a connected socket.

The CONNECT request and its response go over the raw socket
(``loop.sock_sendall``/``loop.sock_recv``) before asyncio wraps it in a
transport, so TLS to the origin then starts on the tunnel exactly as on a
direct connection (and on any loop, uvloop included). ``Proxy-Authorization``
is sent here, in the CONNECT request, and nowhere inside the tunnel.

A 2xx opens the tunnel; any other answer (a 407 asking for credentials, a
502 when the proxy cannot reach the origin) is read whole and raised as
``ProxyRefused``, which the engine turns into the response of the request,
so the caller gets ``HTTPClientError(407)`` with the proxy's response.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import httptools

from squall._authenticate import digest_challenge
from squall._digest import DigestSession
from squall._errors import HTTPStreamClosedError, RemoteProtocolError
from squall._headers import HTTPHeaders
from squall._proxies import Proxy
from squall._request_defaults import basic_authorization
from squall._urls import bracket

__all__ = ["ProxyRefused", "connect_tunnel", "proxy_authorization", "tunnel_over"]

# The proxy's answer to CONNECT: a head and, when refused, a short error page.
_MAX_HEAD = 64 * 1024
_MAX_BODY = 1024 * 1024


class ProxyRefused(Exception):
    """The proxy answered CONNECT with a non-2xx status; its response."""

    def __init__(self, code: int, reason: str, headers: HTTPHeaders, body: bytes) -> None:
        super().__init__(f"HTTP {code} {reason} from the proxy")
        self.code = code
        self.reason = reason
        self.headers = headers
        self.body = body


def proxy_authorization(proxy: Proxy) -> str | None:
    """The Proxy-Authorization value of basic auth, or None (no credentials, or digest)."""
    if proxy.username is None or proxy.auth_mode != "basic":
        return None
    return basic_authorization(proxy.username.encode("utf-8"), proxy.password.encode("utf-8"))


async def connect_tunnel(
    loop: asyncio.AbstractEventLoop,
    sock: socket.socket,
    proxy: Proxy,
    host: str,
    port: int,
    user_agent: str,
    digests: dict[Proxy, DigestSession] | None = None,
) -> None:
    """Open a CONNECT tunnel to ``host:port`` through the proxy connected on ``sock``
    (``digests``: see ``tunnel_over``).

    Raises:
        ProxyRefused: the proxy answered with a non-2xx status.
        RemoteProtocolError: a malformed answer, or one too large.
        HTTPStreamClosedError: the proxy closed before answering.
    """

    async def send(data: bytes) -> None:
        await loop.sock_sendall(sock, data)

    async def receive() -> bytes:
        return await loop.sock_recv(sock, 65536)

    await tunnel_over(send, receive, proxy, host, port, user_agent, digests)


async def tunnel_over(
    send: Callable[[bytes], Awaitable[None]],
    receive: Callable[[], Awaitable[bytes]],
    proxy: Proxy,
    host: str,
    port: int,
    user_agent: str,
    digests: dict[Proxy, DigestSession] | None = None,
) -> None:
    """``connect_tunnel`` over any byte stream (``receive`` returns b"" at the end).

    With ``proxy_auth_mode="digest"``, ``digests`` holds the session per proxy: a
    known one signs the CONNECT at once; a 407 with a Digest challenge on a
    connection the proxy keeps open is answered once, on that connection.
    """
    authority = f"{bracket(host)}:{port}"
    digest = proxy.auth_mode == "digest" and proxy.username is not None and digests is not None
    session = digests.get(proxy) if digests is not None and digest else None
    answered = False
    while True:
        lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
        lines.append(f"User-Agent: {user_agent}")
        credentials = proxy_authorization(proxy)
        if session is not None:
            credentials = session.authorization("CONNECT", authority)
        if credentials is not None:
            lines.append(f"Proxy-Authorization: {credentials}")
        await send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        reader = await _read_answer(receive, proxy.where)
        if reader is None:
            return  # 2xx: the tunnel is open
        challenge = None
        if digest and not answered and reader.code == 407 and reader.reusable:
            challenge = digest_challenge(reader.headers, "Proxy-Authenticate")
        if challenge is None:
            if digests is not None and reader.code == 407:
                digests.pop(proxy, None)
            raise ProxyRefused(reader.code, reader.reason, reader.headers, b"".join(reader.body))
        assert digests is not None and proxy.username is not None
        session = DigestSession(
            challenge, proxy.username.encode("utf-8"), proxy.password.encode("utf-8")
        )
        digests[proxy] = session
        answered = True


async def _read_answer(receive: Callable[[], Awaitable[bytes]], where: str) -> _Answer | None:
    """None for a 2xx answer to CONNECT, else the whole answer."""
    reader = _Answer(where)
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > _MAX_HEAD:
            raise RemoteProtocolError(f"{where} sent a CONNECT response head over 64 KiB")
        chunk = await receive()
        if not chunk:
            raise HTTPStreamClosedError(f"{where} closed the connection before answering")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    reader.feed(head + b"\r\n\r\n")
    if 200 <= reader.code < 300:
        if rest:
            # Nothing may come before we speak in the tunnel (TLS: we speak first).
            raise RemoteProtocolError(f"{where} sent data after its CONNECT response")
        return None
    reader.feed(rest)
    while not reader.complete:
        chunk = await receive()
        if not chunk:
            reader.closed = True
            break  # a body delimited by the close
        reader.feed(chunk)
    return reader


class _Answer:
    """httptools callbacks collecting the proxy's answer to CONNECT."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.headers = HTTPHeaders()
        self.reason = ""
        self.body: list[bytes] = []
        self.size = 0
        self.complete = False
        self.closed = False
        self.keep_alive = False
        self._parser = httptools.HttpResponseParser(self)
        self._name = ""

    @property
    def code(self) -> int:
        return int(self._parser.get_status_code())

    @property
    def reusable(self) -> bool:
        """The whole answer was read and the proxy keeps the connection open."""
        return self.complete and not self.closed and self.keep_alive

    def feed(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            raise RemoteProtocolError(f"Malformed CONNECT response from {self.where}") from exc
        if self.size > _MAX_BODY:
            raise RemoteProtocolError(f"{self.where} sent a CONNECT error body over 1 MiB")

    def on_status(self, status: bytes) -> None:
        self.reason = status.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.add(name.decode("latin-1"), value.decode("latin-1"))

    def on_headers_complete(self) -> None:
        # Read here: llhttp forgets it once the message is complete.
        self.keep_alive = bool(self._parser.should_keep_alive())

    def on_body(self, body: bytes) -> None:
        # Checked after the feed: an exception raised here would come out of httptools
        # wrapped in its own error type.
        self.size += len(body)
        if self.size <= _MAX_BODY:
            self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True

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
    """The Proxy-Authorization value to send first (basic), or None."""
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
) -> None:
    """Open a CONNECT tunnel to ``host:port`` through the proxy connected on ``sock``.

    Raises:
        ProxyRefused: the proxy answered with a non-2xx status.
        RemoteProtocolError: a malformed answer, or one too large.
        HTTPStreamClosedError: the proxy closed before answering.
    """

    async def send(data: bytes) -> None:
        await loop.sock_sendall(sock, data)

    async def receive() -> bytes:
        return await loop.sock_recv(sock, 65536)

    await tunnel_over(send, receive, proxy, host, port, user_agent)


async def tunnel_over(
    send: Callable[[bytes], Awaitable[None]],
    receive: Callable[[], Awaitable[bytes]],
    proxy: Proxy,
    host: str,
    port: int,
    user_agent: str,
) -> None:
    """``connect_tunnel`` over any byte stream (``receive`` returns b"" at the end)."""
    authority = f"{bracket(host)}:{port}"
    lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}", f"User-Agent: {user_agent}"]
    credentials = proxy_authorization(proxy)
    if credentials is not None:
        lines.append(f"Proxy-Authorization: {credentials}")
    await send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    reader = _Answer(proxy.where)
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > _MAX_HEAD:
            raise RemoteProtocolError(f"{proxy.where} sent a CONNECT response head over 64 KiB")
        chunk = await receive()
        if not chunk:
            raise HTTPStreamClosedError(f"{proxy.where} closed the connection before answering")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    reader.feed(head + b"\r\n\r\n")
    if 200 <= reader.code < 300:
        if rest:
            # Nothing may come before we speak in the tunnel (TLS: we speak first).
            raise RemoteProtocolError(f"{proxy.where} sent data after its CONNECT response")
        return
    reader.feed(rest)
    while not reader.complete:
        chunk = await receive()
        if not chunk:
            break  # a body delimited by the close
        reader.feed(chunk)
    raise ProxyRefused(reader.code, reader.reason, reader.headers, b"".join(reader.body))


class _Answer:
    """httptools callbacks collecting the proxy's answer to CONNECT."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.headers = HTTPHeaders()
        self.reason = ""
        self.body: list[bytes] = []
        self.size = 0
        self.complete = False
        self._parser = httptools.HttpResponseParser(self)
        self._name = ""

    @property
    def code(self) -> int:
        return int(self._parser.get_status_code())

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

    def on_body(self, body: bytes) -> None:
        # Checked after the feed: an exception raised here would come out of httptools
        # wrapped in its own error type.
        self.size += len(body)
        if self.size <= _MAX_BODY:
            self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True

"""An https:// proxy: TLS to the proxy, and for https URLs TLS to the origin inside it.

The socket-level handshakes of ``tunnel.py`` and ``socks.py`` cannot run once
the socket speaks TLS, so here the connection is first an asyncio transport
with a small reading protocol (``_Stream``): the CONNECT exchange goes over
it, ``loop.start_tls`` then wraps the tunnel in the origin's TLS (TLS in TLS),
and the transport is finally handed to the connection's own protocol.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections import deque
from collections.abc import Callable

from squall._digest import DigestSession
from squall._errors import translate_os_error
from squall._http1.deadlines import HopTimer
from squall._http1.tunnel import tunnel_over
from squall._proxies import Proxy
from squall._request import HTTPRequest

__all__ = ["through_tls_proxy"]


class _Stream(asyncio.Protocol):
    """Received bytes as awaitable chunks, until the protocol is replaced."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._chunks: deque[bytes] = deque()
        self._ended = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._wake()

    def eof_received(self) -> bool | None:
        self._ended = True
        self._wake()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended = True
        self._error = exc
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def receive(self) -> bytes:
        """The next chunk; b"" at the end of the stream.

        Raises:
            OSError: the connection failed.
        """
        while not self._chunks and not self._ended:
            self._waiter = self._loop.create_future()
            await self._waiter
        if self._chunks:
            return self._chunks.popleft()
        if self._error is not None:
            raise self._error
        return b""


async def through_tls_proxy(
    loop: asyncio.AbstractEventLoop,
    sock: socket.socket,
    proxy: Proxy,
    request: HTTPRequest,
    protocol_factory: Callable[[], asyncio.BaseProtocol],
    context: ssl.SSLContext,
    timer: HopTimer,
    user_agent: str,
    digests: dict[Proxy, DigestSession],
) -> tuple[asyncio.BaseTransport, asyncio.BaseProtocol]:
    """TLS to ``proxy`` on the connected ``sock``, then a CONNECT tunnel and TLS to
    the origin for an https request; the transport, handed to a new protocol.

    ``context`` (the request's TLS options) checks the proxy's certificate
    against the proxy's name, and the origin's against the origin's name.

    Raises:
        HTTPClientError: a 599 leaf naming the proxy or the origin.
        ProxyRefused: the proxy answered CONNECT with a non-2xx status.
    """
    timer.phase = "tls"
    timer.message = f"Timeout during TLS handshake with {proxy.where}"
    try:
        transport, stream = await loop.create_connection(
            lambda: _Stream(loop), sock=sock, ssl=context, server_hostname=proxy.host
        )
    except BaseException as exc:  # a cancel (the deadline) too: the socket is still ours
        sock.close()
        if isinstance(exc, OSError):  # ssl.SSLError included
            raise translate_os_error(exc, proxy.where) from exc
        raise
    try:
        if request.scheme == "https":
            timer.phase = "connect"
            timer.message = (
                f"Timeout while connecting to {request.host}:{request.port} through {proxy.where}"
            )

            async def send(data: bytes) -> None:
                transport.write(data)

            try:
                await tunnel_over(
                    send, stream.receive, proxy, request.host, request.port, user_agent, digests
                )
            except OSError as exc:
                raise translate_os_error(exc, proxy.where) from exc
            timer.phase = "tls"
            timer.message = f"Timeout during TLS handshake with {request.host}:{request.port}"
            try:
                inner = await loop.start_tls(
                    transport, stream, context, server_hostname=request.host
                )
            except (OSError, ssl.SSLError) as exc:
                raise translate_os_error(exc, f"{request.host}:{request.port}") from exc
            assert inner is not None
            transport = inner
        protocol = protocol_factory()
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        return transport, protocol
    except BaseException:
        transport.close()
        raise

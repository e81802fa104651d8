"""Opening connections: DNS, TCP (happy eyeballs), proxies, TLS.

``Dialer.connect`` turns a resolved request into a connected asyncio
transport/protocol pair, in three timed phases -- resolve, connect, TLS -- each
recorded in a ``Timings`` and each named in its timeout message. Errors are
translated once, here, with ``translate_os_error``.

Through a proxy, the proxy is what is resolved and dialled; then, on the raw
socket, a CONNECT (``tunnel.py``) or SOCKS (``socks.py``) handshake opens a
tunnel to the origin, unless plain http is forwarded to an HTTP proxy as it is.
TLS to the origin then starts on the tunnel as on a direct connection, checked
against the origin's name. An https:// proxy takes ``proxy_tls.py``'s path.

What counts as "the same connection" is decided here too: ``Dialer.pool_key``
covers every option that changes the connection, so the pool never hands a
connection made for one TLS setting or source address to a request that asked
for another. TLS contexts come from ``tls.py``, the hop deadlines from
``deadlines.py``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from asyncio.staggered import staggered_race
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from squall._digest import DigestSession
from squall._errors import translate_os_error
from squall._http1.deadlines import HopTimer
from squall._http1.proxy_tls import through_tls_proxy
from squall._http1.socks import socks_handshake
from squall._http1.tls import TLSContexts, tls_key
from squall._http1.tunnel import connect_tunnel
from squall._proxies import Proxy, request_proxy
from squall._request import HTTPRequest
from squall._request_defaults import DEFAULT_USER_AGENT

__all__ = ["HAPPY_EYEBALLS_DELAY", "Dialer", "Timings"]

#: Seconds before trying the next address in parallel (RFC 8305 §8 recommends 250 ms).
HAPPY_EYEBALLS_DELAY = 0.25


class Timings:
    """Monotonic stamps of one hop's phases (0.0 = did not happen).

    ``time.monotonic()``, not ``loop.time()``: uvloop's is cached per iteration
    at millisecond resolution, too coarse for a sub-millisecond hop. Both read
    the same clock, so deadlines computed from these compare with the loop's.
    """

    __slots__ = ("connected", "resolved", "secured", "start")

    def __init__(self, start: float) -> None:
        self.start = start
        self.resolved = start
        self.connected = start
        self.secured = start


def _ip_family(text: str) -> int | None:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, text)
        except OSError:
            continue
        return family
    return None


def _interleave(addrs: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    # RFC 8305 §4: alternate address families, starting with the first one given.
    firsts = [a for a in addrs if a[0] == addrs[0][0]]
    others = [a for a in addrs if a[0] != addrs[0][0]]
    out: list[tuple[int, Any]] = []
    for i in range(max(len(firsts), len(others))):
        out.extend(group[i] for group in (firsts, others) if i < len(group))
    return out


class Dialer:
    """Opens connections for one client: resolver, host mapping and SSL context cache.

    Args:
        loop: the client's event loop.
        resolver: None for ``loop.getaddrinfo``, or an object with
            ``async resolve(host, port, family) -> [(family, sockaddr), ...]``.
        hostname_mapping: ``host`` or ``(host, port)`` -> ``host`` or ``(host, port)``.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        resolver: Any = None,
        hostname_mapping: Mapping[Any, Any] | None = None,
    ) -> None:
        self.loop = loop
        self.resolver = resolver
        self.hostname_mapping = hostname_mapping or {}
        self._contexts = TLSContexts()
        self._proxy_digests: dict[Proxy, DigestSession] = {}  # CONNECT's digest sessions

    # -- what to dial ------------------------------------------------------------

    def destination(self, request: HTTPRequest) -> tuple[str, int]:
        """The host and port actually dialled, after ``hostname_mapping``."""
        host, port = request.host, request.port
        mapping = self.hostname_mapping
        if mapping:
            mapped = mapping.get((host, port), mapping.get(host))
            if isinstance(mapped, tuple):
                host, port = mapped
            elif mapped is not None:
                host = mapped
        return host, port

    def pool_key(self, request: HTTPRequest) -> Hashable:
        """Everything that makes two connections interchangeable."""
        tls: Hashable = None
        if request.scheme == "https":
            tls = tls_key(request)
        proxy = request_proxy(request) if request.proxy_host else None
        if proxy is not None:
            # The proxy with its credentials, and the origin unless plain http is
            # forwarded (then one connection to the proxy serves every origin).
            if proxy.scheme == "https":
                tls = tls_key(request)
            origin = None if proxy.forwards(request.scheme) else (request.host, request.port)
            return (
                "proxy",
                proxy,
                request.scheme,
                origin,
                tls,
                request.network_interface,
                request.allow_ipv6,
            )
        return (
            request.scheme,
            request.host,
            request.port,
            self.destination(request),
            tls,
            request.network_interface,
            request.allow_ipv6,
        )

    def ssl_context(self, request: HTTPRequest) -> ssl.SSLContext:
        """The (cached) SSL context for the request's TLS options."""
        return self._contexts.context(request)

    # -- dialling ----------------------------------------------------------------

    async def connect(
        self,
        request: HTTPRequest,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        timer: HopTimer,
        timings: Timings,
    ) -> tuple[asyncio.BaseTransport, asyncio.BaseProtocol]:
        """Resolve, connect and (for https) handshake; the timer's deadline is already set.

        Raises:
            ValueError: ``network_interface`` is not an IP address.
            HTTPClientError: a 599 leaf naming the failed phase (timeouts are
                raised by the caller through ``timer.check``).
        """
        proxy = request_proxy(request) if request.proxy_host else None
        if proxy is None:
            host, port = self.destination(request)
            where = f"{host}:{port}"
        else:  # the proxy is what we dial (hostname_mapping and resolver apply to it)
            host, port, where = proxy.host, proxy.port, proxy.where
        source = request.network_interface
        source_family = None
        if source:
            source_family = _ip_family(source)
            if source_family is None:
                raise ValueError(
                    f"Unrecognized IPv4 or IPv6 address for network_interface, got {source!r}"
                )
        context = self.ssl_context(request) if request.scheme == "https" else None
        family: int = socket.AF_UNSPEC if request.allow_ipv6 is not False else socket.AF_INET
        if source_family is not None and family == socket.AF_UNSPEC:
            family = source_family
        timer.phase, timer.message = "resolve", f"Timeout while resolving {host}"
        addrs = await self._resolve(host, port, family)
        timings.resolved = timings.connected = timings.secured = time.monotonic()
        timer.phase, timer.message = "connect", f"Timeout while connecting to {where}"
        sock = await self._connect_any(addrs, source, where)
        if proxy is not None and proxy.scheme == "https":
            agent = request.user_agent or DEFAULT_USER_AGENT
            tls = self.ssl_context(request)
            pair = await through_tls_proxy(
                self.loop,
                sock,
                proxy,
                request,
                protocol_factory,
                tls,
                timer,
                agent,
                self._proxy_digests,
            )
            timings.connected = timings.secured = time.monotonic()
            return pair
        if proxy is not None:
            await self._through(proxy, request, sock, family, timer)
        timings.connected = timings.secured = time.monotonic()
        if context is None:
            return await self.loop.create_connection(protocol_factory, sock=sock)
        timer.phase = "tls"
        timer.message = f"Timeout during TLS handshake with {request.host}:{request.port}"
        try:
            pair = await self.loop.create_connection(
                protocol_factory,
                sock=sock,
                ssl=context,
                server_hostname=request.host,  # the origin's name, through a tunnel too
            )
        except (OSError, ssl.SSLError) as exc:
            if isinstance(exc, ssl.SSLError) and exc.args and exc.args[0] == ssl.SSL_ERROR_SSL:
                # As Tornado's iostream logs a failed handshake: a warning, no stack trace.
                where = f"{request.host}:{request.port}"
                logging.getLogger("squall.general").warning("SSL Error on %s: %s", where, exc)
            sock.close()
            raise translate_os_error(exc, f"{request.host}:{request.port}") from exc
        timings.secured = time.monotonic()
        return pair

    async def _through(
        self, proxy: Proxy, request: HTTPRequest, sock: socket.socket, family: int, timer: HopTimer
    ) -> None:
        """Open the tunnel to the origin through ``proxy`` (connected on ``sock``),
        unless the request is forwarded as it is (plain http to an HTTP proxy)."""
        host, port = request.host, request.port
        timer.message = f"Timeout while connecting to {host}:{port} through {proxy.where}"
        try:
            if proxy.speaks_http:
                if not proxy.forwards(request.scheme):
                    agent = request.user_agent or DEFAULT_USER_AGENT
                    digests = self._proxy_digests
                    await connect_tunnel(self.loop, sock, proxy, host, port, agent, digests)
                return
            if not proxy.remote_dns:  # socks5, socks4: the origin's name is resolved here
                wanted = socket.AF_INET if proxy.scheme == "socks4" else family
                host = str((await self._resolve(host, port, wanted))[0][1][0])
            await socks_handshake(self.loop, sock, proxy, host, port)
        except BaseException as exc:
            sock.close()
            if isinstance(exc, OSError):
                raise translate_os_error(exc, proxy.where) from exc
            raise

    async def _resolve(self, host: str, port: int, family: int) -> list[tuple[int, Any]]:
        try:
            if self.resolver is not None:
                result = list(await self.resolver.resolve(host, port, family))
            elif (literal := _ip_family(host)) is not None:
                result = [(literal, (host, port))]
            else:
                infos = await self.loop.getaddrinfo(
                    host, port, family=family, type=socket.SOCK_STREAM
                )
                result = [(info[0], info[4]) for info in infos]
        except OSError as exc:
            raise translate_os_error(exc, host) from exc
        if family != socket.AF_UNSPEC:
            result = [addr for addr in result if addr[0] == family]
        if not result:
            raise translate_os_error(socket.gaierror(f"no address for {host}"), host)
        return result

    async def _connect_any(
        self, addrs: list[tuple[int, Any]], source: str | None, where: str
    ) -> socket.socket:
        try:
            if len(addrs) == 1:
                return await self._connect_one(addrs[0], source)
            # Happy eyeballs (RFC 8305): start the next address if one is slow.
            fns = [
                (lambda addr=addr: self._connect_one(addr, source)) for addr in _interleave(addrs)
            ]
            sock, _, errors = await staggered_race(fns, HAPPY_EYEBALLS_DELAY)
        except OSError as exc:
            raise translate_os_error(exc, where) from exc
        if sock is None:
            first = next((e for e in errors if e is not None), OSError("connect failed"))
            raise translate_os_error(first, where) from first
        assert isinstance(sock, socket.socket)
        return sock

    async def _connect_one(self, addr: tuple[int, Any], source: str | None) -> socket.socket:
        family, sockaddr = addr
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            # Requests are written whole; Nagle would only delay body_producer pieces.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if source:
                sock.bind((source, 0))
            await self.loop.sock_connect(sock, sockaddr)
        except BaseException:
            sock.close()
            raise
        return sock

"""Opening connections: DNS, TCP (happy eyeballs), TLS; and the hop timer.

``Dialer.connect`` turns a resolved request into a connected asyncio
transport/protocol pair, in three timed phases -- resolve, connect, TLS -- each
recorded in a ``Timings`` and each named in its timeout message. Errors are
translated once, here, with ``translate_os_error``.

What counts as "the same connection" is decided here too: ``Dialer.pool_key``
covers every option that changes the connection, so the pool never hands a
connection made for one TLS setting or source address to a request that asked
for another.

SSL contexts are expensive (loading a CA bundle takes milliseconds): one is
built per distinct setting and cached for the life of the client.
"""

from __future__ import annotations

import asyncio
import logging
import math
import socket
import ssl
import sys
import time
from asyncio.staggered import staggered_race
from collections.abc import Callable, Hashable, Mapping
from typing import Any, TypeVar

from squall._errors import HTTPTimeoutError, translate_os_error
from squall._request import HTTPRequest

__all__ = ["HAPPY_EYEBALLS_DELAY", "Deadlines", "Dialer", "HopTimer", "Timings"]

_T = TypeVar("_T")

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


class Deadlines:
    """The deadlines of every hop of one engine behind a single loop timer.

    A ``call_at`` per request costs a TimerHandle, a heap push and a cancel (and
    cancelled handles linger in the loop's heap). Here a hop's deadline is a dict
    entry: setting and clearing it is O(1) and touches no loop state. The one loop
    timer is re-armed only when a deadline earlier than it arrives; when it fires,
    expired hops are cancelled and it is re-armed for the earliest remaining one
    (a wake-up for a deadline whose hop already ended only costs that scan).
    """

    __slots__ = ("_handle", "_hops", "_loop", "_when")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._hops: dict[HopTimer, float] = {}
        self._handle: asyncio.TimerHandle | None = None
        self._when = math.inf

    def set(self, hop: HopTimer, when: float) -> None:
        """Expire ``hop`` at ``when`` (monotonic) unless cleared before."""
        self._hops[hop] = when
        if when < self._when:
            self._schedule(when)

    def clear(self, hop: HopTimer) -> None:
        """Forget ``hop``'s deadline (the timer stays: a stray wake-up is harmless)."""
        self._hops.pop(hop, None)

    def close(self) -> None:
        """Drop the loop timer if no hop is left (hops still running keep it)."""
        if not self._hops and self._handle is not None:
            self._handle.cancel()
            self._handle = None
            self._when = math.inf

    def _schedule(self, when: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._when = when
        self._handle = self._loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self._when = math.inf
        hops = self._hops
        now = self._loop.time()
        for hop in [hop for hop, when in hops.items() if when <= now]:
            del hops[hop]
            hop.expire()
        if hops:
            self._schedule(min(hops.values()))


class HopTimer:
    """One hop's deadline: when it passes, cancel the hop's task.

    Cheaper than ``asyncio.wait_for`` (no extra task or future per request), and
    cheaper than a ``call_at`` per hop (see ``Deadlines``). The hop catches
    ``CancelledError`` and calls ``check`` to turn it into the
    ``HTTPTimeoutError`` of the phase that was running.
    """

    __slots__ = ("_deadlines", "_task", "fired", "message", "phase")

    def __init__(self, deadlines: Deadlines, task: asyncio.Task[Any]) -> None:
        self._deadlines = deadlines
        self._task = task
        self.fired = False
        self.phase = "connect"
        self.message = "Timeout while connecting"

    def arm(self, when: float | None, phase: str, message: str) -> None:
        """Set the deadline (monotonic, None for none) and what a timeout then means."""
        self.phase = phase
        self.message = message
        if when is None:
            self._deadlines.clear(self)
        else:
            self._deadlines.set(self, when)

    def cancel(self) -> None:
        """Stop the timer (the hop is over)."""
        self._deadlines.clear(self)

    def expire(self) -> None:
        """The deadline passed (called by ``Deadlines``)."""
        self.fired = True
        self._task.cancel()

    def check(self, exc: asyncio.CancelledError) -> None:
        """Raise the timeout error if ``exc`` came from this timer, else return.

        Raises:
            HTTPTimeoutError: the timer fired.
        """
        if not self.fired:
            return
        # Python 3.11+ counts cancellations; ours must not leak into the caller's
        # own timeouts. If someone else cancelled too, let their cancel win.
        if sys.version_info >= (3, 11) and self._task.uncancel() > 0:
            return
        raise HTTPTimeoutError(self.message, phase=self.phase) from exc


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
        self._ssl_cache: dict[Hashable, ssl.SSLContext] = {}

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
            tls = self._tls_key(request)
        return (
            request.scheme,
            request.host,
            request.port,
            self.destination(request),
            tls,
            request.network_interface,
            request.allow_ipv6,
        )

    @staticmethod
    def _tls_key(request: HTTPRequest) -> Hashable:
        options = request.ssl_options
        if isinstance(options, ssl.SSLContext):
            return options  # hashed by identity: the caller's own context
        if isinstance(options, dict):
            return ("dict", tuple(sorted((k, repr(v)) for k, v in options.items())))
        return (request.validate_cert, request.ca_certs, request.client_cert, request.client_key)

    def ssl_context(self, request: HTTPRequest) -> ssl.SSLContext:
        """The (cached) SSL context for the request's TLS options."""
        options = request.ssl_options
        if isinstance(options, ssl.SSLContext):
            return options
        key = self._tls_key(request)
        context = self._ssl_cache.get(key)
        if context is None:
            if isinstance(options, dict):
                context = _context_from_dict(options)
            else:
                context = _context_from_options(request)
            self._ssl_cache[key] = context
        return context

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
        host, port = self.destination(request)
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
        timer.phase, timer.message = "connect", f"Timeout while connecting to {host}:{port}"
        sock = await self._connect_any(addrs, source, f"{host}:{port}")
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
                server_hostname=request.host,
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


def _load(option: str, path: str, load: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """``load(*args, **kwargs)``, which reads ``path``; a failure names the option and the path
    (ssl's own errors say neither: a bare ``[Errno 2] No such file or directory``)."""
    try:
        return load(*args, **kwargs)
    except OSError as exc:  # ssl.SSLError too: a file that is not PEM
        raise ValueError(f"{option}: cannot load {path!r}: {exc}") from exc


def _context_from_options(request: HTTPRequest) -> ssl.SSLContext:
    ca_certs = request.ca_certs
    if ca_certs is None:
        context = ssl.create_default_context()
    else:
        context = _load("ca_certs", ca_certs, ssl.create_default_context, cafile=ca_certs)
    if not request.validate_cert:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    cert = request.client_cert
    if cert:
        _load("client_cert", cert, context.load_cert_chain, cert, request.client_key)
    context.set_alpn_protocols(["http/1.1"])
    return context


def _context_from_dict(options: dict[str, Any]) -> ssl.SSLContext:
    """Tornado's ``ssl_options`` dict (``ssl.wrap_socket`` arguments) as a context.

    The keys and value types were checked by ``HTTPRequest`` (``check_ssl_options``).
    """
    get = options.get
    version = get("ssl_version")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT if version is None else version)
    certfile = get("certfile")
    if certfile is not None:
        load = context.load_cert_chain
        _load("ssl_options certfile", certfile, load, certfile, get("keyfile"), get("password"))
    cert_reqs = get("cert_reqs")
    if cert_reqs is not None:
        if cert_reqs == ssl.CERT_NONE:
            context.check_hostname = False
        context.verify_mode = cert_reqs
    if get("check_hostname") is False:
        context.check_hostname = False
    ca_certs = get("ca_certs")
    if ca_certs is not None:
        _load("ssl_options ca_certs", ca_certs, context.load_verify_locations, ca_certs)
    elif context.verify_mode != ssl.CERT_NONE:
        context.load_default_certs()
    ciphers, minimum, maximum = get("ciphers"), get("minimum_version"), get("maximum_version")
    if ciphers is not None:
        context.set_ciphers(ciphers)
    if minimum is not None:
        context.minimum_version = minimum
    if maximum is not None:
        context.maximum_version = maximum
    context.options |= ssl.OP_NO_COMPRESSION
    context.set_alpn_protocols(["http/1.1"])
    return context

"""HTTP/2 requests end to end: origin pool -> connection -> stream -> HTTPResponse.

``HTTP2Engine.fetch`` does each ``http_version="2"`` hop of
``SimpleAsyncHTTPClient``'s fetches: over TLS the connection offers ``h2`` by
ALPN; in clear text it speaks HTTP/2 at once (prior knowledge, RFC 9113 §3.3),
as libcurl does for the same option.

The pool: one ``_Origin`` per pool key (the HTTP/1.1 engine's key: every
option that changes the connection). A request takes a stream slot on the
first connection with ``capacity``; if none has one, it waits for the one
connection being dialled -- concurrent first requests share a single dial --
or dials one (within ``max_connections_per_host``), or waits for a slot.
Every change (a stream ends, a connection opens, closes or gets new SETTINGS)
wakes the waiters, which look again.

A server that picks ``http/1.1`` by ALPN, or answers HTTP_1_1_REQUIRED, is
remembered: the request, and later ones to that origin, go over HTTP/1.1
(``FallBack``), as libcurl falls back. A stream the server never processed
(``Refused``) is sent again on another connection, a few times at most. A
stream lost with its connection is not: its HEADERS were written, so the
server may have acted on it (``squall._resend``, rule 3, as on HTTP/1.1).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, cast

from squall._arguments import ClientSettings
from squall._errors import CLIENT_CLOSED, HTTPStreamClosedError
from squall._http1.connect import Dialer, Timings
from squall._http1.deadlines import Deadlines, HopTimer
from squall._http1.engine import request_headers
from squall._http2.connection import Connection
from squall._http2.headers import request_header_list
from squall._http2.stream import NeedsHTTP1, Refused, Stream
from squall._request import HTTPRequest
from squall._response import HTTPResponse

if TYPE_CHECKING:
    from squall._engine import Engine

__all__ = ["FallBack", "HTTP2Engine"]

_PROXY_OPTIONS = ("proxy_host", "proxy_port", "proxy_username", "proxy_password", "proxy_auth_mode")
# Sending a refused stream again is safe (the server never saw it) but a peer
# that refuses everything must not keep us going round.
_MAX_RESENDS = 3


class FallBack(Exception):  # a signal to the dispatcher
    """The origin answered ALPN with ``http/1.1``: send this request over HTTP/1.1."""


class _H2Dialer(Dialer):
    """The HTTP/1.1 dialer, whose (own, cached) TLS contexts also offer ``h2``."""

    def ssl_context(self, request: HTTPRequest) -> ssl.SSLContext:
        context = super().ssl_context(request)
        if not isinstance(request.ssl_options, ssl.SSLContext):  # the caller's own stays as is
            context.set_alpn_protocols(["h2", "http/1.1"])
        return context


class _Origin:
    __slots__ = ("conns", "dialing", "waiters")

    def __init__(self) -> None:
        self.conns: list[Connection] = []
        self.dialing: asyncio.Task[Connection] | None = None
        self.waiters: list[asyncio.Future[None]] = []

    def wake(self) -> None:
        self.conns = [c for c in self.conns if not c.closed]
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(None)
        self.waiters.clear()


class HTTP2Engine:
    """The pooled, multiplexing HTTP/2 engine (``http_version="2"`` on the simple engine).

    Args:
        loop: the client's event loop.
        settings: the client's checked arguments.
        max_connections_per_host: the most connections to one origin (None: no limit;
            a second connection opens only when every stream slot is taken).
        idle_timeout: seconds a connection without streams is kept.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        settings: ClientSettings,
        max_connections_per_host: int | None,
        idle_timeout: float,
    ) -> None:
        self.loop = loop
        self.settings = settings
        self.max_per_host = max_connections_per_host
        self.idle_timeout = idle_timeout
        self.dialer = _H2Dialer(loop, settings.resolver, settings.hostname_mapping)
        self.http1_origins: set[Hashable] = set()
        self._origins: dict[Hashable, _Origin] = {}
        self._deadlines = Deadlines(loop)
        self._expiry: asyncio.TimerHandle | None = None
        self._closed = False

    async def fetch(self, request: HTTPRequest) -> HTTPResponse:
        """One HTTP/2 exchange for a resolved request.

        Raises:
            FallBack: the origin speaks HTTP/1.1 only (over TLS).
            HTTPClientError: a 599 leaf.
        """
        _check_supported(request)
        key = self.dialer.pool_key(request)
        if key in self.http1_origins:
            raise FallBack
        header_list = request_header_list(request, request_headers(request))
        start_wall = time.time()
        timings = Timings(time.monotonic())
        task = asyncio.current_task(self.loop)
        assert task is not None
        timer = HopTimer(self._deadlines, task, request)
        total = request.request_timeout
        deadline = timings.start + total if total else None
        no_body = request.body is None and request.body_producer is None
        resends = 0
        try:
            while True:
                conn = await self._acquire(request, key, timer, timings)
                timer.arm(deadline, "request", "Timeout during request")
                stream = Stream(conn, request, self.settings.body_limit(request))
                pretransfer = time.monotonic()
                try:
                    conn.start(stream, header_list, no_body)
                    if not no_body:
                        await stream.send_body()
                    await stream.wait()
                except NeedsHTTP1:
                    conn.cancel(stream)
                    if request.body_producer is not None:
                        raise
                    self.http1_origins.add(key)
                    raise FallBack from None
                except Refused:
                    conn.cancel(stream)
                    resends += 1
                    if resends > _MAX_RESENDS or request.body_producer is not None:
                        raise
                    continue
                except BaseException:
                    conn.cancel(stream)
                    raise
                break
        except asyncio.CancelledError as exc:
            timer.check(exc)
            raise
        finally:
            timer.cancel()
        return _response(request, stream, start_wall, timings, pretransfer, time.monotonic())

    # -- the pool ---------------------------------------------------------------------------

    async def _acquire(
        self, request: HTTPRequest, key: Hashable, timer: HopTimer, timings: Timings
    ) -> Connection:
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = _Origin()
        connect, total = request.connect_timeout, request.request_timeout
        limit = min(connect, total) if connect and total else connect or total
        timer.arm(timings.start + limit if limit else None, "connect", "Timeout while connecting")
        while True:
            if self._closed:
                raise HTTPStreamClosedError("The client was closed")
            for conn in origin.conns:
                if conn.capacity > 0:
                    return conn
            dial = origin.dialing
            if dial is not None:
                timer.phase = "connect"
                try:
                    await asyncio.shield(dial)  # its error, if any, is ours too
                except asyncio.CancelledError:
                    if dial.cancelled() and self.is_closed():
                        raise HTTPStreamClosedError("The client was closed") from None
                    raise
                continue
            if self.max_per_host is None or len(origin.conns) < self.max_per_host:
                origin.dialing = self.loop.create_task(self._dial(request, key, origin, timings))
                origin.dialing.add_done_callback(_retrieve)
                continue
            timer.phase = "queue"
            timer.message = f"Timeout waiting for a connection to {request.host}:{request.port}"
            waiter = self.loop.create_future()
            origin.waiters.append(waiter)
            await waiter

    async def _dial(
        self, request: HTTPRequest, key: Hashable, origin: _Origin, timings: Timings
    ) -> Connection:
        # A task of its own, so that a requester giving up does not fail the others
        # waiting for it; it keeps the first requester's connect deadline.
        task = asyncio.current_task(self.loop)
        assert task is not None
        timer = HopTimer(self._deadlines, task, request)
        connect, total = request.connect_timeout, request.request_timeout
        limit = min(connect, total) if connect and total else connect or total
        timer.arm(timings.start + limit if limit else None, "connect", "Timeout while connecting")
        where = f"{request.host}:{request.port}"
        max_header_size = self.settings.max_header_size
        try:
            transport, protocol = await self.dialer.connect(
                request,
                lambda: Connection(self.loop, max_header_size, where, origin.wake),
                timer,
                timings,
            )
        except asyncio.CancelledError as exc:
            timer.check(exc)
            raise
        finally:
            timer.cancel()
            origin.dialing = None
            origin.wake()
        assert isinstance(protocol, Connection)
        if not protocol.negotiated:
            transport.close()
            self.http1_origins.add(key)
            raise FallBack
        origin.conns.append(protocol)
        origin.wake()
        self._schedule_expiry()
        return protocol

    def is_closed(self) -> bool:
        """True once ``close`` ran (a method: it can change across an await)."""
        return self._closed

    def _schedule_expiry(self) -> None:
        if self._expiry is None and not self._closed:
            self._expiry = self.loop.call_later(self.idle_timeout / 2 + 0.01, self._expire)

    def _expire(self) -> None:
        # Idle connections older than idle_timeout close, as HTTP/1.1 ones do.
        self._expiry = None
        now = self.loop.time()
        alive = False
        for origin in self._origins.values():
            for conn in origin.conns:
                idle = not conn.streams and now - conn.idle_since >= self.idle_timeout
                if idle and not conn.closed:
                    conn.close()
            origin.wake()
            alive = alive or bool(origin.conns)
        if alive:
            self._schedule_expiry()

    def close(self) -> None:
        """Close every connection and fail every request waiting for one."""
        self._closed = True
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        self._deadlines.close()
        error = HTTPStreamClosedError(CLIENT_CLOSED)
        for origin in self._origins.values():
            if origin.dialing is not None:
                origin.dialing.cancel()
            for conn in origin.conns:
                conn.abort(error)  # its streams fail now, not at the close's callback
            for waiter in origin.waiters:
                if not waiter.done():
                    waiter.set_exception(error)
        self._origins.clear()


def _retrieve(task: asyncio.Task[Any]) -> None:
    # Every requester that waited saw the error; none may have waited.
    if not task.cancelled():
        task.exception()


def _check_supported(request: HTTPRequest) -> None:
    for name in _PROXY_OPTIONS:
        if getattr(request, name, None):
            raise NotImplementedError(f"{name} not supported by SimpleAsyncHTTPClient")
    if request.auth_mode not in (None, "basic"):
        raise ValueError(
            f"unsupported auth_mode {request.auth_mode!r}: SimpleAsyncHTTPClient does basic "
            "auth only; use CurlAsyncHTTPClient for digest"
        )


def _response(
    request: HTTPRequest,
    stream: Stream,
    start_wall: float,
    timings: Timings,
    pretransfer: float,
    end: float,
) -> HTTPResponse:
    head = stream.head
    assert head is not None
    start = timings.start
    time_info = {
        "namelookup": timings.resolved - start,
        "connect": timings.connected - start,
        "appconnect": timings.secured - start if request.scheme == "https" else 0.0,
        "pretransfer": pretransfer - start,
        "starttransfer": (stream.first_byte or end) - start,
        "total": end - start,
    }
    return HTTPResponse(
        request,
        head.status_code,
        headers=head.headers,
        buffer=stream.body(),
        effective_url=request.url,
        request_time=end - start,
        time_info=time_info,
        start_time=start_wall,
    )


if TYPE_CHECKING:
    _conforms: Engine = HTTP2Engine(
        asyncio.new_event_loop(), cast("ClientSettings", None), None, 0.0
    )

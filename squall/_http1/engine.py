"""One request end to end: pool -> connection -> exchange -> HTTPResponse.

``HTTP1Engine.fetch`` does each hop of ``SimpleAsyncHTTPClient``'s fetches:

1. check options the engine cannot honour (before any I/O);
2. build the header list once;
3. take a pooled connection synchronously when one is idle, else dial one
   (or wait for the per-host limit), under the connect deadline;
4. write the request and await the exchange's single future, under the
   request deadline (a dict entry behind one shared loop timer; see
   ``deadlines.Deadlines``);
5. return the connection to the pool and build the HTTPResponse.

At most once (``squall._resend``): a pooled connection whose close the loop
has read (``HTTP1Connection.eof_received``/``connection_lost`` mark it closed;
the pool skips it at no cost) is never used. A request is sent again -- once,
on a new connection -- only when its reused connection failed before any byte
of it was written; once written, whatever the method, it is not resent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Hashable
from typing import TYPE_CHECKING, cast

from squall._arguments import ClientSettings
from squall._authenticate import ORIGIN, PROXY, DigestAuthenticator
from squall._engine import Engine
from squall._errors import (
    CLIENT_CLOSED,
    HTTPConnectionError,
    HTTPStreamClosedError,
    RemoteProtocolError,
)
from squall._http1.connect import Dialer, Timings
from squall._http1.connection import HTTP1Connection
from squall._http1.deadlines import Deadlines, HopTimer
from squall._http1.exchange import Exchange
from squall._http1.pool import ConnectionPool, Handoff
from squall._http1.proxied import (
    check_proxy,
    forwarded,
    proxy_digest_applies,
    refused_response,
)
from squall._http1.request_sending import send_request
from squall._http1.tunnel import ProxyRefused
from squall._logging import log_malformed
from squall._request import HTTPRequest
from squall._request_defaults import (
    DEFAULT_USER_AGENT,
    basic_authorization,
    credentials,
    default_fields,
)
from squall._resend import may_resend
from squall._response import HTTPResponse

__all__ = ["HTTP1Engine"]

Waiter = asyncio.Future[HTTP1Connection | None]


def check_supported(request: HTTPRequest) -> None:
    """Refuse, before any I/O, what this engine cannot do.

    Raises:
        ValueError: http_version "2"/"3", an auth_mode other than basic or digest,
            a malformed proxy_host (``proxied.check_proxy``).
    """
    if request.http_version not in (None, "1.1"):
        raise ValueError(
            f"http_version {request.http_version!r} is not supported by "
            "SimpleAsyncHTTPClient; use CurlAsyncHTTPClient"
        )
    if request.proxy_host:
        check_proxy(request)
    if request.auth_mode not in (None, "basic", "digest"):
        raise ValueError(f"unsupported auth_mode {request.auth_mode!r} (basic or digest)")


def request_headers(request: HTTPRequest) -> list[tuple[str, str]]:
    """The header fields to send, as Tornado's simple client adds them (minus
    ``Connection: close``: connections are kept alive)."""
    given = request.headers
    extra = dict(default_fields(request, DEFAULT_USER_AGENT))
    body = request.body
    if body is not None:
        extra["Content-Length"] = str(len(body))
    if request.method == "POST" and "Content-Type" not in given:
        extra["Content-Type"] = "application/x-www-form-urlencoded"
    pair = credentials(request)
    if pair is not None:
        extra["Authorization"] = basic_authorization(*pair)
    if request.expect_100_continue:
        extra["Expect"] = "100-continue"
    fields = [] if "Host" in given else [("Host", request.netloc)]
    fields.extend([(n, v) for n, v in given.get_all() if n not in extra])
    fields.extend(extra.items())
    return fields


class HTTP1Engine:
    """The pooled HTTP/1.1 engine behind SimpleAsyncHTTPClient.

    Args:
        loop: the client's event loop.
        settings: the client's checked arguments (resolver, hostname_mapping,
            size limits).
        max_connections_per_host: see ``pool.ConnectionPool``.
        idle_timeout: see ``pool.ConnectionPool``.
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
        self.dialer = Dialer(loop, settings.resolver, settings.hostname_mapping)
        self.pool: ConnectionPool[HTTP1Connection, Waiter] = ConnectionPool(
            max_connections_per_host, idle_timeout
        )
        self._expiry: asyncio.TimerHandle | None = None
        self._deadlines = Deadlines(self.loop)
        self._digest = DigestAuthenticator(ORIGIN)
        self._proxy_digest = DigestAuthenticator(PROXY)
        self._closed = False
        # One read buffer for every connection: each read is consumed before the next.
        self._scratch = memoryview(bytearray(1024 * 1024))

    async def fetch(self, request: HTTPRequest) -> HTTPResponse:
        """One exchange for a resolved request (the engine contract's fetch_once).

        Raises:
            HTTPStreamClosedError: "The client was closed" (``close()`` ran first or meanwhile).
        """
        # One flat coroutine: with an idle connection and a plain request, the only
        # suspension is the exchange's future (each nested await would be paid again
        # on every resumption).
        if self._closed:
            raise HTTPStreamClosedError(CLIENT_CLOSED)
        check_supported(request)
        if request.auth_mode == "digest":  # the authenticators call back without it
            return await self._digest.fetch(self.fetch, request)
        if request.proxy_auth_mode == "digest" and proxy_digest_applies(request):
            return await self._proxy_digest.fetch(self.fetch, request)
        fields = request_headers(request)
        wire = request  # what goes on the connection (proxied.forwarded may change it)
        if request.proxy_host:
            wire, fields = forwarded(request, fields)
        loop = self.loop
        start_wall = time.time()
        timings = Timings(time.monotonic())
        task = asyncio.current_task(loop)
        assert task is not None
        timer = HopTimer(self._deadlines, task, request)
        key = self.dialer.pool_key(request)
        total = request.request_timeout
        deadline = timings.start + total if total else None
        reuse = True
        try:
            while True:
                conn = self._idle(key, reuse)
                if conn is None:
                    conn = await self._connection(request, key, timer, timings, reuse)
                timer.arm(deadline, "request", "Timeout during request")
                exchange = Exchange(loop, self.settings.body_limit(request), wire, conn)
                exchange.pretransfer = time.monotonic()
                try:
                    sent = send_request(exchange, fields)
                    if sent and exchange.streaming is None:
                        await exchange.done
                    else:
                        await exchange.run(fields, sent)
                except HTTPConnectionError as exc:
                    self._close_and_forget(key, conn)
                    if isinstance(exc, RemoteProtocolError):
                        log_malformed(conn.where, exc)
                    if not reuse or conn.requests < 2 or not may_resend(conn.sent):
                        raise
                    reuse = False  # closed before our first byte: once more, on a new one
                    continue
                except BaseException:
                    self._close_and_forget(key, conn)
                    raise
                break
        except asyncio.CancelledError as exc:
            timer.check(exc)
            raise
        except ProxyRefused as refused:  # the proxy's answer to CONNECT is the response
            return refused_response(refused, request, start_wall, timings)
        finally:
            timer.cancel()
        if exchange.must_close:
            conn.close()
        self._release(key, conn)
        return exchange.response_for(request, start_wall, timings, time.monotonic())

    # -- connections -------------------------------------------------------------

    def _idle(self, key: Hashable, reuse: bool) -> HTTP1Connection | None:
        """A pooled connection to reuse now, or None (without reserving anything)."""
        if not reuse:
            return None
        checkout = self.pool.acquire_idle(key, self.loop.time())
        for stale in checkout.to_close:
            stale.close()
        return checkout.connection

    async def _connection(
        self, request: HTTPRequest, key: Hashable, timer: HopTimer, timings: Timings, reuse: bool
    ) -> HTTP1Connection:
        pool = self.pool
        checkout = pool.acquire(key, self.loop.time(), reuse)
        for stale in checkout.to_close:
            stale.close()
        if checkout.connection is not None:
            return checkout.connection
        connect, total = request.connect_timeout, request.request_timeout
        limit = min(connect, total) if connect and total else connect or total
        timer.arm(timings.start + limit if limit else None, "connect", "Timeout while connecting")
        if not checkout.open_new:
            conn = await self._wait_for_slot(request, key, timer)
            if conn is not None:
                return self._still_open(conn)
        return self._still_open(await self._dial(request, key, timer, timings))

    def _still_open(self, conn: HTTP1Connection) -> HTTP1Connection:
        if self._closed:  # close() ran while this fetch waited or dialled
            conn.close()
            raise HTTPStreamClosedError(CLIENT_CLOSED)
        return conn

    async def _wait_for_slot(
        self, request: HTTPRequest, key: Hashable, timer: HopTimer
    ) -> HTTP1Connection | None:
        waiter: Waiter = self.loop.create_future()
        self.pool.enqueue(key, waiter)
        timer.phase = "queue"
        timer.message = f"Timeout waiting for a connection to {request.host}:{request.port}"
        try:
            return await waiter
        except BaseException:
            handed = not self.pool.remove_waiter(key, waiter) and waiter.done()
            if handed and not waiter.cancelled() and waiter.exception() is None:
                self._give_back(key, waiter.result())
            raise

    async def _dial(
        self, request: HTTPRequest, key: Hashable, timer: HopTimer, timings: Timings
    ) -> HTTP1Connection:
        max_header_size = self.settings.max_header_size
        where = f"{request.host}:{request.port}"
        scratch = self._scratch
        try:
            _, protocol = await self.dialer.connect(
                request, lambda: HTTP1Connection(max_header_size, where, scratch), timer, timings
            )
        except BaseException:
            self._wake(key, self.pool.open_failed(key))
            raise
        assert isinstance(protocol, HTTP1Connection)
        self.pool.opened(key, protocol)
        return protocol

    def _give_back(self, key: Hashable, conn: HTTP1Connection | None) -> None:
        """A waiter that was handed a connection (or a slot) no longer wants it."""
        if conn is None:
            self._wake(key, self.pool.open_failed(key))
        else:
            self._release(key, conn)

    def _wake(self, key: Hashable, handoff: Handoff[HTTP1Connection, Waiter] | None) -> None:
        if handoff is None:
            return
        if handoff.waiter.done():  # gave up meanwhile: pass it on
            self._give_back(key, handoff.connection)
        else:
            handoff.waiter.set_result(handoff.connection)

    def _release(self, key: Hashable, conn: HTTP1Connection) -> None:
        if not conn.is_reusable:
            conn.close()
        self._wake(key, self.pool.release(key, conn, self.loop.time()))
        if self._expiry is None and not conn.closed:
            self._schedule_expiry()

    def _close_and_forget(self, key: Hashable, conn: HTTP1Connection) -> None:
        # The exchange failed: the connection is not reused, and its slot is freed.
        conn.finish()
        conn.close()
        self._wake(key, self.pool.forget(key, conn))

    def _schedule_expiry(self) -> None:
        when = self.pool.next_expiry()
        if when is not None:
            self._expiry = self.loop.call_at(when + 0.01, self._expire)

    def _expire(self) -> None:
        self._expiry = None
        for conn in self.pool.expire(self.loop.time()):
            conn.close()
        self._schedule_expiry()

    def close(self) -> None:
        """Close every connection and fail every request waiting for one."""
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        self._closed = True
        self._deadlines.close()
        conns, waiters = self.pool.close_all()
        for conn in conns:
            conn.abort(HTTPStreamClosedError(CLIENT_CLOSED))  # not "closed without a response"
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(HTTPStreamClosedError(CLIENT_CLOSED))


if TYPE_CHECKING:
    _conforms: Engine = HTTP1Engine(
        asyncio.new_event_loop(), cast("ClientSettings", None), None, 0.0
    )

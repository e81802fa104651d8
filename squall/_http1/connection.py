"""One HTTP/1.1 connection: an asyncio Protocol that drives ``protocol.py``.

The transport calls ``data_received``; the bytes go to the sans-IO
``ClientProtocol`` and the events it returns go, synchronously, to the current
exchange's ``ResponseSink`` (implemented in ``fetch.py``). No task, queue or
stream sits in between: a small buffered response costs one callback and one
future. The exchange awaits what it needs (its own future, ``drain`` while the
transport is paused for writing) and may ``pause_reading``/``resume_reading``
to apply back-pressure from a coroutine ``streaming_callback``.

A connection is ``is_reusable`` when it is open, no exchange is running, and
the last response allowed keep-alive. Anything the server sends while no
request is outstanding (an early close, a stray byte) marks it dead, so the
pool will not hand it out.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from squall._errors import HTTPStreamClosedError, translate_os_error
from squall._http1.protocol import (
    END_OF_MESSAGE,
    ClientProtocol,
    InformationalResponse,
    Response,
)

__all__ = ["HTTP1Connection", "ResponseSink"]


class ResponseSink(Protocol):
    """Receives one exchange's events, synchronously, from ``data_received``.

    An exception raised by ``on_response``/``on_data`` aborts the exchange:
    the connection closes and ``on_error`` gets it.
    """

    def on_informational(self, event: InformationalResponse) -> None: ...

    def on_response(self, event: Response) -> None: ...

    def on_data(self, data: bytes) -> None: ...

    def on_end(self) -> None: ...

    def on_error(self, exc: BaseException) -> None: ...


class HTTP1Connection(asyncio.Protocol):
    """A keep-alive HTTP/1.1 connection (see the module docstring).

    Args:
        max_header_size: passed to ``ClientProtocol``.
        where: ``host:port``, for error messages.
    """

    #: HTTP/1.1 carries one request at a time (see pool.PoolConnection).
    max_concurrent_requests = 1

    def __init__(self, max_header_size: int, where: str) -> None:
        self.protocol = ClientProtocol(max_header_size)
        self.where = where
        self.transport: asyncio.Transport | None = None
        self.closed = False
        #: Requests sent on this connection (a retry after a stale close needs > 0).
        self.requests = 0
        #: Whether the current request's bytes reached the transport.
        self.sent = False
        #: Loop time of the first response byte of the current exchange.
        self.first_byte = 0.0
        self._loop = asyncio.get_running_loop()
        self._sink: ResponseSink | None = None
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None

    # -- state -----------------------------------------------------------------------

    @property
    def is_reusable(self) -> bool:
        """True if another request may be sent now or later."""
        return not self.closed and self._sink is None and self.protocol.keep_alive

    @property
    def response_started(self) -> bool:
        """True once a byte of the current response arrived."""
        return self.protocol.response_started

    def close(self) -> None:
        """Close the transport (idempotent)."""
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    # -- the exchange's side --------------------------------------------------------

    def start(self, sink: ResponseSink, data: bytes) -> None:
        """Begin an exchange: route events to ``sink`` and write ``data``."""
        self._sink = sink
        self.requests += 1
        self.first_byte = 0.0
        self.sent = False
        if self.closed:
            # Closed between the pool's decision and now: nothing was sent.
            self._sink = None
            sink.on_error(HTTPStreamClosedError(f"Connection to {self.where} closed"))
            return
        self.write(data)

    def write(self, data: bytes) -> None:
        """Write bytes if the connection is still open (errors surface on the sink)."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if data:
            transport.write(data)
            self.sent = True

    async def drain(self) -> None:
        """Wait while the transport's write buffer is above its high-water mark."""
        if self._write_paused and not self.closed:
            waiter = self._drain_waiter = self._loop.create_future()
            await waiter

    def pause_reading(self) -> None:
        """Stop reading until ``resume_reading`` (back-pressure)."""
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        """Undo ``pause_reading``."""
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()

    def finish(self) -> None:
        """Detach the current sink (the exchange ended or was abandoned)."""
        self._sink = None

    # -- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        sink = self._sink
        if sink is None:
            # Unsolicited bytes on an idle connection: the server is confused or
            # closing (RFC 9112 §9.8: a 408 may precede the close). Drop it.
            self.close()
            return
        if not self.first_byte:
            self.first_byte = self._loop.time()
        try:
            for event in self.protocol.receive_data(data):
                if type(event) is bytes:
                    sink.on_data(event)
                elif event is END_OF_MESSAGE:
                    self._end(sink)
                elif type(event) is Response:
                    sink.on_response(event)
                elif isinstance(event, InformationalResponse):
                    sink.on_informational(event)
        except Exception as exc:
            self._abort(sink, exc)

    def eof_received(self) -> bool | None:
        return None  # close the transport; connection_lost does the rest

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.transport = None
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        sink = self._sink
        if sink is None:
            return
        try:
            if exc is not None:
                raise translate_os_error(exc, self.where) from exc
            for event in self.protocol.receive_eof():
                if event is END_OF_MESSAGE:
                    self._sink = None
                    sink.on_end()
        except Exception as error:
            self._sink = None
            sink.on_error(error)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        waiter = self._drain_waiter
        if waiter is not None:
            self._drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # -- internals ---------------------------------------------------------------------

    def _end(self, sink: ResponseSink) -> None:
        self._sink = None
        if not self.protocol.keep_alive:
            self.close()
        sink.on_end()

    def _abort(self, sink: ResponseSink, exc: BaseException) -> None:
        self._sink = None
        self.close()
        sink.on_error(exc)

    def __repr__(self) -> str:
        state = "closed" if self.closed else "busy" if self._sink is not None else "idle"
        return f"<HTTP1Connection {self.where} {state}>"

"""One HTTP/1.1 connection: an asyncio BufferedProtocol that drives ``protocol.py``.

The transport reads into our buffer and calls ``buffer_updated``; the bytes go to the sans-IO
``ClientProtocol`` and the events it returns go, synchronously, to the current
exchange's ``ResponseSink`` (implemented in ``exchange.py``). No task, queue or
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
import time
from typing import Protocol, cast

from squall._errors import HTTPStreamClosedError, translate_os_error
from squall._http1.events import END_OF_MESSAGE, InformationalResponse, Response
from squall._http1.protocol import ClientProtocol

__all__ = ["HTTP1Connection", "ResponseSink"]


class ResponseSink(Protocol):
    """Receives one exchange's events, synchronously, from ``data_received``.

    An exception raised by ``on_response``/``on_data`` aborts the exchange:
    the connection closes and ``on_error`` gets it.
    """

    def direct_target(self, size: int) -> memoryview | None:
        """Offer to take the last ``size`` body bytes straight from the socket (no
        events, no checks: the size is known): return a writable view of exactly
        ``size`` bytes for the reads to fill, or None."""
        ...

    def on_informational(self, event: InformationalResponse) -> None: ...

    def on_response(self, event: Response) -> None: ...

    def on_data(self, data: bytes) -> None: ...

    def on_end(self) -> None: ...

    def on_error(self, exc: BaseException) -> None: ...


# Below this many remaining body bytes, copying through the scratch buffer is cheaper
# than setting up a direct receive.
_DIRECT_MIN = 256 * 1024


class HTTP1Connection(asyncio.BufferedProtocol):
    """A keep-alive HTTP/1.1 connection (see the module docstring).

    It is a ``BufferedProtocol``: the transport reads into ``scratch``, one
    buffer shared by every connection of a client (each read is consumed before
    the next, so sharing is safe on one loop). Usually the bytes are copied out
    and parsed. For the rest of a large Content-Length body that is being
    buffered, the socket reads straight into the body's final memory instead
    (``ResponseSink.direct_target``): no copy in Python, no per-read bytes
    object, no final join.

    Args:
        max_header_size: passed to ``ClientProtocol``.
        where: ``host:port``, for error messages.
        scratch: the shared read buffer.
    """

    #: HTTP/1.1 carries one request at a time (see pool.PoolConnection).
    max_concurrent_requests = 1

    def __init__(self, max_header_size: int, where: str, scratch: memoryview) -> None:
        self.protocol = ClientProtocol(max_header_size, where)
        self._scratch = scratch
        self._target: memoryview | None = None
        self._filled = 0
        self.where = where
        self.transport: asyncio.Transport | None = None
        self.closed = False
        #: Requests started on this connection (> 1: it was reused).
        self.requests = 0
        #: Whether any byte of the current request reached the transport (then it is
        #: never sent again: squall._resend).
        self.sent = False
        #: Loop time of the first response byte of the current exchange.
        self.first_byte = 0.0
        self._loop = asyncio.get_running_loop()
        self._sink: ResponseSink | None = None
        self._write_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []

    # -- state -----------------------------------------------------------------------

    @property
    def is_reusable(self) -> bool:
        """True if another request may be sent now or later."""
        return not self.closed and self._sink is None and self.protocol.keep_alive

    def abort(self, exc: BaseException) -> None:
        """Close the connection; a running exchange fails with ``exc``."""
        sink = self._sink
        if sink is None:
            self.close()
        else:
            self._abort(sink, exc)

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

    def writable(self) -> asyncio.Future[None]:
        """A future done when the transport accepts more data (flow control:
        asyncio calls ``pause_writing`` above the write buffer's high-water mark)."""
        waiter: asyncio.Future[None] = self._loop.create_future()
        if self._write_paused and not self.closed:
            self._drain_waiters.append(waiter)
        else:
            waiter.set_result(None)
        return waiter

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
        self._target = None

    # -- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A cast, not an isinstance check: uvloop's transports do not subclass asyncio's.
        self.transport = cast(asyncio.Transport, transport)

    def get_buffer(self, sizehint: int) -> memoryview:
        target = self._target
        if target is not None:
            return target[self._filled :]  # never empty: it is dropped once full
        return self._scratch

    def buffer_updated(self, nbytes: int) -> None:
        if self._target is not None:
            self._direct_received(nbytes)
        else:
            self.data_received(bytes(self._scratch[:nbytes]))

    def data_received(self, data: bytes) -> None:
        sink = self._sink
        if sink is None:
            # Unsolicited bytes on an idle connection: the server is confused or
            # closing (RFC 9112 §9.8: a 408 may precede the close). Drop it.
            self.close()
            return
        if not self.first_byte:
            self.first_byte = time.monotonic()
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
            remaining = self.protocol.body_remaining
            if remaining >= _DIRECT_MIN and self._sink is sink:
                self._target = sink.direct_target(remaining)
                self._filled = 0
        except Exception as exc:
            self._abort(sink, exc)

    def _direct_received(self, nbytes: int) -> None:
        # The bytes are already in place (get_buffer handed out the target).
        self._filled += nbytes
        if self.protocol.body_received(nbytes):
            self._target = None
            sink = self._sink
            if sink is not None:
                try:
                    self._end(sink)
                except Exception as exc:
                    self._abort(sink, exc)

    def eof_received(self) -> bool | None:
        if self._sink is None:
            # The server closed an idle connection: unusable from now on, before
            # connection_lost (a loop iteration later), so that the pool never
            # hands it out (squall._resend, rule 1).
            self.closed = True
        return None  # close the transport; connection_lost does the rest

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.transport = None
        self._target = None
        self._wake_writers()
        self.protocol.connection_ended()
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
        self._wake_writers()

    def _wake_writers(self) -> None:
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
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
        self._target = None
        self.close()
        sink.on_error(exc)

    def __repr__(self) -> str:
        state = "closed" if self.closed else "busy" if self._sink is not None else "idle"
        return f"<HTTP1Connection {self.where} {state}>"

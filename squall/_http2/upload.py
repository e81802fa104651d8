"""The sending half of an HTTP/2 stream, the base class of ``Stream``.

The upload is an outbox of byte chunks that ``pump`` moves into DATA frames as
far as the peer's windows, the maximum frame size and the transport's write
buffer allow; the connection pumps again when a window opens or the transport
drains. ``drained`` resolves when the outbox is empty.

A request that asks ``Expect: 100-continue`` holds its body until the 100
arrives (``on_informational`` resolves ``continue_waiter``), a final response
comes first (the body is not sent), or ``CONTINUE_WAIT`` passes unanswered.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from typing import TYPE_CHECKING, Any

from squall._errors import HTTPStreamClosedError
from squall._http2.headers import ResponseHead
from squall._request import HTTPRequest

if TYPE_CHECKING:
    from squall._http2.connection import Connection

__all__ = ["CONTINUE_WAIT", "Upload"]

#: Seconds to wait for a ``100 Continue`` before sending the body unasked
#: (libcurl's default, CURLOPT_EXPECT_100_TIMEOUT_MS, is the same second).
CONTINUE_WAIT = 1.0


class Upload:
    """A stream's identity and its upload (see the module docstring).

    Args:
        conn: the connection carrying it.
        request: the resolved request.
    """

    __slots__ = (
        "conn",
        "continue_waiter",
        "done",
        "drained",
        "end_after",
        "outbox",
        "request",
        "stream_id",
    )

    #: The response head, once it arrived (a field of ``Stream``).
    head: ResponseHead | None

    def __init__(self, conn: Connection, request: HTTPRequest) -> None:
        self.conn = conn
        self.request = request
        self.stream_id = 0
        self.done: asyncio.Future[None] = conn.loop.create_future()
        self.continue_waiter: asyncio.Future[bool] | None = None
        self.outbox: deque[memoryview] = deque()
        self.end_after = False
        self.drained: asyncio.Future[None] | None = None

    def queue(self, data: bytes, end: bool) -> None:
        """Add ``data`` to the upload (and end the stream after it if ``end``)."""
        if data:
            self.outbox.append(memoryview(data))
        self.end_after = end
        self.pump()

    def pump(self) -> None:
        """Send what the windows allow; end the stream or resolve ``drained`` once empty."""
        conn = self.conn
        h2 = conn.h2
        sid = self.stream_id
        outbox = self.outbox
        if sid not in conn.streams or conn.closed:
            outbox.clear()  # reset, answered or broken: nothing more to send
            self.end_after = False
        try:
            while outbox and not conn.writing_paused:
                chunk = outbox[0]
                window = h2.local_flow_control_window(sid)
                size = min(len(chunk), window, h2.max_outbound_frame_size)
                if size <= 0:
                    break
                h2.send_data(sid, chunk[:size].tobytes())
                if size == len(chunk):
                    outbox.popleft()
                else:
                    outbox[0] = chunk[size:]
            if not outbox and self.end_after:
                self.end_after = False
                if sid in conn.streams:
                    h2.end_stream(sid)
        except conn.StreamClosed:
            # jh2 takes in a whole read before its events are handled: a reset
            # later in the read has closed the stream while an earlier
            # WINDOW_UPDATE is pumping it. Nothing more to send.
            outbox.clear()
            self.end_after = False
        if not outbox:
            drained = self.drained
            if drained is not None and not drained.done() and not conn.writing_paused:
                drained.set_result(None)
        conn.flush()

    async def wait_drained(self) -> None:
        """Until the outbox is empty (the peer took it or the stream is over)."""
        while (self.outbox or self.conn.writing_paused) and not self.done.done():
            self.drained = self.conn.loop.create_future()
            waiters: list[asyncio.Future[Any]] = [self.drained, self.done]
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)

    async def send_body(self) -> None:
        """Upload ``body`` or run ``body_producer`` (after a 100 if asked), then end."""
        request = self.request
        if request.expect_100_continue and not await self._wait_continue():
            return
        producer = request.body_producer
        if producer is None:
            self.queue(request.body or b"", end=True)
            await self.wait_drained()
            return

        def write(chunk: bytes | str) -> asyncio.Future[None]:
            # Tornado's contract: the data is taken now; the future says when to write more.
            if self.done.done() and self.head is None:
                raise HTTPStreamClosedError(f"HTTP/2 stream to {self.conn.where} closed")
            self.queue(chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk), False)
            return asyncio.ensure_future(self.wait_drained())

        result = producer(write)
        if result is not None and inspect.isawaitable(result):
            await result
        self.queue(b"", end=True)
        await self.wait_drained()

    async def _wait_continue(self) -> bool:
        # RFC 9110 §10.1.1: send the body after a 100; a final response first means
        # the body is not wanted. A server may never send a 100 (hypercorn does not
        # over HTTP/2): after CONTINUE_WAIT without an answer, send it anyway, as
        # libcurl does.
        loop = self.conn.loop
        waiter: asyncio.Future[bool] = loop.create_future()
        self.continue_waiter = waiter
        handle = loop.call_later(CONTINUE_WAIT, _resolve, waiter, True)
        try:
            return await waiter
        finally:
            handle.cancel()


def _resolve(waiter: asyncio.Future[bool], value: bool) -> None:
    if not waiter.done():
        waiter.set_result(value)

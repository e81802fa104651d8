"""One request/response on an HTTP/2 stream: its response sink, on its upload.

The connection calls ``on_response``/``on_data``/``on_end``/``on_error``
synchronously from ``data_received``; they apply, in order, what the HTTP/1.1
exchange applies: the redirect rule (a followed response is read and dropped,
with no callbacks), ``header_callback``, content decoding, the body size limit
(on decoded bytes), then ``streaming_callback`` or the buffer.

A buffered body goes into a ``BodyBuffer`` (squall._bodies): one of known
length (Content-Length, no content coding) straight into memory of its size,
else grown no further than the body size limit.

A ``streaming_callback`` that returns an awaitable gets back-pressure, as on
HTTP/1.1: nothing more is delivered until ``wait`` has awaited it. Meanwhile
DATA frames are held undecoded; each is decoded only once the one before it is
delivered, and pulled from the (lazy) decoder one piece at a time, so what is
held stays within the stream's window however high the compression ratio.

Flow control is per stream. A frame's bytes are handed back to jh2 as consumed
(``Connection.consumed``; jh2 batches the WINDOW_UPDATEs) once the frame is
delivered: buffered, or its last piece's awaitable completed. A slow consumer
closes its own stream's window, never the connection or the other streams.

The upload (``queue``, ``pump``, ``send_body``, 100-continue) is the base
class, ``Upload`` (upload.py).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import deque
from collections.abc import Awaitable, Iterator
from io import BytesIO
from typing import TYPE_CHECKING, Any

from squall._bodies import BodyBuffer
from squall._body_setup import body_decoder
from squall._callbacks import await_streaming, callback_failed, deliver_header_lines
from squall._decoding import Decoder
from squall._errors import HTTPStreamClosedError, ResponseTooLargeError
from squall._framing import body_too_long
from squall._headers import HTTPHeaders
from squall._http2.headers import ResponseHead, response_head
from squall._http2.upload import Upload
from squall._redirects import will_follow
from squall._request import HTTPRequest

if TYPE_CHECKING:
    from squall._http2.connection import Connection

__all__ = ["NeedsHTTP1", "Refused", "Stream"]


class Refused(HTTPStreamClosedError):
    """The server did not process the stream (GOAWAY above it, REFUSED_STREAM):
    RFC 9113 §8.7 makes it safe to send again, on another connection."""


class NeedsHTTP1(Refused):
    """The server said HTTP_1_1_REQUIRED (RFC 9113 §7): send this over HTTP/1.1."""


class Stream(Upload):
    """The client side of one stream (see the module docstring).

    Args:
        conn: the connection carrying it.
        request: the resolved request.
        limit: the most body bytes (``ClientSettings.body_limit``).
    """

    __slots__ = (
        "buffer",
        "credit",
        "decoder",
        "discard",
        "ended",
        "first_byte",
        "head",
        "held",
        "length",
        "limit",
        "pending",
        "pieces",
        "signal",
        "size",
        "streaming",
    )

    def __init__(self, conn: Connection, request: HTTPRequest, limit: int) -> None:
        super().__init__(conn, request)
        self.limit = limit
        self.head: ResponseHead | None = None
        self.buffer: BodyBuffer | None = None  # buffered (no streaming_callback)
        self.length = -1  # the buffered body's announced size
        self.size = 0  # undecoded body bytes, against the limit
        self.decoder: Decoder | None = None
        self.discard = False
        self.streaming = request.streaming_callback
        # A coroutine callback's awaitable not awaited yet; meanwhile frames are
        # held (undecoded, with their flow credit), the one being delivered has
        # its pieces left in ``pieces`` and its credit in ``credit``, and the end
        # of the stream waits in ``ended``.
        self.pending: Awaitable[Any] | None = None
        self.held: deque[tuple[bytes, int]] = deque()
        self.pieces: Iterator[bytes] | None = None
        self.credit = 0
        self.ended = False
        self.signal: asyncio.Future[None] | None = None
        self.first_byte = 0.0

    # -- waiting for the response -----------------------------------------------------

    async def wait(self) -> None:
        """Until the response is complete; runs a coroutine streaming callback's
        awaitables one at a time, delivering what is held after each.

        Raises:
            HTTPClientError: a 599 leaf, or whatever a user callback raised.
        """
        if self.streaming is None:
            await self.done
            return
        while True:
            pending = self.pending
            if pending is not None:
                self.pending = None
                await await_streaming(pending)
                if not self.done.done():
                    self._advance()  # may make the next awaitable, or end the body
                continue
            if self.done.done():
                self.done.result()
                return
            signal = self.signal = self.conn.loop.create_future()
            await signal

    def abandon(self) -> None:
        """The stream is over before its body was delivered (reset, failed, cancelled):
        drop what is held, close an awaitable not run yet, give the flow credit back."""
        credit = self.credit + sum(flow for _data, flow in self.held)
        self.held.clear()
        self.pieces = None
        self.credit = 0
        self.ended = False
        pending, self.pending = self.pending, None
        close = getattr(pending, "close", None)
        if close is not None:
            close()  # never awaited: quietly
        self.conn.consumed(self.stream_id, credit)

    def _poke(self) -> None:
        signal = self.signal
        if signal is not None and not signal.done():
            signal.set_result(None)

    # -- the sink ---------------------------------------------------------------------

    def on_informational(self, header_list: list[tuple[bytes, bytes]]) -> None:
        waiter = self.continue_waiter
        head = response_head(header_list, self.conn.where)
        if head.status_code == 100 and waiter is not None and not waiter.done():
            waiter.set_result(True)

    def on_response(self, header_list: list[tuple[bytes, bytes]]) -> None:
        waiter = self.continue_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(False)
        self.first_byte = time.monotonic()
        head = self.head = response_head(header_list, self.conn.where)
        request, headers = self.request, head.headers
        if will_follow(request, head.status_code, headers):
            self.discard = True
            return
        callback = request.header_callback
        if callback is not None:
            deliver_header_lines(callback, head.header_lines())
        self.decoder = body_decoder(request, head.status_code, headers, self.limit)
        if self.streaming is None:
            self.buffer = BodyBuffer(self.limit)
            # Content-Length is the size of what we are given unless we decode it.
            self.length = -1 if self.decoder is not None else _content_length(headers)

    def on_data(self, data: bytes, flow_length: int) -> None:
        """A DATA frame's payload; ``flow_length`` (padding included) is its flow
        credit, handed back once the frame's bytes are delivered."""
        if self.decoder is None:
            size = self.size = self.size + len(data)
            if size > self.limit:
                self.conn.consumed(self.stream_id, flow_length)
                raise ResponseTooLargeError(
                    body_too_long(self.limit), option="max_body_size", limit=self.limit
                )
            buffer = self.buffer
            if buffer is not None:  # buffered and not decoded: never held
                buffer.write(data, self.length)
                self.conn.consumed(self.stream_id, flow_length)
                return
        self.held.append((data, flow_length))
        self._advance()

    def _advance(self) -> None:
        # Deliver what is held, in order, until a coroutine callback's awaitable must
        # run first (``wait`` runs it, then calls this again). A frame is decoded
        # only once the one before it is delivered, one piece at a time, and its
        # credit is handed back after its last piece: while a callback is slow its
        # stream's window closes, and the peer stops sending that stream alone.
        while self.pending is None:
            pieces = self.pieces
            if pieces is not None:
                piece = next(pieces, None)
                if piece is not None:
                    self._take(piece)
                    continue
                self.pieces = None
                credit, self.credit = self.credit, 0
                self.conn.consumed(self.stream_id, credit)
            held = self.held
            if held:
                data, self.credit = held.popleft()
                decoder = self.decoder
                self.pieces = decoder.decode(data) if decoder is not None else iter((data,))
                continue
            if not self.ended:
                return
            decoder = self.decoder
            if decoder is not None:
                self.decoder = None
                self.pieces = decoder.flush()
                continue
            self.ended = False
            self._finish()
            return

    def _take(self, data: bytes) -> None:
        if self.discard or self.head is None:
            return
        callback = self.streaming
        if callback is None:
            buffer = self.buffer
            assert buffer is not None
            buffer.write(data, self.length)
            return
        try:
            result = callback(data)
        except Exception as exc:
            raise callback_failed(exc, "streaming_callback") from exc
        if result is not None and inspect.isawaitable(result):
            self.pending = result  # nothing more is delivered until it has run
            self._poke()

    def on_end(self) -> None:
        """The stream ended: the body is complete once what is held is delivered."""
        self.ended = True
        self._advance()
        self._poke()

    def _finish(self) -> None:
        if not self.done.done():
            if self.head is None:
                where = self.conn.where
                exc = HTTPStreamClosedError(f"HTTP/2 stream to {where} ended without a response")
                self.done.set_exception(exc)
            else:
                self.done.set_result(None)

    def on_error(self, exc: BaseException) -> None:
        waiter = self.continue_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(False)
        if not self.done.done():
            self.done.set_exception(exc)
        drained = self.drained
        if drained is not None and not drained.done():
            drained.set_result(None)
        self._poke()

    def body(self) -> BytesIO:
        """The buffered body (empty when streamed or discarded)."""
        buffer = self.buffer
        if buffer is None:
            return BytesIO()
        buffer.finish()
        out = buffer.buffer
        out.seek(0)
        return out


def _content_length(headers: HTTPHeaders) -> int:
    # The announced size, or -1 (absent or unreadable: jh2 checks it against the DATA).
    value = headers.get("Content-Length")
    if value is None or not (value.isascii() and value.isdigit()):
        return -1
    return int(value)

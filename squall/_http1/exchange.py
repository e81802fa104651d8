"""One request/response exchange on a connection: the ``ResponseSink``.

The request is written by ``request_sending.py``: ``send_request`` at once
when nothing needs waiting, else ``Exchange.run`` has ``send_rest`` write it
(after a ``100 Continue``, or from a ``body_producer`` with flow control)
before it waits for the response. The connection calls
``on_response``/``on_data``/``on_end`` synchronously from ``data_received``;
they apply, in order: the redirect rule (a response the base client will
follow is read and dropped, with no callbacks, as Tornado's simple client
does), ``header_callback``, content decoding, the body size limit (on decoded
bytes), then ``streaming_callback`` or the buffer.

A ``streaming_callback`` that returns an awaitable gets back-pressure: reading
pauses and ``run`` awaits it; until then nothing more is delivered. What the
rest of the same read brings is held (the decoder keeps its input and is
pulled one piece at a time, after each awaitable), so what is held stays one
piece and one read whatever the compression ratio; reading resumes once all
of it is delivered.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from collections.abc import Awaitable, Iterator
from io import BytesIO
from itertools import chain
from typing import Any

from squall._bodies import presized_body
from squall._body_setup import body_decoder
from squall._callbacks import await_streaming, callback_failed, deliver_header_lines
from squall._decoding import Decoder
from squall._errors import ResponseTooLargeError
from squall._framing import body_too_long
from squall._http1.connect import Timings
from squall._http1.connection import HTTP1Connection
from squall._http1.events import InformationalResponse, Response
from squall._http1.request_sending import send_rest
from squall._redirects import will_follow
from squall._request import HTTPRequest
from squall._response import HTTPResponse

__all__ = ["Exchange"]


class Exchange:
    """The client side of one exchange (see the module docstring).

    Args:
        loop: the client's event loop.
        limit: the most body bytes (``ClientSettings.body_limit``).
        request: the resolved request.
        conn: the connection to use.
    """

    __slots__ = (
        "body_buffer",
        "chunks",
        "conn",
        "continue_waiter",
        "decoder",
        "done",
        "drop_body",
        "ended",
        "first_byte",
        "held",
        "limit",
        "loop",
        "must_close",
        "pending",
        "pieces",
        "pretransfer",
        "request",
        "response",
        "signal",
        "size",
        "streaming",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        limit: int,
        request: HTTPRequest,
        conn: HTTP1Connection,
    ) -> None:
        self.request = request
        self.conn = conn
        self.loop = loop
        self.done: asyncio.Future[None] = loop.create_future()
        self.response: Response | None = None
        self.chunks: list[bytes] = []
        self.body_buffer: BytesIO | None = None
        self.size = 0
        self.streaming = request.streaming_callback
        self.limit = limit
        self.decoder: Decoder | None = None
        self.drop_body = False  # a redirect the base will follow: read, not kept
        # A coroutine callback's awaitable, not awaited yet; meanwhile what arrives
        # is held: undecoded data in ``held``, the decoder's pieces in ``pieces``,
        # and the end of the body (``ended``).
        self.pending: Awaitable[Any] | None = None
        self.held: deque[bytes] | None = None
        self.pieces: Iterator[bytes] | None = None
        self.ended = False
        self.signal: asyncio.Future[None] | None = None
        self.continue_waiter: asyncio.Future[bool] | None = None
        self.must_close = False
        self.pretransfer = 0.0
        self.first_byte = 0.0

    # -- waiting -------------------------------------------------------------------

    async def run(self, fields: list[tuple[str, str]], sent: bool) -> None:
        """Finish sending (unless ``send_request`` did) and wait until the response
        is complete.

        Raises:
            HTTPClientError: a 599 leaf (the connection broke, the peer broke HTTP,
                a limit was exceeded), or whatever a user callback raised.
        """
        if not sent:
            await send_rest(self, fields)
        if self.streaming is None:
            await self.done
        else:
            await self._pump()

    async def _pump(self) -> None:
        while True:
            pending = self.pending
            if pending is not None:
                self.pending = None
                try:
                    await await_streaming(pending)
                except BaseException:
                    self._drop_pending()
                    raise
                continue
            if self.held is not None and not self.done.done():
                data = self._next_held()
                if data is not None:
                    self._take(data)  # may make the next awaitable
                    continue
                self.held = None  # all delivered
                if self.ended:
                    self.done.set_result(None)
            if self.done.done():
                # Reading may still be paused by the last chunk: a pooled connection
                # must read (its next response, or the server's close).
                self.conn.resume_reading()
                self.done.result()
                return
            self.conn.resume_reading()
            signal = self.signal = self.loop.create_future()
            await signal

    def _next_held(self) -> bytes | None:
        # The next piece held back while a coroutine callback ran, or None.
        pieces = self.pieces
        if pieces is not None:
            piece = next(pieces, None)
            if piece is not None:
                return piece
            self.pieces = None
        held = self.held
        return held.popleft() if held else None

    def _drop_pending(self) -> None:
        # What follows a failed awaitable is never delivered; an awaitable not run
        # yet is closed, unawaited, quietly.
        self.held = self.pieces = None
        pending, self.pending = self.pending, None
        close = getattr(pending, "close", None)
        if close is not None:
            close()

    def _poke(self) -> None:
        signal = self.signal
        if signal is not None and not signal.done():
            signal.set_result(None)

    # -- ResponseSink ----------------------------------------------------------------

    def on_informational(self, event: InformationalResponse) -> None:
        waiter = self.continue_waiter
        if event.status_code == 100 and waiter is not None and not waiter.done():
            waiter.set_result(True)

    def on_response(self, event: Response) -> None:
        waiter = self.continue_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(False)
        self.response = event
        request = self.request
        headers = event.headers
        if will_follow(request, event.status_code, headers):
            self.drop_body = True
            return
        callback = request.header_callback
        if callback is not None:
            deliver_header_lines(callback, event.header_lines())
        self.decoder = body_decoder(request, event.status_code, headers, self.limit)

    def on_data(self, data: bytes) -> None:
        decoder = self.decoder
        if decoder is not None:
            # Decoded in bounded pieces (the decoder counts them against the limit).
            pieces = decoder.decode(data)  # fed now, decoded as pulled
            if self.held is not None or self._take_all(pieces):
                self.pieces = pieces  # pulled by _pump, after the awaitable before them
            return
        self.size += len(data)
        if self.size > self.limit:
            raise ResponseTooLargeError(
                body_too_long(self.limit), option="max_body_size", limit=self.limit
            )
        if self.held is not None:
            self.held.append(data)
        else:
            self._take(data)

    def _take_all(self, pieces: Iterator[bytes]) -> bool:
        # True if a coroutine callback stopped the delivery (the rest waits).
        return any(self._take(piece) for piece in pieces)

    def _take(self, data: bytes) -> bool:
        # True if a coroutine callback must run before anything more is delivered.
        if self.drop_body:
            return False
        callback = self.streaming
        if callback is None:
            self.chunks.append(data)
            return False
        try:
            result = callback(data)
        except Exception as exc:
            raise callback_failed(exc, "streaming_callback") from exc
        if result is not None and inspect.isawaitable(result):
            # Nothing more is delivered until it has run (see _pump).
            self.pending = result
            if self.held is None:
                self.held = deque()
                self.conn.pause_reading()
            self._poke()
            return True
        return False

    def direct_target(self, size: int) -> memoryview | None:
        if self.streaming is not None or self.decoder is not None or self.drop_body:
            return None
        received = self.size
        total = received + size
        if total > self.limit:
            return None  # on_data will refuse it as it arrives
        presized = presized_body(total)  # see squall._bodies
        if presized is None:
            # An announced length no allocation can hold (the limits were lifted):
            # the body grows as it arrives instead, and the server's close or the
            # read that truly runs out of memory ends it.
            return None
        buffer, view = presized
        offset = 0
        for chunk in self.chunks:
            view[offset : offset + len(chunk)] = chunk
            offset += len(chunk)
        self.chunks = []
        self.body_buffer = buffer
        self.size = total
        return view[received:]

    def on_end(self) -> None:
        self.first_byte = self.conn.first_byte
        decoder = self.decoder
        if decoder is not None:
            self.decoder = None
            if self.held is not None:
                self.pieces = chain(self.pieces or (), decoder.flush())
            else:
                pieces = decoder.flush()
                if self._take_all(pieces):
                    self.pieces = pieces
        if self.held is not None:
            self.ended = True  # the body is complete once _pump delivered the rest
            self._poke()
            return
        if not self.done.done():
            self.done.set_result(None)
        self._poke()

    def on_error(self, exc: BaseException) -> None:
        waiter = self.continue_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(False)
        if not self.done.done():
            self.done.set_exception(exc)
        self._poke()

    # -- result ------------------------------------------------------------------------

    def response_for(
        self, request: HTTPRequest, start_wall: float, timings: Timings, end: float
    ) -> HTTPResponse:
        """The HTTPResponse of this exchange (after ``run`` returned)."""
        event = self.response
        assert event is not None
        buffer = self.body_buffer
        if buffer is not None:
            buffer.seek(0)
        else:
            chunks = self.chunks
            buffer = BytesIO(chunks[0] if len(chunks) == 1 else b"".join(chunks))
        start = timings.start
        time_info = {
            "namelookup": timings.resolved - start,
            "connect": timings.connected - start,
            "appconnect": timings.secured - start if request.scheme == "https" else 0.0,
            "pretransfer": self.pretransfer - start,
            "starttransfer": (self.first_byte or end) - start,
            "total": end - start,
        }
        return HTTPResponse(
            request,
            event.status_code,
            headers=event.headers,
            buffer=buffer,
            effective_url=request.url,
            request_time=end - start,
            time_info=time_info,
            reason=event.reason or None,
            start_time=start_wall,
        )

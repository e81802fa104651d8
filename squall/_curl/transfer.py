"""One transfer's state: libcurl's data callbacks and the coroutine waiting on them.

libcurl appends header lines to ``head.lines`` (read by ``head.HeadReader``)
and calls ``on_body`` and ``on_read`` from inside ``socket_action`` (that is,
from a loop callback of the bridge). They never touch the multi handle and
never raise into libcurl: a failure is stored in ``error`` and the callback
returns a value that makes libcurl stop (``CURLE_WRITE_ERROR`` /
``CURLE_ABORTED_BY_CALLBACK``); ``wait()`` then raises the stored error rather
than libcurl's.

Back-pressure uses libcurl's pause bits, kept in ``paused``:
- a coroutine ``streaming_callback``: ``on_body`` hands the first awaitable to
  ``wait()`` and pauses receiving; ``wait()`` awaits it in the fetch's own task
  (under the request's deadline: libcurl's timer does not run for a paused
  transfer), then delivers, one awaited piece at a time, what the decoder still
  holds of that chunk, and only then resumes receiving. Whatever libcurl
  writes meanwhile it keeps itself (``CURL_WRITEFUNC_PAUSE``), so what is held
  stays one piece and one chunk whatever the compression ratio;
- a ``body_producer``: ``upload.Upload`` pauses sending while no chunk is
  queued, and resumes it when ``write()`` queues one.

Both engines must refuse the same responses: what libcurl lets through and
llhttp (the simple engine's parser) refuses is refused by the head reader.
What libcurl parses alone (chunk framing) cannot be.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Iterator
from inspect import isawaitable
from itertools import chain
from typing import TYPE_CHECKING, Any

import pycurl

from squall._bodies import BodyBuffer
from squall._callbacks import callback_failed, cancelled_by_its_task
from squall._curl.head import HeadReader, body_too_large
from squall._decoding import Decoder, make_decoder
from squall._errors import (
    CLIENT_CLOSED,
    HTTPClientError,
    HTTPStreamClosedError,
    HTTPTimeoutError,
    ResponseTooLargeError,
    timeout_option,
)
from squall._framing import CLOSED_IN_HEAD
from squall._headers import HTTPHeaders

if TYPE_CHECKING:
    from squall._curl.upload import Upload
    from squall._request import HTTPRequest

__all__ = ["Transfer"]


_PAUSE_RECV = pycurl.PAUSE_RECV
_WRITEFUNC_PAUSE: int = pycurl.WRITEFUNC_PAUSE


class Transfer:
    """Collects one response from libcurl callbacks; see the module docstring."""

    # Slots: faster attribute access on the hot path, and more than 30 attributes
    # would cost CPython 3.11 its shared-key instance dicts.
    __slots__ = (
        "_body_size",
        "_deadline",
        "_decoder",
        "_drop_body",
        "_has_head",
        "_length",
        "_pending",
        "_pieces",
        "_streaming",
        "_wake",
        "body",
        "body_limit",
        "code",
        "curl",
        "error",
        "head",
        "headers",
        "loop",
        "paused",
        "poisoned",
        "reason",
        "request",
        "result",
        "upload",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        curl: Any,
        request: HTTPRequest,
        body_limit: int,
        header_limit: int,
    ) -> None:
        self.loop = loop
        self.curl = curl
        self.request = request
        self.body_limit = body_limit
        self.code = 0
        self.reason: str | None = None
        self.headers = HTTPHeaders()
        self.body = BodyBuffer(body_limit)
        self.error: BaseException | None = None
        self.result: tuple[int, str] | None = None
        #: A user callback failed: the handle is not to be reused.
        self.poisoned = False
        # libcurl's HEADERFUNCTION appends to head.lines; _read_head reads them.
        self.head = HeadReader(request, header_limit, body_limit)
        self._has_head = False
        self._drop_body = False
        # How the final response's body is delimited (see head.Head.length).
        self._length = -1
        self._body_size = 0
        self._streaming = request.streaming_callback
        self._decoder: Decoder | None = None
        self._pending: Awaitable[Any] | None = None
        # What the decoder still holds of a chunk while a coroutine callback runs.
        self._pieces: Iterator[bytes] | None = None
        timeout = request.request_timeout
        self._deadline = loop.time() + timeout if timeout else None
        self._wake: asyncio.Future[None] | None = None
        self.paused = 0
        #: The body_producer's side, when there is one (set by the engine).
        self.upload: Upload | None = None

    # -- libcurl callbacks -------------------------------------------------------

    # HEADERFUNCTION is ``head.lines.append``; the lines are read (``_read_head``)
    # before the first body bytes are delivered, or at the end of a transfer.

    def _read_head(self) -> int | None:
        try:
            head = self.head.read()
        except HTTPClientError as exc:
            return self.fail(exc)
        if head is None:
            return None
        if self._has_head:
            # A second final response on one handle (digest or proxy auth
            # retried by libcurl): only the last one counts.
            self._drop_body = False
            self._body_size = 0
            self._decoder = None
            self.body = BodyBuffer(self.body_limit)
        self._has_head = True
        self.code = head.code
        self.reason = head.reason
        self.headers = headers = head.headers
        self._length = head.length
        if head.follow:
            self._drop_body = True  # the base follows it: no body, no callbacks
            return None
        request = self.request
        callback = request.header_callback
        if callback is not None:
            try:
                for raw in head.lines:
                    callback(raw.decode("latin-1"))
                callback("\r\n")
            except Exception as exc:
                return self.fail(self._callback_failed("header_callback", exc))
        if request.decompress_response and "Content-Encoding" in headers:
            coding = headers["Content-Encoding"]
            # None for a coding we cannot decode: the body is delivered as sent.
            self._decoder = make_decoder(coding, self.body_limit) if coding else None
            if self._decoder is not None:
                # Tornado's convention, as on the simple engine: the body is no longer coded.
                headers.add("X-Consumed-Content-Encoding", coding)
                del headers["Content-Encoding"]
        return None

    def on_header_line(self, line: bytes) -> int | None:
        """HEADERFUNCTION of a request with a header_callback: the head is read as
        soon as it ends, so a failing callback aborts the transfer even when no
        body follows (its connection is then closed, not reused)."""
        self.head.lines.append(line)
        if line == b"\r\n" and self._read_head() is not None:
            return 0
        return None

    def on_body(self, data: bytes) -> int | None:
        head = self.head
        if head.seen != len(head.lines) and self._read_head() is not None:
            return 0
        if self._drop_body:
            return None
        if self._pending is not None or self._pieces is not None:
            # A coroutine callback has not run yet: libcurl keeps this for after it.
            return _WRITEFUNC_PAUSE
        if self._decoder is not None:
            return self._decode(data)
        return self._deliver(data)

    def _decode(self, data: bytes | None) -> int | None:
        # Delivers the pieces of a chunk (None: the end of the body), until one
        # makes a coroutine callback wait: wait() pulls the rest after it.
        decoder = self._decoder
        assert decoder is not None
        try:
            pieces = decoder.flush() if data is None else decoder.decode(data)
            for piece in pieces:  # bounded pieces, decoded as they are pulled
                if self._deliver(piece) is not None:
                    return 0
                if self._pending is not None:
                    self._pieces = pieces
                    return None
        except ResponseTooLargeError as exc:
            return self.fail(body_too_large(self.body_limit, exc.message))
        except HTTPClientError as exc:  # named bad data
            return self.fail(exc)
        return None

    def _deliver(self, data: bytes) -> int | None:
        size = self._body_size + len(data)
        if size > self.body_limit:
            return self.fail(body_too_large(self.body_limit))
        streaming = self._streaming
        if streaming is None:
            # Content-Length is the size of what we are given unless we decode (or
            # prepare_curl_callback told libcurl to: the buffer then just grows).
            self.body.write(data, -1 if self._decoder is not None else self._length)
            self._body_size = size
            return None
        self._body_size = size
        try:
            pending = streaming(data)
        except Exception as exc:
            return self.fail(self._callback_failed("streaming_callback", exc))
        if pending is not None and isawaitable(pending):
            # A coroutine callback: hold further data until it has run.
            self._pending = pending
            if self.result is None and not self.paused & _PAUSE_RECV:
                self.set_pause(self.paused | _PAUSE_RECV)
            self._notify()
        return None

    def _callback_failed(self, name: str, exc: BaseException) -> HTTPStreamClosedError:
        # As Tornado (squall._callbacks), and neither handle nor connection is used again.
        self.poisoned = True
        return callback_failed(exc, name)

    def fail(self, exc: BaseException) -> int:
        if self.error is None:
            self.error = exc
        self._notify()
        return 0  # any short count makes libcurl abort the transfer

    # -- bridge -> transfer ------------------------------------------------------

    def transfer_done(self, errno: int, message: str) -> None:
        head = self.head
        if head.seen != len(head.lines):
            self._read_head()
        if not errno and not head.complete and self.error is None:
            # libcurl accepts a connection closed inside the header block as
            # the end of the response (HTTP/1.0 leniency); we do not.
            self.error = HTTPStreamClosedError(CLOSED_IN_HEAD)
        self.result = (errno, message)
        if errno:
            self._pieces = None
        elif self._decoder is not None and self.error is None and not self._drop_body:
            # What the decoder still holds at the end: now, or after what wait() delivers.
            if self._pending is None and self._pieces is None:
                self._decode(None)
            else:
                self._pieces = chain(self._pieces or (), self._decoder.flush())
        self.body.finish()
        if self.upload is not None:
            self.upload.transfer_ended()
        self._notify()

    def engine_closed(self) -> None:
        if self.error is None:
            self.error = HTTPStreamClosedError(CLIENT_CLOSED)
        self.transfer_done(pycurl.E_ABORTED_BY_CALLBACK, CLIENT_CLOSED)

    def _notify(self) -> None:
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def set_pause(self, bits: int) -> None:
        self.paused = bits
        self.curl.pause(bits)

    # -- coroutine side ----------------------------------------------------------

    async def wait(self) -> None:
        """Run until libcurl reports the end (``result``) or ``error`` is set.

        Coroutine streaming callbacks run here, in the fetch's task, one at
        a time and in order; the body is complete only once they all ran.
        """
        while self.error is None:
            pending = self._pending
            if pending is not None:
                self._pending = None
                await self._run_callback(pending)
                continue
            if self._pieces is not None and self._next_piece():
                continue
            if self.paused & _PAUSE_RECV and self.result is None:
                # All delivered: receive again (libcurl may write what it kept, now).
                self.set_pause(self.paused & ~_PAUSE_RECV)
                continue
            if self.result is not None:
                break
            self._wake = self.loop.create_future()
            try:
                await self._wake
            finally:
                self._wake = None

    async def _run_callback(self, pending: Awaitable[Any]) -> None:
        # Under the request's deadline: libcurl's own timer would not fire while
        # receiving is paused. Its expiry cancels the callback, as on the simple engine.
        task = asyncio.current_task()
        assert task is not None
        fired = False

        def expire() -> None:
            nonlocal fired
            fired = True
            task.cancel()

        deadline = self._deadline
        timer = None if deadline is None else self.loop.call_at(deadline, expire)
        error: BaseException | None = None
        try:
            await pending
        except (Exception, asyncio.CancelledError) as exc:
            error = exc
        finally:
            if timer is not None:
                timer.cancel()
        # Python 3.11+ counts cancellations: ours must not leak into the caller's,
        # and should someone else have cancelled too, theirs wins.
        if fired and (sys.version_info < (3, 11) or task.uncancel() == 0):
            option, limit = timeout_option(
                "request", self.request.connect_timeout, self.request.request_timeout
            )
            self.fail(
                HTTPTimeoutError(
                    "Timeout during request", phase="request", option=option, limit=limit
                )
            )
        elif error is not None:
            if cancelled_by_its_task(error):
                raise error  # the fetch itself is cancelled: the base reports it
            self.fail(self._callback_failed("streaming_callback", error))

    def _next_piece(self) -> bool:
        # Delivers the next piece the decoder holds; False once there is none.
        assert self._pieces is not None
        try:
            piece = next(self._pieces, None)
        except ResponseTooLargeError as exc:
            self.fail(body_too_large(self.body_limit, exc.message))
            return True
        except HTTPClientError as exc:  # named bad data
            self.fail(exc)
            return True
        if piece is None:
            self._pieces = None
            return False
        self._deliver(piece)
        return True

    def discard(self) -> None:
        """Drop a coroutine callback that will not run (the fetch failed first)."""
        self._pieces = None
        pending, self._pending = self._pending, None
        close = getattr(pending, "close", None)
        if close is not None:
            close()

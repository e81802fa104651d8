"""One transfer's state: libcurl's data callbacks and the coroutine waiting on them.

libcurl appends header lines to ``header_lines`` and calls ``on_body`` and
``on_read`` from inside ``socket_action`` (that is, from a loop callback of
the bridge). They never
touch the multi handle and never raise into libcurl: a failure is stored in
``error`` and the callback returns a value that makes libcurl stop
(``CURLE_WRITE_ERROR`` / ``CURLE_ABORTED_BY_CALLBACK``); ``wait()`` then
raises the stored error rather than libcurl's.

Back-pressure uses libcurl's pause bits, kept in ``_paused``:
- a coroutine ``streaming_callback``: ``on_body`` consumes the chunk, pauses
  receiving and hands the awaitable to ``wait()``, which awaits it in the
  fetch's own task and then resumes receiving;
- a ``body_producer``: ``on_read`` returns ``READFUNC_PAUSE`` while no chunk
  is queued; ``write()`` queues one, resumes sending and waits until libcurl
  has taken all of it.

Both engines must refuse the same responses: what libcurl lets through and
llhttp (the simple engine's parser) refuses is checked on the header lines
with ``squall._framing``. What libcurl parses alone (chunk framing) cannot be.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from inspect import isawaitable
from io import BytesIO
from typing import TYPE_CHECKING, Any

import pycurl

from squall._callbacks import callback_failed, cancelled_by_its_task
from squall._decoding import Decoder, make_decoder
from squall._errors import (
    HTTPClientError,
    HTTPStreamClosedError,
    RemoteProtocolError,
    ResponseTooLargeError,
)
from squall._framing import (
    FIELD_BLOCK,
    FIELD_LINE,
    MAX_INFORMATIONAL,
    NO_CONTENT_WITH_BODY,
    STATUS_LINE,
    TOO_MANY_INFORMATIONAL,
    UNEXPECTED_101,
    content_length,
)
from squall._headers import HTTPHeaders, normalize_name
from squall._hugepages import HUGE_PAGES_MIN, advise_huge_pages
from squall._redirects import will_follow
from squall._resend import IDLE_CLOSES

if TYPE_CHECKING:
    from squall._request import HTTPRequest

__all__ = ["Transfer"]

_PAUSE_RECV = pycurl.PAUSE_RECV
_PAUSE_SEND = pycurl.PAUSE_SEND
_READFUNC_PAUSE: int = pycurl.READFUNC_PAUSE
_READFUNC_ABORT: int = pycurl.READFUNC_ABORT
_PREREQFUNC_OK: int = pycurl.PREREQFUNC_OK
_PREREQFUNC_ABORT: int = pycurl.PREREQFUNC_ABORT
_SOCKOPT_OK: int = pycurl.SOCKOPT_OK
_SOCKOPT_ERROR: int = pycurl.SOCKOPT_ERROR
# The largest Content-Length libcurl takes (a curl_off_t); it reads a larger one
# as no length at all and the body to the close.
_CURL_MAX_LENGTH = 2**63 - 1
_STATUS_MATCH = STATUS_LINE.fullmatch
_FIELD_MATCH = FIELD_LINE.fullmatch
_BLOCK_MATCH = FIELD_BLOCK.fullmatch


class Transfer:
    """Collects one response from libcurl callbacks; see the module docstring."""

    # Slots: faster attribute access on the hot path, and more than 30 attributes
    # would cost CPython 3.11 its shared-key instance dicts.
    __slots__ = (
        "_backlog",
        "_block_start",
        "_body_size",
        "_decoder",
        "_discard",
        "_drained",
        "_fd",
        "_final",
        "_in_headers",
        "_informational",
        "_length",
        "_out",
        "_out_pos",
        "_paused",
        "_pending",
        "_producer_done",
        "_seen",
        "_sent_at",
        "_streaming",
        "_view",
        "_wake",
        "body_limit",
        "buffer",
        "code",
        "curl",
        "error",
        "header_limit",
        "header_lines",
        "headers",
        "loop",
        "reason",
        "request",
        "result",
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
        self.header_limit = header_limit
        self.code = 0
        self.reason: str | None = None
        self.headers = HTTPHeaders()
        self.buffer = BytesIO()
        self.error: BaseException | None = None
        self.result: tuple[int, str] | None = None
        # libcurl's HEADERFUNCTION appends here; _take_headers reads them.
        self.header_lines: list[bytes] = []
        self._seen = 0
        self._block_start = 0
        self._in_headers = False
        self._final = False
        self._discard = False
        self._informational = 0
        # The final response's Content-Length (-1: none).
        self._length = -1
        # len(header_lines) when libcurl last sent the request (-1: not yet); see on_prereq.
        self._sent_at = -1
        self._fd = -1  # the socket on_sockopt saw, until on_prereq learns its address
        self._body_size = 0
        # The body's final memory while a Content-Length body is written in place.
        self._view: memoryview | None = None
        self._streaming = request.streaming_callback
        self._decoder: Decoder | None = None
        self._pending: Awaitable[Any] | None = None
        self._backlog: list[bytes] = []
        self._wake: asyncio.Future[None] | None = None
        self._paused = 0
        self._out = b""
        self._out_pos = 0
        self._drained: asyncio.Future[None] | None = None
        self._producer_done = False

    # -- libcurl callbacks -------------------------------------------------------

    # HEADERFUNCTION is ``header_lines.append`` (a C method, no Python frame per
    # line); the lines are read in one pass before the first body bytes are
    # delivered, or at the end of a transfer without body. Memory stays bounded
    # meanwhile: libcurl refuses response headers over 300 KB on its own.

    def _take_headers(self) -> int | None:
        """Read the header lines libcurl added since the last call.

        libcurl is more lenient than llhttp (the simple engine's parser): what it
        lets through is refused here, with the patterns of ``squall._framing``.
        """
        lines = self.header_lines
        index = self._seen
        count = len(lines)
        self._seen = count
        while index < count:
            line = lines[index]
            if self._in_headers:
                if line == b"\r\n":
                    self._in_headers = False
                    block = lines[self._block_start : index]
                    if self._block_size(block) is not None:
                        return 0
                    if self._end_headers(block) is not None:
                        return 0
                elif line == b"\n":
                    return self._fail(
                        RemoteProtocolError("Malformed HTTP response: header section ends in LF")
                    )
            elif not self._final or (line[:5] == b"HTTP/" and _STATUS_MATCH(line) is not None):
                # The first status line, the one after a 1xx, or the next response
                # to a request libcurl sent again (authentication).
                if self._start_response(line) is not None:
                    return 0
                self._block_start = index
            elif _FIELD_MATCH(line) is None:
                # After the final header block come trailer fields (dropped, as
                # Tornado does), which llhttp checks like header fields.
                return self._fail(
                    RemoteProtocolError(f"Malformed HTTP response: bad trailer line {_show(line)}")
                )
            index += 1
        if self._in_headers:
            # An unfinished block: check what arrived so far against the limit.
            return self._block_size(lines[self._block_start :])
        return None

    def _block_size(self, block: list[bytes]) -> int | None:
        if sum(map(len, block)) > self.header_limit:
            return self._fail(
                ResponseTooLargeError(
                    f"response headers exceeded max_header_size of {self.header_limit} bytes"
                )
            )
        return None

    def _start_response(self, line: bytes) -> int | None:
        match = _STATUS_MATCH(line)
        if match is None:
            return self._fail(
                RemoteProtocolError(f"Malformed HTTP response: bad status line {_show(line)}")
            )
        self.code = int(match[1])
        reason = match[2]
        self.reason = (reason.strip().decode("latin-1") or None) if reason else None
        self._in_headers = True
        if self._final:
            # A second final response on one handle (digest or proxy auth
            # retried by libcurl): only the last one counts.
            self._final = False
            self._discard = False
            self._length = -1
            self._body_size = 0
            self._decoder = None
            self._release_view()
            self.buffer = BytesIO()
        return None

    def _end_headers(self, block: list[bytes]) -> int | None:
        # One match checks every field line (the status line was checked already).
        if _BLOCK_MATCH(b"".join(block), len(block[0])) is None:
            return self._fail(RemoteProtocolError(_bad_field(block)))
        code = self.code
        if code < 200:
            if code == 101:
                return self._fail(RemoteProtocolError(UNEXPECTED_101))
            self._informational += 1
            if self._informational > MAX_INFORMATIONAL:
                return self._fail(RemoteProtocolError(TOO_MANY_INFORMATIONAL))
            return None  # an interim response; the real one follows
        self._final = True
        try:
            self.headers = headers = _parse_fields(block)
        except ValueError as exc:
            return self._fail(RemoteProtocolError(f"malformed response header: {exc}"))
        length = -1
        values = headers.get_list("Content-Length")
        if values:
            if "Transfer-Encoding" in headers:
                # RFC 9112 section 6.3: a request-smuggling signal; libcurl would
                # silently prefer the chunked framing. Refuse, as the simple engine does.
                return self._fail(
                    RemoteProtocolError("Message with both Transfer-Encoding and Content-Length")
                )
            try:
                length = content_length(values)
            except RemoteProtocolError as exc:
                return self._fail(exc)
            if len(values) > 1 or "," in values[0]:
                headers["Content-Length"] = str(length)  # equal duplicates: one field
        if code == 204 and (
            "Transfer-Encoding" in headers or headers.get("Content-Length", "0") != "0"
        ):
            return self._fail(RemoteProtocolError(NO_CONTENT_WITH_BODY))
        if will_follow(self.request, code, headers):
            self._discard = True  # the base follows it: no body, no callbacks
            return None
        coding = headers.get("Content-Encoding")
        if coding and self.request.decompress_response:
            # None for a coding we cannot decode: the body is delivered as sent.
            self._decoder = make_decoder(coding, self.body_limit)
        callback = self.request.header_callback
        if callback is not None:
            try:
                for raw in block:
                    callback(raw.decode("latin-1"))
                callback("\r\n")
            except Exception as exc:
                return self._fail(callback_failed(exc, "header_callback"))
        if length > self.body_limit or length > _CURL_MAX_LENGTH:
            error = self._length_error(length)
            if error is not None:
                return self._fail(error)
        self._length = length
        return None

    def _length_error(self, length: int) -> RemoteProtocolError | None:
        if self.code == 304 or self.request.method == "HEAD":
            return None  # no body, whatever the length says
        if length > self.body_limit and self._decoder is None:
            # Refused now rather than after reading the body (a decoder's limit
            # counts the decoded bytes, which the length does not tell).
            return ResponseTooLargeError(
                f"Content-Length too long ({length} > limit of {self.body_limit} bytes)"
            )
        if length > _CURL_MAX_LENGTH:
            return RemoteProtocolError("Malformed HTTP response: Content-Length overflow")
        return None

    def on_body(self, data: bytes) -> int | None:
        if self._seen != len(self.header_lines) and self._take_headers() is not None:
            return 0
        if self._discard:
            return None
        decoder = self._decoder
        if decoder is not None:
            try:
                data = decoder.decode(data)
            except HTTPClientError as exc:  # named bad data, or over the limit
                return self._fail(exc)
            if not data:
                return None
        return self._deliver(data)

    def _deliver(self, data: bytes) -> int | None:
        size = self._body_size + len(data)
        if size > self.body_limit:
            return self._fail(
                ResponseTooLargeError(f"Body too long (over the limit of {self.body_limit} bytes)")
            )
        streaming = self._streaming
        if streaming is None:
            view = self._view
            if view is None and not self._body_size:
                view = self._presize()
            if view is not None and size <= len(view):
                view[self._body_size : size] = data
            else:
                self._release_view()
                self.buffer.write(data)
            self._body_size = size
            return None
        self._body_size = size
        if self._paused & _PAUSE_RECV:
            # libcurl may flush data it already decoded after we paused:
            # keep it, in order, for after the running coroutine.
            self._backlog.append(data)
            return None
        try:
            pending = streaming(data)
        except Exception as exc:
            return self._fail(callback_failed(exc, "streaming_callback"))
        if pending is not None and isawaitable(pending):
            # A coroutine callback: hold further data until it has run.
            self._pending = pending
            self._set_pause(self._paused | _PAUSE_RECV)
            self._notify()
        return None

    def _presize(self) -> memoryview | None:
        # A large body of known length goes straight into its final memory: sized once,
        # with huge pages (4 KiB page faults cost more than the copies here, see
        # advise_huge_pages), and kept by the BytesIO as is: no growth, no final copy.
        # Without a decoder, Content-Length is the size of what we are given; should
        # more come anyway (libcurl told to decode by prepare_curl_callback), _deliver
        # goes back to plain writes.
        total = self._length
        if self._decoder is not None or not HUGE_PAGES_MIN <= total <= self.body_limit:
            return None
        # bytes(n) is calloc'd (untouched zero pages); BytesIO adopts it without a copy
        # while it holds the only reference, and getbuffer() writes into it in place.
        # A length the memory cannot hold (a huge body limit) is no reason to fail:
        # the body most likely never comes, and plain writes take what does.
        try:
            self.buffer = BytesIO(bytes(total))
        except (MemoryError, OverflowError):
            return None
        view = self._view = self.buffer.getbuffer()
        advise_huge_pages(view)
        return view

    def _release_view(self) -> None:
        # Ends in-place writing: the buffer keeps what was written, positioned at its
        # end; with no view left, getvalue() returns the buffer itself (no copy).
        view = self._view
        if view is not None:
            self._view = None
            view.release()
            self.buffer.truncate(self._body_size)
            self.buffer.seek(self._body_size)

    def on_read(self, size: int) -> bytes | int:
        out = self._out
        if out:
            pos = self._out_pos
            chunk = out[pos : pos + size]
            pos += len(chunk)
            if pos >= len(out):
                self._out, self._out_pos = b"", 0
                drained = self._drained
                if drained is not None and not drained.done():
                    drained.set_result(None)
            else:
                self._out_pos = pos
            return chunk
        if self._producer_done:
            return b""
        if self.error is not None:
            return _READFUNC_ABORT
        self._paused |= _PAUSE_SEND
        return _READFUNC_PAUSE

    # A request that must not be sent twice (not idempotent, or a one-shot
    # body_producer) gets the two callbacks below. libcurl sends a request again
    # on a new connection when a reused one closed with no byte of response (the
    # simple engine does that for idempotent requests only), and when it answers
    # an authentication challenge; only the first leaves no header line between
    # the two sends. That one is refused before it connects (on_sockopt) or,
    # should libcurl pick another kept-alive connection, before it sends (on_prereq).

    def on_prereq(self, primary_ip: str, local_ip: str, primary_port: int, local_port: int) -> int:
        """PREREQFUNCTION: libcurl is about to send the request on a connection."""
        if self._resending():
            return _PREREQFUNC_ABORT
        closed = False
        if self._fd >= 0:  # a new connection
            IDLE_CLOSES.new_connection(local_ip, local_port)
            self._fd = -1
        else:  # reused: libcurl skips its check if used in the last second (squall._resend)
            closed = IDLE_CLOSES.closed_before_reuse(local_ip, local_port)
        # Onto a connection whose peer had closed, the request goes unread: it may go again.
        self._sent_at = -1 if closed else len(self.header_lines)
        return _PREREQFUNC_OK

    def on_sockopt(self, fd: int, purpose: int) -> int:
        """SOCKOPTFUNCTION: libcurl opened a socket and is about to connect it."""
        if self._resending():
            return _SOCKOPT_ERROR
        self._fd = fd
        return _SOCKOPT_OK

    def _resending(self) -> bool:
        if self._sent_at != len(self.header_lines):
            return False
        if self.error is None:
            request = self.request
            self.error = HTTPStreamClosedError(
                f"Connection to {request.host}:{request.port} closed without a response;"
                f" the {request.method} request is not sent again (the server may have"
                " acted on it)"
            )
        return True

    def _fail(self, exc: BaseException) -> int:
        if self.error is None:
            self.error = exc
        self._notify()
        return 0  # any short count makes libcurl abort the transfer

    # -- bridge -> transfer ------------------------------------------------------

    def transfer_done(self, errno: int, message: str) -> None:
        if self._seen != len(self.header_lines):
            self._take_headers()
        if not errno and (self._in_headers or not self._final) and self.error is None:
            # libcurl accepts a connection closed inside the header block as
            # the end of the response (HTTP/1.0 leniency); we do not.
            self.error = HTTPStreamClosedError("connection closed before the end of the headers")
        decoder = self._decoder
        if not errno and decoder is not None and self.error is None and not self._discard:
            try:
                tail = decoder.flush()  # what the decoder still held at the end
            except HTTPClientError as exc:
                self.error = exc
            else:
                if tail:
                    self._deliver(tail)
        self._release_view()
        self.result = (errno, message)
        drained = self._drained
        if drained is not None and not drained.done():
            drained.set_exception(
                HTTPStreamClosedError("the transfer ended before the body was sent")
            )
        self._notify()

    def _notify(self) -> None:
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def _set_pause(self, bits: int) -> None:
        self._paused = bits
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
                try:
                    await pending
                    await self._run_backlog()
                except (Exception, asyncio.CancelledError) as exc:
                    if cancelled_by_its_task(exc):
                        raise
                    raise callback_failed(exc, "streaming_callback") from exc
                if self.result is None and self.error is None:
                    self._set_pause(self._paused & ~_PAUSE_RECV)
                continue
            if self.result is not None:
                break
            self._wake = self.loop.create_future()
            try:
                await self._wake
            finally:
                self._wake = None

    def discard(self) -> None:
        """Drop a coroutine callback that will not run (the fetch failed first)."""
        pending, self._pending = self._pending, None
        close = getattr(pending, "close", None)
        if close is not None:
            close()

    async def _run_backlog(self) -> None:
        streaming = self._streaming
        assert streaming is not None
        backlog = self._backlog
        while backlog and self.error is None:
            pending = streaming(backlog.pop(0))
            if pending is not None and isawaitable(pending):
                await pending

    async def write(self, chunk: bytes) -> None:
        """The ``write`` given to a body_producer: returns once libcurl took ``chunk``."""
        if self.result is not None or self.error is not None:
            raise HTTPStreamClosedError("the transfer ended before the body was sent")
        if not chunk:
            return
        self._out, self._out_pos = bytes(chunk), 0
        self._drained = drained = self.loop.create_future()
        if self._paused & _PAUSE_SEND:
            self._set_pause(self._paused & ~_PAUSE_SEND)
        await drained

    def producer_finished(self, task: asyncio.Task[Any]) -> None:
        """Done-callback of the body_producer task: EOF, or abort on its error."""
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._fail(exc)
            return
        self._producer_done = True
        if self.result is None and self._paused & _PAUSE_SEND:
            self._set_pause(self._paused & ~_PAUSE_SEND)


def _show(line: bytes) -> str:
    """A received line for an error message: short, and printable."""
    return repr(line[:80]) + ("..." if len(line) > 80 else "")


def _bad_field(block: list[bytes]) -> str:
    """The error message for a header block that failed FIELD_BLOCK: which line."""
    for line in block[1:]:
        if _FIELD_MATCH(line) is None:
            if line.endswith(b"\r\n"):
                return f"Malformed HTTP response: bad header line {_show(line)}"
            return f"Malformed HTTP response: header line not ended by CRLF {_show(line)}"
    return "Malformed HTTP response: bad header section"  # pragma: no cover - unreachable


# Raw field name -> its Http-Header-Case str: the same few names recur.
_FIELD_NAMES: dict[bytes, str] = {}


def _parse_fields(block: list[bytes]) -> HTTPHeaders:
    """The header block after the status line, as ``HTTPHeaders.parse_line`` would
    build it, in one pass over plain ``name: value`` lines; anything else (a folded
    or malformed line) goes to ``parse_line`` itself, for its exact result or error.

    Raises:
        ValueError: a malformed line (from ``parse_line``).
    """
    pairs: list[tuple[str, str]] = []
    names = _FIELD_NAMES
    for raw in block[1:]:
        name, sep, value = raw.partition(b":")
        key = names.get(name)
        if key is None or not sep:
            if not sep or not name or raw[:1] in b" \t":
                headers = HTTPHeaders()
                for line in block[1:]:
                    headers.parse_line(line.decode("latin-1"))
                return headers
            key = normalize_name(name.decode("latin-1").strip())
            if len(names) < 1000:
                names[name] = key
        # The same characters parse_line strips, all ASCII: strip, then decode.
        pairs.append((key, value.strip(b" \t\r\n").decode("latin-1")))
    return HTTPHeaders.from_normalized(pairs)

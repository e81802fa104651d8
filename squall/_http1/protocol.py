"""A sans-IO HTTP/1.1 client protocol: request -> bytes, bytes -> events.

Theory of operation
-------------------
``ClientProtocol`` holds the state of one connection, seen from the client. It
never touches a socket: the caller writes what ``start_request``/``frame``/
``end_request`` return, and hands whatever it reads to ``receive_data`` (and
``receive_eof`` when the peer closes), getting back a list of events:

* ``InformationalResponse`` -- a 1xx (RFC 9110 §15.2); up to ``MAX_INFORMATIONAL``
  are tolerated before the final response;
* ``Response`` -- the final status line and header section;
* ``bytes`` -- a piece of the body, de-chunked (body pieces are plain ``bytes``
  objects, not wrappers, because they are the hot path);
* ``END_OF_MESSAGE`` -- the response is complete.

After ``END_OF_MESSAGE``, ``keep_alive`` says whether the connection may carry
another request. Any violation of HTTP by the peer raises ``RemoteProtocolError``
with a reason, and a close before the response is complete raises
``HTTPStreamClosedError``; after either the connection is unusable.

Parsing is done by httptools (llhttp, in C): we feed it whole buffers and get
callbacks, so no Python code runs per byte. llhttp already enforces most of
RFC 9112 §6 (message body length); what it cannot know is checked here:

* a response to HEAD has no body whatever its headers say (RFC 9112 §6.3 rule 1).
  llhttp cannot be told that from Python, so at the end of a HEAD response's
  header section we end the message ourselves and start a fresh parser for the
  next response;
* a 204 must not announce a body (RFC 9110 §15.3.5);
* a body may have no transfer coding but chunked: we send no TE (RFC 9112 §6.1),
  and llhttp would hand on a gzip-coded body as it is;
* a 101 is refused, as we never ask for an upgrade;
* the header section is bounded by ``max_header_size``;
* bytes after the end of the response (the server answered more than asked)
  make the connection unusable instead of corrupting the next exchange;
* what llhttp refuses though it is valid -- folded lines, equal duplicate
  Content-Lengths, whitespace in chunk extensions -- is read as Tornado and
  libcurl read it (``leniency.py``).

This module imports no asyncio, socket or ssl.
"""

from __future__ import annotations

from typing import Final, NoReturn

import httptools

from squall._errors import HTTPStreamClosedError, RemoteProtocolError, ResponseTooLargeError
from squall._framing import (
    CHUNKED,
    MAX_INFORMATIONAL,
    NOT_HTTP,
    UNEXPECTED_101,
    UNTIL_CLOSE,
    check_head,
    malformed,
)
from squall._headers import HTTPHeaders, normalize_name
from squall._http1.events import (
    END_OF_MESSAGE,
    EndOfMessage,
    Event,
    InformationalResponse,
    Response,
)
from squall._http1.leniency import FOLD_ERROR, LENGTH_ERRORS, ChunkLines, rewritten_head
from squall._http1.writers import LAST_CHUNK, serialize_head

__all__ = [
    "END_OF_MESSAGE",
    "MAX_INFORMATIONAL",
    "ClientProtocol",
    "EndOfMessage",
    "Event",
    "InformationalResponse",
    "Response",
]

# Tornado tolerates ten 1xx responses before the final one; so do we.

# llhttp's reasons, reworded as the cause a user can act on.
_LLHTTP_REASONS: Final = {
    "Transfer-Encoding can't be present with Content-Length": (
        "Message with both Transfer-Encoding and Content-Length"
    ),
    "Content-Length can't be present with Transfer-Encoding": (
        "Message with both Transfer-Encoding and Content-Length"
    ),
    "Unexpected whitespace after header value": (
        "Unexpected whitespace at the start of a header line"
    ),
    "Expected HTTP/, RTSP/ or ICE/": NOT_HTTP,
}
_PREFIX: Final = "Malformed HTTP response: "


class ClientProtocol:
    """The client side of one HTTP/1.1 connection, without I/O.

    Args:
        max_header_size: the largest header section accepted, in bytes.
        peer: ``host:port``, named in the errors (a label: no I/O is done here).

    Use: ``data = p.start_request(...)``; write ``data``; then for every read
    ``for event in p.receive_data(chunk): ...`` until ``END_OF_MESSAGE``; then
    ``p.keep_alive`` tells whether ``start_request`` may be called again.
    """

    __slots__ = (
        "_callback_error",
        "_chunk_lines",
        "_chunk_start",
        "_chunked",
        "_done",
        "_events",
        "_head_chunks",
        "_header_bytes",
        "_headers",
        "_informational",
        "_is_head",
        "_length",
        "_max_header_size",
        "_parser",
        "_raw",
        "_reason",
        "_remaining",
        "_reparse",
        "_rewritten",
        "_until_close",
        "keep_alive",
        "peer",
        "response_started",
    )

    def __init__(self, max_header_size: int = 65536, peer: str = "") -> None:
        self.peer = peer
        self._max_header_size = max_header_size
        self._parser: httptools.HttpResponseParser | None = None
        self._events: list[Event] = []
        self._raw: list[tuple[bytes, bytes]] = []
        self._headers: Response | None = None
        self._reason = b""
        self._head_chunks: list[bytes] = []
        # The head is being collected, to be parsed whole once rewritten (_rewrite_head).
        self._reparse = False
        self._rewritten = False
        self._header_bytes = 0
        self._informational = 0
        self._is_head = False
        self._chunked = False
        self._until_close = False
        self._length: int | None = None
        self._remaining = -1
        self._done = True
        self._callback_error: RemoteProtocolError | None = None
        self._chunk_lines: ChunkLines | None = None
        self._chunk_start: bytes | None = None  # the body's start in the head's read
        #: Whether the connection may carry another request (valid after END_OF_MESSAGE).
        self.keep_alive = True
        #: Whether any byte of the current response was received.
        self.response_started = False

    # -- sending -------------------------------------------------------------

    def start_request(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes | None = None,
        chunked: bool = False,
    ) -> bytes:
        """Serialise a request head (and its body, if given) to bytes.

        Args:
            method: the request method, a token.
            target: the request target (path and query).
            headers: every field to send, in order; Host first (RFC 9112 §3.2).
                The caller includes Content-Length when it knows the body size.
            body: the whole body, appended to the head in one buffer.
            chunked: the body will follow in ``frame()`` pieces with chunked
                transfer coding (RFC 9112 §7.1); adds ``Transfer-Encoding: chunked``.

        Returns:
            The bytes to write.

        Raises:
            ValueError: a method, target, name or value could split the message
                (CR, LF or NUL), or cannot be encoded as latin-1.
            RuntimeError: the previous response is not complete.
        """
        if not self._done:
            raise RuntimeError("start_request() before the previous response completed")
        head = serialize_head(method, target, headers, chunked)
        self._begin_response(method == "HEAD", chunked)
        return head + body if body else head

    def frame(self, data: bytes) -> bytes:
        """Frame one piece of a streamed body (a chunk when chunked, else as is)."""
        if not self._chunked or not data:
            return data
        return b"%x\r\n%b\r\n" % (len(data), data)

    def end_request(self) -> bytes:
        """The bytes that end a streamed body (the last chunk when chunked)."""
        return LAST_CHUNK if self._chunked else b""

    # -- receiving -----------------------------------------------------------

    def receive_data(self, data: bytes) -> list[Event]:
        """Parse bytes from the server.

        Returns:
            The events completed by ``data`` (possibly none).

        Raises:
            RemoteProtocolError: the server broke HTTP/1.1.
            ResponseTooLargeError: the header section exceeds ``max_header_size``.
        """
        remaining = self._remaining
        if remaining >= 0:
            return self._length_body(data, remaining)
        self.response_started = True
        events = self._events = []
        if self._done:
            # Bytes nobody asked for: the connection cannot be trusted any more.
            self.keep_alive = False
            return events
        if self._headers is None:
            self._count_header_bytes(data)
        elif self._chunk_lines is not None and not self._chunk_lines.done:
            data = self._chunk_lines.rewrite(data)
        if self._reparse:
            self._parse_rewritten()  # the head so far is in _head_chunks
        else:
            parser = self._parser
            if parser is None:
                parser = self._parser = httptools.HttpResponseParser(self)
            try:
                parser.feed_data(data)
            except httptools.HttpParserUpgrade:
                self._fail(UNEXPECTED_101)
            except httptools.HttpParserError as exc:
                self._parser_error(exc)
        if self._length is not None and not self._done:
            # The rest of a Content-Length body (RFC 9112 §6.3 rule 6) needs no
            # parsing: it is passed on as received, without llhttp's copy.
            self._remaining = self._length
            self._length = None
            self._parser = None  # left mid-body; the next response gets a fresh one
        return events

    @property
    def body_remaining(self) -> int:
        """Bytes of a Content-Length body still to come, once llhttp is out of the
        way (-1 otherwise): the caller may then receive them itself and report
        them with ``body_received``."""
        return self._remaining

    def body_received(self, size: int) -> bool:
        """``size`` bytes of the body were received by the caller directly.

        Returns:
            True if that completes the response (``keep_alive`` is then valid).
        """
        remaining = self._remaining - size
        if remaining > 0:
            self._remaining = remaining
            return False
        self._remaining = -1
        self._done = True
        return True

    def _length_body(self, data: bytes, remaining: int) -> list[Event]:
        size = len(data)
        if size < remaining:
            self._remaining = remaining - size
            return [data]
        self._remaining = -1
        self._done = True
        if size == remaining:
            return [data, END_OF_MESSAGE]
        self.keep_alive = False  # bytes beyond the response: nobody asked for them
        return [data[:remaining], END_OF_MESSAGE] if remaining else [END_OF_MESSAGE]

    def connection_ended(self) -> None:
        """Let go of the parser once the connection is gone: its callbacks are this
        protocol's methods, a cycle that would wait for the garbage collector."""
        self._parser = None

    def receive_eof(self) -> list[Event]:
        """The server closed its side.

        Returns:
            ``[END_OF_MESSAGE]`` when the body was delimited by the close
            (RFC 9112 §6.3 rule 8), else nothing if no response was in progress.

        Raises:
            HTTPStreamClosedError: the close cut a response short. Not a
                RemoteProtocolError: what arrived was well formed, only incomplete
                (a malformed prefix already failed in ``receive_data``).
        """
        self.keep_alive = False
        if self._done:
            return []
        if self._headers is not None and self._until_close:
            self._done = True
            return [END_OF_MESSAGE]
        if not self.response_started:
            raise HTTPStreamClosedError("Connection closed without a response")
        if self._headers is None:
            raise HTTPStreamClosedError(
                "Connection closed before the response headers were complete"
            )
        raise HTTPStreamClosedError("Connection closed before the response body was complete")

    # -- httptools callbacks (called from inside feed_data) ------------------

    def on_message_begin(self) -> None:
        if self._done:
            # A second response in the same read: nobody asked for it. Not a
            # RemoteProtocolError: the first response stands (see _parser_error).
            raise _UnrequestedResponse
        self._raw = []
        self._reason = b""

    def on_status(self, status: bytes) -> None:
        self._reason += status  # llhttp may deliver it in pieces across reads

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._headers is None:
            if value[-1:] in (b" ", b"\t"):
                # llhttp drops the OWS before a value but keeps the OWS after it, which
                # is not part of the value either (RFC 9112 section 5).
                value = value.rstrip(b" \t")
            self._raw.append((name, value))
        # else: a trailer field (RFC 9112 §7.1.2); like Tornado we drop trailers.

    def on_headers_complete(self) -> None:
        try:
            self._headers_complete()
        except RemoteProtocolError as exc:
            # httptools raises its own error for it, with ours only as the implicit
            # __context__, which a re-parse inside an except block (the fold fallback)
            # or a caller's own except block would replace: so it is kept here.
            self._callback_error = exc
            raise

    def _headers_complete(self) -> None:
        parser = self._parser
        assert parser is not None
        code = parser.get_status_code()
        names = _NAMES
        headers = HTTPHeaders.from_normalized(
            (names.get(name) or _header_name(name), value.decode("latin-1"))
            for name, value in self._raw
        )
        version = parser.get_http_version()
        reason = self._reason.decode("latin-1")
        if 100 <= code < 200 and code != 101:
            self._informational += 1
        # The rules both engines apply (squall._framing.check_head): 1xx and 101,
        # 204/304/HEAD, the lengths and codings llhttp let through.
        length = check_head(code, headers, self._is_head, self._informational)
        if code < 200:
            self._start_next_head()
            self._events.append(InformationalResponse(code, reason, version, headers, self._raw))
            return
        response = Response(code, reason, version, headers, self._raw)
        self._headers = response
        head_chunks = self._head_chunks
        self._head_chunks = []
        self._events.append(response)
        if self._is_head:
            self._end_head_response(response)
            return
        self.keep_alive = parser.should_keep_alive()
        if length == CHUNKED:
            self._follow_chunks(head_chunks)
            raise _ChunkedBody
        if length == UNTIL_CLOSE:
            self._until_close = True  # RFC 9112 §6.3 rules 4 and 8
        elif length or "Content-Length" in headers:
            self._length = length

    def on_body(self, body: bytes) -> None:
        if self._done:
            self.keep_alive = False  # a body after a HEAD response: unusable afterwards
            return
        self._events.append(body)
        if self._length is not None:
            self._length -= len(body)

    def on_message_complete(self) -> None:
        if self._headers is None or self._done:
            return  # end of a 1xx (its events were emitted at headers_complete)
        self._done = True
        self._length = None
        self._events.append(END_OF_MESSAGE)

    # -- internals -----------------------------------------------------------

    def _follow_chunks(self, head_chunks: list[bytes]) -> None:
        # Chunk-size lines with BWS in their extensions are handed to llhttp bare
        # (see leniency.py), so llhttp must not read the body's start as received:
        # it is stopped here (_ChunkedBody), and the body goes to a parser that a
        # made-up head put at the start of a chunked body, its callbacks unheard.
        self._chunk_lines = ChunkLines()
        joined = b"".join(head_chunks)
        self._chunk_start = joined[joined.find(b"\r\n\r\n") + 4 :]

    def _start_chunked_body(self) -> None:
        lines, start = self._chunk_lines, self._chunk_start
        assert lines is not None and start is not None
        self._chunk_start = None
        parser = self._parser = httptools.HttpResponseParser(_BodyOnly(self))
        parser.feed_data(_CHUNKED_HEAD)
        try:
            parser.feed_data(lines.rewrite(start))
        except httptools.HttpParserError as exc:
            self._parser_error(exc)

    def _begin_response(self, is_head: bool, chunked: bool) -> None:
        if self._chunk_lines is not None:
            self._parser = None  # it was past a made-up head (_start_chunked_body)
            self._chunk_lines = None
        self._chunk_start = None
        self._done = False
        self._headers = None
        self._is_head = is_head
        self._chunked = chunked
        self._until_close = False
        self._length = None
        self._remaining = -1
        self._informational = 0
        self._header_bytes = 0
        self._reparse = False
        self._rewritten = False
        self.response_started = False

    def _end_head_response(self, response: Response) -> None:
        # RFC 9112 §6.3 rule 1: the message ends with the header section. llhttp
        # would wait for the announced body, so this parser is retired.
        self._parser = None
        headers = response.headers
        tokens = headers.get("Connection", "").lower()
        if response.http_version == "1.0":
            self.keep_alive = "keep-alive" in tokens
        else:
            self.keep_alive = "close" not in tokens
        self._done = True
        self._events.append(END_OF_MESSAGE)

    def _count_header_bytes(self, data: bytes) -> None:
        # Counts everything fed before the header section completes; a few body
        # bytes in the same read may be counted too, which only errs by one read.
        self._header_bytes += len(data)
        self._head_chunks.append(data)
        if self._header_bytes > self._max_header_size:
            self._check_head_size()

    def _check_head_size(self) -> None:
        # The head (through its blank line) must fit in max_header_size bytes,
        # however the bytes were split across reads.
        if b"\r\n\r\n" not in b"".join(self._head_chunks)[: self._max_header_size]:
            self._fail(
                f"Response header section exceeds max_header_size ({self._max_header_size} bytes)",
                ResponseTooLargeError,
            )

    def _start_next_head(self) -> None:
        # A 1xx head is complete: the limit applies afresh to the next head,
        # which starts after this one's blank line (maybe in the same read).
        joined = b"".join(self._head_chunks)
        end = joined.find(b"\r\n\r\n")
        rest = joined[end + 4 :] if end >= 0 else b""
        self._head_chunks = [rest]
        self._header_bytes = len(rest)
        if self._header_bytes > self._max_header_size:
            self._check_head_size()

    def _parser_error(self, exc: httptools.HttpParserError) -> None:
        cause = exc.__context__
        if isinstance(cause, _ChunkedBody):
            self._start_chunked_body()
            return
        error, self._callback_error = self._callback_error, None
        if error is not None:
            # Raised by one of our callbacks: the exchange fails with it.
            self._fail_with(error)
        if self._done:
            # Garbage after a complete response: keep the response, drop the connection.
            self.keep_alive = False
            self._parser = None
            return
        reason = str(exc)
        if (reason == FOLD_ERROR or reason in LENGTH_ERRORS) and self._rewrite_head():
            return
        self._fail(_LLHTTP_REASONS.get(reason, reason))

    def _rewrite_head(self) -> bool:
        """Parse the current head again, rewritten as Tornado and libcurl read it:
        folded lines joined with SP (RFC 9112 section 5.2), and Content-Length fields
        that all give one value ("42, 42", or two fields) as one field (RFC 9110
        section 8.6). Rare, so llhttp stays strict and only a head it refused costs a
        second parse. The head is parsed again once it is complete (``_reparse``),
        so that however the reads split it, the rewrite is the same.

        Returns:
            False if the head was rewritten already (the error stands).
        """
        if self._headers is not None or self._rewritten:
            return False
        self._parser = None
        self._reparse = True
        self._rewritten = True
        self._raw = []
        self._reason = b""
        self._parse_rewritten()
        return True

    def _parse_rewritten(self) -> None:
        # Until the head's blank line arrives, keep collecting (_count_header_bytes).
        # llhttp skips empty lines before a status line, and so must the search
        # for the head's end.
        joined = b"".join(self._head_chunks).lstrip(b"\r\n")
        end = joined.find(b"\r\n\r\n")
        if end < 0:
            return
        try:
            rewritten = rewritten_head(joined, end)  # see leniency.py
        except RemoteProtocolError as exc:
            self._fail_with(exc)
        self._reparse = False
        self._head_chunks = [rewritten]
        parser = self._parser = httptools.HttpResponseParser(self)
        try:
            parser.feed_data(rewritten)  # an error comes back to _parser_error, not rewritten
        except httptools.HttpParserUpgrade:
            self._fail(UNEXPECTED_101)
        except httptools.HttpParserError as exc:
            self._parser_error(exc)

    def _fail(self, reason: str, cls: type[RemoteProtocolError] = RemoteProtocolError) -> NoReturn:
        self._fail_with(cls(reason))

    def _fail_with(self, error: RemoteProtocolError) -> NoReturn:
        if type(error) is RemoteProtocolError:
            # One wording on both engines (squall._framing.malformed), with the peer.
            reason = error.message.removeprefix(_PREFIX)
            error.message = malformed(self.peer, reason) if self.peer else _PREFIX + reason
            error.args = (error.message,)
        self.keep_alive = False
        self._done = True
        self._parser = None
        raise error


# Puts a fresh parser at the start of a chunked body (see _start_chunked_body).
_CHUNKED_HEAD: Final = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


class _BodyOnly:
    """The callbacks of a parser past a made-up head: the body's only."""

    __slots__ = ("_owner", "on_body", "on_message_complete")

    def __init__(self, owner: ClientProtocol) -> None:
        self._owner = owner
        self.on_body = owner.on_body
        self.on_message_complete = owner.on_message_complete

    def on_message_begin(self) -> None:
        if self._owner._done:
            raise _UnrequestedResponse  # a second response in the same read


class _ChunkedBody(Exception):
    """Stops llhttp at the end of a chunked response's head (see _follow_chunks)."""


class _UnrequestedResponse(Exception):
    """A response began after ours had ended: the connection is poisoned."""


# Received header names -> their normalised str: the same few names recur.
_NAMES: dict[bytes, str] = {}


def _header_name(raw: bytes) -> str:
    name = normalize_name(raw.decode("latin-1"))
    if len(_NAMES) < 1000:
        _NAMES[raw] = name
    return name

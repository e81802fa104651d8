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

Layout
------
``ClientProtocol`` is one object built from layers, a module each, every layer
calling only those below it: ``protocol_state.py`` (the fields and how a
failure leaves them), ``body_framing.py`` (where a body ends: Content-Length,
chunked, the close, HEAD), ``reparse.py`` (what to do when llhttp refuses the
bytes) and this module (the API and the response head). The hot path is plain
attribute access on that one object (see ``protocol_state.py``).

This module imports no asyncio, socket or ssl.
"""

from __future__ import annotations

import httptools

from squall._errors import RemoteProtocolError, ResponseTooLargeError
from squall._framing import (
    CHUNKED,
    MAX_INFORMATIONAL,
    UNEXPECTED_101,
    UNTIL_CLOSE,
    check_head,
    head_too_long,
)
from squall._headers import HTTPHeaders, normalize_name
from squall._http1.body_framing import ChunkedBody, UnrequestedResponse
from squall._http1.events import (
    END_OF_MESSAGE,
    EndOfMessage,
    Event,
    InformationalResponse,
    Response,
)
from squall._http1.reparse import Reparse
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


class ClientProtocol(Reparse):
    """The client side of one HTTP/1.1 connection, without I/O.

    Args:
        max_header_size: the largest header section accepted, in bytes.
        peer: ``host:port``, named in the errors (a label: no I/O is done here).

    Use: ``data = p.start_request(...)``; write ``data``; then for every read
    ``for event in p.receive_data(chunk): ...`` until ``END_OF_MESSAGE``; then
    ``p.keep_alive`` tells whether ``start_request`` may be called again.
    ``receive_eof``, ``body_remaining`` and ``body_received`` are the body's
    (``body_framing.py``).
    """

    __slots__ = ()  # every field is in ProtocolState

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

    def connection_ended(self) -> None:
        """Let go of the parser once the connection is gone: its callbacks are this
        protocol's methods, a cycle that would wait for the garbage collector."""
        self._parser = None

    # -- httptools callbacks (called from inside feed_data) ------------------

    def on_message_begin(self) -> None:
        if self._done:
            # A second response in the same read: nobody asked for it. Not a
            # RemoteProtocolError: the first response stands (see reparse.py).
            raise UnrequestedResponse
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
            raise ChunkedBody
        if length == UNTIL_CLOSE:
            self._until_close = True  # RFC 9112 §6.3 rules 4 and 8
        elif length or "Content-Length" in headers:
            self._length = length

    # -- internals -----------------------------------------------------------

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
        limit = self._max_header_size
        if b"\r\n\r\n" not in b"".join(self._head_chunks)[:limit]:
            self._fail_with(
                ResponseTooLargeError(
                    head_too_long(limit),
                    option="max_header_size",
                    limit=limit,
                )
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


# Received header names -> their normalised str: the same few names recur.
_NAMES: dict[bytes, str] = {}


def _header_name(raw: bytes) -> str:
    name = normalize_name(raw.decode("latin-1"))
    if len(_NAMES) < 1000:
        _NAMES[raw] = name
    return name

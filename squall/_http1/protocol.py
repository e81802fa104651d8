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
with a reason; after that the connection is unusable.

Parsing is done by httptools (llhttp, in C): we feed it whole buffers and get
callbacks, so no Python code runs per byte. llhttp already enforces most of
RFC 9112 §6 (message body length); what it cannot know is checked here:

* a response to HEAD has no body whatever its headers say (RFC 9112 §6.3 rule 1).
  llhttp cannot be told that from Python, so at the end of a HEAD response's
  header section we end the message ourselves and start a fresh parser for the
  next response;
* a 204 must not announce a body (RFC 9110 §15.3.5);
* the header section is bounded by ``max_header_size``;
* bytes after the end of the response (the server answered more than asked)
  make the connection unusable instead of corrupting the next exchange.

This module imports no asyncio, socket or ssl.
"""

from __future__ import annotations

import re
from typing import Final

import httptools

from squall._errors import RemoteProtocolError, ResponseTooLargeError
from squall._headers import HTTPHeaders

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
MAX_INFORMATIONAL: Final = 10

_LAST_CHUNK: Final = b"0\r\n\r\n"
# RFC 9110 §5.6.2: a method is a token.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_CONTENT_LENGTH_VALUE = re.compile(rb"(?im)^content-length[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$")


class Response:
    """A status line and its header section.

    Attributes:
        status_code: the three-digit code.
        reason: the reason phrase (may be empty).
        http_version: ``"1.1"`` or ``"1.0"``.
        headers: the fields as ``HTTPHeaders``.
        raw_headers: the same fields as received, in order (for header_callback).
    """

    __slots__ = ("headers", "http_version", "raw_headers", "reason", "status_code")

    def __init__(
        self,
        status_code: int,
        reason: str,
        http_version: str,
        headers: HTTPHeaders,
        raw_headers: list[tuple[bytes, bytes]],
    ) -> None:
        self.status_code = status_code
        self.reason = reason
        self.http_version = http_version
        self.headers = headers
        self.raw_headers = raw_headers

    def header_lines(self) -> list[str]:
        """The response head as Tornado's header_callback sees it: lines with CRLF."""
        lines = [f"HTTP/{self.http_version} {self.status_code} {self.reason}\r\n"]
        for name, value in self.raw_headers:
            lines.append(f"{name.decode('latin-1')}: {value.decode('latin-1')}\r\n")
        lines.append("\r\n")
        return lines

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status_code}, {self.reason!r})"


class InformationalResponse(Response):
    """A 1xx response (RFC 9110 §15.2); the final response follows."""

    __slots__ = ()


class EndOfMessage:
    """The response is complete (use the ``END_OF_MESSAGE`` singleton)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "END_OF_MESSAGE"


END_OF_MESSAGE: Final = EndOfMessage()

Event = InformationalResponse | Response | bytes | EndOfMessage

# llhttp's reasons, reworded as the cause a user can act on.
_LLHTTP_REASONS: Final = {
    "Transfer-Encoding can't be present with Content-Length": (
        "Message with both Transfer-Encoding and Content-Length"
    ),
    "Unexpected whitespace after header value": "Obsolete header line folding is not supported",
}


class ClientProtocol:
    """The client side of one HTTP/1.1 connection, without I/O.

    Args:
        max_header_size: the largest header section accepted, in bytes.

    Use: ``data = p.start_request(...)``; write ``data``; then for every read
    ``for event in p.receive_data(chunk): ...`` until ``END_OF_MESSAGE``; then
    ``p.keep_alive`` tells whether ``start_request`` may be called again.
    """

    __slots__ = (
        "_chunked",
        "_done",
        "_events",
        "_head_chunks",
        "_header_bytes",
        "_headers",
        "_informational",
        "_is_head",
        "_max_header_size",
        "_parser",
        "_raw",
        "_reason",
        "_until_close",
        "keep_alive",
        "response_started",
    )

    def __init__(self, max_header_size: int = 65536) -> None:
        self._max_header_size = max_header_size
        self._parser: httptools.HttpResponseParser | None = None
        self._events: list[Event] = []
        self._raw: list[tuple[bytes, bytes]] = []
        self._headers: Response | None = None
        self._reason = b""
        self._head_chunks: list[bytes] = []
        self._header_bytes = 0
        self._informational = 0
        self._is_head = False
        self._chunked = False
        self._until_close = False
        self._done = True
        #: Whether the connection may carry another request (valid after END_OF_MESSAGE).
        self.keep_alive = True
        #: Whether any byte of the current response was received (a stale-connection retry
        #: is only safe before that).
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
        if _TOKEN.match(method) is None:
            raise ValueError(f"Invalid HTTP method {method!r}")
        lines = [f"{method} {target} HTTP/1.1\r\n"]
        lines.extend([f"{name}: {value}\r\n" for name, value in headers])
        if chunked:
            lines.append("Transfer-Encoding: chunked\r\n")
        lines.append("\r\n")
        head = "".join(lines)
        # One C-speed scan over the whole head instead of a check per field: each line
        # contributes exactly one CR and one LF, so any other count means an injection.
        count = len(lines)
        if head.count("\n") != count or head.count("\r") != count or "\0" in head:
            _raise_bad_field(method, target, headers)
        if " " in target:
            raise ValueError(f"Invalid request target {target!r}")
        self._begin_response(method == "HEAD", chunked)
        data = head.encode("latin-1")
        return data + body if body else data

    def frame(self, data: bytes) -> bytes:
        """Frame one piece of a streamed body (a chunk when chunked, else as is)."""
        if not self._chunked or not data:
            return data
        return b"%x\r\n%b\r\n" % (len(data), data)

    def end_request(self) -> bytes:
        """The bytes that end a streamed body (the last chunk when chunked)."""
        return _LAST_CHUNK if self._chunked else b""

    # -- receiving -----------------------------------------------------------

    def receive_data(self, data: bytes) -> list[Event]:
        """Parse bytes from the server.

        Returns:
            The events completed by ``data`` (possibly none).

        Raises:
            RemoteProtocolError: the server broke HTTP/1.1.
            ResponseTooLargeError: the header section exceeds ``max_header_size``.
        """
        self.response_started = True
        events = self._events = []
        if self._done:
            # Bytes nobody asked for: the connection cannot be trusted any more.
            self.keep_alive = False
            return events
        parser = self._parser
        if parser is None:
            parser = self._parser = httptools.HttpResponseParser(self)
        if self._headers is None:
            self._count_header_bytes(data)
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail("Unexpected 101 Switching Protocols (no upgrade was requested)")
        except httptools.HttpParserError as exc:
            self._parser_error(exc)
        return events

    def receive_eof(self) -> list[Event]:
        """The server closed its side.

        Returns:
            ``[END_OF_MESSAGE]`` when the body was delimited by the close
            (RFC 9112 §6.3 rule 8), else nothing if no response was in progress.

        Raises:
            RemoteProtocolError: the close cut a response short.
        """
        self.keep_alive = False
        if self._done:
            return []
        if self._headers is not None and self._until_close:
            self._done = True
            return [END_OF_MESSAGE]
        if self._headers is None:
            raise RemoteProtocolError("Connection closed before the response headers were complete")
        raise RemoteProtocolError("Connection closed before the response body was complete")

    # -- httptools callbacks (called from inside feed_data) ------------------

    def on_message_begin(self) -> None:
        if self._done:
            # A second response in the same read: nobody asked for it.
            raise RemoteProtocolError("Data after the end of the response")
        self._raw = []
        self._reason = b""

    def on_status(self, status: bytes) -> None:
        self._reason += status  # llhttp may deliver it in pieces across reads

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._headers is None:
            self._raw.append((name, value))
        # else: a trailer field (RFC 9112 §7.1.2); like Tornado we drop trailers.

    def on_headers_complete(self) -> None:
        parser = self._parser
        assert parser is not None
        code = parser.get_status_code()
        headers = HTTPHeaders()
        for name, value in self._raw:
            headers.add(name.decode("latin-1"), value.decode("latin-1"))
        version = parser.get_http_version()
        reason = self._reason.decode("latin-1")
        if code < 200:
            self._informational += 1
            if self._informational > MAX_INFORMATIONAL:
                raise RemoteProtocolError("Too many 1xx responses")
            self._header_bytes = 0
            self._events.append(InformationalResponse(code, reason, version, headers, self._raw))
            return
        response = Response(code, reason, version, headers, self._raw)
        self._headers = response
        self._head_chunks = []
        self._events.append(response)
        has_body = "Transfer-Encoding" in headers or headers.get("Content-Length", "0") != "0"
        if code == 204 and has_body:
            # RFC 9110 §15.3.5: a 204 has no content.
            raise RemoteProtocolError("Response with code 204 should not have body")
        if self._is_head:
            self._end_head_response(response)
            return
        self.keep_alive = parser.should_keep_alive()
        # RFC 9112 §6.3 rules 4 and 8: neither chunked nor a length -> read until close.
        self._until_close = (
            code not in (204, 304) and "Content-Length" not in headers and not self._is_chunked()
        )

    def on_body(self, body: bytes) -> None:
        if self._done:
            self.keep_alive = False  # a body after a HEAD response: unusable afterwards
            return
        self._events.append(body)

    def on_message_complete(self) -> None:
        if self._headers is None or self._done:
            return  # end of a 1xx (its events were emitted at headers_complete)
        self._done = True
        self._events.append(END_OF_MESSAGE)

    # -- internals -----------------------------------------------------------

    def _begin_response(self, is_head: bool, chunked: bool) -> None:
        self._done = False
        self._headers = None
        self._is_head = is_head
        self._chunked = chunked
        self._until_close = False
        self._informational = 0
        self._header_bytes = 0
        self.response_started = False

    def _is_chunked(self) -> bool:
        assert self._headers is not None
        coding = self._headers.headers.get("Transfer-Encoding", "")
        return coding.rsplit(",", 1)[-1].strip().lower() == "chunked"

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
        if self._header_bytes > self._max_header_size:
            self._head_chunks.append(data)
            if b"\r\n\r\n" not in b"".join(self._head_chunks)[: self._max_header_size + 4]:
                self._fail(
                    f"Response header section exceeds max_header_size "
                    f"({self._max_header_size} bytes)",
                    ResponseTooLargeError,
                )
        else:
            self._head_chunks.append(data)

    def _parser_error(self, exc: httptools.HttpParserError) -> None:
        if self._done:
            # Garbage after a complete response: keep the response, drop the connection.
            self.keep_alive = False
            self._parser = None
            return
        cause = exc.__context__
        if isinstance(cause, RemoteProtocolError):
            self._fail_with(cause)
        reason = str(exc)
        if reason == "Duplicate Content-Length":
            reason = self._duplicate_length_reason()
        self._fail(_LLHTTP_REASONS.get(reason, f"Malformed HTTP response: {reason}"))

    def _duplicate_length_reason(self) -> str:
        values = set(_CONTENT_LENGTH_VALUE.findall(b"".join(self._head_chunks)))
        if len(values) > 1:
            return "Multiple unequal Content-Lengths"
        return "Multiple Content-Length headers"

    def _fail(self, reason: str, cls: type[RemoteProtocolError] = RemoteProtocolError) -> None:
        self._fail_with(cls(reason))

    def _fail_with(self, error: RemoteProtocolError) -> None:
        self.keep_alive = False
        self._done = True
        self._parser = None
        raise error


def _raise_bad_field(method: str, target: str, headers: list[tuple[str, str]]) -> None:
    for label, text in (("method", method), ("request target", target)):
        if _has_control(text):
            raise ValueError(f"Invalid {label} {text!r}: CR, LF and NUL are not allowed")
    for name, value in headers:
        if _has_control(name):
            raise ValueError(f"Invalid header name {name!r}: CR, LF and NUL are not allowed")
        if _has_control(value):
            raise ValueError(f"Invalid header value {value!r}: CR, LF and NUL are not allowed")
    raise ValueError("Invalid request head")  # pragma: no cover - counts disagreed otherwise


def _has_control(text: str) -> bool:
    return "\r" in text or "\n" in text or "\0" in text

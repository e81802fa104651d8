"""The curl engine's response-head reader: libcurl's header lines in, a checked head out.

libcurl parses the status line and header fields itself and hands every line,
as received, to ``HEADERFUNCTION``; that is ``HeadReader.lines.append`` (a C
method: no Python frame per line). The transfer calls ``read()`` before the
first body bytes are delivered and at the end of the transfer, and gets back a
``Head`` each time a final response head has completed, or a squall error.

libcurl is more lenient than llhttp (the simple engine's parser), so what it
lets through is refused here: the lines with the patterns of ``squall._framing``,
the head with ``squall._framing.check_head``, the rules both engines share.
The lines libcurl hands on are, in order, for each response of the transfer:
its status line, its field lines and a blank line; after the final one, the
trailer fields of a chunked body. More than one final response comes when
libcurl answers an authentication challenge itself: the last one counts.

Sans-I/O: no pycurl, no asyncio; ``tests/unit/test_curl_head.py`` feeds it
lines. Memory stays bounded while the lines wait to be read: libcurl refuses
response headers over 300 KB on its own.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from squall._errors import CurlError, RemoteProtocolError, ResponseTooLargeError
from squall._framing import (
    FIELD_BLOCK,
    FIELD_LINE,
    STATUS_LINE,
    body_too_long,
    check_head,
    head_too_long,
    malformed,
)
from squall._headers import HTTPHeaders, normalize_name
from squall._redirects import will_follow

if TYPE_CHECKING:
    from squall._request import HTTPRequest

__all__ = [
    "CURL_MAX_LENGTH",
    "BodyTooLargeError",
    "Head",
    "HeadReader",
    "body_too_large",
    "peer",
]

# The largest Content-Length libcurl takes (a curl_off_t); it reads a larger one
# as no length at all and the body to the close.
CURL_MAX_LENGTH = 2**63 - 1

# CURLE_WRITE_ERROR: how libcurl ends a transfer whose write callback refused
# bytes, and the errno Tornado's curl client gives a body over max_body_size.
_CURLE_WRITE_ERROR = 23

_STATUS_MATCH = STATUS_LINE.fullmatch
_FIELD_MATCH = FIELD_LINE.fullmatch
_BLOCK_MATCH = FIELD_BLOCK.fullmatch


class BodyTooLargeError(ResponseTooLargeError, CurlError):  # type: ignore[misc]
    """A body over the limit on the curl engine: a ResponseTooLargeError, and the
    ``CurlError`` (errno ``CURLE_WRITE_ERROR``) Tornado's curl client raises for it."""

    def __init__(self, errno: int, message: str | None = None) -> None:
        CurlError.__init__(self, errno, message)

    # Worded as on the simple engine (no "HTTP 599: " prefix): the same error there.
    __str__ = ResponseTooLargeError.__str__
    __repr__ = ResponseTooLargeError.__repr__


def body_too_large(limit: int, message: str | None = None) -> BodyTooLargeError:
    """The error for a body (announced, received or decoded) over ``limit`` bytes."""
    error = BodyTooLargeError(_CURLE_WRITE_ERROR, message or body_too_long(limit))
    error.option, error.limit = "max_body_size", limit
    return error


class Head(NamedTuple):
    """A final response head, checked.

    ``length`` is what ``check_head`` returned (the Content-Length, 0 for no
    body, or ``CHUNKED``/``UNTIL_CLOSE``); ``follow``: the base client will
    follow this redirect, so its body is dropped; ``lines``: the raw lines,
    status line first, without the blank line.
    """

    code: int
    reason: str | None
    headers: HTTPHeaders
    length: int
    follow: bool
    lines: list[bytes]


class HeadReader:
    """Reads the heads in the lines libcurl appends to ``lines``; see the module docstring.

    Args:
        request: the request of the hop (its method, redirect and decoding options;
            its host and port name the peer in error messages).
        header_limit: the largest header block, in bytes (``max_header_size``).
        body_limit: the most body bytes (refused at once when announced).
    """

    __slots__ = (
        "_block_start",
        "_in_headers",
        "_informational",
        "_status",
        "body_limit",
        "final",
        "header_limit",
        "lines",
        "request",
        "seen",
    )

    def __init__(self, request: HTTPRequest, header_limit: int, body_limit: int) -> None:
        self.request = request
        self.header_limit = header_limit
        self.body_limit = body_limit
        self.lines: list[bytes] = []
        #: How many of ``lines`` were read (``read()`` has work while it is short).
        self.seen = 0
        #: A final (non-1xx) head was read.
        self.final = False
        self._block_start = 0
        self._in_headers = False
        self._informational = 0
        self._status: re.Match[bytes] | None = None  # the status line being read

    @property
    def complete(self) -> bool:
        """Whether a final head was read in full (no head is being read now)."""
        return self.final and not self._in_headers

    def read(self) -> Head | None:
        """Read the lines added since the last call.

        Returns:
            The last final head completed by them, or None.

        Raises:
            RemoteProtocolError: a malformed line or head.
            ResponseTooLargeError: a header block over ``header_limit``; an
                announced body over ``body_limit`` is a ``BodyTooLargeError``.
        """
        lines = self.lines
        index = self.seen
        count = len(lines)
        self.seen = count
        head = None
        while index < count:
            line = lines[index]
            if self._in_headers:
                if line == b"\r\n":
                    self._in_headers = False
                    block = lines[self._block_start : index]
                    self._check_size(block)
                    head = self._end_block(block) or head
                elif line == b"\n":
                    raise RemoteProtocolError(self._malformed("header section ends in LF"))
            elif not self.final or (line[:5] == b"HTTP/" and _STATUS_MATCH(line) is not None):
                # The first status line, the one after a 1xx, or the next response
                # to a request libcurl sent again (authentication).
                status = self._status = _STATUS_MATCH(line)
                if status is None:
                    raise RemoteProtocolError(self._malformed(f"bad status line {_show(line)}"))
                self.final = False
                self._in_headers = True
                self._block_start = index
            elif _FIELD_MATCH(line) is None:
                # After the final header block come trailer fields (dropped, as
                # Tornado does), which llhttp checks like header fields.
                raise RemoteProtocolError(self._malformed(f"bad trailer line {_show(line)}"))
            index += 1
        if self._in_headers:
            # An unfinished block: check what arrived so far against the limit.
            self._check_size(lines[self._block_start :])
        return head

    def _check_size(self, block: list[bytes]) -> None:
        if sum(map(len, block)) > self.header_limit:
            raise ResponseTooLargeError(
                head_too_long(self.header_limit),
                option="max_header_size",
                limit=self.header_limit,
            )

    def _end_block(self, block: list[bytes]) -> Head | None:
        # One match checks every field line (the status line was checked already).
        if _BLOCK_MATCH(b"".join(block), len(block[0])) is None:
            raise RemoteProtocolError(self._malformed(_bad_field(block)))
        match = self._status
        assert match is not None
        code = int(match[1])
        if code < 200:
            self._informational += 1
        try:
            headers = _parse_fields(block)
        except ValueError as exc:
            raise RemoteProtocolError(self._malformed(f"bad header line: {exc}")) from None
        request = self.request
        follow = code >= 200 and will_follow(request, code, headers)
        # An announced length is checked against the limit unless the body is dropped
        # (followed) or decoded (the limit then counts decoded bytes, which it does not tell).
        decoded = request.decompress_response and "Content-Encoding" in headers
        limit = None if follow or decoded else self.body_limit
        try:
            length = check_head(code, headers, request.method == "HEAD", self._informational, limit)
        except ResponseTooLargeError as exc:  # the announced length
            raise body_too_large(self.body_limit, str(exc)) from None
        except RemoteProtocolError as exc:
            raise RemoteProtocolError(self._malformed(str(exc))) from None
        if code < 200:
            return None  # an interim response; the real one follows
        if length > CURL_MAX_LENGTH:
            raise RemoteProtocolError(self._malformed("Content-Length overflow"))
        if length >= 0 and "Content-Length" in headers:
            values = headers.get_list("Content-Length")
            if len(values) > 1 or "," in values[0]:
                headers["Content-Length"] = str(length)  # equal duplicates: one field
        self.final = True
        reason = match[2]
        text = (reason.strip().decode("latin-1") or None) if reason else None
        return Head(code, text, headers, length, follow, block)

    def _malformed(self, reason: str) -> str:
        return malformed(peer(self.request), reason)


def peer(request: HTTPRequest) -> str:
    """``host:port`` of the request's origin, for messages (an IPv6 host in brackets)."""
    host = request.host
    return f"[{host}]:{request.port}" if ":" in host else f"{host}:{request.port}"


def _show(line: bytes) -> str:
    """A received line for an error message: short, and printable."""
    return repr(line[:80]) + ("..." if len(line) > 80 else "")


def _bad_field(block: list[bytes]) -> str:
    """The reason a header block failed FIELD_BLOCK: which line."""
    for line in block[1:]:
        if _FIELD_MATCH(line) is None:
            if line.endswith(b"\r\n"):
                return f"bad header line {_show(line)}"
            return f"header line not ended by CRLF {_show(line)}"
    return "bad header section"  # pragma: no cover - unreachable


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

"""HTTP/1.1 response rules both engines enforce, whoever parses the bytes.

The simple engine parses responses with llhttp; the curl engine gets them from
libcurl, which is more lenient. What llhttp refuses and libcurl accepts is
checked by the curl engine with the patterns and rules here, so that a bad
response fails the same way on both (RFC 9112, RFC 9110). Imports nothing from
either engine.

``check_head`` holds the rules a response head must meet once it is parsed
(whoever parsed it), with one wording per failure; the patterns below are for
an engine that gets raw lines (the curl engine) to refuse what llhttp refuses.
"""

from __future__ import annotations

import re
from typing import Final

from squall._errors import RemoteProtocolError, ResponseTooLargeError
from squall._headers import HTTPHeaders

__all__ = [
    "BOTH_LENGTH_AND_CODING",
    "CHUNKED",
    "CLOSED_IN_BODY",
    "CLOSED_IN_HEAD",
    "CLOSED_WITHOUT_RESPONSE",
    "FIELD_BLOCK",
    "FIELD_LINE",
    "IDEMPOTENT_METHODS",
    "MAX_CONTENT_LENGTH",
    "MAX_INFORMATIONAL",
    "NOT_HTTP",
    "NO_CONTENT_WITH_BODY",
    "STATUS_LINE",
    "TOO_MANY_INFORMATIONAL",
    "UNEXPECTED_101",
    "UNTIL_CLOSE",
    "body_too_long",
    "check_head",
    "content_length",
    "decoded_too_long",
    "head_too_long",
    "length_too_long",
    "malformed",
]

# Tornado tolerates ten 1xx responses before the final one; so do we.
MAX_INFORMATIONAL: Final = 10
TOO_MANY_INFORMATIONAL: Final = "Too many 1xx responses"

# RFC 9110 section 15.3.5: a 204 has no content.
NO_CONTENT_WITH_BODY: Final = "Response with code 204 should not have body"

# Neither engine asks for a protocol upgrade, so a 101 is never an answer.
UNEXPECTED_101: Final = "Unexpected 101 Switching Protocols (no upgrade was requested)"

# RFC 9112 section 6.3: a request-smuggling signal (Tornado's wording).
BOTH_LENGTH_AND_CODING: Final = "Message with both Transfer-Encoding and Content-Length"

# The reply does not start with an HTTP status line (llhttp's reason, without the
# RTSP/ and ICE/ it also parses).
NOT_HTTP: Final = "Expected HTTP/"

# What check_head returns for a body that is not delimited by a length.
CHUNKED: Final = -1
UNTIL_CLOSE: Final = -2

# RFC 9110 section 9.2.2: a request with one of these methods may be sent again
# when a kept-alive connection closed without answering it; any other may have
# been acted on, so it is not resent.
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})

# llhttp keeps Content-Length in a uint64.
MAX_CONTENT_LENGTH: Final = 2**64 - 1

# The status line as llhttp accepts it: versions 1.0/1.1 (and 0.9, 2.0), one space,
# three digits, then a reason or nothing, CRLF. "HTTP/2 " and "HTTP/3 " are the
# lines libcurl writes for HTTP/2 and HTTP/3 responses. Group 1: the status code;
# group 2: the reason.
STATUS_LINE: Final = re.compile(rb"HTTP/(?:1\.[01]|2\.0|0\.9|[23]) ([1-9]\d\d)(?: ([^\r\n]*))?\r\n")

# One header (or trailer) field line: a token, a colon right after it (no space
# before, RFC 9112 section 5.1), a value of HTAB, SP, VCHAR and obs-text (no other
# control character, no DEL; RFC 9110 section 5.5), CRLF.
# (Possessive quantifiers: nothing to backtrack into, and measured faster.)
_FIELD: Final = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]++:[\t\x20-\x7e\x80-\xff]*+\r\n"
FIELD_LINE: Final = re.compile(_FIELD)
# Any number of field lines joined together: one match checks a whole block.
FIELD_BLOCK: Final = re.compile(b"(?:" + _FIELD + b")*+")

_DIGITS: Final = re.compile(r"[0-9]+")


def content_length(values: list[str]) -> int:
    """The body length a response's Content-Length field(s) announce.

    Fields that all give the same value, as a list in one field (``42, 42``) or as
    repeated fields, are that value (RFC 9110 section 8.6: a recipient may accept
    them; proxies and real servers send them, and Tornado and libcurl accept them).
    The engine then shows one field: ``Content-Length: 42``.

    Args:
        values: the field's values (each stripped of surrounding whitespace).

    Returns:
        The length.

    Raises:
        RemoteProtocolError: unequal values, a value that is not a run of ASCII
            digits, or one over ``MAX_CONTENT_LENGTH``.
    """
    if len(values) != 1 or "," in values[0]:
        pieces = {piece.strip(" \t") for value in values for piece in value.split(",")}
        if len(pieces) != 1:
            raise RemoteProtocolError("Malformed HTTP response: Multiple unequal Content-Lengths")
        values = list(pieces)
    value = values[0]
    if value.isdigit() and value.isascii() and len(value) < 20:
        return int(value)  # the common case, without a regex: under 10**19 fits
    if _DIGITS.fullmatch(value) is None:
        reason = "Empty Content-Length" if not value else "Invalid character in Content-Length"
        raise RemoteProtocolError(f"Malformed HTTP response: {reason}")
    length = int(value)
    if length > MAX_CONTENT_LENGTH:
        raise RemoteProtocolError("Malformed HTTP response: Content-Length overflow")
    return length


def malformed(where: str, reason: str) -> str:
    """The message of a RemoteProtocolError for a response from ``where`` (host:port)."""
    return f"Malformed HTTP response from {where}: {reason}"


# A connection that closed early, in the words of both engines (each names the phase).
CLOSED_WITHOUT_RESPONSE: Final = "Connection closed without a response"
CLOSED_IN_HEAD: Final = "Connection closed before the response headers were complete"
CLOSED_IN_BODY: Final = "Connection closed before the response body was complete"


def body_too_long(limit: int) -> str:
    """The message when a body as received outgrows the limit (Tornado's words)."""
    return f"Body too long (over max_body_size of {limit} bytes)"


def length_too_long(length: int | str, limit: int) -> str:
    """The message when the announced Content-Length is over the limit (Tornado's words)."""
    return f"Content-Length too long ({length} > max_body_size of {limit} bytes)"


def decoded_too_long(limit: int) -> str:
    """The message when a decoded body outgrows the limit (Tornado's "decompressed body
    too large")."""
    return f"decompressed body too large (over max_body_size of {limit} bytes)"


def head_too_long(limit: int) -> str:
    """The message when a response's header section is over ``max_header_size``."""
    return f"Header section too long (over max_header_size of {limit} bytes)"


def check_head(
    status: int,
    headers: HTTPHeaders,
    head_request: bool,
    informational: int = 0,
    body_limit: int | None = None,
) -> int:
    """Check a parsed response head against the rules both engines enforce.

    Args:
        status: the status code.
        headers: the header fields (names normalised, values stripped).
        head_request: the request was HEAD (RFC 9112 section 6.3 rule 1: no body).
        informational: for a 1xx, how many 1xx this exchange has had, this one included.
        body_limit: refuse a Content-Length over this at once; None not to check it
            (a body that will be decoded, or dropped: its limit counts other bytes).

    Returns:
        How the body is delimited: its length (0 for none: HEAD, 1xx, 204, 304),
        ``CHUNKED`` or ``UNTIL_CLOSE`` (RFC 9112 section 6.3 rules 4 and 8).

    Raises:
        RemoteProtocolError: the head breaks HTTP.
        ResponseTooLargeError: the announced length is over ``body_limit``.
    """
    if status < 200:
        if status < 100:
            raise RemoteProtocolError(f"Invalid status code {status}")  # RFC 9110 section 15
        if status == 101:
            raise RemoteProtocolError(UNEXPECTED_101)
        if informational > MAX_INFORMATIONAL:
            raise RemoteProtocolError(TOO_MANY_INFORMATIONAL)
        return 0
    # (get_list: HTTPHeaders.get pays a KeyError for a missing name.)
    codings = headers.get_list("Transfer-Encoding")
    coding = ",".join(codings) if codings else None
    values = headers.get_list("Content-Length")
    if values and coding is not None:
        raise RemoteProtocolError(BOTH_LENGTH_AND_CODING)
    length = content_length(values) if values else -1
    if status == 204 and (coding is not None or length > 0):
        raise RemoteProtocolError(NO_CONTENT_WITH_BODY)  # RFC 9110 section 15.3.5
    if head_request or status == 304 or status == 204:
        return 0
    if coding is not None:
        # We never send TE, so a server may apply no coding but chunked (RFC 9110
        # section 10.1.4); another one would reach the caller still coded.
        if coding != "chunked" and _codings(coding) != ["chunked"]:
            raise RemoteProtocolError(f"Unsupported Transfer-Encoding: {coding}")
        return CHUNKED
    if length < 0:
        return UNTIL_CLOSE
    if body_limit is not None and length > body_limit:
        raise ResponseTooLargeError(
            length_too_long(length, body_limit),
            option="max_body_size",
            limit=body_limit,
        )
    return length


def _codings(value: str) -> list[str]:
    return [token for token in (part.strip() for part in value.lower().split(",")) if token]

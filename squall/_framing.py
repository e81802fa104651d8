"""HTTP/1.1 response rules both engines enforce, whoever parses the bytes.

The simple engine parses responses with llhttp; the curl engine gets them from
libcurl, which is more lenient. What llhttp refuses and libcurl accepts is
checked by the curl engine with the patterns and rules here, so that a bad
response fails the same way on both (RFC 9112, RFC 9110). Imports nothing from
either engine.
"""

from __future__ import annotations

import re
from typing import Final

from squall._errors import RemoteProtocolError

__all__ = [
    "FIELD_BLOCK",
    "FIELD_LINE",
    "IDEMPOTENT_METHODS",
    "MAX_CONTENT_LENGTH",
    "MAX_INFORMATIONAL",
    "NO_CONTENT_WITH_BODY",
    "STATUS_LINE",
    "TOO_MANY_INFORMATIONAL",
    "UNEXPECTED_101",
    "content_length",
]

# Tornado tolerates ten 1xx responses before the final one; so do we.
MAX_INFORMATIONAL: Final = 10
TOO_MANY_INFORMATIONAL: Final = "Too many 1xx responses"

# RFC 9110 section 15.3.5: a 204 has no content.
NO_CONTENT_WITH_BODY: Final = "Response with code 204 should not have body"

# Neither engine asks for a protocol upgrade, so a 101 is never an answer.
UNEXPECTED_101: Final = "Unexpected 101 Switching Protocols (no upgrade was requested)"

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

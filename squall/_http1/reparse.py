"""When llhttp refuses a response: the third layer of ``ClientProtocol``.

Every ``httptools.HttpParserError`` comes to ``_parser_error``, which tells
apart, in this order:

1. our own stop at the end of a chunked head (``ChunkedBody``): the body is
   read on from there (``body_framing.py``);
2. an error one of our callbacks raised (a rule of ``check_head``): the
   exchange fails with it, not with llhttp's wrapper;
3. garbage after a complete response: the response stands, the connection
   is dropped;
4. a head that is valid though llhttp refuses it -- folded lines, equal
   duplicate Content-Lengths: it is rewritten as Tornado and libcurl read it
   (``leniency.rewritten_head``) and parsed a second time, once;
5. anything else: a ``RemoteProtocolError`` with llhttp's reason, reworded
   where it would not tell the user what broke.

llhttp stays strict, so only a head it refused costs a second parse.

This module imports no asyncio, socket or ssl.
"""

from __future__ import annotations

from typing import Final

import httptools

from squall._errors import RemoteProtocolError
from squall._framing import NOT_HTTP, UNEXPECTED_101
from squall._http1.body_framing import BodyFraming, ChunkedBody
from squall._http1.leniency import FOLD_ERROR, LENGTH_ERRORS, rewritten_head

__all__ = ["Reparse"]

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


class Reparse(BodyFraming):
    """Judging llhttp's refusals (see the module docstring)."""

    __slots__ = ()

    def _parser_error(self, exc: httptools.HttpParserError) -> None:
        cause = exc.__context__
        if isinstance(cause, ChunkedBody):
            try:
                self._start_chunked_body()
            except httptools.HttpParserError as refusal:
                self._parser_error(refusal)
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
        section 8.6). The head is parsed again once it is complete (``_reparse``),
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
        # self is the whole ClientProtocol: llhttp finds every callback on it.
        parser = self._parser = httptools.HttpResponseParser(self)
        try:
            parser.feed_data(rewritten)  # an error comes back to _parser_error, not rewritten
        except httptools.HttpParserUpgrade:
            self._fail(UNEXPECTED_101)
        except httptools.HttpParserError as exc:
            self._parser_error(exc)

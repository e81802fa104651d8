"""Where a response's body ends (RFC 9112 §6.3), the second layer of ``ClientProtocol``.

``check_head`` (``squall._framing``) reads the framing off a complete head;
this layer follows it to the end of the message:

* no body: a response to HEAD ends with its header section (rule 1). llhttp
  cannot be told so from Python, so its parser is retired there and the next
  response gets a fresh one; 1xx, 204 and 304 llhttp ends itself;
* Content-Length (rule 6): llhttp reads the head's read only, and the rest of
  the body is counted down in ``_remaining`` and handed on as received, without
  llhttp's copy; a caller that reads into its own buffer (``connection.py``)
  asks ``body_remaining`` and reports with ``body_received``;
* chunked (rule 4): llhttp de-chunks, and drops the trailers. It is stopped at
  the end of the head (``ChunkedBody``) so that the chunk-size lines can go
  through ``ChunkLines`` first (``leniency.py``), and a parser put at the start
  of a chunked body by a made-up head reads the body from there;
* until the close (rules 7 and 8): ``receive_eof`` ends the message, and any
  other close before the end is ``HTTPStreamClosedError``.

Bytes after the end of the response (a second response nobody asked for, a
body after a HEAD response) make the connection unusable instead of
corrupting the next exchange.

This module imports no asyncio, socket or ssl.
"""

from __future__ import annotations

from typing import Final

import httptools

from squall._errors import HTTPStreamClosedError
from squall._framing import CLOSED_IN_BODY, CLOSED_IN_HEAD, CLOSED_WITHOUT_RESPONSE
from squall._http1.events import END_OF_MESSAGE, Event, Response
from squall._http1.leniency import ChunkLines
from squall._http1.protocol_state import ProtocolState

__all__ = ["BodyFraming", "ChunkedBody", "UnrequestedResponse"]


class BodyFraming(ProtocolState):
    """Following a response body to its end (see the module docstring)."""

    __slots__ = ()

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
            raise HTTPStreamClosedError(CLOSED_WITHOUT_RESPONSE)
        if self._headers is None:
            raise HTTPStreamClosedError(CLOSED_IN_HEAD)
        raise HTTPStreamClosedError(CLOSED_IN_BODY)

    # -- httptools callbacks (called from inside feed_data) ------------------

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

    def _follow_chunks(self, head_chunks: list[bytes]) -> None:
        # Chunk-size lines with BWS in their extensions are handed to llhttp bare
        # (see leniency.py), so llhttp must not read the body's start as received:
        # it is stopped here (ChunkedBody), and the body goes to a parser that a
        # made-up head put at the start of a chunked body, its callbacks unheard.
        self._chunk_lines = ChunkLines()
        joined = b"".join(head_chunks)
        self._chunk_start = joined[joined.find(b"\r\n\r\n") + 4 :]

    def _start_chunked_body(self) -> None:
        # llhttp's refusal of the body's start is the caller's to judge (reparse.py).
        lines, start = self._chunk_lines, self._chunk_start
        assert lines is not None and start is not None
        self._chunk_start = None
        parser = self._parser = httptools.HttpResponseParser(_BodyOnly(self))
        parser.feed_data(_CHUNKED_HEAD)
        parser.feed_data(lines.rewrite(start))


# Puts a fresh parser at the start of a chunked body (see _start_chunked_body).
_CHUNKED_HEAD: Final = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


class _BodyOnly:
    """The callbacks of a parser past a made-up head: the body's only."""

    __slots__ = ("_owner", "on_body", "on_message_complete")

    def __init__(self, owner: BodyFraming) -> None:
        self._owner = owner
        self.on_body = owner.on_body
        self.on_message_complete = owner.on_message_complete

    def on_message_begin(self) -> None:
        if self._owner._done:
            raise UnrequestedResponse  # a second response in the same read


class ChunkedBody(Exception):
    """Stops llhttp at the end of a chunked response's head (see _follow_chunks)."""


class UnrequestedResponse(Exception):
    """A response began after ours had ended: the connection is poisoned."""

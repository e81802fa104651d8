"""The fields of one HTTP/1.1 client connection, and how a failure leaves them.

``ClientProtocol`` (``protocol.py``) is built in layers, a module each, every
layer calling only the ones below it:

1. ``protocol_state.py`` (this one): every field, their reset for each
   response, and ``_fail`` -- the one way out on a protocol error;
2. ``body_framing.py``: where a response's body ends (Content-Length, chunked,
   the close, or no body at all);
3. ``reparse.py``: what to do when llhttp refuses the bytes -- the errors that
   stand, and a second parse of a valid head it refused;
4. ``protocol.py``: the public API and the response head.

llhttp calls back into the one instance (``on_header``, ``on_body``...), in
whichever layer defines the callback. The layers are base classes rather than
helper objects so that the hot path stays plain attribute access on one
object: CPython caches each name's lookup per type, so an inherited method or
slot costs what an own one does.

This module imports no asyncio, socket or ssl.
"""

from __future__ import annotations

from typing import Final, NoReturn

import httptools

from squall._errors import RemoteProtocolError
from squall._framing import malformed
from squall._http1.events import Event, Response
from squall._http1.leniency import ChunkLines

__all__ = ["ProtocolState"]

_PREFIX: Final = "Malformed HTTP response: "


class ProtocolState:
    """The state of one connection's protocol (the fields of ``ClientProtocol``)."""

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
        self._events: list[Event] = []  # what the current receive_data returns
        self._raw: list[tuple[bytes, bytes]] = []  # the head's fields, as received
        self._reason = b""
        self._head_chunks: list[bytes] = []  # the reads of the head so far
        self._callback_error: RemoteProtocolError | None = None
        self._chunk_lines: ChunkLines | None = None
        self._begin_response(False, False)
        self._done = True  # no request yet: any byte is unrequested
        #: Whether the connection may carry another request (valid after END_OF_MESSAGE).
        self.keep_alive = True

    def _begin_response(self, is_head: bool, chunked: bool) -> None:
        # A request was sent: the fields of the response to it start afresh.
        if self._chunk_lines is not None:
            self._parser = None  # it was past a made-up head (_start_chunked_body)
            self._chunk_lines = None
        self._chunk_start: bytes | None = None  # the body's start in the head's read
        self._done = False
        self._headers: Response | None = None
        self._is_head = is_head
        self._chunked = chunked  # the request body is sent chunked
        self._until_close = False  # the body ends with the connection (RFC 9112 §6.3)
        # A Content-Length body's length once llhttp has seen the head, then
        # its bytes still to come once they bypass llhttp (-1: not that stage).
        self._length: int | None = None
        self._remaining = -1
        self._informational = 0  # 1xx responses so far
        self._header_bytes = 0
        # The head is being collected, to be parsed whole once rewritten (reparse.py).
        self._reparse = False
        self._rewritten = False
        #: Whether any byte of the current response was received.
        self.response_started = False

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

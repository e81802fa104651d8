"""The state of one HTTP/2 connection and what the engine asks of it, the base
class of ``Connection`` (connection.py, the reading side).

Here jh2 is configured (our settings, lenient header decoding, streams kept
open after a graceful GOAWAY), streams are opened (``start``) and reset
(``cancel``), received bytes are handed back as window (``consumed``), and what
jh2 has queued is written (``flush``, ``flush_soon``).

Invariants:

- ``streams`` holds the streams that still expect frames; a stream leaves it
  when it ends, is reset (by either side) or fails, and the engine is told
  (``on_change``) so a request waiting for a stream slot can go.
- ``capacity`` counts against the peer's live SETTINGS_MAX_CONCURRENT_STREAMS
  (100 until its SETTINGS arrive: RFC 9113 §6.5.2 advises no less).
- After GOAWAY no stream starts (``goaway``); jh2 closes its state machine on
  GOAWAY and would refuse the frames of the streams a graceful one lets
  finish, so the machine is put back in the open state for them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import jh2.config
import jh2.connection
import jh2.exceptions
from jh2.errors import ErrorCodes
from jh2.hpack import NeverIndexedHeaderTuple
from jh2.hyperframe.frame import GoAwayFrame
from jh2.settings import SettingCodes, Settings

from squall._http2.headers import LenientDecoder
from squall._http2.stream import Refused, Stream

__all__ = ["CONNECTION_WINDOW", "DEFAULT_CONCURRENCY", "STREAM_WINDOW", "ConnectionBase"]

#: The receive window of the connection as a whole: wide enough that many
#: streams at full speed never wait for each other's WINDOW_UPDATEs.
CONNECTION_WINDOW = 16 * 1024 * 1024
#: Each stream's receive window (SETTINGS_INITIAL_WINDOW_SIZE): what a stream
#: whose consumer is slow can hold unread.
STREAM_WINDOW = 2 * 1024 * 1024
#: Streams in flight before the peer's SETTINGS say how many it allows.
DEFAULT_CONCURRENCY = 100


class ConnectionBase:
    """The client side of one HTTP/2 connection, less its reading (see the module docstring).

    Args:
        loop: the client's event loop.
        max_header_size: the largest decoded header list accepted
            (SETTINGS_MAX_HEADER_LIST_SIZE, and enforced by jh2's HPACK decoder).
        where: ``host:port`` for error messages.
        on_change: called when a stream slot frees up or the connection closes.
    """

    #: jh2's error for a stream it has closed (upload.py catches it; only the
    #: connection modules and the engine import jh2).
    StreamClosed = jh2.exceptions.StreamClosedError

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        max_header_size: int,
        where: str,
        on_change: Callable[[], None],
    ) -> None:
        self.loop = loop
        self.where = where
        self.on_change = on_change
        # Our own header lists were checked when the request was built (squall._grammar)
        # and normalised by headers.py: jh2 need not redo either (``start`` keeps its
        # never-indexed rule). What the peer sends, it checks.
        config = jh2.config.H2Configuration(
            client_side=True,
            header_encoding=None,
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
        )
        self.h2: Any = jh2.connection.H2Connection(config=config)
        self.h2.decoder = LenientDecoder(self.h2.decoder)
        self.h2.local_settings = Settings(
            client=True,
            initial_values={
                SettingCodes.ENABLE_PUSH: 0,
                SettingCodes.INITIAL_WINDOW_SIZE: STREAM_WINDOW,
                SettingCodes.MAX_HEADER_LIST_SIZE: max_header_size,
            },
        )
        # jh2 applies our MAX_HEADER_LIST_SIZE only once the peer acks it.
        self.h2.decoder.max_header_list_size = max_header_size
        _keep_streams_after_goaway(self.h2)
        self.transport: asyncio.Transport | None = None
        self.streams: dict[int, Stream] = {}
        self.closed = False
        self.goaway = False
        self.answered = 0  # streams that got their whole response
        self.writing_paused = False
        self._flush_pending = False
        # Window to give back per stream, gathered while one read's events are handled.
        self._reading: dict[int, int] | None = None
        self.settings_received = False
        self.idle_since = loop.time()

    # -- what the engine asks ----------------------------------------------------------

    @property
    def negotiated(self) -> bool:
        """False if TLS's ALPN chose another protocol than ``h2`` (clear text: True)."""
        transport = self.transport
        ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
        return ssl_object is None or ssl_object.selected_alpn_protocol() == "h2"

    @property
    def capacity(self) -> int:
        """How many more streams may start now (0 once closed or going away)."""
        if self.closed or self.goaway:
            return 0
        limit = self.h2.remote_settings.max_concurrent_streams
        if not self.settings_received:
            limit = min(limit, DEFAULT_CONCURRENCY)
        return int(limit) - len(self.streams)

    def start(self, stream: Stream, header_list: list[tuple[bytes, bytes]], end: bool) -> None:
        """Open ``stream`` with its HEADERS (ending it at once if ``end``: no body).

        Raises:
            HTTPStreamClosedError: the connection closed meanwhile.
        """
        if self.closed or self.goaway:
            raise Refused(f"HTTP/2 connection to {self.where} is closing")
        h2 = self.h2
        sid = stream.stream_id = h2.get_next_available_stream_id()
        h2.send_headers(sid, _protect(header_list), end_stream=end)
        self.streams[sid] = stream
        self.flush_soon()

    def cancel(self, stream: Stream) -> None:
        """The fetch is over without the stream's end (timeout, cancel, error): reset it."""
        stream.abandon()  # what it holds is never delivered: its flow credit comes back
        sid = stream.stream_id
        if self.streams.pop(sid, None) is None:
            return
        if not self.closed:
            with contextlib.suppress(jh2.exceptions.ProtocolError):  # closed on jh2's side
                self.h2.reset_stream(sid, error_code=ErrorCodes.CANCEL)
            self.flush()
        self._changed()

    def consumed(self, stream_id: int, size: int) -> None:
        """``size`` received bytes were taken by the application: give the window back
        (inside ``data_received``, once per stream at the end of the read)."""
        if not size or self.closed:
            return
        reading = self._reading
        if reading is not None:
            reading[stream_id] = reading.get(stream_id, 0) + size
            return
        self.h2.acknowledge_received_data(size, stream_id)
        self.flush()

    def flush(self) -> None:
        """Write what jh2 has queued."""
        self._flush_pending = False
        data = self.h2.data_to_send()
        if data and self.transport is not None and not self.closed:
            self.transport.write(data)

    def flush_soon(self) -> None:
        """Write what jh2 has queued once the loop's current callbacks have run: the
        HEADERS of requests started together leave in one write (one TLS record,
        one system call) instead of one each."""
        if not self._flush_pending:
            self._flush_pending = True
            self.loop.call_soon(self.flush)

    def close(self) -> None:
        """Say GOAWAY(NO_ERROR) and close."""
        if self.transport is not None and not self.closed:
            try:
                self.h2.close_connection()
                self.flush()
            except jh2.exceptions.ProtocolError:
                pass
            self.transport.close()
        self.closed = True

    def abort(self, error: BaseException) -> None:
        """The connection is unusable: fail every stream and close it."""
        streams = list(self.streams.values())
        self.streams.clear()
        for stream in streams:
            stream.on_error(error)
        self.close()
        self._changed()

    def _changed(self) -> None:
        if not self.streams:
            self.idle_since = self.loop.time()
            if self.goaway and not self.closed:
                self.close()
        self.on_change()


def _protect(header_list: list[tuple[bytes, bytes]]) -> list[Any]:
    # Credentials, and cookies short enough to guess, stay out of HPACK's tables
    # (RFC 7541 §7.1.3): a secret in the dynamic table can be probed by
    # compression-ratio attacks. jh2's outbound normalisation would do this.
    return [
        NeverIndexedHeaderTuple(n, v)
        if n in _SENSITIVE or (n == b"cookie" and len(v) < 20)
        else (n, v)
        for n, v in header_list
    ]


_SENSITIVE = frozenset({b"authorization", b"proxy-authorization"})


def _keep_streams_after_goaway(h2: Any) -> None:
    # jh2 closes its state machine on any GOAWAY, so the frames of the streams
    # a graceful GOAWAY lets finish (RFC 9113 §6.8) -- even those in the same
    # read -- would be protocol errors. After a GOAWAY(NO_ERROR) the machine is
    # put back in the open state; ``Connection.goaway`` keeps new streams out.
    table = h2._frame_dispatch_table
    receive_goaway = table[GoAwayFrame]

    def receive(frame: Any) -> Any:
        result = receive_goaway(frame)
        if frame.error_code == ErrorCodes.NO_ERROR:
            h2.state_machine.state = jh2.connection.ConnectionState.CLIENT_OPEN
        return result

    table[GoAwayFrame] = receive

"""One HTTP/2 connection: an asyncio Protocol feeding jh2, the streams it carries.

Theory of operation: ``data_received`` is the connection's only reader. It
hands the bytes to jh2 (sans-I/O), then dispatches each event, synchronously,
to the ``Stream`` it names (``_HANDLERS``), and finally writes whatever jh2 has
to say back (acks, WINDOW_UPDATEs, PING answers) in one ``write``. No stream
ever reads for itself, so no stream waits behind another's read.

Invariants:

- ``streams`` holds the streams that still expect frames; a stream leaves it
  when it ends, is reset (by either side) or fails, and the engine is told
  (``on_change``) so a request waiting for a stream slot can go.
- ``capacity`` counts against the peer's live SETTINGS_MAX_CONCURRENT_STREAMS
  (100 until its SETTINGS arrive: RFC 9113 §6.5.2 advises no less).
- After GOAWAY no stream starts; streams above ``last_stream_id`` fail as
  ``Refused`` (the engine sends them again elsewhere), those at or below it
  finish. jh2 closes its state machine on GOAWAY and would refuse their
  frames, so the machine is put back in the open state for them.
- A protocol error from the peer fails every stream with a 599 and closes the
  connection; an error that concerns one stream (its body over the limit, a
  user callback raising) resets that stream alone, with CANCEL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, cast

import jh2.config
import jh2.connection
import jh2.events
import jh2.exceptions
from jh2.errors import ErrorCodes
from jh2.hpack import NeverIndexedHeaderTuple
from jh2.hyperframe.frame import GoAwayFrame
from jh2.settings import SettingCodes, Settings

from squall._errors import HTTPStreamClosedError, RemoteProtocolError, ResponseTooLargeError
from squall._framing import head_too_long
from squall._http2.headers import LenientDecoder
from squall._http2.stream import NeedsHTTP1, Refused, Stream

__all__ = ["CONNECTION_WINDOW", "STREAM_WINDOW", "Connection"]

#: The receive window of the connection as a whole: wide enough that many
#: streams at full speed never wait for each other's WINDOW_UPDATEs.
CONNECTION_WINDOW = 16 * 1024 * 1024
#: Each stream's receive window (SETTINGS_INITIAL_WINDOW_SIZE): what a stream
#: whose consumer is slow can hold unread.
STREAM_WINDOW = 2 * 1024 * 1024
#: Streams in flight before the peer's SETTINGS say how many it allows.
DEFAULT_CONCURRENCY = 100

_DEFAULT_WINDOW = 65535


class Connection(asyncio.Protocol):
    """The client side of one HTTP/2 connection (see the module docstring).

    Args:
        loop: the client's event loop.
        max_header_size: the largest decoded header list accepted
            (SETTINGS_MAX_HEADER_LIST_SIZE, and enforced by jh2's HPACK decoder).
        where: ``host:port`` for error messages.
        on_change: called when a stream slot frees up or the connection closes.
    """

    #: jh2's error for a stream it has closed (stream.py catches it; only this
    #: module and the engine import jh2).
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

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self.transport = cast("asyncio.Transport", transport)
        if not self.negotiated:
            self.closed = True  # not HTTP/2: not a byte of it; the engine falls back
            return
        h2 = self.h2
        h2.initiate_connection()
        h2.increment_flow_control_window(CONNECTION_WINDOW - _DEFAULT_WINDOW)
        self.flush()

    def data_received(self, data: bytes) -> None:
        h2 = self.h2
        try:
            events = h2.receive_data(data)
        except jh2.exceptions.DenialOfServiceError:
            # jh2's only one: a header list over SETTINGS_MAX_HEADER_LIST_SIZE, the
            # max_header_size error of HTTP/1.1. The HPACK state is lost with it.
            limit = h2.decoder.max_header_list_size
            text = head_too_long(limit)  # worded as for HTTP/1.1 and on the curl engine
            self.abort(ResponseTooLargeError(text, option="max_header_size", limit=limit))
            return
        except Exception as exc:  # jh2's ProtocolError family, its HPACK errors
            self.abort(RemoteProtocolError(f"HTTP/2 protocol error from {self.where}: {exc!r}"))
            return
        reading: dict[int, int] = {}
        self._reading = reading
        try:
            for event in events:
                handler = _HANDLERS.get(type(event))
                if handler is not None:
                    handler(self, event)
        finally:
            self._reading = None
        if not self.closed:
            for stream_id, size in reading.items():
                h2.acknowledge_received_data(size, stream_id)
        self.flush()

    def eof_received(self) -> bool | None:
        return None  # close the transport: HTTP/2 has no half-closed connection

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.transport = None
        if self.streams:
            error = HTTPStreamClosedError(f"HTTP/2 connection to {self.where} closed")
            for stream in self.streams.values():
                stream.on_error(error)
            self.streams.clear()
        self._changed()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._pump_all()

    # -- events ------------------------------------------------------------------------------

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

    def _guarded(self, stream_id: int, call: Callable[[Stream], None]) -> None:
        # An error about one stream (a limit, a user callback) resets that stream only.
        stream = self.streams.get(stream_id)
        if stream is None:
            return
        try:
            call(stream)
        except Exception as exc:
            self.cancel(stream)
            stream.on_error(exc)

    def _on_response(self, event: Any) -> None:
        self._guarded(event.stream_id, lambda s: s.on_response(event.headers))

    def _on_informational(self, event: Any) -> None:
        self._guarded(event.stream_id, lambda s: s.on_informational(event.headers))

    def _on_data(self, event: Any) -> None:
        # The hot path of a download (one call per DATA frame): _guarded inlined.
        stream = self.streams.get(event.stream_id)
        if stream is None:
            # Frames in flight for a stream we reset: the window is still ours to refill.
            self.consumed(event.stream_id, event.flow_controlled_length)
            return
        try:
            stream.on_data(event.data, event.flow_controlled_length)
        except Exception as exc:
            self.cancel(stream)
            stream.on_error(exc)

    def _on_end(self, event: Any) -> None:
        stream = self.streams.get(event.stream_id)
        if stream is None:
            return
        self._guarded(event.stream_id, Stream.on_end)
        if self.streams.pop(event.stream_id, None) is not None:
            self.answered += 1
            if stream.outbox or stream.end_after:
                # Answered before the upload ended (RFC 9113 §8.1): stop sending it.
                with contextlib.suppress(jh2.exceptions.StreamClosedError):  # reset already
                    self.h2.reset_stream(event.stream_id, error_code=ErrorCodes.NO_ERROR)
            self._changed()

    def _on_reset(self, event: Any) -> None:
        stream = self.streams.pop(event.stream_id, None)
        if stream is None:
            return
        code = _code_name(event.error_code)
        message = f"HTTP/2 stream to {self.where} reset by the server ({code})"
        if event.error_code == ErrorCodes.REFUSED_STREAM:
            stream.on_error(Refused(message))
        elif event.error_code == ErrorCodes.HTTP_1_1_REQUIRED:
            stream.on_error(NeedsHTTP1(message))
        elif event.error_code == ErrorCodes.NO_ERROR and stream.head is not None:
            try:
                stream.on_end()  # RFC 9113 §8.1: a complete response, the upload declined
            except Exception as exc:  # its decoder's end, a user callback
                stream.abandon()
                stream.on_error(exc)
        else:
            stream.on_error(HTTPStreamClosedError(message))
        self._changed()

    def _on_window(self, event: Any) -> None:
        if event.stream_id:
            stream = self.streams.get(event.stream_id)
            if stream is not None and stream.outbox:
                stream.pump()
        else:
            self._pump_all()

    def _on_settings(self, event: Any) -> None:
        self.settings_received = True
        if SettingCodes.INITIAL_WINDOW_SIZE in event.changed_settings:
            self._pump_all()
        self.on_change()

    def _on_goaway(self, event: Any) -> None:
        self.goaway = True
        last = event.last_stream_id if event.last_stream_id is not None else 0
        code = _code_name(event.error_code)
        message = f"HTTP/2 server {self.where} went away ({code})"
        for sid, stream in list(self.streams.items()):
            if event.error_code == ErrorCodes.HTTP_1_1_REQUIRED:
                del self.streams[sid]
                stream.on_error(NeedsHTTP1(message))
            elif sid > last:
                del self.streams[sid]
                stream.on_error(Refused(message))
            elif event.error_code != ErrorCodes.NO_ERROR:
                del self.streams[sid]
                stream.on_error(HTTPStreamClosedError(message))
        self._changed()

    def _pump_all(self) -> None:
        for stream in list(self.streams.values()):
            if stream.outbox or stream.end_after:
                stream.pump()


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


def _code_name(code: Any) -> str:
    try:
        return str(ErrorCodes(code).name)
    except ValueError:
        return f"error code {code}"


_HANDLERS: dict[type, Callable[[Connection, Any], None]] = {
    jh2.events.ResponseReceived: Connection._on_response,
    jh2.events.InformationalResponseReceived: Connection._on_informational,
    jh2.events.DataReceived: Connection._on_data,
    jh2.events.StreamEnded: Connection._on_end,
    jh2.events.StreamReset: Connection._on_reset,
    jh2.events.WindowUpdated: Connection._on_window,
    jh2.events.RemoteSettingsChanged: Connection._on_settings,
    jh2.events.ConnectionTerminated: Connection._on_goaway,
}

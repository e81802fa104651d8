"""One HTTP/2 connection: an asyncio Protocol feeding jh2, the streams it carries.

Theory of operation: ``data_received`` is the connection's only reader. It
hands the bytes to jh2 (sans-I/O), then dispatches each event, synchronously,
to the ``Stream`` it names (``_HANDLERS``), and finally writes whatever jh2 has
to say back (acks, WINDOW_UPDATEs, PING answers) in one ``write``. No stream
ever reads for itself, so no stream waits behind another's read. The state and
what the engine asks (``start``, ``cancel``, ``consumed``, ``close``) are the
base class, ``ConnectionBase`` (connection_base.py, with the invariants).

- After GOAWAY streams above ``last_stream_id`` fail as ``Refused`` (the
  engine sends them again elsewhere), those at or below it finish.
- A protocol error from the peer fails every stream with a 599 and closes the
  connection; an error that concerns one stream (its body over the limit, a
  user callback raising) resets that stream alone, with CANCEL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, cast

import jh2.events
import jh2.exceptions
from jh2.errors import ErrorCodes
from jh2.settings import SettingCodes

from squall._errors import HTTPStreamClosedError, RemoteProtocolError, ResponseTooLargeError
from squall._framing import head_too_long
from squall._http2.connection_base import (
    CONNECTION_WINDOW,
    STREAM_WINDOW,
    ConnectionBase,
)
from squall._http2.stream import NeedsHTTP1, Refused, Stream

__all__ = ["CONNECTION_WINDOW", "STREAM_WINDOW", "Connection"]

_DEFAULT_WINDOW = 65535


class Connection(ConnectionBase, asyncio.Protocol):
    """The client side of one HTTP/2 connection (see the module docstring and
    ``ConnectionBase`` for the arguments)."""

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

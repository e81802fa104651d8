"""Hostile HTTP/2 peers at the frame level, for ``scripted.ScriptedServer`` handlers.

``H2Peer`` speaks just enough HTTP/2 (h2 in server mode, in clear text: the
client uses prior knowledge) to read the client's preface, SETTINGS and request
HEADERS; from then on the test writes raw frames (hyperframe) with their header
blocks encoded by a fresh HPACK encoder -- h2 itself would refuse to send the
malformed, oversized or out-of-window frames these tests need.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterable
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.settings
import hpack
from hyperframe.frame import (
    ContinuationFrame,
    DataFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    RstStreamFrame,
    SettingsFrame,
)

__all__ = ["H2Peer"]

OK_HEAD = [(":status", "200"), ("content-type", "text/plain")]


class H2Peer:
    """The server side of one connection: ``read_request`` then raw frames."""

    def __init__(self, conn: socket.socket, settings: dict[int, int] | None = None) -> None:
        self.conn = conn
        config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        self.h2 = h2.connection.H2Connection(config=config)
        if settings:
            # As initial values: update() would only queue them until acked, and the
            # preface would not carry them.
            initial = {h2.settings.SettingCodes(code): value for code, value in settings.items()}
            self.h2.local_settings = h2.settings.Settings(client=False, initial_values=initial)
        self.h2.initiate_connection()
        self.encoder = hpack.Encoder()
        self.requests: list[int] = []
        self.data_received = 0
        self.send_bytes(self.h2.data_to_send())

    def read_request(self) -> int:
        """Read until a request's HEADERS arrive; its stream id (0: the client closed)."""
        while True:
            if self.requests:
                return self.requests.pop(0)
            try:
                data = self.conn.recv(65536)
            except OSError:
                return 0
            if not data:
                return 0
            for event in self.h2.receive_data(data):
                if isinstance(event, h2.events.RequestReceived):
                    self.requests.append(event.stream_id)
                elif isinstance(event, h2.events.DataReceived):
                    self.data_received += len(event.data)
            self.send_bytes(self.h2.data_to_send())

    def drain(self) -> bool:
        """Read (and ack) what the client sends until it closes; False if it never did."""
        while True:
            try:
                data = self.conn.recv(65536)
            except TimeoutError:
                return False
            except OSError:
                return True  # reset: gone too
            if not data:
                return True
            with contextlib.suppress(Exception):  # whatever state our hostility left h2 in
                self.h2.receive_data(data)

    def answer(self, sid: int, body: bytes) -> bool:
        """A well-formed 200 with ``body``, sent through h2 (which tracks the stream's end)."""
        self.h2.send_headers(sid, [(":status", "200"), ("content-length", str(len(body)))])
        self.h2.send_data(sid, body, end_stream=True)
        return self.send_bytes(self.h2.data_to_send())

    def serve(self, respond: Callable[[str], tuple[list[tuple[str, str]], bytes]]) -> None:
        """Answer every request, as a well-behaved server, until the client closes:
        ``respond(path)`` gives the head and body, sent within the client's windows,
        the streams interleaved frame by frame."""
        h2c = self.h2
        bodies: dict[int, memoryview] = {}
        while True:
            sent = False
            for sid, body in list(bodies.items()):
                size = min(h2c.local_flow_control_window(sid), h2c.max_outbound_frame_size)
                size = min(size, len(body))
                if size or not body:
                    end = size == len(body)
                    h2c.send_data(sid, bytes(body[:size]), end_stream=end)
                    if end:
                        del bodies[sid]
                    else:
                        bodies[sid] = body[size:]
                    sent = True
            if not self.send_bytes(h2c.data_to_send()):
                return
            if sent:
                continue
            try:
                data = self.conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            for event in h2c.receive_data(data):
                if isinstance(event, h2.events.StreamReset):
                    bodies.pop(event.stream_id, None)  # the client gave up on it
                elif isinstance(event, h2.events.RequestReceived):
                    fields: dict[Any, Any] = dict(event.headers or [])  # str: header_encoding
                    head, answer = respond(fields[":path"])
                    h2c.send_headers(event.stream_id, [(":status", "200"), *head])
                    bodies[event.stream_id] = memoryview(answer)
            self.send_bytes(h2c.data_to_send())

    def block(self, headers: Iterable[tuple[str, str]]) -> bytes:
        """An HPACK header block."""
        return bytes(self.encoder.encode(list(headers)))

    def frames(self, *frames: Frame) -> None:
        self.send_bytes(b"".join(frame.serialize() for frame in frames))

    def send_bytes(self, data: bytes) -> bool:
        """Send; False once the client has gone."""
        if not data:
            return True
        try:
            self.conn.sendall(data)
        except OSError:
            return False
        return True

    # -- frame makers ----------------------------------------------------------------

    def headers(self, sid: int, headers: Iterable[tuple[str, str]] = OK_HEAD, **kw: bool) -> Frame:
        flags = {"END_HEADERS"} if kw.get("end_headers", True) else set()
        if kw.get("end_stream", False):
            flags.add("END_STREAM")
        return HeadersFrame(sid, data=self.block(headers), flags=flags)

    @staticmethod
    def data(sid: int, payload: bytes, end: bool = False) -> Frame:
        return DataFrame(sid, data=payload, flags={"END_STREAM"} if end else set())

    @staticmethod
    def continuation(sid: int, payload: bytes, end: bool = False) -> Frame:
        return ContinuationFrame(sid, data=payload, flags={"END_HEADERS"} if end else set())

    @staticmethod
    def goaway(last_stream_id: int, error_code: int = 0) -> Frame:
        return GoAwayFrame(0, last_stream_id=last_stream_id, error_code=error_code)

    @staticmethod
    def rst(sid: int, error_code: int) -> Frame:
        return RstStreamFrame(sid, error_code=error_code)

    @staticmethod
    def settings(values: dict[int, int]) -> Frame:
        return SettingsFrame(0, settings=values)

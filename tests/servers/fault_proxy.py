"""A TCP proxy on 127.0.0.1 that forwards to a server, or breaks the path on command.

The network faults of the fault tests, made in user space: ``mode`` is
``"pass"`` (forward both ways), ``"stall"`` (stop forwarding: bytes are held,
as if every packet were dropped) or ``"reset"`` (each open connection is reset,
both towards the client and towards the server, and so is every new one until
the mode changes: a retry meets the same fault). Runs its own event loop on
a thread, so a blocking test can drive it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from typing import Any

_LINGER_RESET = struct.pack("ii", 1, 0)


class FaultProxy:
    """Listens on ``port``; forwards to ``127.0.0.1:upstream``.

    Attributes:
        port, url: where clients connect.
        connections: connections accepted so far.
    """

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._flowing = asyncio.Event()
        self._resetting = False
        self._pairs: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = []
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0
        self.url = ""

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        self._call(self._start())
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def __exit__(self, *exc: Any) -> None:
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def set_mode(self, mode: str) -> None:
        """``"pass"``, ``"stall"`` or ``"reset"``."""
        self._call(self._set_mode(mode))

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _start(self) -> None:
        self._flowing.set()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self._reset_all()

    async def _set_mode(self, mode: str) -> None:
        self._resetting = mode == "reset"
        if mode == "stall":
            self._flowing.clear()
        else:
            self._flowing.set()
        if self._resetting:
            self._reset_all()

    def _reset_all(self) -> None:
        pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for writer in pair:
                _reset(writer)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self._resetting:
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self._pairs.append((writer, up_writer))
        await asyncio.gather(
            self._pump(reader, up_writer), self._pump(up_reader, writer), return_exceptions=True
        )
        for end in (writer, up_writer):
            end.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            await self._flowing.wait()  # a stall holds the bytes here
            writer.write(data)
            await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    writer.transport.abort()

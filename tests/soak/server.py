"""The soak and fault tests' server: HTTP/1.1 on 127.0.0.1, in its own process,
answering each request as its path asks and counting every request it gets.

A request is ``GET /<id>/<kind>``: ``id`` a number below ``--ids``, ``kind`` one of
``KINDS``. ``GET /_stats`` answers the counts as JSON: how many requests of each
kind came, and which ``(kind, id)`` came more than once. Run it as
``python -m tests.soak.server --ids N``; it prints its port on the first line.

Kinds (what a client must make of each):

=========  =================================================================
ok         200 with ``id=<id>`` (the body names its request: no mix-ups)
close      the same with ``Connection: close``, then the server closes
gzip       the same body, gzip-coded, 20 times over
redirect   302 to ``/<id>/ok``: two requests, one fetch
reset      the head and 10 of 1000 body bytes, then a TCP reset
malformed  a status line that is not HTTP, then a close
stall      no answer at all (the client's request_timeout ends it)
delay      as ok, 0.3 s later (fetches that stay in flight a while)
=========  =================================================================

``GET /_close_listener`` stops accepting connections (those open stay served)
and ``GET /_open_listener`` listens again on the same port: the fault tests'
"listener closed" case.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import struct
import sys
import zlib
from typing import Any

KINDS = ("ok", "close", "gzip", "redirect", "reset", "malformed", "stall", "delay")
_LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends a RST


class Counts:
    """Requests per kind and id (one byte each, saturating: 1M ids is 7 MB)."""

    def __init__(self, ids: int) -> None:
        self.ids = ids
        self.by_kind = {kind: bytearray(ids) for kind in KINDS}
        self.total = 0
        self.bad = 0
        self.connections = 0
        self.listener: Any = None  # a callable: (open: bool) -> None, set by serve()

    def add(self, kind: str, ident: int) -> None:
        self.total += 1
        table = self.by_kind[kind]
        if table[ident] < 255:
            table[ident] += 1

    def report(self) -> dict[str, object]:
        repeated = {}
        for kind, table in self.by_kind.items():
            ids = [i for i, n in enumerate(table) if n > 1]
            if ids:
                repeated[kind] = {str(i): table[i] for i in ids[:1000]} | {"count": len(ids)}
        seen = {kind: self.ids - table.count(0) for kind, table in self.by_kind.items()}
        return {
            "total": self.total,
            "bad": self.bad,
            "connections": self.connections,
            "seen": seen,
            "repeated": repeated,
        }


def _head(status: str, length: int, *fields: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {length}", *fields, "", ""]
    return "\r\n".join(lines).encode()


class Handler(asyncio.Protocol):
    def __init__(self, counts: Counts) -> None:
        self.counts = counts
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        self.counts.connections += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None and b"\r\n\r\n" in self.buffer:
            head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
            self.answer(head.split(b" ", 2)[1].decode("latin-1"))

    def answer(self, path: str) -> None:
        transport = self.transport
        assert transport is not None
        if path == "/_stats":
            body = json.dumps(self.counts.report()).encode()
            transport.write(_head("200 OK", len(body), "Content-Type: application/json") + body)
            return
        if path in ("/_close_listener", "/_open_listener"):
            self.counts.listener(path == "/_open_listener")
            transport.write(_head("200 OK", 0))
            return
        try:
            _, ident_text, kind = path.split("?")[0].split("/")
            ident = int(ident_text)
            self.counts.add(kind, ident)
        except (ValueError, KeyError, IndexError):
            self.counts.bad += 1
            transport.write(_head("404 Not Found", 0))
            return
        body = f"id={ident}".encode()
        if kind == "ok":
            transport.write(_head("200 OK", len(body)) + body)
        elif kind == "close":
            transport.write(_head("200 OK", len(body), "Connection: close") + body)
            self.close()
        elif kind == "gzip":
            coded = _gzip(body * 20)
            transport.write(_head("200 OK", len(coded), "Content-Encoding: gzip") + coded)
        elif kind == "redirect":
            transport.write(_head("302 Found", 0, f"Location: /{ident}/ok"))
        elif kind == "reset":
            transport.write(_head("200 OK", 1000) + b"x" * 10)
            self.reset()
        elif kind == "delay":
            asyncio.get_running_loop().call_later(0.3, self.late, _head("200 OK", len(body)) + body)
        elif kind == "malformed":
            transport.write(b"HTTP/1.1 2x0 Nonsense\r\n\r\n")
            self.close()
        # stall: nothing, ever; the client gives up and closes

    def late(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def reset(self) -> None:
        transport = self.transport
        if transport is None:
            return
        sock = transport.get_extra_info("socket")
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        transport.abort()
        self.transport = None

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


def _gzip(data: bytes) -> bytes:
    coder = zlib.compressobj(1, wbits=16 + zlib.MAX_WBITS)
    return coder.compress(data) + coder.flush()


async def serve(ids: int, port: int, backlog: int) -> None:
    counts = Counts(ids)
    loop = asyncio.get_running_loop()
    listening: list[asyncio.Server] = []

    async def listen() -> asyncio.Server:
        return await loop.create_server(
            lambda: Handler(counts), "127.0.0.1", port, backlog=backlog, reuse_address=True
        )

    def listener(opened: bool) -> None:
        if opened:
            if not listening:
                reopen.set()  # the main loop below listens again
        elif listening:
            listening.pop().close()  # stops accepting; the connections open stay

    reopen = asyncio.Event()
    counts.listener = listener
    server = await listen()
    port = server.sockets[0].getsockname()[1]
    listening.append(server)
    print(port, flush=True)
    while True:
        await reopen.wait()
        reopen.clear()
        listening.append(await listen())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ids", type=int, default=1_000_000)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--backlog", type=int, default=128)
    args = parser.parse_args()
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.ids, args.port, args.backlog))
    sys.exit(0)


if __name__ == "__main__":
    main()

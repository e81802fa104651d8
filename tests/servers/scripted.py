"""A raw-socket server whose every connection runs a test-supplied handler.

The model is urllib3's ``SocketDummyServerTestCase``: a test writes, in a few
lines of blocking socket code, exactly what a broken or hostile peer does
(never answer, close mid-body, send a garbage status line, ...), and the client
under test meets it on 127.0.0.1.

Each accepted connection runs ``handler(conn, server)`` on its own daemon
thread. Everything is bounded: accepted sockets have a timeout, ``wait()``
returns when the server stops, and ``stop()`` closes every socket and joins the
threads with a deadline, so a hung client can never hang the test run.
A handler exception is kept in ``errors`` (the fixture re-raises the first one,
so a handler's own ``assert`` fails the test).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from typing import Any, TypeAlias

SOCKET_TIMEOUT = 5.0
STOP_TIMEOUT = 5.0

Handler = Callable[[socket.socket, "ScriptedServer"], None]
# What a server sends for one request: bytes, or a tuple of pieces sent one
# ``sendall`` after another (e.g. a head with the first part of a body, then the rest).
Answer: TypeAlias = bytes | tuple[bytes, ...]
# The same answer to every request, or ``reply(request_head, connection_number)``.
Reply: TypeAlias = Answer | Callable[[bytes, int], Answer]


class ScriptedServer:
    """Listens on 127.0.0.1:0 (or ``host``) and runs ``handler`` per connection, on a thread.

    Attributes:
        port, url: where it listens (``url`` is ``http://127.0.0.1:<port>``).
        connections: number of connections accepted so far.
        requests: raw request heads read through ``read_request``, in order.
        errors: exceptions raised by handlers.
        events: named threading.Events for handlers and tests to signal each other.
    """

    def __init__(self, handler: Handler, backlog: int = 16, host: str = "127.0.0.1") -> None:
        self.handler = handler
        self._listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(backlog)
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"
        self.connections = 0
        self.requests: list[bytes] = []
        self.errors: list[BaseException] = []
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._events: dict[str, threading.Event] = {}
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)

    def start(self) -> ScriptedServer:
        self._acceptor.start()
        return self

    def event(self, name: str) -> threading.Event:
        """A named Event shared by the handlers and the test (created on first use)."""
        with self._lock:
            return self._events.setdefault(name, threading.Event())

    def wait(self, timeout: float = SOCKET_TIMEOUT) -> bool:
        """Block a handler until the server stops (or ``timeout``); True if stopped."""
        return self._stopped.wait(timeout)

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def connection_number(self, conn: socket.socket) -> int:
        """The 1-based accept order of ``conn``: lets a response say which connection served it."""
        with self._lock:
            return self._sockets.index(conn) + 1

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # the listener was closed by stop()
            conn.settimeout(SOCKET_TIMEOUT)
            with self._lock:
                self.connections += 1
                self._sockets.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self.handler(conn, self)
        except OSError:
            pass  # the client went away: normal for hostile-peer scripts
        except BaseException as exc:
            self.errors.append(exc)
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def stop(self) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for conn in sockets:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._acceptor.join(STOP_TIMEOUT)
        for thread in self._threads:
            thread.join(STOP_TIMEOUT)
        for conn in sockets:
            conn.close()

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # Helpers for handlers -------------------------------------------------

    def read_request(self, conn: socket.socket) -> bytes:
        """Read one request head and its Content-Length body; return the head.

        Returns b"" if the client closed first.
        """
        head, rest = self._read_head(conn)
        length = content_length(head)
        while head and len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            rest += chunk
        return head

    def answer_requests(self, conn: socket.socket, reply: Reply) -> None:
        """Answer every request on ``conn`` with ``reply`` until the client closes it.

        ``reply`` is the bytes to send (or a tuple of pieces), or a callable
        ``reply(request_head, connection_number)`` returning them.
        """
        while head := self.read_request(conn):
            answer = reply(head, self.connection_number(conn)) if callable(reply) else reply
            for piece in (answer,) if isinstance(answer, bytes) else answer:
                conn.sendall(piece)

    def read_head(self, conn: socket.socket) -> bytes:
        """Read one request head only (the body, if any, is left unread); return it.

        Returns b"" if the client closed first.
        """
        return self._read_head(conn)[0]

    def _read_head(self, conn: socket.socket) -> tuple[bytes, bytes]:
        # (the head, what was read past it); (b"", b"") if the client closed first.
        data = bytearray()
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return b"", b""
            data += chunk
        head, _, rest = bytes(data).partition(b"\r\n\r\n")
        with self._lock:
            self.requests.append(head)
        return head, rest


def reply_each(reply: Reply) -> Handler:
    """A handler: answer every request on the connection (keep-alive) with ``reply``,
    as ``ScriptedServer.answer_requests`` does, until the client closes it."""

    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        server.answer_requests(conn, reply)

    return handler


def reply_once(data: bytes, close: bool = True) -> Handler:
    """A handler: read one request, send ``data``, then close the connection, or
    (``close=False``) hold it open until the server stops."""

    def handler(conn: socket.socket, server: ScriptedServer) -> None:
        server.read_request(conn)
        conn.sendall(data)
        if not close:
            server.wait()

    return handler


def content_length(head: bytes) -> int:
    """The Content-Length of a message head, 0 if absent."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


def response(
    body: bytes = b"ok", status: str = "200 OK", headers: list[str] | None = None
) -> bytes:
    """A complete HTTP/1.1 response with Content-Length (extra header lines optional)."""
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *(headers or [])]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

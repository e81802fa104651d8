"""A server that takes any number of connections, reads requests and answers none.

One thread and a selector, so a thousand connections cost a thousand sockets,
not a thousand threads: for tests that need many fetches stuck in flight.
"""

from __future__ import annotations

import selectors
import socket
import threading
from typing import Any


class SilentServer:
    """Listens on 127.0.0.1:0; counts connections and request heads; never replies.

    Attributes:
        port, url: where it listens.
        requests: request heads received so far (counted by their blank line).
        open: connections open now (a client's close is seen as EOF).
    """

    def __init__(self, backlog: int = 4096) -> None:
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(backlog)
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests = 0
        self.open = 0
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stopped.set()
        self._thread.join(5)
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self._selector.close()

    def _run(self) -> None:
        while not self._stopped.is_set():
            for key, _ in self._selector.select(0.05):
                if key.fileobj is self._listener:
                    self._accept()
                else:
                    self._read(key.fileobj)  # type: ignore[arg-type]

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except BlockingIOError:
                return
            conn.setblocking(False)
            self._selector.register(conn, selectors.EVENT_READ, data=[b""])
            self.open += 1

    def _read(self, conn: socket.socket) -> None:
        try:
            data = conn.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._selector.unregister(conn)
            conn.close()
            self.open -= 1
            return
        buffered = self._selector.get_key(conn).data
        text = buffered[0] + data
        self.requests += text.count(b"\r\n\r\n")
        buffered[0] = text[-3:]

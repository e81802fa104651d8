"""Starting, killing and restarting ``tests.soak.server`` in its own process."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent


class ServerProcess:
    """``tests.soak.server`` as a child process.

    Attributes:
        port, url: where it listens (kept across ``restart``).
    """

    def __init__(self, ids: int = 100_000, backlog: int = 128) -> None:
        self.ids = ids
        self.backlog = backlog
        self.port = 0
        self.url = ""
        self._proc: subprocess.Popen[str] | None = None

    def start(self) -> ServerProcess:
        command = [sys.executable, "-m", "tests.soak.server", "--ids", str(self.ids)]
        command += ["--port", str(self.port), "--backlog", str(self.backlog)]
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.strip().isdigit():
            proc.kill()
            raise RuntimeError(f"the soak server did not start: {line!r}")
        self._proc = proc
        self.port = int(line)
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def kill(self) -> None:
        """SIGKILL: the kernel closes every socket of the process (RST to a peer
        with unread data, FIN otherwise)."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait(10)
            self._proc = None

    def restart(self) -> None:
        """Start again on the same port."""
        self.kill()
        self.start()

    def stats(self) -> dict[str, Any]:
        """The server's counts (``GET /_stats``), with a plain blocking socket."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            sock.sendall(b"GET /_stats HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                data += sock.recv(1 << 20)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(body) < length:
                body += sock.recv(1 << 20)
        stats: dict[str, Any] = json.loads(body)
        return stats

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()

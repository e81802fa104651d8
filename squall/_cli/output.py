"""Where a response goes: the head and body to stdout or a file, streamed.

A ``Transfer`` is one attempt at one URL. The engine hands it header lines
(``header_callback``) and body chunks (``streaming_callback``), so a body of
any size passes through in constant memory. When the head is complete the
transfer decides what the body is for:

- ``discard``: a HEAD, ``--print-body=false``, ``--fail`` with a status >= 400,
  or a response that will be retried;
- ``buffer``: JSON going to a terminal to be re-indented (up to BUFFER_MAX,
  then it is written as it came), or several URLs fetched at once to stdout
  (each body is written whole, not interleaved);
- ``direct``: everything else, written as it arrives.
"""

from __future__ import annotations

import contextlib
from typing import IO, Any

from squall._cli.exits import WRITE_FAILED, Failure
from squall._cli.progress import Task
from squall._cli.terminal import Pretty, format_head, format_json
from squall._headers import HTTPHeaders

__all__ = ["BUFFER_MAX", "Transfer", "write_all", "write_failure"]

BUFFER_MAX = 16 * 1024 * 1024
BINARY_MESSAGE = "binary output can mess up your terminal: use -o FILE, or -o - to insist"


def write_all(stream: IO[bytes], data: bytes) -> None:
    """Write every byte of ``data``.

    A pipe whose reader leaves while a write is blocked takes part of it and
    reports a short count, not an error (the next write gets EPIPE): one
    ``write`` would drop the rest silently and exit 0.
    """
    written = stream.write(data)
    view = memoryview(data)
    while written < len(view):
        view = view[written:]
        written = stream.write(view)


def write_failure(exc: OSError, where: str) -> Failure:
    """The exit-23 failure of a write to ``where``: curl's words for a reader that left."""
    if isinstance(exc, BrokenPipeError):
        return Failure(WRITE_FAILED, "Failure writing output to destination")
    return Failure(WRITE_FAILED, f"can't write {where}: {exc.strerror or exc}")


def _is_json(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


class Transfer:
    """One attempt at one URL: head lines in, body chunks in, output out.

    Args:
        path: the output file, or None for ``stdout``.
        stdout: the binary stdout stream (a buffer of its own when parallel).
        settings: the parsed flags (``print_headers``, ``head``, ``fail``...).
        pretty: colouring and JSON formatting for stdout.
        task: the progress line.
        retry_status: True if a status would be retried (its body is dropped).
    """

    def __init__(
        self,
        path: str | None,
        stdout: IO[bytes],
        settings: Any,
        pretty: Pretty,
        task: Task,
        retry_status: Any = None,
        dump: IO[bytes] | None = None,
        guard_binary: bool = False,
    ) -> None:
        # guard_binary: refuse a body with NUL bytes (squall's stdout is a terminal).
        self.path = path
        self.stdout = stdout
        self.settings = settings
        self.pretty = pretty if path is None else Pretty("none", False)
        self.task = task
        self.retry_status = retry_status or (lambda code: False)
        self.dump = dump
        self.guard_binary = guard_binary
        self.lines: list[str] = []
        self.status = 0
        self.status_line = ""
        self.headers = HTTPHeaders()
        self.head_done = False
        self.mode = "direct"
        self.size = 0
        self.header_size = 0
        self.file: IO[bytes] | None = None
        self.pending: list[bytes] = []
        self.pending_size = 0
        self.write_error: Failure | None = None
        self.connect_code = 0  # the status of a proxy's refused CONNECT

    # -- the engine's callbacks ------------------------------------------------------

    def on_header(self, line: str) -> None:
        """header_callback: one head line with its CRLF."""
        if line.startswith("HTTP/"):
            self.lines = []
            self.status_line = line.strip()
            parts = self.status_line.split(" ", 2)
            self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        self.lines.append(line)
        if line.strip():
            return
        if 100 <= self.status < 200:  # an interim head (100 Continue): the real one follows
            return
        self.headers = HTTPHeaders.parse("".join(self.lines[1:]))
        self.header_size = sum(len(x) for x in self.lines)
        self._on_head()

    def on_connect_refusal(self, code: int, reason: str, headers: HTTPHeaders) -> None:
        """The proxy refused the tunnel: its head is written as a response's would be
        (-i, -D), then no body; ``lines`` hold it for -v."""
        head = [f"HTTP/1.1 {code} {reason}\r\n"]
        head += [f"{name}: {value}\r\n" for name, value in headers.get_all()]
        for line in [*head, "\r\n"]:
            self.on_header(line)
        self.connect_code, self.mode = code, "discard"

    def on_chunk(self, data: bytes) -> None:
        """streaming_callback: one body chunk."""
        if self.guard_binary and self.mode != "discard":
            self.guard_binary = False  # the first chunk tells
            if b"\0" in data:
                # curl's rule: NUL bytes on a terminal would garble it.
                self.mode = "discard"
                self.write_error = Failure(WRITE_FAILED, BINARY_MESSAGE)
                raise self.write_error
        self.size += len(data)
        self.task.advance(len(data))
        if self.mode == "direct":
            self._write(data)
        elif self.mode == "buffer":
            self.pending.append(data)
            self.pending_size += len(data)
            if self.pending_size > BUFFER_MAX and not self.settings.parallel:
                self.mode = "direct"  # too big to reformat: as it came, from here on
                self._write(b"".join(self.pending))
                self.pending = []

    # -- decisions ---------------------------------------------------------------------

    def _on_head(self) -> None:
        self.head_done = True
        s = self.settings
        failing = (s.fail or s.fail_with_body) and self.status >= 400
        if self.retry_status(self.status):
            self.mode = "discard"
            return
        if self.dump is not None:
            self.dump.write("".join(self.lines).encode("latin-1", "replace"))
        if failing and not s.fail_with_body:
            self.mode = "discard"
            return
        if s.print_headers or s.head:
            self._write(format_head(self.lines, self.pretty.colors))
        length = self.headers.get("Content-Length", "")
        # A decoded body's size is not the announced one: a spinner then.
        encoded = "Content-Encoding" in self.headers
        self.task.start(int(length) if length.isdigit() and not encoded else None)
        reformat = self.pretty.format and _is_json(self.headers.get("Content-Type", ""))
        if s.head or not s.print_body:
            self.mode = "discard"
        elif (s.parallel and self.path is None) or reformat:
            self.mode = "buffer"
        else:
            self.mode = "direct"

    def finish(self) -> None:
        """The transfer ended (well or not): write what was held back, close the file."""
        if self.pending:
            body = b"".join(self.pending)
            self.pending = []
            pretty = None
            if self.pretty.format and _is_json(self.headers.get("Content-Type", "")):
                pretty = format_json(body, self.pretty.colors)
            self._write(body if pretty is None else pretty)
        if self.file is not None:
            with contextlib.suppress(OSError):
                self.file.close()
            self.file = None
        elif self.write_error is None:
            try:
                self.stdout.flush()
            except OSError as exc:
                self.write_error = write_failure(exc, "stdout")

    def discard(self) -> None:
        """Forget the output of an attempt that will be retried (a file starts over)."""
        self.pending = []
        self.mode = "discard"
        if self.file is not None:
            with contextlib.suppress(OSError):
                self.file.close()
            self.file = None

    # -- writing -----------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        if self.write_error is not None:
            raise self.write_error
        try:
            if self.path is None:
                write_all(self.stdout, data)
                return
            if self.file is None:
                self.file = open(self.path, "wb")  # noqa: SIM115 (closed by finish())
            write_all(self.file, data)
        except OSError as exc:
            self.write_error = write_failure(exc, self.path or "stdout")
            self.mode = "discard"
            raise self.write_error from None

    def ensure_file(self) -> None:
        """An empty body still makes the output file (as curl does)."""
        if self.path is not None and self.file is None and self.write_error is None:
            self._write(b"")

"""-F/--form: a multipart/form-data body (RFC 7578) streamed from disk.

The parts are planned first (names, files, sizes), so the Content-Length is
known and a missing file is a usage error before anything is sent; the body
producer then reads each file in blocks while the connection takes them, so a
large upload never sits in memory.
"""

from __future__ import annotations

import mimetypes
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from squall._cli.exits import READ_FAILED, USAGE, Failure

__all__ = ["Form"]

_BLOCK = 256 * 1024
Write = Callable[[bytes], Awaitable[None]]


@dataclass
class _Part:
    head: bytes
    value: bytes = b""
    path: str | None = None
    size: int = 0


def _quote(text: str) -> str:
    # RFC 7578 §4.2: names are quoted strings; escape what would end them.
    return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _file_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError as exc:
        raise Failure(READ_FAILED, f"can't read {path}: {exc.strerror}") from None


def _read_text(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise Failure(READ_FAILED, f"can't read {path}: {exc.strerror}") from None


def _part(spec: str, boundary: str) -> _Part:
    name, eq, rest = spec.partition("=")
    if not eq or not name:
        raise Failure(USAGE, f"bad -F {spec!r} (expected name=value or name=@file)")
    rest, _, options = rest.partition(";")
    ctype = next((o[5:] for o in options.split(";") if o.startswith("type=")), None)
    disposition = f'form-data; name="{_quote(name)}"'
    part = _Part(b"")
    if rest.startswith("@"):  # a file upload, named after the file
        part.path = rest[1:]
        part.size = _file_size(part.path)
        disposition += f'; filename="{_quote(os.path.basename(part.path))}"'
        ctype = ctype or mimetypes.guess_type(part.path)[0] or "application/octet-stream"
    elif rest.startswith("<"):  # a field whose value is a file's text
        part.value = _read_text(rest[1:])
    else:
        part.value = rest.encode()
    head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
    if ctype:
        head += f"Content-Type: {ctype}\r\n"
    part.head = (head + "\r\n").encode()
    part.size = part.size or len(part.value)
    return part


class Form:
    """A planned multipart body: ``content_type``, ``length`` and ``produce``."""

    def __init__(self, specs: list[str]) -> None:
        self.boundary = "squall-" + secrets.token_hex(12)
        self.parts = [_part(spec, self.boundary) for spec in specs]
        self.tail = f"--{self.boundary}--\r\n".encode()
        self.content_type = f"multipart/form-data; boundary={self.boundary}"
        self.length = sum(len(p.head) + p.size + 2 for p in self.parts) + len(self.tail)

    async def produce(self, write: Write) -> None:
        """The body_producer: each part's head, then its value or its file in blocks."""
        for part in self.parts:
            await write(part.head)
            if part.path is None:
                await write(part.value)
            else:
                await self._send_file(part, write)
            await write(b"\r\n")
        await write(self.tail)

    @staticmethod
    async def _send_file(part: _Part, write: Write) -> None:
        assert part.path is not None
        left = part.size  # the length was announced: send exactly that many bytes
        with open(part.path, "rb") as f:
            while left > 0:
                block = f.read(min(_BLOCK, left))
                if not block:
                    raise OSError(f"{part.path} shrank while it was being sent")
                left -= len(block)
                await write(block)

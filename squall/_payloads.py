"""Request bodies and queries built from Python values: ``json=``, ``params=``,
``form=`` and ``files=`` (keyword-only HTTPRequest options beyond Tornado's).

- ``json``: compact UTF-8 JSON, ``Content-Type: application/json``.
- ``params``: a mapping or a list of pairs (a list or tuple value repeats the
  key), appended to the URL's own query, which is kept as given.
- ``form``: ``application/x-www-form-urlencoded``.
- ``files``: ``multipart/form-data`` (RFC 7578) with ``form`` as plain fields;
  each file is a path, a binary file object, or a ``(filename, path or file,
  content_type)`` tuple. The body streams from disk through ``body_producer``
  (reads run off the loop), with a Content-Length when every size is known.

A content type the caller gives is kept. Names and filenames are quoted as
browsers do (WHATWG: ``"`` as ``%22``, CR and LF as ``%0D``/``%0A``), so a
filename cannot inject a header.
"""

from __future__ import annotations

import asyncio
import json as json_module
import mimetypes
import os
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import IO, Any
from urllib.parse import urlencode

__all__ = ["FilesArg", "FormArg", "ParamsArg", "Payload", "encode_json", "encode_params", "payload"]

Scalar = str | int | float | bool
ParamsArg = Mapping[str, Any] | Iterable[tuple[str, Any]]
FormArg = ParamsArg
FileSpec = str | os.PathLike[str] | IO[bytes] | tuple[str, Any, str]
FilesArg = Mapping[str, FileSpec]
Write = Callable[[bytes], Awaitable[None]]

_CHUNK = 64 * 1024


def _pairs(what: str, value: ParamsArg) -> list[tuple[str, str]]:
    items = value.items() if isinstance(value, Mapping) else value
    pairs: list[tuple[str, str]] = []
    try:
        for name, item in items:
            values = item if isinstance(item, (list, tuple)) else [item]
            for one in values:
                if not isinstance(one, (str, int, float, bool)):
                    raise TypeError(
                        f"{what}[{name!r}] must be a str, number or a list of them, "
                        f"got {type(one).__name__}"
                    )
                pairs.append((str(name), _text(one)))
    except (TypeError, ValueError) as exc:
        if what in str(exc):
            raise
        raise TypeError(f"{what} must be a mapping or a list of (name, value) pairs") from exc
    return pairs


def _text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def encode_params(url: str, params: ParamsArg) -> str:
    """``url`` with ``params`` appended to its query (before any fragment)."""
    query = urlencode(_pairs("params", params))
    if not query:
        return url
    url, hash_, fragment = url.partition("#")
    joiner = "&" if "?" in url and not url.endswith(("?", "&")) else ("" if "?" in url else "?")
    return f"{url}{joiner}{query}{hash_}{fragment}"


def encode_json(value: object) -> bytes:
    """Compact UTF-8 JSON.

    Raises:
        TypeError: a value json cannot serialise (named by json).
    """
    try:
        text = json_module.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"json: {exc}") from exc
    return text.encode("utf-8")


class Payload:
    """A built body: its content type, and either bytes or a producer with a length."""

    __slots__ = ("body", "content_type", "length", "producer")

    def __init__(
        self,
        content_type: str,
        body: bytes | None = None,
        producer: Callable[[Write], Awaitable[None]] | None = None,
        length: int | None = None,
    ) -> None:
        self.content_type = content_type
        self.body = body
        self.producer = producer
        self.length = length


def payload(json: object, form: FormArg | None, files: FilesArg | None) -> Payload:
    """The body of ``json=`` (not None), ``form=`` or ``files=`` (with ``form`` fields)."""
    if files is not None:
        return _multipart(_pairs("form", form) if form is not None else [], files)
    if form is not None:
        body = urlencode(_pairs("form", form)).encode("ascii")
        return Payload("application/x-www-form-urlencoded", body)
    return Payload("application/json", encode_json(json))


def _quote(text: str) -> str:
    return text.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


class _Part:
    __slots__ = ("head", "path", "size", "stream", "value")

    def __init__(self, head: bytes, value: bytes | None, path: str | None, stream: Any) -> None:
        self.head = head
        self.value = value
        self.path = path
        self.stream = stream
        self.size: int | None = len(value) if value is not None else None


def _file_part(name: str, spec: FileSpec) -> _Part:
    content_type = None
    if isinstance(spec, tuple):
        if len(spec) != 3:
            raise TypeError(f"files[{name!r}]: a tuple must be (filename, path or file, type)")
        filename, source, content_type = spec
    else:
        source = spec
        filename = (
            os.path.basename(os.fspath(source))
            if isinstance(source, (str, os.PathLike))
            else os.path.basename(str(getattr(source, "name", name)))
        )
    if isinstance(source, (str, os.PathLike)):
        path, stream = os.fspath(source), None
        if not os.path.isfile(path):
            raise ValueError(f"files[{name!r}]: no such file {path!r}")
    elif hasattr(source, "read"):
        path, stream = None, source
    else:
        raise TypeError(f"files[{name!r}] must be a path, a binary file or a 3-tuple")
    if content_type is None:
        content_type = mimetypes.guess_type(str(filename))[0] or "application/octet-stream"
    if any(c in content_type for c in "\r\n\0"):
        raise ValueError(f"files[{name!r}]: the content type contains CR, LF or NUL")
    head = (
        f'Content-Disposition: form-data; name="{_quote(name)}"; '
        f'filename="{_quote(str(filename))}"\r\nContent-Type: {content_type}\r\n\r\n'
    ).encode()
    part = _Part(head, None, path, stream)
    if path is not None:
        part.size = os.path.getsize(path)
    elif stream is not None and getattr(stream, "seekable", lambda: False)():
        here = stream.tell()
        part.size = stream.seek(0, os.SEEK_END) - here
        stream.seek(here)
    return part


def _multipart(fields: list[tuple[str, str]], files: FilesArg) -> Payload:
    if not isinstance(files, Mapping):
        raise TypeError(f"files must be a mapping of field names, got {type(files).__name__}")
    boundary = secrets.token_hex(16)
    parts = [
        _Part(
            f'Content-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'.encode(),
            value.encode("utf-8"),
            None,
            None,
        )
        for name, value in fields
    ]
    parts.extend(_file_part(str(name), spec) for name, spec in files.items())
    opener = f"--{boundary}\r\n".encode()
    closer = f"--{boundary}--\r\n".encode()
    sizes = [part.size for part in parts]
    length = None
    if all(size is not None for size in sizes):
        framing = sum(len(opener) + len(part.head) + 2 for part in parts) + len(closer)
        length = framing + sum(size for size in sizes if size is not None)

    async def produce(write: Write) -> None:
        loop = asyncio.get_running_loop()
        for part in parts:
            await write(opener + part.head)
            if part.value is not None:
                await write(part.value)
            else:
                stream = part.stream
                if part.path is not None:
                    stream = await loop.run_in_executor(None, open, part.path, "rb")
                try:
                    while chunk := await loop.run_in_executor(None, stream.read, _CHUNK):
                        await write(chunk)
                finally:
                    if part.path is not None:
                        await loop.run_in_executor(None, stream.close)
            await write(b"\r\n")
        await write(closer)

    return Payload(f"multipart/form-data; boundary={boundary}", producer=produce, length=length)

"""Streaming content decoders for ``decompress_response`` (RFC 9110 §8.4),
shared by both engines (the curl engine turns libcurl's own decoding off so
that both offer and decode exactly the same codings).

``make_decoder(content_encoding, limit)`` returns None when there is nothing to
decode (identity, or a coding we do not know, which is then passed through
undecoded as Tornado does), else a ``Decoder`` whose ``decode(chunk)`` returns
decoded bytes and whose ``flush()`` returns what is left at the end. A body
whose compressed stream stops before its end (a truncated gzip member, say)
is an error at ``flush()``, as in aiohttp and libcurl, not a silently shorter
body; an empty body (nothing to decode) is accepted. A gzip body's every
member and a zstd body's every frame are decoded, not only the first. Codings
listed in one header are undone in reverse order (RFC 9110 §8.4: they were
applied in the order listed).

The size limit counts *decoded* bytes, so a small compressed body cannot
expand past ``max_body_size``: zlib and brotli are asked for at most about
``limit + 1`` bytes, and zstd (whose binding takes no output bound) is fed in
slices that cannot expand far past the limit, so a "zip bomb" is refused
without ever being expanded in full.

br and zstd are available when ``brotli`` and ``zstandard`` import;
``ACCEPT_ENCODING`` advertises exactly what this process can decode.
"""

from __future__ import annotations

import importlib
import zlib
from typing import Any, Final, Protocol

from squall._errors import RemoteProtocolError, ResponseTooLargeError

__all__ = ["ACCEPT_ENCODING", "SUPPORTED", "Decoder", "make_decoder"]


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:  # pragma: no cover - both are installed in CI
        return None


brotli = _optional("brotli")
zstandard = _optional("zstandard")


class _Stage(Protocol):
    name: str

    def decode(self, data: bytes, limit: int) -> bytes: ...

    def flush(self) -> bytes: ...


_TRUNCATED = "the compressed stream ends before its end marker (truncated body)"

# zstd: the largest output one input byte can give (a 128 KiB RLE block in 4
# bytes), and the smallest input slice (at most ~2 MiB of output).
_ZSTD_MAX_RATIO = 32 * 1024
_ZSTD_STEP_MIN = 64


_GZIP_WBITS = 16 + zlib.MAX_WBITS
_GZIP_MAGIC = b"\x1f\x8b"


class _ZlibStage:
    """gzip (RFC 1952), or deflate as zlib (RFC 1950) or, as some servers send, raw."""

    __slots__ = ("_done", "_fed", "_gzip", "_head", "_obj", "_started", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._started = name != "deflate"
        self._fed = False
        self._head = b""
        self._gzip = name in ("gzip", "x-gzip")
        self._done = False  # gzip: what follows the last member is not one; dropped
        self._obj = zlib.decompressobj(_GZIP_WBITS if self._gzip else zlib.MAX_WBITS)

    def decode(self, data: bytes, limit: int) -> bytes:
        self._fed = self._fed or bool(data)
        if not self._started:
            # RFC 9110 §8.4.1.2 says zlib-wrapped, but raw deflate is common in the wild:
            # a zlib header is CM=8 in the low nibble and a 16-bit value divisible by 31.
            # It takes two bytes to tell, and a body may arrive one byte at a time.
            data = self._head + data
            if len(data) < 2:
                self._head = data
                return b""
            self._started = True
            self._head = b""
            if data[0] & 0x0F != 8 or (data[0] * 256 + data[1]) % 31:
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
        if self._done:
            return b""
        # Ask for one byte over the limit: getting it proves the limit is exceeded
        # (max_length 0 means unbounded, for inner stages of a chain).
        out = self._obj.decompress(data, limit + 1 if limit >= 0 else 0)
        if self._gzip and self._obj.eof and self._obj.unused_data:
            if limit < 0:
                out += self._next_members(None)
            elif len(out) <= limit:
                out += self._next_members(limit - len(out))
        return out

    def _next_members(self, budget: int | None) -> bytes:
        # A gzip body may hold several members, one after the other (RFC 1952 section
        # 2.2), as `cat a.gz b.gz` makes: decode them all, as gzip(1) and Python's gzip
        # module do, rather than stop silently after the first. Bytes after a member
        # that do not start with the gzip magic number (zero padding, say) end the
        # body and are ignored, as gzip(1) does; a next member cut short is a
        # truncated body, and a bad one an error. A member that has ended keeps the
        # bytes fed to it since in ``unused_data``, so a split magic number waits there.
        # ``budget``: the decoded bytes still allowed (None: no bound).
        out = b""
        while self._obj.eof and self._obj.unused_data:
            if budget is not None and len(out) > budget:
                break  # over the limit: the caller refuses the body
            rest = self._obj.unused_data
            if not rest.startswith(_GZIP_MAGIC):
                self._done = not _GZIP_MAGIC.startswith(rest)  # else: one byte, wait
                break
            self._obj = zlib.decompressobj(_GZIP_WBITS)
            out += self._obj.decompress(rest, 0 if budget is None else budget - len(out) + 1)
        return out

    def flush(self) -> bytes:
        if self._head:  # a one-byte deflate body: not zlib-wrapped, so raw
            self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
            self._obj.decompress(self._head)
        tail = self._obj.flush()
        if self._fed and not self._obj.eof:
            raise ValueError(_TRUNCATED)
        return tail


class _BrotliStage:
    __slots__ = ("_fed", "_obj", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._fed = False
        self._obj = brotli.Decompressor()

    def decode(self, data: bytes, limit: int) -> bytes:
        self._fed = self._fed or bool(data)
        if limit < 0:
            return bytes(self._obj.process(data))
        # The output stops growing near limit + 1 bytes: past the limit is refused
        # anyway, so a bomb is never expanded in full.
        return bytes(self._obj.process(data, output_buffer_limit=limit + 1))

    def flush(self) -> bytes:
        # Nothing fed leaves a fresh decompressor, which is not "finished" either.
        if self._fed and not self._obj.is_finished():
            raise ValueError(_TRUNCATED)
        return b""


class _ZstdStage:
    __slots__ = ("_decompressor", "_fed", "_obj", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._fed = False
        self._decompressor = zstandard.ZstdDecompressor()
        self._obj = self._decompressor.decompressobj()

    def decode(self, data: bytes, limit: int) -> bytes:
        self._fed = self._fed or bool(data)
        step = max(_ZSTD_STEP_MIN, (limit + 1) // _ZSTD_MAX_RATIO + 1)
        if limit < 0 or len(data) <= step:
            return self._frames(data)
        # zstandard's decompress() takes no output bound, and one byte of input can
        # stand for up to ~32 KiB of output (an RLE block). So the input goes in
        # slices that cannot expand much past the limit together, and we stop as
        # soon as the output is over it: memory stays near twice the limit at worst.
        out = bytearray()
        for start in range(0, len(data), step):
            out += self._frames(data[start : start + step])
            if len(out) > limit:
                break
        return bytes(out)

    def _frames(self, data: bytes) -> bytes:
        # A zstd body may hold several frames (RFC 8878 section 3), and a
        # decompressobj reads one: each frame gets its own, fed what the last one
        # left over. Bytes that are not a frame are an error, as for zstd(1).
        out = b""
        while data:
            if self._obj.eof:
                self._obj = self._decompressor.decompressobj()
            out += self._obj.decompress(data)
            data = self._obj.unused_data if self._obj.eof else b""
        return out

    def flush(self) -> bytes:
        if self._fed and not self._obj.eof:
            raise ValueError(_TRUNCATED)
        return b""


_STAGES: dict[str, Any] = {"gzip": _ZlibStage, "x-gzip": _ZlibStage, "deflate": _ZlibStage}
if brotli is not None:
    _STAGES["br"] = _BrotliStage
if zstandard is not None:
    _STAGES["zstd"] = _ZstdStage

#: The content codings this process can decode.
SUPPORTED: Final = tuple(name for name in ("gzip", "deflate", "br", "zstd") if name in _STAGES)
#: The Accept-Encoding value sent when decompress_response is on.
ACCEPT_ENCODING: Final = ", ".join(SUPPORTED)


class Decoder:
    """Undoes a chain of content codings, bounded by a decoded-size limit.

    Args:
        names: the codings as listed in Content-Encoding (applied in that order).
        limit: the most decoded bytes accepted; exceeding it raises
            ``ResponseTooLargeError``.
    """

    __slots__ = ("_limit", "_stages", "_total")

    def __init__(self, names: list[str], limit: int) -> None:
        self._stages: list[_Stage] = [_STAGES[name](name) for name in reversed(names)]
        self._limit = limit
        self._total = 0

    def decode(self, data: bytes) -> bytes:
        """Decode one piece of the body.

        Raises:
            RemoteProtocolError: the data is not valid for its coding (named).
            ResponseTooLargeError: the decoded body exceeds the limit.
        """
        last = self._stages[-1]
        for stage in self._stages:
            if not data:
                return data
            try:
                # Only the outermost result is bounded: an inner stage's output cut
                # short would be lost, not refused.
                data = stage.decode(data, self._limit - self._total if stage is last else -1)
            except Exception as exc:
                raise RemoteProtocolError(f"invalid {stage.name} data: {exc}") from exc
        return self._count(data)

    def flush(self) -> bytes:
        """Return the decoded bytes still buffered at the end of the body."""
        out = b""
        last = self._stages[-1]
        for stage in self._stages:
            try:
                if out:
                    out = stage.decode(out, self._limit - self._total if stage is last else -1)
                out += stage.flush()
            except Exception as exc:
                raise RemoteProtocolError(f"invalid {stage.name} data: {exc}") from exc
        return self._count(out)

    def _count(self, data: bytes) -> bytes:
        self._total += len(data)
        if self._total > self._limit:
            raise ResponseTooLargeError(
                f"Decompressed body exceeds the limit of {self._limit} bytes"
            )
        return data


def make_decoder(content_encoding: str, limit: int) -> Decoder | None:
    """Build the decoder for a Content-Encoding value, or None to pass the body through.

    Args:
        content_encoding: the header value, e.g. ``"gzip"`` or ``"deflate, br"``.
        limit: the most decoded bytes accepted.

    Returns:
        None for identity or when any listed coding is unknown (the body is then
        delivered as received, with its Content-Encoding header kept).
    """
    names = [name.strip().lower() for name in content_encoding.split(",")]
    names = [name for name in names if name and name != "identity"]
    if not names or any(name not in _STAGES for name in names):
        return None
    return Decoder(names, limit)

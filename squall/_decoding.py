"""Streaming content decoders for ``decompress_response`` (RFC 9110 §8.4),
shared by both engines (the curl engine turns libcurl's own decoding off so
that both offer and decode exactly the same codings).

``make_decoder(content_encoding, limit)`` returns None when there is nothing to
decode (identity, or a coding we do not know, which is then passed through
undecoded as Tornado does), else a ``Decoder`` whose ``decode(chunk)`` and
``flush()`` (at the end of the body) yield the decoded bytes in pieces of at
most ``PIECE_SIZE``. A body whose compressed stream stops before its end (a
truncated gzip member, say) is an error at ``flush()``, as in aiohttp and
libcurl, not a silently shorter body; an empty body (nothing to decode) is
accepted. A gzip body's every member and a zstd body's every frame are
decoded, not only the first. Codings listed in one header are undone in
reverse order (RFC 9110 §8.4: they were applied in the order listed).

Memory stays bounded whatever the compression ratio (a "zip bomb" expands
1000:1 with gzip, 32768:1 with zstd and far more with brotli): every stage
is asked for at most one piece of output per call (zlib's ``max_length``,
brotli's ``output_buffer_limit``; zstd, whose binding takes no output bound,
is fed in slices too small to expand past ``_ZSTD_SLICE_OUT``), and keeps the
input it has not decoded yet for the next call. The pieces are produced
lazily, as the caller pulls them, so a streaming callback sees one piece at a
time and never the whole expansion. The size limit counts *decoded* bytes and
the last piece asked for is at most one byte over what the limit still
allows, so a bomb is refused with at most ``limit`` bytes decoded.

br and zstd are available when ``brotli`` and ``zstandard`` import;
``ACCEPT_ENCODING`` advertises exactly what this process can decode.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Iterator
from typing import Any, Final, Protocol

from squall._errors import RemoteProtocolError, ResponseTooLargeError
from squall._framing import decoded_too_long

__all__ = ["ACCEPT_ENCODING", "PIECE_SIZE", "SUPPORTED", "Decoder", "make_decoder"]


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:  # pragma: no cover - both are installed in CI
        return None


brotli = _optional("brotli")
zstandard = _optional("zstandard")

#: The most decoded bytes one piece holds (brotli, which grows its output buffer in
#: blocks and stops once past it, may give up to twice as much).
PIECE_SIZE: Final = 256 * 1024


class _Stage(Protocol):
    # One coding's decoder. ``feed`` appends input; ``read`` returns at most about
    # ``max_length`` decoded bytes, b"" once it needs more input; ``end`` says no
    # more input comes (deflate's held first byte is released); ``check`` raises
    # ValueError if the stream stopped before its end marker.

    name: str

    def feed(self, data: bytes) -> None: ...

    def read(self, max_length: int) -> bytes: ...

    def end(self) -> None: ...

    def check(self) -> None: ...


_TRUNCATED = "the compressed stream ends before its end marker (truncated body)"

_GZIP_WBITS = 16 + zlib.MAX_WBITS
_GZIP_MAGIC = b"\x1f\x8b"


class _ZlibStage:
    """gzip (RFC 1952), or deflate as zlib (RFC 1950) or, as some servers send, raw."""

    __slots__ = ("_done", "_fed", "_full", "_gzip", "_head", "_input", "_obj", "_started", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._started = name != "deflate"
        self._fed = False
        self._head = b""
        self._input = b""  # not yet given to zlib (an unconsumed tail, or a next member)
        self._full = False  # the last call filled max_length: zlib may hold more output
        self._gzip = name in ("gzip", "x-gzip")
        self._done = False  # gzip: what follows the last member is not one; dropped
        self._obj = zlib.decompressobj(_GZIP_WBITS if self._gzip else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> None:
        self._fed = self._fed or bool(data)
        if self._done:
            return  # after the last gzip member: ignored
        if not self._started:
            # RFC 9110 §8.4.1.2 says zlib-wrapped, but raw deflate is common in the wild:
            # a zlib header is CM=8 in the low nibble and a 16-bit value divisible by 31.
            # It takes two bytes to tell, and a body may arrive one byte at a time.
            data = self._head + data
            if len(data) < 2:
                self._head = data
                return
            self._started = True
            self._head = b""
            if data[0] & 0x0F != 8 or (data[0] * 256 + data[1]) % 31:
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
        self._input += data

    def read(self, max_length: int) -> bytes:
        while not self._done:
            obj = self._obj
            if obj.eof:
                if not self._gzip:
                    self._input = b""  # after the end of a deflate stream: ignored
                    return b""
                if not self._next_member():
                    return b""
                continue
            if not self._input and not self._full:
                return b""
            out = obj.decompress(self._input, max_length)
            # After a member's end the rest is in unused_data, else in unconsumed_tail.
            self._input = obj.unused_data if obj.eof else obj.unconsumed_tail
            self._full = len(out) >= max_length
            if out:
                return out
        return b""

    def _next_member(self) -> bool:
        # A gzip body may hold several members, one after the other (RFC 1952 section
        # 2.2), as `cat a.gz b.gz` makes: decode them all, as gzip(1) and Python's gzip
        # module do, rather than stop silently after the first. Bytes after a member
        # that do not start with the gzip magic number (zero padding, say) end the
        # body and are ignored, as gzip(1) does; a next member cut short is a
        # truncated body, and a bad one an error. A lone first byte of the magic waits.
        rest = self._input
        if not rest.startswith(_GZIP_MAGIC):
            if not _GZIP_MAGIC.startswith(rest):
                self._done = True
                self._input = b""
            return False
        self._obj = zlib.decompressobj(_GZIP_WBITS)
        self._full = False
        return True

    def end(self) -> None:
        if self._head:  # a one-byte deflate body: not zlib-wrapped, so raw
            self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
            self._input, self._head = self._head, b""

    def check(self) -> None:
        if self._fed and not self._obj.eof:
            raise ValueError(_TRUNCATED)


class _BrotliStage:
    __slots__ = ("_fed", "_input", "_obj", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._fed = False
        self._input = b""
        self._obj = brotli.Decompressor()

    def feed(self, data: bytes) -> None:
        self._fed = self._fed or bool(data)
        self._input = self._input + data if self._input else data

    def read(self, max_length: int) -> bytes:
        obj = self._obj
        while True:
            # New input only once the last input is taken; until then, and after
            # it (decoded output may still wait inside), an empty call gives more.
            data = b""
            if self._input and obj.can_accept_more_data():
                data, self._input = self._input, b""
            # The output buffer stops growing once it reaches max_length.
            out = bytes(obj.process(data, output_buffer_limit=max_length))
            if out or (not data and (not self._input or not obj.can_accept_more_data())):
                return out

    def end(self) -> None:
        pass

    def check(self) -> None:
        # Nothing fed leaves a fresh decompressor, which is not "finished" either.
        if self._fed and not self._obj.is_finished():
            raise ValueError(_TRUNCATED)


# zstd: one input byte can stand for up to 32 KiB of output (a 128 KiB RLE block in
# 4 bytes), so input goes in slices of 128 bytes: at most 4 MiB out of each.
_ZSTD_MAX_RATIO = 32 * 1024
_ZSTD_SLICE = 128
_ZSTD_SLICE_OUT = _ZSTD_SLICE * _ZSTD_MAX_RATIO
# RFC 9659 §3: encoders must not need a window over 8 MB, and decoders may refuse
# one; libzstd's default limit (128 MiB) would let a server make us allocate it.
_ZSTD_MAX_WINDOW = 8 * 1024 * 1024


class _ZstdStage:
    __slots__ = ("_decompressor", "_fed", "_input", "_obj", "_out", "_pos", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._fed = False
        self._input = memoryview(b"")
        self._out = b""  # decoded bytes not handed out yet, from self._pos on
        self._pos = 0
        self._decompressor = zstandard.ZstdDecompressor(max_window_size=_ZSTD_MAX_WINDOW)
        self._obj = self._decompressor.decompressobj()

    def feed(self, data: bytes) -> None:
        self._fed = self._fed or bool(data)
        self._input = memoryview(bytes(self._input) + data if self._input else data)

    def read(self, max_length: int) -> bytes:
        if self._pos < len(self._out):
            return self._take(max_length)
        self._out = b""
        chunks: list[bytes] = []
        size = 0
        while self._input and size < max_length:
            data, self._input = self._input[:_ZSTD_SLICE], self._input[_ZSTD_SLICE:]
            chunk = self._frames(data)
            if size + len(chunk) > max_length:
                # Kept whole, handed out in pieces: no join of a large chunk.
                self._out, self._pos = chunk, 0
                if chunks:
                    break
                return self._take(max_length)
            chunks.append(chunk)
            size += len(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _take(self, max_length: int) -> bytes:
        pos = self._pos
        self._pos = pos + max_length
        if pos == 0 and len(self._out) <= max_length:
            out, self._out = self._out, b""
            return out
        return self._out[pos : pos + max_length]

    def _frames(self, data: memoryview) -> bytes:
        # A zstd body may hold several frames (RFC 8878 section 3), and a
        # decompressobj reads one: each frame gets its own, fed what the last one
        # left over. Bytes that are not a frame are an error, as for zstd(1).
        out = b""
        rest: bytes | memoryview = data
        while rest:
            if self._obj.eof:
                self._obj = self._decompressor.decompressobj()
            out += self._obj.decompress(rest)
            rest = self._obj.unused_data if self._obj.eof else b""
        return out

    def end(self) -> None:
        pass

    def check(self) -> None:
        if self._fed and not self._obj.eof:
            raise ValueError(_TRUNCATED)


# libcurl's limit too (CVE-2022-32206): each stage holds a window of its own, so a
# long Content-Encoding list would cost memory without any body.
_MAX_CODINGS = 5

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
    """Undoes a chain of content codings, in bounded pieces, up to a decoded-size limit.

    ``decode`` and ``flush`` are generators: pull every piece (``for piece in
    decoder.decode(data)``) before feeding the next data. A piece not pulled yet
    is not lost: the input it comes from stays in the decoder, and the next call
    yields it first.

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

    def decode(self, data: bytes) -> Iterator[bytes]:
        """Decode one piece of the body, yielding pieces of at most ``PIECE_SIZE``.

        Raises:
            RemoteProtocolError: the data is not valid for its coding (named).
            ResponseTooLargeError: the decoded body exceeds the limit.
        """
        if data:
            first = self._stages[0]
            try:
                first.feed(data)
            except Exception as exc:
                raise RemoteProtocolError(f"invalid {first.name} data: {exc}") from exc
        return self._drain()

    def flush(self) -> Iterator[bytes]:
        """Yield the decoded bytes still held at the end of the body, in pieces.

        Raises:
            RemoteProtocolError: a stream ends before its end marker (truncated),
                or its data is invalid.
            ResponseTooLargeError: the decoded body exceeds the limit.
        """
        # Each stage in turn learns that no more input comes, once everything
        # before it has been pushed through the whole chain.
        for stage in self._stages:
            self._call(stage, stage.end)
            yield from self._drain()
            self._call(stage, stage.check)

    def _drain(self) -> Iterator[bytes]:
        last = len(self._stages) - 1
        while True:
            # At most one byte over what the limit still allows: getting it
            # proves the limit exceeded, with no more decoded than needed.
            room = self._limit - self._total + 1
            piece = self._pull(last, min(PIECE_SIZE, room))
            if not piece:
                return
            self._total += len(piece)
            if self._total > self._limit:
                raise ResponseTooLargeError(
                    decoded_too_long(self._limit),
                    option="max_body_size",
                    limit=self._limit,
                )
            yield piece

    def _pull(self, index: int, max_length: int) -> bytes:
        # The next output of stage ``index``, feeding it from the stage before as
        # needed; b"" once the input given to the first stage is used up.
        stage = self._stages[index]
        while True:
            out: bytes = self._call(stage, stage.read, max_length)
            if out or index == 0:
                return out
            data = self._pull(index - 1, PIECE_SIZE)
            if not data:
                return b""
            self._call(stage, stage.feed, data)

    @staticmethod
    def _call(stage: _Stage, method: Any, *args: Any) -> Any:
        try:
            return method(*args)
        except Exception as exc:
            raise RemoteProtocolError(f"invalid {stage.name} data: {exc}") from exc


def make_decoder(content_encoding: str, limit: int) -> Decoder | None:
    """Build the decoder for a Content-Encoding value, or None to pass the body through.

    Args:
        content_encoding: the header value, e.g. ``"gzip"`` or ``"deflate, br"``.
        limit: the most decoded bytes accepted.

    Returns:
        None for identity, when any listed coding is unknown, or when more than
        five are listed (the body is then delivered as received, with its
        Content-Encoding header kept).
    """
    names = [name.strip().lower() for name in content_encoding.split(",")]
    names = [name for name in names if name and name != "identity"]
    if not names or len(names) > _MAX_CODINGS or any(name not in _STAGES for name in names):
        return None
    return Decoder(names, limit)

"""Content-Encoding decoders for the curl engine's decompress_response.

libcurl can decode gzip, deflate and br itself, but a libcurl built without
zstd fails the whole transfer on a zstd body (CURLE_BAD_CONTENT_ENCODING).
To offer the same encodings as the simple engine (gzip and deflate always, br
and zstd when the brotli/zstandard modules import), the engine turns
libcurl's decoding off and decodes here, in C-backed streaming decoders: the
cost per chunk is one method call.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

__all__ = ["ACCEPT_ENCODING", "make_decoder"]

Decoder = Callable[[bytes], bytes]


def _zlib(wbits: int) -> Callable[[], Decoder]:
    def make() -> Decoder:
        return zlib.decompressobj(wbits).decompress

    return make


def _deflate() -> Decoder:
    # "deflate" is meant to be zlib-wrapped (RFC 9110 section 8.4.1.2), but
    # some servers send a raw deflate stream: decide on the first byte.
    state: dict[str, Any] = {}

    def decode(data: bytes) -> bytes:
        obj = state.get("obj")
        if obj is None:
            zlib_wrapped = len(data) > 0 and data[0] & 0x0F == 8
            obj = state["obj"] = zlib.decompressobj(15 if zlib_wrapped else -15)
        return bytes(obj.decompress(data))

    return decode


_FACTORIES: dict[str, Callable[[], Decoder]] = {
    "gzip": _zlib(31),
    "x-gzip": _zlib(31),
    "deflate": _deflate,
}
try:
    import brotli

    def _brotli() -> Decoder:
        return brotli.Decompressor().process  # type: ignore[no-any-return]

    _FACTORIES["br"] = _brotli
except ImportError:  # pragma: no cover - depends on the installed extras
    pass
try:
    import zstandard

    def _zstd() -> Decoder:
        return zstandard.ZstdDecompressor().decompressobj().decompress

    _FACTORIES["zstd"] = _zstd
except ImportError:  # pragma: no cover - depends on the installed extras
    pass

ACCEPT_ENCODING = ", ".join(name for name in _FACTORIES if name != "x-gzip")


def make_decoder(content_encoding: str) -> Decoder | None:
    """A function decoding successive body chunks, or None for identity.

    Raises:
        ValueError: an encoding we cannot decode.
    """
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    try:
        # Encodings are listed in the order they were applied: undo in reverse.
        steps = [_FACTORIES[c]() for c in reversed(codings)]
    except KeyError as exc:
        raise ValueError(f"unsupported Content-Encoding {exc.args[0]!r}") from None
    if len(steps) == 1:
        return steps[0]

    def chain(data: bytes) -> bytes:
        for step in steps:
            data = step(data)
        return data

    return chain

"""Streaming content decoders (decompress_response)."""

from __future__ import annotations

import tracemalloc

import pytest

from squall._decoding import ACCEPT_ENCODING, SUPPORTED, Decoder, make_decoder
from squall._errors import RemoteProtocolError, ResponseTooLargeError
from tests.servers.helpers import compress

PLAIN = b"squall " * 5000


def decode_in_pieces(decoder: Decoder, data: bytes, size: int = 97) -> bytes:
    out = [decoder.decode(data[i : i + size]) for i in range(0, len(data), size)]
    out.append(decoder.flush())
    return b"".join(out)


def test_accept_encoding_lists_what_is_importable() -> None:
    assert SUPPORTED[:2] == ("gzip", "deflate")
    assert ", ".join(SUPPORTED) == ACCEPT_ENCODING
    # CI installs the speedups extra, so both are expected here.
    assert "br" in SUPPORTED and "zstd" in SUPPORTED


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate", "br", "zstd"])
def test_round_trip_in_small_pieces(coding: str) -> None:
    header = "deflate" if coding == "raw-deflate" else coding
    decoder = make_decoder(header, 10**9)
    assert decoder is not None
    assert decode_in_pieces(decoder, compress(coding, PLAIN)) == PLAIN


def test_chain_is_undone_in_reverse_order() -> None:
    data = compress("br", compress("gzip", PLAIN))
    decoder = make_decoder("gzip, br", 10**9)
    assert decoder is not None
    assert decode_in_pieces(decoder, data) == PLAIN


@pytest.mark.parametrize("header", ["", "identity", "compress", "gzip, compress"])
def test_identity_and_unknown_codings_pass_through(header: str) -> None:
    assert make_decoder(header, 100) is None


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_limit_counts_decoded_bytes(coding: str) -> None:
    decoder = make_decoder(coding, len(PLAIN) - 1)
    assert decoder is not None
    with pytest.raises(ResponseTooLargeError, match="Decompressed body"):
        decode_in_pieces(decoder, compress(coding, PLAIN), size=len(PLAIN))


def test_limit_exactly_reached_is_fine() -> None:
    decoder = make_decoder("gzip", len(PLAIN))
    assert decoder is not None
    assert decode_in_pieces(decoder, compress("gzip", PLAIN)) == PLAIN


@pytest.mark.parametrize("coding", SUPPORTED)
def test_bomb_is_refused_without_expanding(coding: str) -> None:
    bomb = compress(coding, b"\0" * 200_000_000)  # 200 MB in at most ~200 KB on the wire
    decoder = make_decoder(coding, 1_000_000)
    assert decoder is not None
    tracemalloc.start()
    try:
        with pytest.raises(ResponseTooLargeError):
            decoder.decode(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000, f"{coding}: {peak} bytes allocated to refuse a 1 MB limit"


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_bad_data_names_the_coding(coding: str) -> None:
    decoder = make_decoder(coding, 10**6)
    assert decoder is not None
    with pytest.raises(RemoteProtocolError, match=f"invalid {coding} data"):
        decode_in_pieces(decoder, b"this is not compressed at all" * 3)


@pytest.mark.parametrize("coding", [*SUPPORTED, "raw-deflate"])
def test_truncated_stream_is_an_error_at_the_end(coding: str) -> None:
    encoded = compress(coding, PLAIN)
    name = "deflate" if coding == "raw-deflate" else coding
    whole = make_decoder(name, 10**9)
    assert whole is not None and decode_in_pieces(whole, encoded) == PLAIN
    for cut in (1, 8, len(encoded) // 2):
        decoder = make_decoder(name, 10**9)
        assert decoder is not None
        with pytest.raises(RemoteProtocolError, match=f"invalid {name} data: .*truncated"):
            decode_in_pieces(decoder, encoded[:-cut])


@pytest.mark.parametrize("coding", SUPPORTED)
def test_empty_body_is_not_truncated(coding: str) -> None:
    # e.g. a 204 or Content-Length: 0 that still names its Content-Encoding
    decoder = make_decoder(coding, 100)
    assert decoder is not None and decoder.flush() == b""

"""Streaming content decoders (decompress_response)."""

from __future__ import annotations

import tracemalloc

import pytest

from squall._decoding import ACCEPT_ENCODING, PIECE_SIZE, SUPPORTED, Decoder, make_decoder
from squall._errors import RemoteProtocolError, ResponseTooLargeError
from tests.servers.helpers import compress

PLAIN = b"squall " * 5000


def decode_in_pieces(decoder: Decoder, data: bytes, size: int = 97) -> bytes:
    out = [piece for i in range(0, len(data), size) for piece in decoder.decode(data[i : i + size])]
    out.extend(decoder.flush())
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


def test_five_codings_are_still_decoded() -> None:
    data = PLAIN
    for _ in range(5):
        data = compress("gzip", data)
    decoder = make_decoder(", ".join(["gzip"] * 5), 10**9)
    assert decoder is not None
    assert decode_in_pieces(decoder, data) == PLAIN


def test_chain_is_undone_in_reverse_order() -> None:
    data = compress("br", compress("gzip", PLAIN))
    decoder = make_decoder("gzip, br", 10**9)
    assert decoder is not None
    assert decode_in_pieces(decoder, data) == PLAIN


@pytest.mark.parametrize(
    "header", ["", "identity", "compress", "gzip, compress", ", ".join(["gzip"] * 6)]
)
def test_identity_and_unknown_codings_pass_through(header: str) -> None:
    assert make_decoder(header, 100) is None


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_limit_counts_decoded_bytes(coding: str) -> None:
    decoder = make_decoder(coding, len(PLAIN) - 1)
    assert decoder is not None
    with pytest.raises(ResponseTooLargeError, match="decompressed body"):
        decode_in_pieces(decoder, compress(coding, PLAIN), size=len(PLAIN))


def test_limit_exactly_reached_is_fine() -> None:
    decoder = make_decoder("gzip", len(PLAIN))
    assert decoder is not None
    assert decode_in_pieces(decoder, compress("gzip", PLAIN)) == PLAIN


@pytest.mark.parametrize("coding", SUPPORTED)
def test_bomb_is_refused_without_expanding(coding: str) -> None:
    bomb = compress(coding, b"\0" * 200_000_000)  # 200 MB in at most ~200 KB on the wire
    peak = _peak_to_refuse(coding, bomb)
    assert peak < 20_000_000, f"{coding}: {peak} bytes allocated to refuse a 1 MB limit"


def _peak_to_refuse(coding: str, bomb: bytes) -> int:
    """The most memory allocated while a 1 MB limit refuses ``bomb`` (in one piece)."""
    decoder = make_decoder(coding, 1_000_000)
    assert decoder is not None
    tracemalloc.start()
    try:
        with pytest.raises(ResponseTooLargeError):
            for _ in decoder.decode(bomb):
                pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


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
    assert decoder is not None and list(decoder.flush()) == []


def _gzip(name: str) -> Decoder:
    decoder = make_decoder(name, 10**9)
    assert decoder is not None
    return decoder


MEMBERS = compress("gzip", b"first member\n") + compress("gzip", PLAIN) + compress("gzip", b"")


@pytest.mark.parametrize("size", [1, 2, 7, 97, len(MEMBERS)])
def test_every_gzip_member_is_decoded(size: int) -> None:
    # `cat a.gz b.gz` is one valid gzip body (RFC 1952 section 2.2).
    for name in ("gzip", "x-gzip"):
        assert decode_in_pieces(_gzip(name), MEMBERS, size) == b"first member\n" + PLAIN


@pytest.mark.parametrize("trailer", [b"\0", b"\0" * 512, b"trailing junk", b"\x1f\x00junk"])
@pytest.mark.parametrize("size", [1, 97, 10**6])
def test_bytes_after_the_last_gzip_member_are_ignored(trailer: bytes, size: int) -> None:
    assert decode_in_pieces(_gzip("gzip"), MEMBERS + trailer, size) == b"first member\n" + PLAIN


@pytest.mark.parametrize("cut", [1, 9, 30])
def test_a_later_gzip_member_cut_short_is_truncated(cut: int) -> None:
    data = compress("gzip", b"first member\n") + compress("gzip", PLAIN)[:-cut]
    with pytest.raises(RemoteProtocolError, match=r"invalid gzip data: .*truncated"):
        decode_in_pieces(_gzip("gzip"), data)


def test_a_corrupt_later_gzip_member_is_an_error() -> None:
    second = bytearray(compress("gzip", PLAIN))
    second[20:40] = b"\xff" * 20  # inside the deflate data, past the member's header
    with pytest.raises(RemoteProtocolError, match="invalid gzip data"):
        decode_in_pieces(_gzip("gzip"), compress("gzip", b"first") + bytes(second))


@pytest.mark.parametrize("size", [1, 97, 10**6])
def test_limit_counts_every_gzip_member(size: int) -> None:
    total = len(b"first member\n" + PLAIN)
    exact = make_decoder("gzip", total)
    assert exact is not None and len(decode_in_pieces(exact, MEMBERS, size)) == total
    decoder = make_decoder("gzip", total - 1)
    assert decoder is not None
    with pytest.raises(ResponseTooLargeError):
        decode_in_pieces(decoder, MEMBERS, size)


def test_many_gzip_members_in_one_piece_stay_bounded() -> None:
    bomb = compress("gzip", b"\0" * 10_000_000) * 20  # 200 MB in 20 members
    assert _peak_to_refuse("gzip", bomb) < 20_000_000


FRAMES = compress("zstd", b"first frame\n") + compress("zstd", PLAIN)


@pytest.mark.parametrize("size", [1, 5, 97, len(FRAMES)])
def test_every_zstd_frame_is_decoded(size: int) -> None:
    decoder = make_decoder("zstd", 10**9)
    assert decoder is not None
    assert decode_in_pieces(decoder, FRAMES, size) == b"first frame\n" + PLAIN


@pytest.mark.parametrize("size", [1, 97, 10**6])
def test_bytes_after_the_last_zstd_frame_are_an_error(size: int) -> None:
    decoder = make_decoder("zstd", 10**9)
    assert decoder is not None
    with pytest.raises(RemoteProtocolError, match="invalid zstd data"):
        decode_in_pieces(decoder, FRAMES + b"trailing junk", size)


@pytest.mark.parametrize("size", [1, 97, 10**6])
def test_a_later_zstd_frame_cut_short_is_truncated(size: int) -> None:
    decoder = make_decoder("zstd", 10**9)
    assert decoder is not None
    with pytest.raises(RemoteProtocolError, match=r"invalid zstd data: .*truncated"):
        decode_in_pieces(decoder, FRAMES[:-5], size)


@pytest.mark.parametrize("coding", SUPPORTED)
def test_pieces_are_bounded_whatever_the_ratio(coding: str) -> None:
    bomb = compress(coding, b"\0" * 50_000_000)
    decoder = make_decoder(coding, 10**9)
    assert decoder is not None
    sizes = [len(piece) for piece in decoder.decode(bomb)]
    sizes += [len(piece) for piece in decoder.flush()]
    assert sum(sizes) == 50_000_000
    assert max(sizes) <= 2 * PIECE_SIZE  # brotli stops growing its buffer once past it


def test_a_piece_not_pulled_yet_is_not_lost() -> None:
    data = compress("gzip", PLAIN * 20)
    decoder = make_decoder("gzip", 10**9)
    assert decoder is not None
    first = next(decoder.decode(data))  # the caller stops after one piece
    rest = b"".join(decoder.decode(b"")) + b"".join(decoder.flush())
    assert first + rest == PLAIN * 20


def test_zstd_window_over_8_mib_is_refused() -> None:
    # RFC 9659 section 3: a decoder may refuse what needs a window over 8 MB.
    import zstandard

    params = zstandard.ZstdCompressionParameters.from_level(19, window_log=24)
    stream = zstandard.ZstdCompressor(compression_params=params).compressobj()
    body = stream.compress(b"x" * 1000) + stream.flush()  # size unknown: the window stays
    assert zstandard.get_frame_parameters(body).window_size == 16 * 1024 * 1024
    decoder = make_decoder("zstd", 10**9)
    assert decoder is not None
    with pytest.raises(RemoteProtocolError, match="invalid zstd data"):
        decode_in_pieces(decoder, body)

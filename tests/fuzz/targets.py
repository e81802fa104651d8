"""Fuzz targets: everything squall parses that a server sends.

Each target is a plain function of one ``bytes`` input, with no dependency on
atheris, so that a crash found by the fuzzer replays as a regular test
(``test_found.py``) and the committed corpus replays everywhere
(``test_fuzz.py``). A target fails (raises anything) only when squall breaks
its contract:

* an exception that is not one of squall's documented errors for that input
  escapes (the protocol and the decoders: ``RemoteProtocolError`` and its
  subclasses; URLs and header lines: ``ValueError``);
* an invariant does not hold: the event stream is out of order, the result
  depends on how the bytes were split across reads, a decoded body passes its
  limit, a followed Location is not a valid URL, a header_callback line does
  not parse back to the same field;
* memory per input is bounded: outputs are checked against the input's size
  or the configured limit here, and libFuzzer's ``-rss_limit_mb`` (set by
  ``run.py``) catches anything that grows past that.

The first bytes of an input are control bytes (flags, a read size); the rest
is what the server sent. Targets are registered in ``TARGETS``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import brotli
import zstandard

from squall._decoding import Decoder, make_decoder
from squall._errors import HTTPStreamClosedError, RemoteProtocolError, ResponseTooLargeError
from squall._framing import FIELD_BLOCK, STATUS_LINE, content_length
from squall._headers import HTTPHeaders
from squall._http1.protocol import (
    END_OF_MESSAGE,
    ClientProtocol,
    Event,
    InformationalResponse,
    Response,
)
from squall._redirects import next_request, redirect_target, will_follow
from squall._request import DEFAULTS, HTTPRequest
from squall._urls import parse_url

__all__ = ["TARGETS", "Target"]

Target = Callable[[bytes], None]
HOST = [("Host", "fuzz.test")]


def _pieces(data: bytes, size: int) -> list[bytes]:
    """``data`` as reads of ``size`` bytes (0: one read)."""
    if size == 0 or len(data) <= size:
        return [data]
    return [data[i : i + size] for i in range(0, len(data), size)]


# -- the HTTP/1 response protocol --------------------------------------------------


def _summary(events: list[Event]) -> list[object]:
    """Events in a comparable form, adjacent body pieces joined."""
    out: list[object] = []
    for event in events:
        if isinstance(event, bytes):
            if out and isinstance(out[-1], bytes):
                out[-1] += event
            elif event:
                out.append(event)
        elif isinstance(event, Response):
            kind = "1xx" if isinstance(event, InformationalResponse) else "final"
            fields = list(event.headers.get_all())
            out.append((kind, event.status_code, event.reason, event.http_version, fields))
        else:
            out.append(event)
    return out


def _exchange(protocol: ClientProtocol, method: str, reads: list[bytes]) -> tuple[object, ...]:
    """One request's response fed as ``reads`` then EOF: its summary, or its error class."""
    protocol.start_request(method, "/", HOST)
    events: list[Event] = []
    try:
        for read in reads:
            events += protocol.receive_data(read)
        complete = END_OF_MESSAGE in events
        if not complete:
            events += protocol.receive_eof()
    except HTTPStreamClosedError as exc:  # RemoteProtocolError, ResponseTooLargeError
        return (type(exc).__name__,)
    _check_order(events, sum(map(len, reads)))
    return ("ok", _summary(events), protocol.keep_alive, complete)


def _check_order(events: list[Event], received: int) -> None:
    """1xx heads, one final head, body pieces, END_OF_MESSAGE last; body <= input."""
    kinds = [
        "1" if isinstance(e, InformationalResponse) else "R" if isinstance(e, Response) else e
        for e in events
    ]
    assert kinds.count("R") == 1, f"not one final response: {events!r}"
    start = kinds.index("R")
    assert all(k == "1" for k in kinds[:start]), f"events before the head: {events!r}"
    assert kinds[-1] is END_OF_MESSAGE and kinds.count(END_OF_MESSAGE) == 1, events
    body = events[start + 1 : -1]
    assert all(isinstance(piece, bytes) for piece in body), f"not body bytes: {events!r}"
    assert sum(len(piece) for piece in body if isinstance(piece, bytes)) <= received
    for event in events:
        if isinstance(event, Response):
            _check_header_lines(event)


def _check_header_lines(response: Response) -> None:
    """What header_callback gets parses back, with parse_line, to the same fields."""
    lines = response.header_lines()
    assert lines[0].startswith(f"HTTP/{response.http_version} {response.status_code}")
    assert lines[-1] == "\r\n"
    parsed = HTTPHeaders()
    for line in lines[1:-1]:
        parsed.parse_line(line)
    assert list(parsed.get_all()) == list(response.headers.get_all()), lines


def _same(whole: tuple[object, ...], split: tuple[object, ...]) -> bool:
    # keep_alive (index 2) may be False after reads where it is True after one read:
    # llhttp skips empty lines after a message in the read that ends it, while any
    # byte in a later read poisons the connection. Stricter, so never the reverse.
    if whole[0] == split[0] == "ok" and whole[2] and not split[2]:
        return whole[:2] + whole[3:] == split[:2] + split[3:]
    return whole == split


def http1_response(data: bytes) -> None:
    """``ClientProtocol`` on a response: status line, fields, folds, chunked, until-close.

    Control: byte 0 bit 0 HEAD, bit 1 a 64-byte head limit, bit 2 a second
    exchange on the same connection; byte 1 the read size (0: one read).
    Fed in one read and in reads of the given size, the outcome must be the
    same (but for the head limit, which is allowed to err by one read).
    """
    if len(data) < 2:
        return
    flags, size, payload = data[0], data[1], data[2:]
    method = "HEAD" if flags & 1 else "GET"
    limited = bool(flags & 2)
    max_header = 64 if limited else 65536
    rounds = 2 if flags & 4 else 1
    whole, split = ClientProtocol(max_header), ClientProtocol(max_header)
    for _ in range(rounds):
        a = _exchange(whole, method, [payload])
        b = _exchange(split, method, _pieces(payload, size))
        if not limited:
            assert _same(a, b), f"the outcome depends on the reads:\n{a!r}\n{b!r}"
        if a[0] != "ok" or not whole.keep_alive or not split.keep_alive:
            return


# -- content decoders --------------------------------------------------------------

_CODINGS = ("gzip", "deflate", "br", "zstd")
_LIMITS = (0, 100, 4096, 1 << 20)


def _encode(coding: str, data: bytes, variant: int) -> bytes:
    if coding == "gzip":
        if variant and len(data) > 1:  # two members, as `cat a.gz b.gz`
            half = len(data) // 2
            return _gzip(data[:half]) + _gzip(data[half:])
        return _gzip(data)
    if coding == "deflate":
        obj = zlib.compressobj(wbits=-zlib.MAX_WBITS if variant else zlib.MAX_WBITS)
        return obj.compress(data) + obj.flush()
    if coding == "br":
        return bytes(brotli.compress(data))
    return bytes(zstandard.ZstdCompressor().compress(data))


def _gzip(data: bytes) -> bytes:
    obj = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    return obj.compress(data) + obj.flush()


def _decode(decoder: Decoder, reads: list[bytes], limit: int) -> bytes:
    # The decoders give bounded pieces (an iterator per call).
    out = b"".join(piece for read in reads for piece in decoder.decode(read))
    out += b"".join(decoder.flush())
    assert len(out) <= limit, f"{len(out)} bytes decoded past the limit of {limit}"
    return out


def decoders(data: bytes) -> None:
    """``make_decoder`` chains of gzip/deflate/br/zstd on a body, under a limit.

    Control: byte 0 bits 0-1 the chain's length - 1, bits 2-3 the limit, bit 4
    round trip (the payload is encoded by the chain first and must come back),
    bit 5 the encoding variant (two gzip members, raw deflate), bit 6 the
    names in upper case; byte 1 the codings (two bits each); byte 2 the read size.
    """
    if len(data) < 3:
        return
    flags, picks, size, payload = data[0], data[1], data[2], data[3:]
    names = [_CODINGS[(picks >> (2 * i)) & 3] for i in range((flags & 3) + 1)]
    limit = _LIMITS[(flags >> 2) & 3]
    header = ", ".join(name.upper() if flags & 64 else name for name in names)
    decoder = make_decoder(header, limit)
    assert decoder is not None, header
    body = payload
    if flags & 16:
        for name in names:
            body = _encode(name, body, flags & 32)
    try:
        out = _decode(decoder, _pieces(body, size), limit)
    except ResponseTooLargeError:
        assert not flags & 16 or len(payload) > limit, "a body within the limit was refused"
        return
    except RemoteProtocolError:
        assert not flags & 16, f"a valid {header} body was refused"
        return
    if flags & 16:
        assert out == payload, f"{header}: the body did not come back"


# -- Location and URLs -------------------------------------------------------------

_BASES = (
    "http://a.test/x/y?q=1",
    "https://user:pw@b.test:8443/p",
    "http://[::1]:8080/",
    "http://127.0.0.1/a/b/c",
)


def location(data: bytes) -> None:
    """``redirect_target``/``next_request`` on a Location value from a server.

    Control: byte 0 the base URL (bits 0-1), bit 2 the value as a caller's str
    (UTF-8 with lone surrogates) instead of the wire's latin-1. A Location is
    followed only to a valid http(s) URL; one with another scheme is Tornado's
    ``ValueError("Unsupported url scheme: ...")``, and nothing else is raised.
    """
    if not data:
        return
    flags, raw = data[0], data[1:]
    value = raw.decode("utf-8", "surrogateescape") if flags & 4 else raw.decode("latin-1")
    request = HTTPRequest(_BASES[flags & 3]).resolved(DEFAULTS)
    headers = HTTPHeaders()
    headers["Location"] = value
    try:
        target = redirect_target(request, headers)
    except ValueError as exc:
        assert str(exc).startswith("Unsupported url scheme"), exc
        return
    if target is None:
        assert not will_follow(request, 302, headers)
        return
    assert will_follow(request, 302, headers)
    try:
        parsed = parse_url(target)  # a followed Location is a valid URL...
    except ValueError as exc:  # ...or one of another scheme, which fails the fetch
        assert not target.lower().startswith(("http://", "https://")), exc
        return
    new = next_request(request, 302, headers)
    assert (new.scheme, new.host, new.port) == (parsed.scheme, parsed.host, parsed.port)
    if (new.scheme, new.host, new.port) != (request.scheme, request.host, request.port):
        # Credentials stay with their origin.
        assert parse_url(new.url).username is None and new.auth_username is None, new.url
        assert "Authorization" not in new.headers


def url(data: bytes) -> None:
    """``parse_url`` on any text: a ValueError, or parts fit for a request line."""
    text = data.decode("utf-8", "surrogateescape")
    try:
        parsed = parse_url(text)
    except ValueError:
        return
    assert parsed.scheme in ("http", "https"), parsed
    assert parsed.host and 0 < parsed.port < 65536, parsed
    for part in (parsed.host, parsed.netloc, parsed.target):
        assert part.isascii() and part.isprintable() and " " not in part, parsed
    assert "@" not in parsed.netloc, parsed


# -- header lines ------------------------------------------------------------------


def header_lines(data: bytes) -> None:
    """``HTTPHeaders.parse`` (and so ``parse_line``) on a header block.

    A ValueError, or headers whose text form parses back to themselves.
    """
    text = data.decode("latin-1")
    try:
        headers = HTTPHeaders.parse(text)
    except ValueError:
        return
    again = HTTPHeaders.parse(str(headers))
    assert list(again.get_all()) == list(headers.get_all()), (text, str(headers))


# -- the response rules the curl engine applies --------------------------------------


def framing(data: bytes) -> None:
    """``squall._framing``: the status line and field patterns, and Content-Length.

    The patterns must not raise (nor take long: libFuzzer's ``-timeout``), and
    ``content_length`` raises only RemoteProtocolError.
    """
    STATUS_LINE.match(data)
    FIELD_BLOCK.fullmatch(data)
    values = data.decode("latin-1").split(",")
    try:
        length = content_length([value.strip() for value in values])
    except RemoteProtocolError:
        return
    assert 0 <= length < 2**64


# curl_head: the curl engine's response-head reader (status line, fields, 1xx, the
# checks of _framing) is being split out of squall/_curl/transfer.py into a sans-I/O
# module by the lead. Its target belongs here, registered below as "curl_head", with a
# seed directory corpus/curl_head/ (the http1_response seeds fit, as header lines).

TARGETS: dict[str, Target] = {
    "http1_response": http1_response,
    "decoders": decoders,
    "location": location,
    "url": url,
    "header_lines": header_lines,
    "framing": framing,
}

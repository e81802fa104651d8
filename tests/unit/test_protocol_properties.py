"""Property-based tests of the sans-IO HTTP/1.1 client protocol (hypothesis).

Responses are generated together with what a correct parser must report for
them (a model), then fed in random splits: one piece, single bytes, or random
cuts. Hostile input (random bytes, mutated responses) must only ever raise
RemoteProtocolError (HTTPStreamClosedError when the close cuts it short) and
must keep the event stream well formed.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import httptools
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from squall._errors import HTTPStreamClosedError, RemoteProtocolError, ResponseTooLargeError
from squall._http1.protocol import ClientProtocol, Event, InformationalResponse, Response
from tests.unit.splits import bytewise, split

HOST = [("Host", "example.com")]
PROPS = settings(
    max_examples=60,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TCHAR = "!#$%&'*+-.^_`|~" + string.digits + string.ascii_letters
VCHAR = "".join(map(chr, range(0x21, 0x7F))) + "".join(map(chr, range(0x80, 0x100)))
# Names llhttp interprets itself; generated fields must not change the framing.
FRAMING = {"content-length", "transfer-encoding", "connection", "upgrade", "proxy-connection"}

names = st.text(TCHAR, min_size=1, max_size=10).filter(lambda n: n.lower() not in FRAMING)
values = st.text(VCHAR + " \t", max_size=20).map(lambda v: v.strip(" \t"))


@dataclass
class Spec:
    """A generated response and what the protocol must report for it."""

    raw: bytes
    heads: list[int]  # length of each head (1xx ones first), for the size limit
    fields: list[tuple[bytes, bytes]]  # of the final response
    want: list[object]  # the events' summary()
    until_close: bool
    keep_alive: bool


def latin1(pairs: list[tuple[str, str]]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((n.encode("latin-1"), v.encode("latin-1")) for n, v in pairs)


def field_line(name: str, value: str, ows: str = " ") -> bytes:
    return f"{name}:{ows}{value}\r\n".encode("latin-1")


@st.composite
def fields(draw: st.DrawFn, max_size: int = 5) -> list[tuple[str, str]]:
    pool = draw(st.lists(names, min_size=1, max_size=3))  # few names: repeats are common
    return draw(st.lists(st.tuples(st.sampled_from(pool), values), max_size=max_size))


@st.composite
def chunk_extension(draw: st.DrawFn) -> str:
    out = ""
    for name in draw(st.lists(st.text(TCHAR, min_size=1, max_size=5), max_size=2)):
        quoted = st.text(VCHAR.replace('"', "").replace("\\", "") + " ", max_size=6)
        value = draw(st.none() | st.text(TCHAR, min_size=1, max_size=5) | quoted.map('"{}"'.format))
        out += f";{name}" if value is None else f";{name}={value}"
    return out


@st.composite
def chunked(draw: st.DrawFn, body: bytes) -> bytes:
    out, pos = [], 0
    while pos < len(body):
        size = draw(st.integers(1, len(body) - pos))
        digits = draw(st.sampled_from(["%x", "%X", "%04x"])) % size
        line = f"{digits}{draw(chunk_extension())}\r\n".encode("latin-1")
        out.append(line + body[pos : pos + size])
        out.append(b"\r\n")
        pos += size
    trailers = b"".join(field_line(n, v) for n, v in draw(fields(max_size=2)))
    last = f"0{draw(chunk_extension())}\r\n".encode("latin-1")
    return b"".join(out) + last + trailers + b"\r\n"


@st.composite
def responses(
    draw: st.DrawFn,
    head_request: bool = False,
    framings: tuple[str, ...] = ("length", "chunked", "close", "empty"),
    informational: bool = True,
) -> Spec:
    framing = draw(st.sampled_from(framings))
    version = "1.1" if framing == "chunked" else draw(st.sampled_from(["1.1", "1.0"]))
    with_body = st.integers(200, 599).filter(lambda code: code not in (204, 304))
    status = draw(st.sampled_from([204, 304]) if framing == "empty" else with_body)
    reason = draw(st.text(VCHAR + " \t", max_size=15)).strip(" \t")
    extra = draw(fields())
    connection = draw(st.sampled_from([None, "close", "keep-alive"]))
    if connection is not None:
        extra.insert(draw(st.integers(0, len(extra))), ("Connection", connection))
    body = b"" if framing == "empty" or head_request else draw(st.binary(max_size=200))
    if framing == "length":
        length = draw(st.integers(0, 99)) if head_request else len(body)
        extra.insert(draw(st.integers(0, len(extra))), ("Content-Length", str(length)))
    elif framing == "chunked":
        extra.insert(draw(st.integers(0, len(extra))), ("Transfer-Encoding", "chunked"))
    pieces: list[bytes] = []
    want: list[object] = []
    codes = draw(st.lists(st.sampled_from([100, 102, 103]), max_size=2)) if informational else []
    for code in codes:
        pairs = draw(fields(max_size=2))
        pieces.append(
            b"HTTP/1.1 %d Info\r\n%b\r\n" % (code, b"".join(field_line(*p) for p in pairs))
        )
        want.append(("InformationalResponse", code, "Info", "1.1", latin1(pairs)))
    head = f"HTTP/{version} {status} {reason}\r\n".encode("latin-1")
    head += b"".join(field_line(n, v, draw(st.sampled_from(["", " ", "\t "]))) for n, v in extra)
    pieces.append(head + b"\r\n")
    framed = draw(chunked(body)) if framing == "chunked" and not head_request else body
    until_close = framing == "close" and not head_request
    if version == "1.1":
        keep_alive = connection != "close" and not until_close
    else:
        keep_alive = connection == "keep-alive" and not until_close
    want.append(("Response", status, reason, version, latin1(extra)))
    want += [body, "END"] if body else ["END"]
    heads = [len(piece) for piece in pieces]
    return Spec(
        b"".join(pieces) + framed, heads, list(latin1(extra)), want, until_close, keep_alive
    )


def started(method: str = "GET", max_header_size: int = 65536) -> ClientProtocol:
    proto = ClientProtocol(max_header_size)
    proto.start_request(method, "/", HOST)
    return proto


def feed(proto: ClientProtocol, pieces: list[bytes], eof: bool = False) -> list[Event]:
    events: list[Event] = []
    for piece in pieces:
        events.extend(proto.receive_data(piece))
    if eof:
        events.extend(proto.receive_eof())
    return events


def summary(events: list[Event]) -> list[object]:
    """Events with body pieces merged: what must not depend on how bytes were cut."""
    out: list[object] = []
    for event in events:
        if isinstance(event, bytes):
            if out and isinstance(out[-1], bytes):
                out[-1] += event
            elif event:
                out.append(event)
        elif isinstance(event, Response):
            fields = tuple(event.raw_headers)
            code, reason, version = event.status_code, event.reason, event.http_version
            out.append((type(event).__name__, code, reason, version, fields))
        else:
            out.append("END")
    return out


def check_stream(events: list[Event], method: str = "GET") -> None:
    """1xx* Response body* END, nothing after END, and a body within its length."""
    state, final, body = "head", None, 0
    for event in events:
        assert state != "end", "event after END_OF_MESSAGE"
        if isinstance(event, InformationalResponse):
            assert state == "head", "1xx after the final response head"
        elif isinstance(event, Response):
            assert state == "head", "second response head"
            state, final = "body", event
        elif isinstance(event, bytes):
            assert state == "body", "body outside a response"
            body += len(event)
        else:
            assert state == "body", "END_OF_MESSAGE before a response head"
            state = "end"
    if final is None:
        return
    lengths = [v for n, v in final.raw_headers if n.lower() == b"content-length"]
    if method == "HEAD" or final.status_code in (204, 304):
        assert body == 0
    elif len(lengths) == 1 and lengths[0].strip().isdigit():
        assert body <= int(lengths[0])


# -- 1. split invariance and connection reuse --------------------------------------


# Parametrized rather than drawn so that every framing is covered on every run.
@pytest.mark.parametrize("framing", ["length", "chunked", "close", "empty"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
@settings(PROPS, max_examples=20)
@given(data=st.data())
def test_any_split_gives_the_model_result(data: st.DataObject, method: str, framing: str) -> None:
    spec = data.draw(responses(head_request=method == "HEAD", framings=(framing,)))
    for pieces in ([spec.raw], bytewise(spec.raw), data.draw(split(spec.raw, whole=False))):
        proto = started(method)
        events = feed(proto, pieces, eof=spec.until_close)
        assert summary(events) == spec.want
        check_stream(events, method)
        assert proto.keep_alive is spec.keep_alive
    final = next(e for e in events if type(e) is Response)
    for name, value in spec.fields:
        assert value.decode("latin-1") in final.headers.get_list(name.decode("latin-1"))


@PROPS
@given(data=st.data(), count=st.integers(2, 4))
def test_keep_alive_connection_carries_successive_exchanges(
    data: st.DataObject, count: int
) -> None:
    proto = ClientProtocol()
    for _ in range(count):
        method = data.draw(st.sampled_from(["GET", "HEAD", "POST"]))
        proto.start_request(method, "/", HOST)
        spec = data.draw(responses(head_request=method == "HEAD"))
        events = feed(proto, data.draw(split(spec.raw)), eof=spec.until_close)
        assert summary(events) == spec.want
        assert proto.keep_alive is spec.keep_alive
        if not spec.keep_alive:
            break


@PROPS
@given(data=st.data())
def test_unrequested_second_response_poisons_but_keeps_the_first(data: st.DataObject) -> None:
    first = data.draw(responses(framings=("length", "chunked", "empty")))
    second = data.draw(responses())
    proto = started()
    events = feed(proto, data.draw(split(first.raw + second.raw)))
    assert summary(events) == first.want
    assert not proto.keep_alive
    assert proto.receive_eof() == []


# -- 2. robustness ------------------------------------------------------------------


def feed_hostile(method: str, pieces: list[bytes], max_header_size: int = 65536) -> None:
    proto = started(method, max_header_size)
    events: list[Event] = []
    try:
        for piece in pieces:
            events.extend(proto.receive_data(piece))
    except RemoteProtocolError:
        assert not proto.keep_alive
        assert proto.receive_data(b"HTTP/1.1 200 OK\r\n\r\n") == []  # unusable from then on
    else:
        try:
            events.extend(proto.receive_eof())
        except HTTPStreamClosedError as exc:
            assert type(exc) is HTTPStreamClosedError  # cut short, not malformed
            assert not proto.keep_alive
    check_stream(events, method)


def test_status_code_below_100_is_refused() -> None:
    proto = started()
    with pytest.raises(RemoteProtocolError):
        proto.receive_data(b"HTTP/1.1 099 X\r\nContent-Length: 3\r\n\r\nabc")


prefixes = st.sampled_from([b"", b"HTTP/1.1 ", b"HTTP/1.1 200 OK\r\n", b"HTTP/1.0 100 X\r\n\r\n"])


@PROPS
@given(data=st.data(), prefix=prefixes, method=st.sampled_from(["GET", "HEAD"]))
def test_arbitrary_bytes_only_raise_remote_protocol_error(
    data: st.DataObject, prefix: bytes, method: str
) -> None:
    garbage = prefix + data.draw(st.binary(max_size=300))
    feed_hostile(method, data.draw(split(garbage)), data.draw(st.sampled_from([64, 65536])))


@st.composite
def mutated(draw: st.DrawFn, raw: bytes) -> bytes:
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, len(raw)))
        op = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "repeat"]))
        if op == "truncate":
            raw = raw[:pos]
        elif op == "flip" and pos < len(raw):
            raw = raw[:pos] + bytes([raw[pos] ^ 1 << draw(st.integers(0, 7))]) + raw[pos + 1 :]
        elif op == "insert":
            raw = raw[:pos] + draw(st.sampled_from([b"\r", b"\n", b"\0", b" ", b":"])) + raw[pos:]
        elif op == "delete":
            raw = raw[:pos] + raw[pos + 1 :]
        elif op == "repeat":
            raw = raw[:pos] + raw[pos // 2 :]
    return raw


@PROPS
@given(data=st.data(), method=st.sampled_from(["GET", "HEAD"]))
def test_mutated_responses_only_raise_remote_protocol_error(
    data: st.DataObject, method: str
) -> None:
    spec = data.draw(responses(head_request=method == "HEAD"))
    feed_hostile(method, data.draw(split(data.draw(mutated(spec.raw)))))


# -- 3. the header size limit -------------------------------------------------------


@st.composite
def oversized(draw: st.DrawFn) -> tuple[int, Spec]:
    spec = draw(responses(informational=False))
    limit = draw(st.integers(16, max(16, spec.heads[0] - 1)))
    # Pad the head past the limit: llhttp would accept it, only the limit refuses it.
    pad = field_line("X-Pad", "p" * (limit + draw(st.integers(0, 300))))
    cut = spec.raw.index(b"\r\n") + 2
    spec.raw = spec.raw[:cut] + pad + spec.raw[cut:]
    spec.heads[0] += len(pad)
    return limit, spec


@PROPS
@given(data=st.data(), case=oversized())
def test_header_section_over_the_limit_is_refused_whatever_the_split(
    data: st.DataObject, case: tuple[int, Spec]
) -> None:
    limit, spec = case
    assert spec.heads[0] > limit
    proto = started(max_header_size=limit)
    with pytest.raises(ResponseTooLargeError, match="max_header_size"):
        feed(proto, data.draw(split(spec.raw)), eof=spec.until_close)
    assert not proto.keep_alive


@PROPS
@given(data=st.data(), spec=responses(), margin=st.integers(0, 50))
def test_header_section_within_the_limit_is_accepted_whatever_the_split(
    data: st.DataObject, spec: Spec, margin: int
) -> None:
    proto = started(max_header_size=max(spec.heads) + margin)
    events = feed(proto, data.draw(split(spec.raw)), eof=spec.until_close)
    assert summary(events) == spec.want


MAX = 1024
OVER_HEAD = b"HTTP/1.1 200 OK\r\nX-A: " + b"a" * 5000 + b"\r\nContent-Length: 0\r\n\r\n"


@pytest.mark.parametrize("piece", [len(OVER_HEAD) + 25, 100, 1])
def test_header_limit_applies_after_an_informational_response(piece: int) -> None:
    raw = b"HTTP/1.1 100 Continue\r\n\r\n" + OVER_HEAD
    proto = started(max_header_size=MAX)
    with pytest.raises(ResponseTooLargeError):
        feed(proto, [raw[i : i + piece] for i in range(0, len(raw), piece)])


def test_header_limit_boundary_does_not_depend_on_the_split() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    outcomes = []
    for pieces in ([head], bytewise(head)):
        proto = started(max_header_size=len(head) - 4)
        try:
            outcomes.append(summary(feed(proto, pieces)))
        except ResponseTooLargeError:
            outcomes.append(["refused"])
    assert outcomes[0] == outcomes[1]


# -- 4. the request side --------------------------------------------------------------

hostile_text = st.text(st.sampled_from("aZ0-/ :\r\n\0\t\xe9\u20ac"), max_size=8)


@PROPS
@given(
    method=st.text(TCHAR, min_size=1, max_size=8) | hostile_text,
    target=st.text(TCHAR + "/?=", max_size=10) | hostile_text,
    headers=st.lists(st.tuples(names | hostile_text, values | hostile_text), max_size=4),
    chunked=st.booleans(),
)
def test_request_head_never_splits_a_field(
    method: str, target: str, headers: list[tuple[str, str]], chunked: bool
) -> None:
    fields = [method, target, *(text for pair in headers for text in pair)]
    injected = any(c in text for text in fields for c in "\r\n\0")
    try:
        head = ClientProtocol().start_request(method, target, headers, chunked=chunked)
    except ValueError:
        clean = all(text.isascii() or max(text) <= "\xff" for text in fields)
        token = method and all(c in TCHAR for c in method)
        assert injected or not clean or not token or " " in target
        return
    assert not injected
    assert head.endswith(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    assert not any(c in line for line in lines for c in b"\r\n\0")
    wanted = [f"{method} {target} HTTP/1.1", *(f"{n}: {v}" for n, v in headers)]
    wanted += ["Transfer-Encoding: chunked"] if chunked else []
    assert [line.decode("latin-1") for line in lines] == wanted


class _RequestSink:
    """httptools request-parser callbacks, collected."""

    def __init__(self) -> None:
        self.url, self.body, self.complete = b"", b"", False
        self.headers: list[tuple[bytes, bytes]] = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.complete = True


@PROPS
@given(
    data=st.data(),
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
    target=st.text(string.ascii_letters + string.digits + "-._~/?=&%", max_size=20),
    headers=st.lists(st.tuples(names, values), max_size=4),
    body=st.binary(max_size=300),
)
def test_request_bytes_parse_back_to_the_request(
    data: st.DataObject, method: str, target: str, headers: list[tuple[str, str]], body: bytes
) -> None:
    chunked = data.draw(st.booleans())
    fields = [*HOST, *headers] if chunked else [*HOST, *headers, ("Content-Length", str(len(body)))]
    proto = ClientProtocol()
    wire = proto.start_request(method, "/" + target, fields, chunked=chunked)
    wire += b"".join(proto.frame(piece) for piece in data.draw(split(body))) + proto.end_request()
    sink = _RequestSink()
    parser = httptools.HttpRequestParser(sink)
    parser.feed_data(wire)
    assert sink.complete
    assert parser.get_method() == method.encode()
    assert sink.url == b"/" + target.encode()
    assert sink.body == body
    sent = [(n.encode(), v.encode("latin-1")) for n, v in fields]
    assert sink.headers == ([*sent, (b"Transfer-Encoding", b"chunked")] if chunked else sent)

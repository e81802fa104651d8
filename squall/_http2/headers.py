"""Header lists across HTTP/2 (RFC 9113 §8.2-8.3): pure functions, no I/O.

A request leaves as pseudo-header fields followed by lower-case regular fields,
minus the connection-specific ones (§8.2.2), which HTTP/2 forbids; ``Host`` becomes
``:authority``. A response's list becomes the status code, ``HTTPHeaders`` and the
header lines a ``header_callback`` sees, written as libcurl writes them
(``HTTP/2 200 `` then the fields as received).
"""

from __future__ import annotations

from typing import Any

from squall._errors import RemoteProtocolError
from squall._headers import HTTPHeaders
from squall._request import HTTPRequest

__all__ = ["LenientDecoder", "ResponseHead", "request_header_list", "response_head"]

# RFC 9113 §8.2.2: connection-specific fields are never sent ("host" is carried
# by :authority instead, §8.3.1).
_NOT_SENT = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade", b"host"}
)


def request_header_list(
    request: HTTPRequest, fields: list[tuple[str, str]]
) -> list[tuple[bytes, bytes]]:
    """The HEADERS of ``request``, whose fields (``Host`` included) are ``fields``.

    Names are lowered (§8.2: upper case is malformed) and values stripped of
    surrounding whitespace; CR, LF and NUL were refused when the request was built
    (``squall._grammar``).
    """
    authority = request.netloc
    regular: list[tuple[bytes, bytes]] = []
    for name, value in fields:
        lowered = name.lower().encode("latin-1")
        if lowered in _NOT_SENT:
            if lowered == b"host":
                authority = value
            continue
        if lowered == b"te" and value.strip().lower() != "trailers":
            continue  # §8.2.2: TE may only say "trailers"
        # §8.2.1: no whitespace at either end of a value.
        regular.append((lowered, value.strip(" \t").encode("latin-1")))
    head = [
        (b":method", request.method.encode("latin-1")),
        (b":scheme", request.scheme.encode("latin-1")),
        (b":authority", authority.encode("latin-1")),
    ]
    if request.method != "CONNECT":
        head.append((b":path", request.target.encode("latin-1")))
    head.extend(regular)
    return head


class ResponseHead:
    """A response's status and fields, with the lines ``header_callback`` gets."""

    __slots__ = ("headers", "raw", "status_code")

    def __init__(self, status_code: int, headers: HTTPHeaders, raw: list[tuple[bytes, bytes]]):
        self.status_code = status_code
        self.headers = headers
        self.raw = raw

    def header_lines(self) -> list[str]:
        """``HTTP/2 <code> `` (no reason phrase exists in HTTP/2), the fields, a blank line."""
        lines = [f"HTTP/2 {self.status_code} \r\n"]
        lines.extend(f"{n.decode('latin-1')}: {v.decode('latin-1')}\r\n" for n, v in self.raw)
        lines.append("\r\n")
        return lines


def response_head(header_list: list[tuple[bytes, bytes]], where: str) -> ResponseHead:
    """Split a received header list (jh2 validated its shape) into a ``ResponseHead``.

    Raises:
        RemoteProtocolError: no valid ``:status``.
    """
    status = b""
    headers = HTTPHeaders()
    raw: list[tuple[bytes, bytes]] = []
    for name, value in header_list:
        if name[:1] == b":":
            if name == b":status":
                status = value
            continue
        raw.append((name, value))
        headers.add(name.decode("latin-1"), value.decode("latin-1"))
    if len(status) != 3 or not status.isdigit():
        raise RemoteProtocolError(f"HTTP/2 response from {where} has no valid :status")
    return ResponseHead(int(status), headers, raw)


_OWS = (0x20, 0x09)  # SP, HTAB


class LenientDecoder:
    """jh2's HPACK decoder, with SP/HTAB around field values stripped.

    RFC 9113 §8.2.1 calls a value with whitespace at either end malformed and jh2
    refuses the whole response; but servers send them (nginx's ``add_header`` keeps
    a trailing space), libcurl takes them, and over HTTP/1.1 such whitespace is
    optional and dropped (RFC 9112 §5.1): the value is stripped instead, before
    jh2 validates the list. Everything else is the wrapped decoder's.
    """

    __slots__ = ("_inner",)

    def __init__(self, inner: Any) -> None:
        object.__setattr__(self, "_inner", inner)

    def decode(self, data: bytes, raw: bool = False) -> list[Any]:
        fields = list(self._inner.decode(data, raw))
        for index, field in enumerate(fields):
            value = field[1]
            if value and (value[0] in _OWS or value[-1] in _OWS):
                # The tuple's shape (a never-indexed flag may follow) is kept.
                fields[index] = (field[0], value.strip(b" \t"), *field[2:])
        return fields

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)

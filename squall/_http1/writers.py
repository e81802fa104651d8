"""Request serialisation: the request head as bytes (h11's ``_writers.py``).

The head is built as one string and encoded once. Injection (a CR, LF or NUL
that would end a line early and smuggle a header or a second request) is
caught by counting: every line ends in exactly one CRLF, so one C-speed count
of CR and of LF over the whole head replaces a check per field; only when the
counts disagree is the culprit looked for, to name it.
"""

from __future__ import annotations

from typing import Final

from squall._grammar import has_control, is_token

__all__ = ["LAST_CHUNK", "serialize_head"]

#: The last chunk and the empty trailer section (RFC 9112 §7.1).
LAST_CHUNK: Final = b"0\r\n\r\n"


def serialize_head(
    method: str, target: str, headers: list[tuple[str, str]], chunked: bool
) -> bytes:
    """The request line and header section (RFC 9112 §3, §5), CRLF-terminated.

    Raises:
        ValueError: a method that is not a token, a target with a space, or a
            CR, LF or NUL anywhere; a character outside latin-1.
    """
    if not is_token(method):
        raise ValueError(f"Invalid HTTP method {method!r}")
    lines = [f"{method} {target} HTTP/1.1\r\n"]
    lines.extend([f"{name}: {value}\r\n" for name, value in headers])
    if chunked:
        lines.append("Transfer-Encoding: chunked\r\n")
    lines.append("\r\n")
    head = "".join(lines)
    count = len(lines)
    if head.count("\n") != count or head.count("\r") != count or "\0" in head:
        _raise_bad_field(method, target, headers)

    if " " in target:
        raise ValueError(f"Invalid request target {target!r}")
    return head.encode("latin-1")


def _raise_bad_field(method: str, target: str, headers: list[tuple[str, str]]) -> None:
    for label, text in (("method", method), ("request target", target)):
        if has_control(text):
            raise ValueError(f"Invalid {label} {text!r}: CR, LF and NUL are not allowed")
    for name, value in headers:
        if has_control(name):
            raise ValueError(f"Invalid header name {name!r}: CR, LF and NUL are not allowed")
        if has_control(value):
            raise ValueError(f"Invalid header value {value!r}: CR, LF and NUL are not allowed")
    raise ValueError("Invalid request head")  # pragma: no cover - counts disagreed otherwise

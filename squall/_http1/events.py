"""The events ``ClientProtocol.receive_data`` returns (h11's ``_events.py``, slimmed).

Body data is not wrapped: it arrives as plain ``bytes``, the one event that
occurs many times per response. The others are small ``__slots__`` objects.
"""

from __future__ import annotations

from typing import Final

from squall._headers import HTTPHeaders

__all__ = ["END_OF_MESSAGE", "EndOfMessage", "Event", "InformationalResponse", "Response"]


class Response:
    """A status line and its header section.

    Attributes:
        status_code: the three-digit code.
        reason: the reason phrase (may be empty).
        http_version: ``"1.1"`` or ``"1.0"``.
        headers: the fields as ``HTTPHeaders``.
        raw_headers: the same fields as received, in order (for header_callback).
    """

    __slots__ = ("headers", "http_version", "raw_headers", "reason", "status_code")

    def __init__(
        self,
        status_code: int,
        reason: str,
        http_version: str,
        headers: HTTPHeaders,
        raw_headers: list[tuple[bytes, bytes]],
    ) -> None:
        self.status_code = status_code
        self.reason = reason
        self.http_version = http_version
        self.headers = headers
        self.raw_headers = raw_headers

    def header_lines(self) -> list[str]:
        """The response head as Tornado's header_callback sees it: lines with CRLF."""
        lines = [f"HTTP/{self.http_version} {self.status_code} {self.reason}\r\n"]
        for name, value in self.raw_headers:
            lines.append(f"{name.decode('latin-1')}: {value.decode('latin-1')}\r\n")
        lines.append("\r\n")
        return lines

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status_code}, {self.reason!r})"


class InformationalResponse(Response):
    """A 1xx response (RFC 9110 §15.2); the final response follows."""

    __slots__ = ()


class EndOfMessage:
    """The response is complete (use the ``END_OF_MESSAGE`` singleton)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "END_OF_MESSAGE"


END_OF_MESSAGE: Final = EndOfMessage()

Event = InformationalResponse | Response | bytes | EndOfMessage

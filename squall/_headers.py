"""HTTPHeaders: a case-insensitive, ordered, multi-valued header mapping.

It behaves as Tornado's: names are normalised to ``Http-Header-Case``;
``headers["Name"]`` is every value joined with ``","``; ``add`` appends,
``__setitem__`` replaces; ``get_list`` and ``get_all`` expose the separate
values. Values are ``str`` (bytes are decoded as latin-1, which is how HTTP
carries octets it does not interpret).
"""

from __future__ import annotations

import calendar
import datetime
import email.utils
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from time import struct_time as time_struct
from typing import Any

__all__ = ["HTTPHeaders", "format_timestamp", "normalize_name"]

_NORMALIZED: dict[str, str] = {}


def normalize_name(name: str) -> str:
    """Return ``name`` in ``Http-Header-Case`` (cached: the same few names recur).

    Raises:
        TypeError: ``name`` is not a str.
    """
    try:
        return _NORMALIZED[name]
    except (KeyError, TypeError):  # TypeError: an unhashable name
        # Checked on a cache miss only: the cache holds str keys alone.
        if not isinstance(name, str):
            raise TypeError(
                f"header name must be a str, got {type(name).__name__}: {name!r}"
            ) from None
        normalized = "-".join(part.capitalize() for part in name.split("-"))
        if len(_NORMALIZED) < 10_000:
            _NORMALIZED[name] = normalized
        return normalized


def _text(value: str | bytes | int) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"header value must be str or bytes, got {type(value).__name__}")


class HTTPHeaders(MutableMapping[str, str]):
    """A dictionary of HTTP headers that keeps every value of a repeated name.

    Example::

        >>> h = HTTPHeaders({"content-type": "text/html"})
        >>> h.add("Set-Cookie", "A=B")
        >>> h.add("Set-Cookie", "C=D")
        >>> h["set-cookie"]
        'A=B,C=D'
        >>> h.get_list("set-cookie")
        ['A=B', 'C=D']
    """

    __slots__ = ("_as_list", "_last_key")

    def __init__(self, *args: Any, **kwargs: str) -> None:
        self._as_list: dict[str, list[str]] = {}
        self._last_key: str | None = None
        if not args and not kwargs:
            return
        if len(args) == 1 and not kwargs and isinstance(args[0], HTTPHeaders):
            for name, value in args[0].get_all():
                self.add(name, value)
        else:
            self.update(*args, **kwargs)

    # -- multi-valued access -------------------------------------------------

    def add(self, name: str, value: str | bytes) -> None:
        """Append a value for ``name``, keeping the ones already there."""
        key = normalize_name(name)
        self._last_key = key
        values = self._as_list.get(key)
        if values is None:
            self._as_list[key] = [_text(value)]
        else:
            values.append(_text(value))

    def get_list(self, name: str) -> list[str]:
        """Return every value of ``name`` as a list (empty if absent)."""
        return list(self._as_list.get(normalize_name(name), ()))

    def get_all(self) -> Iterator[tuple[str, str]]:
        """Yield each ``(name, value)`` pair; a repeated name yields once per value."""
        for name, values in self._as_list.items():
            for value in values:
                yield name, value

    def parse_line(self, line: str) -> None:
        """Add one header line (``"Name: value"``, with or without its CRLF); a
        line starting with white space continues the previous header's value
        (obsolete folding). The empty line that ends a header block (a bare CRLF)
        is ignored, so every line a ``header_callback`` gets after the status
        line can be passed here, as in Tornado.

        Raises:
            ValueError: the line has no colon, or continues nothing.
        """
        if line in ("\r\n", "\n", ""):
            return
        if line[:1] in (" ", "\t"):
            if self._last_key is None:
                raise ValueError("first header line cannot start with whitespace")
            values = self._as_list[self._last_key]
            values[-1] = (values[-1] + " " + line.strip(" \t\r\n")).strip()
            return
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"no colon in header line: {line!r}")
        # Only HTTP's white space: str.strip() would also eat \x1c-\x1f, \x85 and \xa0,
        # octets of a latin-1 name, and could leave no name at all.
        name = name.strip(" \t")
        if not name:
            raise ValueError(f"no field name in header line: {line!r}")
        self.add(name, value.strip(" \t\r\n"))

    @classmethod
    def parse(cls, headers: str) -> HTTPHeaders:
        """Build headers from a block of ``\\r\\n``- or ``\\n``-separated lines.

        Raises:
            ValueError: a line is malformed.
        """
        result = cls()
        for line in headers.split("\n"):
            line = line.rstrip("\r")
            if line:
                result.parse_line(line)
        return result

    # -- MutableMapping ------------------------------------------------------

    def __setitem__(self, name: str, value: str | bytes) -> None:
        key = normalize_name(name)
        self._as_list[key] = [_text(value)]
        self._last_key = key

    def __getitem__(self, name: str) -> str:
        return ",".join(self._as_list[normalize_name(name)])

    def __delitem__(self, name: str) -> None:
        del self._as_list[normalize_name(name)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and normalize_name(name) in self._as_list

    def __len__(self) -> int:
        return len(self._as_list)

    def __iter__(self) -> Iterator[str]:
        return iter(self._as_list)

    def copy(self) -> HTTPHeaders:
        """Return an independent copy."""
        return HTTPHeaders(self)

    __copy__ = copy

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HTTPHeaders):
            return self._as_list == other._as_list
        if isinstance(other, Mapping):
            return dict(self.items()) == {normalize_name(k): v for k, v in other.items()}
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return "".join(f"{name}: {value}\r\n" for name, value in self.get_all())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self.items())!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self).from_pairs, (list(self.get_all()),))

    @classmethod
    def from_normalized(cls, pairs: Iterable[tuple[str, str]]) -> HTTPHeaders:
        """Build headers from ``(name, value)`` str pairs whose names are already
        in ``Http-Header-Case`` (a parser's fast path: no per-field normalising)."""
        result = cls.__new__(cls)
        fields: dict[str, list[str]] = {}
        key = None
        for key, value in pairs:
            values = fields.get(key)
            if values is None:
                fields[key] = [value]
            else:
                values.append(value)
        result._as_list = fields
        result._last_key = key
        return result

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> HTTPHeaders:
        """Build headers from ``(name, value)`` pairs, keeping repeats."""
        result = cls()
        for name, value in pairs:
            result.add(name, value)
        return result


def format_timestamp(ts: float | datetime.datetime | tuple[int, ...] | time_struct) -> str:
    """Format a time as an HTTP-date (RFC 9110 section 5.6.7), e.g. for If-Modified-Since.

    Accepts epoch seconds, a ``time.struct_time`` or tuple in UTC, or a
    datetime (naive means UTC).
    """
    if isinstance(ts, datetime.datetime):
        if ts.tzinfo is not None:
            ts = ts.astimezone(datetime.timezone.utc)
        seconds: float = calendar.timegm(ts.utctimetuple())
    elif isinstance(ts, (int, float)):
        seconds = float(ts)
    elif isinstance(ts, (tuple, time_struct)):
        seconds = calendar.timegm(tuple(ts))
    else:
        raise TypeError(f"unknown timestamp type: {ts!r}")
    return email.utils.formatdate(seconds, usegmt=True)

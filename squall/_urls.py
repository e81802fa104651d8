"""URL validation and splitting, and the parts of a URL a request needs.

Built on the standard library's ``urllib.parse`` (RFC 3986 splitting) and the
``idna`` codec for international host names. Everything here raises
``ValueError`` naming the fault, before any I/O is attempted.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

__all__ = ["ParsedURL", "parse_url", "url_concat"]

DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters that must never reach a request line or a Host header.
_FORBIDDEN = frozenset("\r\n\x00 \t")


@dataclass(frozen=True, slots=True)
class ParsedURL:
    """The pieces of an absolute http(s) URL that a request uses.

    Attributes:
        scheme: ``"http"`` or ``"https"``.
        host: host name (IDNA-encoded, lower case) or IP literal without brackets.
        port: explicit port, else the scheme's default.
        target: path and query for the request line (``"/"`` when empty).
        netloc: ``host[:port]`` for the Host header, without userinfo.
        username, password: decoded userinfo, or None.
    """

    scheme: str
    host: str
    port: int
    target: str
    netloc: str
    username: str | None
    password: str | None


def _encode_host(host: str, url: str) -> str:
    if not host:
        raise ValueError(f"URL has no host: {url!r}")
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    if host.isascii():
        return host.lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"invalid host name {host!r} in URL {url!r}: {exc}") from None


# Programs fetch the same URLs again and again; ParsedURL is immutable, so a
# small cache skips the splitting and validation on every repeat.
_CACHE: dict[str, ParsedURL] = {}
_CACHE_SIZE = 512


def parse_url(url: str) -> ParsedURL:
    """Split and validate an absolute http or https URL.

    Raises:
        TypeError: ``url`` is not a str.
        ValueError: the URL is malformed, not http(s), has no host, a bad port,
            or contains control characters or spaces.
    """
    try:
        return _CACHE[url]
    except (KeyError, TypeError):
        pass
    if not isinstance(url, str):
        raise TypeError(f"url must be str, got {type(url).__name__}")
    parsed = _parse(url)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    _CACHE[url] = parsed
    return parsed


def _parse(url: str) -> ParsedURL:
    if _FORBIDDEN.intersection(url):
        raise ValueError(f"URL contains whitespace or control characters: {url!r}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"malformed URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"Unsupported url scheme: {url!r} (only http and https)")
    host = _encode_host(parts.hostname or "", url)
    if port is None:
        port = DEFAULT_PORTS[scheme]
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    shown_host = f"[{host}]" if ":" in host else host
    netloc = shown_host if parts.port is None else f"{shown_host}:{port}"
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return ParsedURL(scheme, host, port, target, netloc, username, password)


def url_concat(url: str, args: dict[str, str] | list[tuple[str, str]] | None) -> str:
    """Append query arguments to ``url``, keeping any it already has.

    Example::

        >>> url_concat("http://example.com/foo?a=b", dict(c="d"))
        'http://example.com/foo?a=b&c=d'
    """
    from urllib.parse import parse_qsl, urlencode, urlunsplit

    if args is None:
        return url
    if not isinstance(args, (dict, list, tuple)):
        raise TypeError(f"'args' must be dict, list or tuple, got {type(args).__name__}")
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.extend(args.items() if isinstance(args, dict) else args)
    return urlunsplit(parts._replace(query=urlencode(query)))

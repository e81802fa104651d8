"""URL validation and splitting, and the parts of a URL a request needs.

Built on the standard library's ``urllib.parse`` (RFC 3986 splitting) and the
``idna`` codec for international host names. Everything here raises
``ValueError`` naming the fault, before any I/O is attempted.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

__all__ = ["ParsedURL", "bracket", "parse_url", "url_concat"]

DEFAULT_PORTS = {"http": 80, "https": 443}
# libcurl refuses longer strings (CURL_MAX_INPUT_LENGTH); both engines refuse the same URLs.
_MAX_URL_LENGTH = 8_000_000
# Characters that must never reach a request line or a Host header: C0 controls, space, DEL.
# (A regex search is faster than a set intersection over the URL.)
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f]")
# WHATWG's forbidden host code points (controls and space are refused above). '%' would
# be percent-decoded by libcurl but not by the simple engine; an IPv6 zone id is an IP.
_FORBIDDEN_IN_HOST = re.compile(r"[#%/:<>?@\[\\\]^|]")
_ZONE_ID = re.compile(r"[A-Za-z0-9._~%-]+")
# Printable ASCII stays as it is in a target (percent-escapes and reserved characters
# included); everything else is sent percent-encoded UTF-8, as browsers do.
_TARGET_SAFE = "".join(map(chr, range(0x21, 0x7F)))


@dataclass(frozen=True, slots=True)
class ParsedURL:
    """The pieces of an absolute http(s) URL that a request uses.

    Attributes:
        scheme: ``"http"`` or ``"https"``.
        host: host name (IDNA-encoded, lower case) or IP literal without brackets.
        port: explicit port, else the scheme's default.
        target: path and query for the request line (``"/"`` when empty), in
            ASCII: other characters are percent-encoded UTF-8.
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


def bracket(host: str) -> str:
    """``host`` as it appears in an authority: an IPv6 literal in brackets."""
    return f"[{host}]" if ":" in host else host


def _shown(url: str) -> str:
    """``url`` for an error message: its repr, cut short if it is huge."""
    if len(url) <= 200:
        return repr(url)
    return f"{url[:100]!r}... ({len(url)} characters)"


def _encode_host(host: str, url: str) -> str:
    if not host:
        raise ValueError(f"URL has no host: {_shown(url)}")
    try:
        ipaddress.ip_address(host)  # IPv6 with a zone id ("fe80::1%eth0") included
    except ValueError:
        pass
    else:
        # ipaddress takes any zone id; a URL's is unreserved characters and
        # percent-escapes (RFC 6874 section 2), which the Host header can carry.
        zone = host.partition("%")[2]
        if zone and not _ZONE_ID.fullmatch(zone):
            raise ValueError(f"invalid IPv6 zone id {zone!r} in URL {_shown(url)}")
        return host
    if host.isascii():
        name = host.lower()
    else:
        try:
            name = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError(f"invalid host name {host!r} in URL {_shown(url)}: {exc}") from None
    # IDNA's mapping can itself produce a space (NFKC turns U+02DA into one).
    bad = _FORBIDDEN_IN_HOST.search(name) or _FORBIDDEN.search(name)
    if bad:
        raise ValueError(f"invalid character {bad[0]!r} in the host of URL {_shown(url)}")
    # DNS limits (RFC 1035 section 2.3.4); a final dot (a fully qualified name) is allowed.
    labels = name[:-1] if name.endswith(".") else name
    if (
        not labels
        or labels[0] == "."
        or labels[-1] == "."
        or ".." in labels
        or (len(labels) > 63 and (len(labels) > 253 or max(map(len, labels.split("."))) > 63))
    ):
        raise ValueError(
            f"invalid host name {host!r} in URL {_shown(url)}: "
            "empty label, label over 63 characters or name over 253"
        )
    return name


# Programs fetch the same URLs again and again; ParsedURL is immutable, so a
# small cache skips the splitting and validation on every repeat.
_CACHE: dict[str, ParsedURL] = {}
_CACHE_SIZE = 512


def parse_url(url: str) -> ParsedURL:
    """Split and validate an absolute http or https URL.

    Raises:
        TypeError: ``url`` is not a str.
        ValueError: the URL is malformed, not http(s), has no host or a bad
            one, a bad port, contains control characters or spaces, or is
            longer than libcurl takes (8,000,000 characters).
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
    if len(url) > _MAX_URL_LENGTH:
        raise ValueError(f"URL longer than {_MAX_URL_LENGTH:,} characters: {_shown(url)}")
    if _FORBIDDEN.search(url):
        raise ValueError(f"URL contains whitespace or control characters: {_shown(url)}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"malformed URL {_shown(url)}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"Unsupported url scheme: {_shown(url)} (only http and https)")
    if "@" in parts.netloc.rpartition("@")[0] or "\\" in parts.netloc:
        # Engines and servers disagree on where such a host starts (WHATWG reads '\' as '/').
        raise ValueError(f"malformed URL {_shown(url)}: '@' or '\\' in the user or host part")
    host = _encode_host(parts.hostname or "", url)
    if port is None:
        port = DEFAULT_PORTS[scheme]
    elif port == 0:
        raise ValueError(f"malformed URL {_shown(url)}: port 0")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    if not target.isascii():
        try:
            target = quote(target, safe=_TARGET_SAFE)
        except UnicodeEncodeError as exc:  # a lone surrogate
            raise ValueError(f"malformed URL {_shown(url)}: {exc}") from None
    shown_host = bracket(host)
    netloc = shown_host if parts.port is None else f"{shown_host}:{port}"
    if not url.isascii() and len(scheme) + 3 + len(netloc) + len(target) > _MAX_URL_LENGTH:
        # The curl engine sends this ASCII form; percent-encoding made it longer.
        raise ValueError(
            f"URL longer than {_MAX_URL_LENGTH:,} characters once encoded: {_shown(url)}"
        )
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

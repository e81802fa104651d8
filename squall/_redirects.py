"""Redirect policy: given a response, is it followed, and with what request?

Pure functions over the request model, shared by both engines so that they
follow exactly the same redirects with exactly the same requests. Rules:

- 301, 302, 303, 307 and 308 with a ``Location`` are followed while
  ``follow_redirects`` is on and ``max_redirects`` is not used up. A Location
  with another scheme (``ftp://...``, or ``h:5``) fails the fetch with
  ``ValueError("Unsupported url scheme: ...")``, even with
  ``raise_error=False``, as in Tornado 6.6; an http(s) Location that is
  malformed (a bad host or port, say) is returned to the caller as the 3xx.
- 303 (except for HEAD), and 301/302 answering a POST, become a GET without
  body (RFC 9110 section 15.4.4 and the note in 15.4.2/15.4.3 on POST).
  307 and 308 keep the method and the body (RFC 9110 section 15.4.8, 15.4.9).
- When the origin (scheme, host, port) changes, credentials do not travel:
  ``auth_username``/``auth_password``, userinfo in the URL, and the
  Authorization, Cookie and Proxy-Authorization headers are dropped.
"""

from __future__ import annotations

import copy
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from squall._headers import HTTPHeaders
from squall._request import HTTPRequest
from squall._urls import parse_url

__all__ = ["REDIRECT_CODES", "next_request", "redirect_target", "will_follow"]

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_SCHEMES = ("http", "https")
_CREDENTIAL_HEADERS = ("Authorization", "Cookie", "Proxy-Authorization")
_BODY_HEADERS = ("Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding")


def redirect_target(request: HTTPRequest, headers: HTTPHeaders) -> str | None:
    """The absolute URL a redirect points to, or None if it has no usable one."""
    location = headers.get("Location")
    if not location:
        return None
    try:
        target = urljoin(request.url, _raw_location(location.strip()))
        if urlsplit(target).scheme.lower() not in _SCHEMES:
            return target  # followed, to fail in next_request as Tornado's fetch does
        parse_url(target)  # cached: the next request's url setter parses it again
    except ValueError:
        return None  # a malformed URL: the caller gets the 3xx itself
    return target


# Printable ASCII: what a Location keeps as it is (percent-escapes included).
_LOCATION_SAFE = "".join(map(chr, range(0x21, 0x7F)))
# Spaces and controls inside a Location are percent-encoded, as browsers do.
_ENCODE_CONTROLS = {code: f"%{code:02X}" for code in [*range(0x21), 0x7F]}


def _raw_location(location: str) -> str:
    """A Location header value as the URL the server meant, as a browser reads it.

    Header values reach us decoded as latin-1, so non-ASCII characters are really
    the server's raw bytes, usually UTF-8. Valid UTF-8 is decoded (parse_url then
    sends the host in IDNA form and the path and query percent-encoded); other
    bytes are percent-encoded as they are. Spaces and controls are percent-encoded.
    """
    if location.isascii() and location.isprintable() and " " not in location:
        return location
    try:
        text = location.encode("latin-1").decode("utf-8")
    except UnicodeEncodeError:
        text = location  # not from the wire (a caller's HTTPHeaders): already text
    except UnicodeDecodeError:
        return quote(location.encode("latin-1"), safe=_LOCATION_SAFE)
    return text.translate(_ENCODE_CONTROLS)


def will_follow(request: HTTPRequest, code: int, headers: HTTPHeaders) -> bool:
    """True if the client will follow this response as a redirect.

    Engines use it to skip the body and the callbacks of a followed response.
    ``request`` is the resolved request of the hop that got the response.
    """
    return (
        code in REDIRECT_CODES
        and bool(request.follow_redirects)
        and (request.max_redirects or 0) > 0
        and redirect_target(request, headers) is not None
    )


def _same_origin(a: HTTPRequest, b: HTTPRequest) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def next_request(request: HTTPRequest, code: int, headers: HTTPHeaders) -> HTTPRequest:
    """Build the request that follows a redirect (call only when ``will_follow``).

    Args:
        request: the resolved request of the hop that was redirected.
        code: the redirect's status code.
        headers: the redirect's headers.

    Returns:
        A new resolved request; ``request`` is not modified.

    Raises:
        ValueError: "Unsupported url scheme: <url> ..." (the Location's scheme).
    """
    target = redirect_target(request, headers)
    assert target is not None, "next_request() called for a response that is not followed"
    if urlsplit(target).scheme.lower() not in _SCHEMES:
        parse_url(target)  # raises the one wording of this error
    new = copy.copy(request)
    new.headers = HTTPHeaders(request.headers)
    new.url = target
    new.max_redirects = (request.max_redirects or 0) - 1
    # A Host header set by the caller names the old target, never the new one.
    new.headers.pop("Host", None)
    if not _same_origin(request, new):
        new.url = _without_userinfo(target)
        new.auth_username = new.auth_password = None
        for name in _CREDENTIAL_HEADERS:
            new.headers.pop(name, None)
    becomes_get = (code == 303 and request.method != "HEAD") or (
        code in (301, 302) and request.method == "POST"
    )
    if becomes_get:
        new.method = "GET"
        new.body = None
        new.body_producer = None
        new.expect_100_continue = False
        for name in _BODY_HEADERS:
            new.headers.pop(name, None)
    return new

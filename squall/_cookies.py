"""The opt-in cookie jar: ``AsyncHTTPClient(cookies=jar)``.

Off by default (Tornado has no jar). With a ``http.cookiejar.CookieJar`` (or
``True`` for a new one), every hop of a fetch, redirects included, sends the
jar's cookies for its URL and stores what the response sets, under the jar's
own policy (``DefaultCookiePolicy``: no cookies for public suffixes it knows,
``Secure`` only over https, host-only cookies for IP hosts). Both engines see
a plain ``Cookie`` header: libcurl's cookie engine is never used, so one jar
has one behaviour and nothing is left on a reused handle.

The stdlib jar speaks urllib's request and response interfaces; the two small
adapters below give it those views of a hop.
"""

from __future__ import annotations

import email.message
import http.cookiejar
import urllib.request
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from squall._request import HTTPRequest
    from squall._response import HTTPResponse

__all__ = ["checked_jar", "receive_cookies", "send_cookies"]


def checked_jar(cookies: object) -> http.cookiejar.CookieJar | None:
    """The ``cookies`` client argument: None/False (off), True (a new jar) or a CookieJar."""
    if cookies is None or cookies is False:
        return None
    if cookies is True:
        return http.cookiejar.CookieJar()
    if isinstance(cookies, http.cookiejar.CookieJar):
        return cookies
    raise TypeError(
        "cookies must be an http.cookiejar.CookieJar, True (a new jar) or None, "
        f"got {type(cookies).__name__}"
    )


def _urllib_view(request: HTTPRequest) -> urllib.request.Request:
    return urllib.request.Request(request.url, method=request.method)


def send_cookies(jar: http.cookiejar.CookieJar, request: HTTPRequest) -> bool:
    """Add the jar's cookies for this hop as a Cookie header; True if one was added.

    A Cookie header the caller set is left alone (the jar adds nothing then).
    """
    if "Cookie" in request.headers:
        return False
    view = _urllib_view(request)
    jar.add_cookie_header(view)
    cookie = view.get_header("Cookie")
    if not cookie:
        return False
    request.headers["Cookie"] = cookie
    return True


class _ResponseView:
    """What CookieJar.extract_cookies reads of a response: ``info()``."""

    def __init__(self, response: HTTPResponse) -> None:
        self._message = email.message.Message()
        for value in response.headers.get_list("Set-Cookie"):
            self._message["Set-Cookie"] = value

    def info(self) -> email.message.Message:
        return self._message


def receive_cookies(
    jar: http.cookiejar.CookieJar, request: HTTPRequest, response: HTTPResponse
) -> None:
    """Store the cookies a hop's response sets, as the jar's policy allows."""
    if response.headers is not None and "Set-Cookie" in response.headers:
        jar.extract_cookies(_ResponseView(response), _urllib_view(request))  # type: ignore[arg-type]

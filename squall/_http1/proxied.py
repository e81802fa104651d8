"""What the simple engine's request path does differently through a proxy.

The dialling is in ``connect.Dialer`` (a tunnel through CONNECT or SOCKS, or a
connection to the proxy itself); this module holds the rest:

- ``check_proxy``: refuse a malformed ``proxy_host`` before any I/O;
- ``forwarded``: plain http through an HTTP proxy is sent to the proxy with an
  absolute-form target (RFC 9112 §3.2.2) and ``Proxy-Authorization``. Through a
  tunnel nothing changes: the origin gets the request it would get directly;
- ``refused_response``: a proxy's non-2xx answer to CONNECT as the response.
"""

from __future__ import annotations

import time
from io import BytesIO

from squall._http1.connect import Timings
from squall._http1.tunnel import ProxyRefused, proxy_authorization
from squall._proxies import request_proxy
from squall._request import HTTPRequest
from squall._response import HTTPResponse

__all__ = ["check_proxy", "forwarded", "proxy_digest_applies", "refused_response"]


def check_proxy(request: HTTPRequest) -> None:
    """Refuse a proxy setting this engine cannot use (before any I/O).

    Raises:
        ValueError: a malformed ``proxy_host`` or an unknown proxy scheme.
    """
    request_proxy(request)


def proxy_digest_applies(request: HTTPRequest) -> bool:
    """True when digest auth to the proxy is answered per request (a forwarded one)."""
    proxy = request_proxy(request)
    return (
        proxy is not None
        and proxy.auth_mode == "digest"
        and proxy.username is not None
        and proxy.forwards(request.scheme)
    )


def forwarded(
    request: HTTPRequest, fields: list[tuple[str, str]]
) -> tuple[HTTPRequest, list[tuple[str, str]]]:
    """The request as written on the connection, and its header fields.

    Plain http through an HTTP proxy gets an absolute-form target and the
    proxy's credentials; anything else is returned as it is.
    """
    proxy = request_proxy(request)
    if proxy is None or not proxy.forwards(request.scheme):
        return request, fields
    wire = HTTPRequest.__new__(HTTPRequest)
    wire.__dict__.update(request.__dict__)
    wire.target = f"http://{request.netloc}{request.target}"
    credentials = proxy_authorization(proxy)
    if credentials is not None:
        fields = [*fields, ("Proxy-Authorization", credentials)]
    return wire, fields


def refused_response(
    refused: ProxyRefused, request: HTTPRequest, start_wall: float, timings: Timings
) -> HTTPResponse:
    """The proxy's answer to CONNECT as the response of ``request``."""
    elapsed = time.monotonic() - timings.start
    return HTTPResponse(
        request,
        refused.code,
        headers=refused.headers,
        buffer=BytesIO(refused.body),
        effective_url=request.url,
        request_time=elapsed,
        time_info={"total": elapsed},
        reason=refused.reason or None,
        start_time=start_wall,
    )

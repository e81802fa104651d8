"""A finished easy handle -> HTTPResponse, or libcurl's error -> a squall error.

libcurl reports failures as a CURLcode plus a message. We map each code to the
error class the simple engine raises for the same cause (a table, not an
if-ladder), and chain the original ``CurlError(errno, message)`` as
``__cause__`` so libcurl's number stays reachable. Codes with no closer match
are raised as ``CurlError`` itself.
"""

from __future__ import annotations

import errno as os_errno
import os
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pycurl

from squall._curl.head import peer
from squall._errors import (
    CurlError,
    HTTPCertificateError,
    HTTPClientError,
    HTTPConnectionError,
    HTTPConnectionRefusedError,
    HTTPConnectionResetError,
    HTTPNameResolutionError,
    HTTPStreamClosedError,
    HTTPTimeoutError,
    HTTPTLSError,
    RemoteProtocolError,
    ResponseTooLargeError,
    connection_refused,
    timeout_option,
)
from squall._framing import CLOSED_IN_BODY, CLOSED_WITHOUT_RESPONSE, NOT_HTTP, malformed
from squall._proxies import SOCKS_WORDS, request_proxy
from squall._urls import bracket

if TYPE_CHECKING:
    from squall._request import HTTPRequest

__all__ = ["curl_error", "time_info"]


# (name in time_info, microsecond getinfo) in libcurl's documented order.
_TIMINGS = (
    ("namelookup", pycurl.NAMELOOKUP_TIME_T),
    ("connect", pycurl.CONNECT_TIME_T),
    ("appconnect", pycurl.APPCONNECT_TIME_T),
    ("pretransfer", pycurl.PRETRANSFER_TIME_T),
    ("starttransfer", pycurl.STARTTRANSFER_TIME_T),
    ("total", pycurl.TOTAL_TIME_T),
)


def time_info(curl: Any) -> dict[str, float]:
    """libcurl's phase timings of the last transfer, in seconds from its start."""
    getinfo = curl.getinfo
    return {name: getinfo(info) / 1e6 for name, info in _TIMINGS}


def _timeout(curl: Any, request: HTTPRequest, message: str) -> HTTPClientError:
    # libcurl has one code for every timeout; its message names the state the
    # transfer was in ("Resolving timed out", "Connection timed out" for TCP
    # and TLS setup, "Operation timed out" after). The timestamps cannot tell
    # alone: a reused connection has no connect time, and a failed connect
    # still gets a pretransfer time.
    where = peer(request)
    if message.startswith("Resolving timed out"):
        phase, text = "resolve", f"Timeout while resolving {request.host}"
    elif message.startswith("Connection timed out"):
        tcp_done = curl.getinfo(pycurl.CONNECT_TIME_T) > 0
        if request.proxy_host:
            # As the simple engine says it: dialling the proxy, or the proxy's
            # handshake (CONNECT, SOCKS, TLS to an https:// proxy) after it.
            proxy = _proxy_where(request)
            where = f"{where} through {proxy}" if tcp_done else proxy
            phase, text = "connect", f"Timeout while connecting to {where}"
        elif tcp_done and request.scheme == "https":
            phase, text = "tls", f"Timeout during TLS handshake with {where}"
        else:
            phase, text = "connect", f"Timeout while connecting to {where}"
    else:
        phase, text = "request", "Timeout during request"
    # libcurl bounds the phases before the request by the smaller of its two
    # timeouts, as the simple engine does: the same option is named on both.
    option, limit = timeout_option(phase, request.connect_timeout, request.request_timeout)
    return HTTPTimeoutError(text, phase=phase, option=option, limit=limit)


def _proxy_where(request: HTTPRequest) -> str:
    # The simple engine's parser reads proxy_host as libcurl does (scheme, port,
    # credentials), and its ``where`` never shows the credentials.
    try:
        proxy = request_proxy(request)
    except ValueError:  # libcurl took what squall's parser would refuse
        proxy = None
    return proxy.where if proxy is not None else "the proxy"


def _connect_failed(curl: Any, request: HTTPRequest, message: str) -> HTTPClientError:
    # Through a proxy, the only TCP connection libcurl opens is to the proxy;
    # the proxy's own failure to reach the origin comes back as a response
    # (HTTP) or a proxy error code (SOCKS), not as this code.
    where = _proxy_where(request) if request.proxy_host else peer(request)
    if curl.getinfo(pycurl.OS_ERRNO) == os_errno.ECONNREFUSED or "refused" in message:
        return connection_refused(where)
    code = curl.getinfo(pycurl.OS_ERRNO)
    error = HTTPConnectionError(f"Could not connect to {where}: {message}")
    if code:
        # As the simple engine's OSError-based errors carry them.
        error.errno, error.strerror = code, os.strerror(code)
    return error


def _resolve_failed(text: str) -> Callable[..., HTTPClientError]:
    def make(curl: Any, request: HTTPRequest, message: str) -> HTTPClientError:
        error = HTTPNameResolutionError(text.format(host=request.host, message=message))
        # libcurl does not pass getaddrinfo's code on: EAI_NONAME is what it most
        # often is, and what code checking for a name error looks for.
        error.errno, error.strerror = socket.EAI_NONAME, message
        return error

    return make


def _http2_failed(curl: Any, request: HTTPRequest, message: str) -> HTTPClientError:
    # libcurl often leaves its error buffer empty for these (a GOAWAY, a framing
    # error): its text for the code then says at least what failed.
    text = message or "Stream error in the HTTP/2 framing layer"
    return RemoteProtocolError(f"HTTP/2 error with {peer(request)}: {text}")


def _recv_failed(curl: Any, request: HTTPRequest, message: str) -> HTTPClientError:
    if message.startswith("Failed to connect"):
        # QUIC: an ICMP error on the first datagram comes back as a send error.
        return _connect_failed(curl, request, message)
    if curl.getinfo(pycurl.OS_ERRNO) == os_errno.ECONNRESET:
        return HTTPConnectionResetError(f"Connection reset by {peer(request)}")
    if "chunk" in message.lower():
        # libcurl reports broken chunked framing as a receive error.
        return RemoteProtocolError(f"Malformed chunked body from {peer(request)}: {message}")
    return HTTPStreamClosedError(f"Connection to {peer(request)} closed: {message}")


def _simple(cls: Callable[[str], HTTPClientError], text: str) -> Callable[..., HTTPClientError]:
    def make(curl: Any, request: HTTPRequest, message: str) -> HTTPClientError:
        return cls(text.format(where=peer(request), host=request.host, message=message))

    return make


def _verification_failed(curl: Any, request: HTTPRequest, message: str) -> HTTPClientError:
    # Through an https:// proxy, the failed check may be the proxy's certificate.
    where = peer(request)
    if request.proxy_host and curl.getinfo(pycurl.PROXY_SSL_VERIFYRESULT):
        where = _proxy_where(request)
    return HTTPCertificateError(f"Certificate verification failed for {where}: {message}")


# CURLINFO_PROXY_ERROR (a CURLproxycode, libcurl 7.73) -> the simple engine's
# class and words (SOCKS_WORDS) for the same failure of a SOCKS handshake.
_SOCKS_FAILURES: dict[int, tuple[Callable[[str], HTTPClientError], str]] = {
    3: (HTTPStreamClosedError, "closed"),  # CURLPX_CLOSED
    13: (HTTPStreamClosedError, "closed"),  # CURLPX_RECV_ADDRESS
    14: (HTTPStreamClosedError, "closed"),  # CURLPX_RECV_AUTH
    15: (HTTPStreamClosedError, "closed"),  # CURLPX_RECV_CONNECT
    16: (HTTPStreamClosedError, "closed"),  # CURLPX_RECV_REQACK
    33: (HTTPConnectionError, "credentials refused"),  # CURLPX_USER_REJECTED
    12: (HTTPConnectionError, "no method"),  # CURLPX_NO_AUTH
    10: (HTTPConnectionError, "long credentials"),  # CURLPX_LONG_PASSWD
    11: (HTTPConnectionError, "long credentials"),  # CURLPX_LONG_USER
    19: (HTTPConnectionRefusedError, "origin refused"),  # CURLPX_REPLY_CONNECTION_REFUSED
    9: (HTTPConnectionError, "cannot ask"),  # CURLPX_LONG_HOSTNAME
    1: (RemoteProtocolError, "malformed"),  # CURLPX_BAD_ADDRESS_TYPE
    2: (RemoteProtocolError, "malformed"),  # CURLPX_BAD_VERSION
    25: (RemoteProtocolError, "malformed"),  # CURLPX_REPLY_UNASSIGNED
}
# The reply codes, named as socksio names them on the simple engine.
_SOCKS_REASONS = {
    7: "connection failed",  # CURLPX_IDENTD (SOCKS4 0x5c)
    8: "authentication failed",  # CURLPX_IDENTD_DIFFER (SOCKS4 0x5d)
    17: "address type not supported",
    18: "command not supported",
    20: "general server failure",
    21: "host unreachable",
    22: "network unreachable",
    23: "connection not allowed by ruleset",
    24: "ttl expired",
    26: "request rejected or failed",  # CURLPX_REQUEST_FAILED (SOCKS4 0x5b)
}
_CURLPX_RESOLVE_HOST = 27


def _socks_failed(curl: Any, request: HTTPRequest, message: str) -> HTTPClientError:
    # CURLE_PROXY: a SOCKS handshake failed; CURLINFO_PROXY_ERROR says how.
    try:
        proxy = request_proxy(request)
    except ValueError:
        proxy = None
    code = curl.getinfo(pycurl.PROXY_ERROR)
    if proxy is None:
        return HTTPConnectionError(f"Proxy handshake failed: {message}")
    if code == _CURLPX_RESOLVE_HOST:  # socks5/socks4: the origin's name, resolved here
        return _resolve_failed("Could not resolve {host}: {message}")(curl, request, message)
    fields = {
        "where": proxy.where,
        "target": f"{bracket(request.host)}:{request.port}",
        "version": proxy.socks_version,
        "reason": _SOCKS_REASONS.get(code, message),
    }
    cls, key = _SOCKS_FAILURES.get(code, (HTTPConnectionError, ""))
    if code in _SOCKS_REASONS:
        key = "failed"
    if not key:
        return cls(f"SOCKS handshake with {proxy.where} failed: {message}")
    return cls(SOCKS_WORDS[key].format(**fields))


_ERRORS: dict[int, Callable[[Any, HTTPRequest, str], HTTPClientError]] = {
    97: _socks_failed,  # CURLE_PROXY (libcurl 7.73)
    pycurl.E_OPERATION_TIMEDOUT: _timeout,
    pycurl.E_COULDNT_CONNECT: _connect_failed,
    pycurl.E_RECV_ERROR: _recv_failed,
    pycurl.E_SEND_ERROR: _recv_failed,
    pycurl.E_COULDNT_RESOLVE_HOST: _resolve_failed("Could not resolve {host}: {message}"),
    pycurl.E_COULDNT_RESOLVE_PROXY: _resolve_failed("Could not resolve the proxy: {message}"),
    pycurl.E_PEER_FAILED_VERIFICATION: _verification_failed,
    51: _verification_failed,  # CURLE_PEER_FAILED_VERIFICATION before libcurl 7.62 merged it
    pycurl.E_GOT_NOTHING: _simple(HTTPStreamClosedError, CLOSED_WITHOUT_RESPONSE),
    pycurl.E_PARTIAL_FILE: _simple(HTTPStreamClosedError, CLOSED_IN_BODY),
    pycurl.E_SEND_FAIL_REWIND: _simple(
        # libcurl would send the request again (its kept-alive connection closed
        # unanswered) but cannot rewind a body_producer's body.
        HTTPStreamClosedError,
        CLOSED_WITHOUT_RESPONSE,
    ),
    92: _simple(  # CURLE_HTTP2_STREAM
        HTTPStreamClosedError, "HTTP/2 stream to {where} closed: {message}"
    ),
    8: _simple(  # CURLE_WEIRD_SERVER_REPLY
        RemoteProtocolError, malformed("{where}", "{message}")
    ),
    # libcurl's only answer to a reply that is not HTTP ("Received HTTP/0.9 when not
    # allowed"): the simple engine's reason, and the peer, as every malformed reply.
    pycurl.E_UNSUPPORTED_PROTOCOL: _simple(RemoteProtocolError, malformed("{where}", NOT_HTTP)),
    pycurl.E_HTTP2: _http2_failed,
    pycurl.E_BAD_CONTENT_ENCODING: _simple(
        RemoteProtocolError, "Could not decode the body from {where}: {message}"
    ),
    43: _simple(RemoteProtocolError, "Bad response from {where}: {message}"),
    pycurl.E_FILESIZE_EXCEEDED: _simple(ResponseTooLargeError, "{message}"),
    100: _simple(ResponseTooLargeError, "{message}"),  # CURLE_TOO_LARGE (libcurl 8.6)
}
for _code in (35, 53, 54, 58, 59, 64, 66, 77, 80, 82, 83, 90, 91, 98):
    # SSL_CONNECT_ERROR, ENGINE_*, CERTPROBLEM, CIPHER, USE_SSL_FAILED,
    # SSL_CACERT_BADFILE, SHUTDOWN_FAILED, CRL_BADFILE, ISSUER_ERROR,
    # PINNEDPUBKEYNOTMATCH, INVALIDCERTSTATUS, CLIENTCERT
    _ERRORS[_code] = _simple(HTTPTLSError, "TLS error with {where}: {message}")


def curl_error(curl: Any, request: HTTPRequest, errno: int, message: str) -> HTTPClientError:
    """The squall error for a failed transfer (raise it ``from`` its ``__cause__``).

    Args:
        curl: the easy handle, still holding the transfer's getinfo values.
        request: the request of the hop.
        errno: libcurl's CURLcode.
        message: libcurl's error text.

    Returns:
        The mapped error with ``__cause__`` set to ``CurlError(errno, message)``,
        or that CurlError itself when no class fits better.
    """
    original = CurlError(errno, message)
    make = _ERRORS.get(errno)
    if make is None:
        return original
    error = make(curl, request, message)
    error.__cause__ = original
    return error

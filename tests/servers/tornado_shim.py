"""Stand-ins for ``squall.httpclient`` and ``squall._errors`` made from Tornado's names.

Used only when SQUALL_TEST_AGAINST_TORNADO=1: the engine tests then run against
Tornado's clients, which checks the tests themselves wherever Tornado has the
feature. Each squall error class maps to what Tornado raises for that cause
(Tornado's simple client raises the raw OSError / ssl error / gaierror).
"""

from __future__ import annotations

import socket
import ssl
import sys
import types


def install() -> None:
    import tornado.curl_httpclient as tcurl
    import tornado.httpclient as thttp
    import tornado.simple_httpclient as tsimple

    httpclient = types.ModuleType("squall.httpclient")
    for name in ("AsyncHTTPClient", "HTTPClient", "HTTPRequest", "HTTPResponse"):
        setattr(httpclient, name, getattr(thttp, name))
    httpclient.HTTPClientError = thttp.HTTPClientError  # type: ignore[attr-defined]
    httpclient.HTTPError = thttp.HTTPClientError  # type: ignore[attr-defined]

    errors = types.ModuleType("squall._errors")
    mapping: dict[str, object] = {
        "HTTPClientError": thttp.HTTPClientError,
        "HTTPError": thttp.HTTPClientError,
        "HTTPTimeoutError": tsimple.HTTPTimeoutError,
        "HTTPConnectionError": ConnectionError,
        "HTTPConnectionRefusedError": ConnectionRefusedError,
        "HTTPConnectionResetError": ConnectionResetError,
        "HTTPStreamClosedError": tsimple.HTTPStreamClosedError,
        "RemoteProtocolError": tsimple.HTTPStreamClosedError,
        "ResponseTooLargeError": tsimple.HTTPStreamClosedError,
        "HTTPNameResolutionError": socket.gaierror,
        "HTTPTLSError": ssl.SSLError,
        "HTTPCertificateError": ssl.SSLCertVerificationError,
        "CurlError": tcurl.CurlError,
    }
    for name, value in mapping.items():
        setattr(errors, name, value)
    import tornado.httputil

    sys.modules["squall.httpclient"] = httpclient
    sys.modules["squall.httputil"] = tornado.httputil
    sys.modules["squall._errors"] = errors

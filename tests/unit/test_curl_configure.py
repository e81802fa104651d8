"""The curl engine's request-to-libcurl mapping, pure: what ``configure`` and
``ssl_options_to_curl`` refuse or translate, checked on a bare pycurl handle.

What these options do on the wire is tested in tests/engine_internals/test_curl_options.py.
"""

from __future__ import annotations

import ssl
from typing import Any

import pycurl
import pytest

from squall._curl.options import configure, ssl_options_to_curl
from squall._request import HTTPRequest


def test_http_version_3_needs_https() -> None:
    curl = pycurl.Curl()
    try:
        with pytest.raises(ValueError, match="https"):
            configure(curl, HTTPRequest("http://127.0.0.1/", http_version="3").resolved({}))
    finally:
        curl.close()


# -- local misuse: ValueError before any I/O -----------------------------------


def _configure(**kwargs: Any) -> None:
    curl = pycurl.Curl()
    try:
        request = HTTPRequest("http://127.0.0.1:1/", **kwargs)
        configure(curl, request)
    finally:
        curl.close()


def test_get_with_body_is_refused() -> None:
    with pytest.raises(ValueError, match="GET"):
        _configure(body=b"x", allow_nonstandard_methods=True)


def test_crlf_in_header_is_refused_before_libcurl() -> None:
    # Bypasses HTTPRequest.resolved() (which checks too): the engine checks again.
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        _configure(headers={"X-Bad": "a\r\nInjected: yes"})
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        _configure(headers={"X-Bad": "a\x00b"})


def test_ssl_options_dict_translation() -> None:
    opts = dict(
        ssl_options_to_curl(
            {
                "ca_certs": "/ca.pem",
                "certfile": "/c.pem",
                "keyfile": "/k.pem",
                "ciphers": "ECDHE+AESGCM",
                "cert_reqs": ssl.CERT_NONE,
                "minimum_version": ssl.TLSVersion.TLSv1_2,
            }
        )
    )
    assert opts[pycurl.CAINFO] == "/ca.pem"
    assert opts[pycurl.SSLCERT] == "/c.pem" and opts[pycurl.SSLKEY] == "/k.pem"
    assert opts[pycurl.SSL_CIPHER_LIST] == "ECDHE+AESGCM"
    assert opts[pycurl.SSL_VERIFYPEER] == 0 and opts[pycurl.SSL_VERIFYHOST] == 0
    assert opts[pycurl.SSLVERSION] == pycurl.SSLVERSION_TLSv1_2


def test_ssl_options_that_libcurl_cannot_express() -> None:
    with pytest.raises(ValueError, match="do_handshake_on_connect"):
        ssl_options_to_curl({"do_handshake_on_connect": False})
    with pytest.raises(ValueError, match="ssl_version"):
        ssl_options_to_curl({"ssl_version": ssl.PROTOCOL_TLS_SERVER})

"""The error tree: codes, messages, builtin bases, copy and pickle."""

from __future__ import annotations

import copy
import pickle
import socket
import ssl

import pytest

from squall import _errors as e
from squall.httpclient import HTTPError


def test_status_error_format() -> None:
    err = e.HTTPClientError(404)
    assert (err.code, err.message, str(err)) == (404, "Not Found", "HTTP 404: Not Found")
    assert HTTPError is e.HTTPClientError
    assert str(e.HTTPClientError(799)) == "HTTP 799: Unknown"


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (e.HTTPTimeoutError, TimeoutError),
        (e.HTTPConnectionRefusedError, ConnectionRefusedError),
        (e.HTTPConnectionResetError, ConnectionResetError),
        (e.HTTPStreamClosedError, ConnectionError),
        (e.RemoteProtocolError, e.HTTPStreamClosedError),
        (e.ResponseTooLargeError, e.RemoteProtocolError),
        (e.HTTPNameResolutionError, socket.gaierror),
        (e.HTTPTLSError, ssl.SSLError),
        (e.HTTPCertificateError, ssl.SSLCertVerificationError),
    ],
)
def test_leaves_are_599_and_builtin(cls: type[e.HTTPTimeoutError], builtin: type) -> None:
    err = cls("what broke")
    assert isinstance(err, builtin) and isinstance(err, e.HTTPClientError)
    assert err.code == 599 and str(err) == "what broke"
    for clone in (copy.copy(err), pickle.loads(pickle.dumps(err))):
        assert type(clone) is cls and str(clone) == "what broke"


def test_default_messages() -> None:
    assert str(e.HTTPTimeoutError()) == "Timeout"
    assert str(e.HTTPStreamClosedError()) == "Stream closed"


def test_curl_error() -> None:
    err = e.CurlError(7, "Failed to connect")
    assert (err.code, err.errno, str(err)) == (599, 7, "HTTP 599: Failed to connect")
    assert copy.copy(err).errno == 7


@pytest.mark.parametrize(
    ("exc", "cls"),
    [
        (ConnectionRefusedError(111, "Connection refused"), e.HTTPConnectionRefusedError),
        (ConnectionResetError(104, "reset"), e.HTTPConnectionResetError),
        (socket.gaierror(-2, "Name or service not known"), e.HTTPNameResolutionError),
        (ssl.SSLCertVerificationError(1, "bad"), e.HTTPCertificateError),
        (ssl.SSLError(1, "handshake"), e.HTTPTLSError),
        (TimeoutError(), e.HTTPTimeoutError),
        (OSError(99, "Cannot assign"), e.HTTPConnectionError),
    ],
)
def test_translate_os_error(exc: BaseException, cls: type) -> None:
    err = e.translate_os_error(exc, "127.0.0.1:1")
    assert type(err) is cls
    assert "127.0.0.1:1" in str(err)
    if isinstance(exc, OSError) and exc.errno is not None:
        assert err.errno == exc.errno  # type: ignore[attr-defined]

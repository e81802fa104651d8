"""The error tree: what broke, and whose fault it was.

``HTTPClientError`` (alias ``HTTPError``) is the root, as in Tornado. A response
with a non-2xx status carries its real code; every failure that produced no
HTTP response at all uses code 599 and is one of the leaves below. Each leaf is
also the builtin exception that matches its cause, so code written against the
standard library (``except TimeoutError``, ``except ConnectionRefusedError``,
``except ssl.SSLCertVerificationError``) keeps working::

    HTTPClientError                      any status error; 599 leaves below
    +-- HTTPTimeoutError                 also TimeoutError; .phase says where
    +-- HTTPConnectionError              also ConnectionError
    |   +-- HTTPConnectionRefusedError   also ConnectionRefusedError
    |   +-- HTTPConnectionResetError     also ConnectionResetError
    |   +-- HTTPStreamClosedError        the peer closed before a full response
    |       +-- RemoteProtocolError      the peer broke HTTP (malformed message)
    |           +-- ResponseTooLargeError  a size limit was exceeded
    +-- HTTPNameResolutionError          also socket.gaierror
    +-- HTTPTLSError                     also ssl.SSLError
    |   +-- HTTPCertificateError         also ssl.SSLCertVerificationError
    +-- CurlError                        a libcurl failure with no closer match

Misuse of the API (a bad option, a malformed URL) is not in this tree: it is a
plain ``ValueError`` or ``TypeError`` raised before anything is sent.

Engines translate low-level exceptions once, at their I/O boundary, with
``translate_os_error``; the original exception stays in ``__cause__``.
"""

from __future__ import annotations

import errno as _errno
import os
import socket
import ssl
from http.client import responses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from squall._response import HTTPResponse

__all__ = [
    "CLIENT_CLOSED",
    "CurlError",
    "HTTPCertificateError",
    "HTTPClientError",
    "HTTPConnectionError",
    "HTTPConnectionRefusedError",
    "HTTPConnectionResetError",
    "HTTPError",
    "HTTPNameResolutionError",
    "HTTPStreamClosedError",
    "HTTPTLSError",
    "HTTPTimeoutError",
    "RemoteProtocolError",
    "ResponseTooLargeError",
    "connection_refused",
    "timeout_option",
    "translate_os_error",
]

NO_RESPONSE = 599

#: The message of the HTTPStreamClosedError a fetch fails with when close() ends it.
CLIENT_CLOSED = "The client was closed"


class HTTPClientError(Exception):
    """An HTTP request failed.

    Attributes:
        code: the HTTP status code, or 599 when no HTTP response was received.
        message: a human-readable description of the failure.
        response: the ``HTTPResponse`` if one exists (it is also set on
            transport errors, with code 599), else None.
        option: the name of the option whose limit this error hit, on size and
            timeout errors (``"max_body_size"``, ``"max_header_size"``,
            ``"connect_timeout"``, ``"request_timeout"``); None on the others.
        limit: that option's value: bytes for a size, seconds for a timeout;
            None when ``option`` is.
    """

    option: str | None = None
    limit: float | None = None

    def __init__(
        self, code: int, message: str | None = None, response: HTTPResponse | None = None
    ) -> None:
        self.code = code
        self.message = message or responses.get(code, "Unknown")
        self.response = response
        super().__init__(code, message, response)

    def __str__(self) -> str:
        return f"HTTP {self.code}: {self.message}"

    __repr__ = __str__

    @property
    def response(self) -> HTTPResponse | None:
        """The response, if any (see the class docstring)."""
        # A failure's 599 response holds its error, which reaches it through a
        # weak link (squall._failure.ResponseLink), so they form no cycle.
        # A held response stays in __dict__ under its name, as in Tornado.
        fields = self.__dict__
        link = fields.get("_response_link")
        return link(self) if link is not None else fields.get("response")

    @response.setter
    def response(self, response: HTTPResponse | None) -> None:
        self.__dict__["response"] = response
        self.__dict__.pop("_response_link", None)

    @property
    def url(self) -> str | None:
        """The URL that failed (the last hop's, after redirects), when known."""
        response = self.response
        if response is None:
            return None
        return response.effective_url or response.request.url

    @property
    def too_many_redirects(self) -> bool:
        """Whether this is a redirect left unfollowed because ``max_redirects`` ran out."""
        response = self.response
        return response is not None and response.too_many_redirects


HTTPError = HTTPClientError


class _NoResponseError(HTTPClientError):
    """Base of the 599 leaves; constructed from a message alone."""

    default_message = "Unknown"

    def __init__(self, message: str | None = None, response: HTTPResponse | None = None) -> None:
        self.code = NO_RESPONSE
        self.message = message or self.default_message
        self.response = response
        # Exception.__init__ only; OSError bases must not parse our message as errno.
        self.args = (message,)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message,), self.__dict__)


class HTTPTimeoutError(_NoResponseError, TimeoutError):
    """A timeout expired before the response was complete (code 599).

    ``phase`` names where: ``"queue"``, ``"resolve"``, ``"connect"``, ``"tls"``
    or ``"request"``. ``option`` names the timeout that expired
    (``"connect_timeout"`` or ``"request_timeout"``, see ``timeout_option``) and
    ``limit`` is its value in seconds; both are None for a timeout the system
    reported (a TCP ``ETIMEDOUT``), which no option set.
    """

    default_message = "Timeout"

    def __init__(
        self,
        message: str | None = None,
        response: HTTPResponse | None = None,
        phase: str = "",
        *,
        option: str | None = None,
        limit: float | None = None,
    ) -> None:
        super().__init__(message, response)
        self.phase = phase
        self.option = option
        self.limit = limit


class HTTPConnectionError(_NoResponseError, ConnectionError):
    """The connection failed or broke (code 599)."""

    default_message = "Connection error"


class HTTPConnectionRefusedError(HTTPConnectionError, ConnectionRefusedError):
    """The server refused the connection (code 599)."""

    default_message = "Connection refused"


class HTTPConnectionResetError(HTTPConnectionError, ConnectionResetError):
    """The peer reset the connection (code 599)."""

    default_message = "Connection reset by peer"


class HTTPStreamClosedError(HTTPConnectionError):
    """The connection closed before the response was complete (code 599)."""

    default_message = "Stream closed"


class RemoteProtocolError(HTTPStreamClosedError):
    """The server sent a message that breaks HTTP (code 599); the connection is dropped."""

    default_message = "Malformed HTTP response"


class ResponseTooLargeError(RemoteProtocolError):
    """The response exceeded max_header_size or max_body_size (code 599).

    ``option`` is the name of the limit exceeded (``"max_header_size"`` or
    ``"max_body_size"``) and ``limit`` its value in bytes; both are None for a
    limit of libcurl's own, which no option sets.
    """

    default_message = "Response too large"

    def __init__(
        self,
        message: str | None = None,
        response: HTTPResponse | None = None,
        *,
        option: str | None = None,
        limit: float | None = None,
    ) -> None:
        super().__init__(message, response)
        self.option = option
        self.limit = limit


class HTTPNameResolutionError(_NoResponseError, socket.gaierror):
    """The host name could not be resolved (code 599)."""

    default_message = "Name resolution failed"


class HTTPTLSError(_NoResponseError, ssl.SSLError):
    """The TLS handshake or TLS layer failed (code 599)."""

    default_message = "TLS error"


class HTTPCertificateError(HTTPTLSError, ssl.SSLCertVerificationError):
    """The server's certificate or host name failed verification (code 599)."""

    default_message = "Certificate verification failed"


class CurlError(_NoResponseError):
    """A libcurl failure with no closer class (code 599); ``errno`` is libcurl's code."""

    def __init__(
        self, errno: int, message: str | None = None, response: HTTPResponse | None = None
    ) -> None:
        super().__init__(message or f"libcurl error {errno}", response)
        self.errno = errno
        self.args = (errno, message)

    __str__ = HTTPClientError.__str__

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.errno, self.message), self.__dict__)


def timeout_option(
    phase: str, connect_timeout: float | None, request_timeout: float | None
) -> tuple[str | None, float | None]:
    """The option (and its value) whose deadline a timeout in ``phase`` means.

    The request phase is bounded by ``request_timeout`` alone. Every phase before
    it (the queue, resolving, connecting, TLS) by the smaller non-zero of the two,
    Tornado's rule; on a tie, by ``connect_timeout``. (None, None) if neither is set.
    """
    total = request_timeout or 0.0
    if phase == "request":
        return ("request_timeout", total) if total else (None, None)
    connect = connect_timeout or 0.0
    if connect and (not total or connect <= total):
        return "connect_timeout", connect
    return ("request_timeout", total) if total else (None, None)


def connection_refused(where: str) -> HTTPConnectionRefusedError:
    """A refused connection's error, from both engines: its message leads with the
    errno and strerror, as Tornado's does (``[Errno 111] Connection refused``,
    code matches ``str(e)``), and ``errno``/``strerror`` are set."""
    code = _errno.ECONNREFUSED
    text = os.strerror(code)
    err = HTTPConnectionRefusedError(f"[Errno {code}] {text} by {where}")
    err.errno, err.strerror = code, text
    return err


def _set_errno(err: _NoResponseError, cause: BaseException) -> _NoResponseError:
    if isinstance(err, OSError) and isinstance(cause, OSError):
        err.errno = cause.errno
        err.strerror = cause.strerror
    return err


def translate_os_error(exc: BaseException, where: str) -> HTTPClientError:
    """Map a low-level exception to the squall error for its cause.

    Args:
        exc: what the socket, resolver or TLS layer raised.
        where: the peer or phase, for the message (e.g. ``"127.0.0.1:8080"``).

    Returns:
        The matching HTTPClientError (the caller raises it ``from exc``).
        An HTTPClientError is returned as is.
    """
    if isinstance(exc, HTTPClientError):
        return exc
    detail = str(exc) or type(exc).__name__
    err: _NoResponseError
    if isinstance(exc, ssl.SSLCertVerificationError):
        err = HTTPCertificateError(f"Certificate verification failed for {where}: {detail}")
    elif isinstance(exc, ssl.SSLError):
        err = HTTPTLSError(f"TLS error with {where}: {detail}")
    elif isinstance(exc, socket.gaierror):
        err = HTTPNameResolutionError(f"Could not resolve {where}: {detail}")
    elif isinstance(exc, ConnectionRefusedError):
        return connection_refused(where)
    elif isinstance(exc, ConnectionResetError):
        err = HTTPConnectionResetError(f"Connection reset by {where}")
    elif isinstance(exc, TimeoutError):
        err = HTTPTimeoutError(f"Timeout with {where}")
    elif isinstance(exc, OSError):
        err = HTTPConnectionError(f"Connection to {where} failed: {detail}")
    else:
        err = HTTPStreamClosedError(f"Connection to {where} failed: {detail}")
    return _set_errno(err, exc)

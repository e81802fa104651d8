"""Exit statuses: curl's numbers wherever curl has one for the same failure.

The table is looked up along the exception's MRO, so the most specific class
wins. The curl engine's other libcurl failures exit with libcurl's own number,
which is curl's by construction.
"""

from __future__ import annotations

from squall import _errors as errors

__all__ = [
    "EXIT_CODES",
    "HTTP_FAILED",
    "INTERRUPTED",
    "PARTIAL_FILE",
    "READ_FAILED",
    "TOO_MANY_REDIRECTS",
    "TUNNEL_FAILED",
    "USAGE",
    "WRITE_FAILED",
    "Failure",
    "exit_status",
]

USAGE = 2  # curl: CURLE_FAILED_INIT is 2, and curl uses it for bad options
PARTIAL_FILE = 18  # the connection closed after the head, before the whole body
HTTP_FAILED = 22  # --fail and a status >= 400
WRITE_FAILED = 23
READ_FAILED = 26
TOO_MANY_REDIRECTS = 47
TUNNEL_FAILED = 56  # curl: a proxy refused CONNECT ("CONNECT tunnel failed, response 407")
INTERRUPTED = 130
_NO_CONNECTION = 7

EXIT_CODES: dict[type[BaseException], int] = {
    errors.HTTPNameResolutionError: 6,
    errors.HTTPConnectionError: 7,
    errors.RemoteProtocolError: 8,
    errors.HTTPTimeoutError: 28,
    errors.HTTPTLSError: 35,
    errors.HTTPStreamClosedError: 56,
    errors.HTTPConnectionResetError: 56,
    errors.HTTPCertificateError: 60,
    errors.ResponseTooLargeError: 63,
    errors.HTTPClientError: 1,
}

EPILOG = """\
exit status (curl's numbers):
  0    a response arrived (any status unless --fail)
  1    seed command only: an HTTP error status (4xx, 5xx, or a 3xx not followed)
  2    usage error (bad flag, URL, header, an option the engine lacks)
  6    could not resolve the host          28   timeout
  7    could not connect                   35   TLS error
  8    malformed HTTP response             47   too many redirects (-L)
  18   connection closed mid-body          56   closed before a response, or a
                                                proxy refused CONNECT
  22   --fail and a status >= 400          60   certificate verification failed
  23   could not write the output          63   body over --max-filesize
  26   could not read a -d/-F @file        130  interrupted
The curl engine's other failures exit with libcurl's error number. With several
URLs the exit status is that of the last one that failed.
"""


class Failure(Exception):
    """An expected failure: one line for stderr and the exit status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def exit_status(exc: errors.HTTPClientError) -> int:
    """The exit status for a failed fetch (see EPILOG)."""
    if isinstance(exc, errors.ResponseTooLargeError):
        return 63  # also a CurlError (23) on the curl engine: the size is what matters
    if isinstance(exc, errors.CurlError) and 0 < exc.errno < 256:
        return exc.errno
    status = next(EXIT_CODES[k] for k in type(exc).__mro__ if k in EXIT_CODES)
    return _NO_CONNECTION if status == 1 and exc.code == errors.NO_RESPONSE else status

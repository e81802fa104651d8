"""HTTPResponse: the plain-data result of a fetch.

A response holds only data (code, headers, body buffer, timings, error), so
it can cross threads safely: with the blocking client, whichever thread is
running the private loop builds it, and the caller's thread gets it.

A response and its error refer to each other (``response.error.response is
response``), as in Tornado, without forming a reference cycle, so that a failed
fetch's response and body are freed by reference counting alone. One side of
each pair holds the other; the other side holds it weakly and rebuilds it from
its own data if it died (nobody held it, so nobody can tell):

- a status error (404): the response holds the data, and its error is made on
  first use (it holds the response; the response holds it weakly);
- a failure without a response (599): the error holds the cause, the response
  holds it, and ``error.response`` is remade from the request and timings
  when only the error was kept (``squall._failure.ResponseLink``).
"""

from __future__ import annotations

import json
import weakref
from http.client import responses
from io import BytesIO
from typing import TYPE_CHECKING, Any

from squall._errors import HTTPClientError
from squall._headers import HTTPHeaders
from squall._request import HTTPRequest

__all__ = ["HTTPResponse"]


class HTTPResponse:
    """The response to an HTTP request.

    Attributes:
        request: the HTTPRequest the caller passed (the original one, also
            after redirects).
        code: numeric status code, e.g. 200 or 404; 599 when no HTTP
            response was received.
        reason: the reason phrase (the server's, else the standard one).
        headers: an HTTPHeaders.
        buffer: a BytesIO of the body, or None.
        body: the body as bytes (``b""`` without a buffer).
        effective_url: the URL after following redirects.
        error: the exception, if any. A non-2xx status without another error
            gets an HTTPClientError for that status.
        request_time: seconds from the start of the HTTP work to its end
            (queue time excluded).
        start_time: wall-clock time (``time.time()``) when the HTTP work
            started; None if the request never left the queue.
        time_info: timings in seconds with libcurl's meanings: ``queue``,
            ``namelookup``, ``connect``, ``appconnect``, ``pretransfer``,
            ``starttransfer``, ``total``, ``redirect``.
    """

    # Set when ``error`` was made from the status code alone (raise_error=False
    # suppresses exactly these).
    _error_is_response_code = False
    #: Set for those (unless ``error`` was assigned): ``error`` is then missing
    #: from the instance's ``__dict__`` and made by ``__getattr__``.
    _status_error: weakref.ref[HTTPClientError] | None = None
    error: BaseException | None
    #: True for a redirect returned because ``max_redirects`` ran out (curl's
    #: "Maximum redirects followed", exit code 47).
    too_many_redirects = False

    def __init__(
        self,
        request: HTTPRequest,
        code: int,
        headers: HTTPHeaders | None = None,
        buffer: BytesIO | None = None,
        effective_url: str | None = None,
        error: BaseException | None = None,
        request_time: float | None = None,
        time_info: dict[str, float] | None = None,
        reason: str | None = None,
        start_time: float | None = None,
    ) -> None:
        self.request = request
        self.code = code
        self.reason = reason or responses.get(code, "Unknown")
        self.headers = headers if headers is not None else HTTPHeaders()
        self.buffer = buffer
        self._body: bytes | None = None
        self.effective_url = request.url if effective_url is None else effective_url
        if error is None and not 200 <= code < 300:
            self._error_is_response_code = True
            self._status_error = None  # ``error`` is made on first use: no cycle
        else:
            self._error_is_response_code = False
            self.error = error
        self.start_time = start_time
        self.request_time = request_time
        self.time_info = time_info if time_info is not None else {}

    @property
    def body(self) -> bytes:
        """The response body as bytes, read once from ``buffer``."""
        if self._body is None:
            self._body = self.buffer.getvalue() if self.buffer is not None else b""
        return self._body

    @property
    def text(self) -> str:
        """The body decoded with the charset of Content-Type, else as UTF-8.

        Bytes that do not decode are replaced (U+FFFD), as browsers do; an
        unknown charset name falls back to UTF-8.
        """
        charset = "utf-8"
        content_type = self.headers.get("Content-Type", "") if self.headers else ""
        for param in content_type.split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.lower() == "charset" and value.strip('"'):
                charset = value.strip('"').strip()
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON (UTF-8, as RFC 8259 requires; a BOM is allowed).

        Raises:
            ValueError: the body is not JSON (``json.JSONDecodeError``).
        """
        return json.loads(self.body.decode("utf-8-sig"))

    if not TYPE_CHECKING:  # mypy still checks every other attribute's name

        def __getattr__(self, name: str) -> Any:
            # Only reached when normal lookup fails: ``error`` of a status error
            # response that nobody assigned. The error is made again if the last
            # one died (nothing held it, so its identity cannot be compared).
            fields = self.__dict__
            if name != "error" or "_status_error" not in fields:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            ref = fields["_status_error"]
            error = ref() if ref is not None else None
            if error is None:
                error = HTTPClientError(self.code, message=self.reason, response=self)
                fields["_status_error"] = weakref.ref(error)
            return error

    def rethrow(self) -> None:
        """Raise ``error`` if the request failed; otherwise do nothing."""
        error = self.error
        if error is not None:
            try:
                raise error
            finally:
                del error, self  # the traceback keeps this frame: no cycle through it

    def __repr__(self) -> str:
        fields = {name: value for name, value in vars(self).items() if not name.startswith("_")}
        fields.setdefault("error", self.error)
        text = ",".join(f"{name}={value!r}" for name, value in sorted(fields.items()))
        return f"{type(self).__name__}({text})"

    def __getstate__(self) -> dict[str, Any]:
        state = dict(vars(self))
        state["_body"] = self.body
        if "_status_error" in state:
            state["_status_error"] = None  # a weak reference: the error is remade on use
        return state

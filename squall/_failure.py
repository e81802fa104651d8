"""The 599 response of a failed fetch, and the weak link from its error back to it.

Tornado's shape is ``response.error.response is response``. Here the response
holds the error, and the error reaches the response through a ``ResponseLink``
(its ``response`` property, in ``squall._errors``): a weak reference, so the two
form no reference cycle and both are freed by reference counting alone. A
raised error is usually all a caller keeps; its response is then made again,
equal (same request, code, timings, no body), when first read.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

from squall._errors import NO_RESPONSE, HTTPClientError
from squall._request import HTTPRequest
from squall._response import HTTPResponse

__all__ = ["ResponseLink", "failed_response"]


def failed_response(
    original: HTTPRequest,
    exc: Exception,
    start_time: float | None,
    started: float,
    time_info: dict[str, float] | None = None,
) -> HTTPResponse:
    """The 599 response that carries ``exc`` (Tornado: ``HTTPResponse(code=599)``).

    Args:
        original: the request as the caller made it.
        exc: why the fetch failed; an HTTPClientError without a response is
            linked to this one (``exc.response``).
        start_time: ``time.time()`` when the HTTP work started, if it did.
        started: ``time.perf_counter()`` when the fetch started.
        time_info: what the response's ``time_info`` says (the retries made).
    """
    link = ResponseLink(original, time.perf_counter() - started, start_time, time_info)
    if isinstance(exc, HTTPClientError) and exc.response is None:
        exc.__dict__["_response_link"] = link  # read by the ``response`` property
    return link(exc)


class ResponseLink:
    """``error.response`` of a failure without a response: the 599 response holds
    the error, and the error reaches it through this weak reference, so they form
    no cycle. Once the response died (only the error was kept: a raised error),
    an equal one is made again from the request and the timings."""

    __slots__ = ("_ref", "request", "request_time", "start_time", "time_info")

    def __init__(
        self,
        request: HTTPRequest,
        request_time: float,
        start_time: float | None,
        time_info: dict[str, float] | None = None,
    ) -> None:
        self.request = request
        self.request_time = request_time
        self.start_time = start_time
        self.time_info = time_info
        self._ref: weakref.ref[HTTPResponse] | None = None

    def __call__(self, error: BaseException) -> HTTPResponse:
        response = self._ref() if self._ref is not None else None
        if response is None:
            response = HTTPResponse(
                self.request,
                NO_RESPONSE,
                error=error,
                request_time=self.request_time,
                start_time=self.start_time,
                time_info=dict(self.time_info) if self.time_info else None,
            )
            self._ref = weakref.ref(response)
        return response

    def __reduce__(self) -> tuple[Any, ...]:
        return (ResponseLink, (self.request, self.request_time, self.start_time, self.time_info))

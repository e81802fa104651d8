"""The steps around the engine's hops in ``AsyncHTTPClient._fetch``.

The base client runs one coroutine per fetch; what it does before, between
and after the engine's hops lives here, so the public module keeps only the
client's interface:

- ``queue_timeout``: how long a fetch may wait for a ``max_clients`` slot;
- ``hop_with_extras``: one hop with the opt-in cookie jar and retry policy
  (the usual hop awaits the engine directly, without this frame);
- ``Hops``: the timings of a redirect chain, added into the final response;
- ``outcome``: whether the fetch's Future gets the response or its error;
- ``run_callback``: the ``callback=`` adapter at the public edge;
- ``cancel_requested`` and ``retrieve_when_done``: the cancellation and
  close() cases, where nobody may read the task's error.

Everything is called on the fast path at most once per fetch, as a plain
function (no extra coroutine frame): the hot loop stays in ``_fetch``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from http.cookiejar import CookieJar
from typing import Any

from squall._cookies import receive_cookies, send_cookies
from squall._errors import HTTPTimeoutError, timeout_option
from squall._logging import app_log
from squall._request import HTTPRequest
from squall._response import HTTPResponse
from squall._retries import checked_retries

__all__ = [
    "Hops",
    "cancel_requested",
    "hop_with_extras",
    "outcome",
    "queue_timeout",
    "retrieve_when_done",
    "run_callback",
]


def queue_timeout(request: HTTPRequest) -> tuple[float, str | None]:
    """Tornado's rule: the smaller non-zero of connect_timeout and request_timeout
    (0 for none), and the option's name for the error."""
    option, limit = timeout_option("queue", request.connect_timeout, request.request_timeout)
    return limit or 0.0, option


async def hop_with_extras(
    jar: CookieJar | None,
    hop: Callable[[HTTPRequest], Awaitable[HTTPResponse]],
    request: HTTPRequest,
    hops: Hops,
) -> HTTPResponse:
    """One hop with the opt-in extras: the cookie jar and the retry policy."""
    policy = checked_retries(request.retries)
    retry = 0
    while True:
        added = jar is not None and send_cookies(jar, request)
        try:
            response = await hop(request)
        except Exception as exc:
            if policy is None or retry >= policy.total or not policy.retries_error(request, exc):
                hops.retries += retry  # the 599 response tells them too
                raise
            wait = policy.wait(retry, None)
        else:
            if jar is not None:
                receive_cookies(jar, request, response)
            if (
                policy is None
                or retry >= policy.total
                or not policy.retries_status(request, response.code)
            ):
                break
            wait = policy.wait(retry, response.headers)
            if wait is None:
                break
        finally:
            if added:
                del request.headers["Cookie"]  # the next hop asks the jar again
        retry += 1
        await asyncio.sleep(wait or 0)
    hops.retries += retry
    return response


def cancel_requested(exc: BaseException) -> bool:
    """True if the running fetch's task was cancelled before ``exc`` ended it."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    if cancelling is not None:  # Python 3.11+ counts the cancel requests not withdrawn
        return bool(cancelling())
    # Python 3.10: only the exception tells (a timeout is raised from a CancelledError too).
    return isinstance(exc.__context__, asyncio.CancelledError) and not isinstance(
        exc, HTTPTimeoutError
    )


def retrieve_when_done() -> None:
    """Mark the running task's exception as retrieved once it is set: asyncio
    then never logs "Task exception was never retrieved" for it."""
    task = asyncio.current_task()
    if task is not None:
        task.add_done_callback(_retrieve)


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def outcome(response: HTTPResponse, raise_error: bool, deliver_errors: bool) -> HTTPResponse:
    """The fetch's result: ``response``, or its error raised (see ``_fetch``)."""
    if deliver_errors or (not raise_error and response._error_is_response_code):
        return response  # a status error is not even made
    error = response.error
    if error is None:
        return response
    try:
        raise error
    finally:
        # The error's traceback keeps this frame, and a 599 response holds its error.
        del error, response


class Hops:
    """Adds up the timings of a redirect chain into the final response."""

    __slots__ = ("queue", "redirect", "retries", "start_time")

    def __init__(self, queue: float) -> None:
        self.queue = queue
        self.retries = 0
        self.redirect = 0.0
        self.start_time: float | None = None

    def add(self, response: HTTPResponse) -> None:
        if self.start_time is None:
            self.start_time = response.start_time
        self.redirect += response.request_time or 0.0

    def finish(self, original: HTTPRequest, response: HTTPResponse) -> HTTPResponse:
        info = response.time_info
        redirect = self.redirect
        if redirect:
            for key in ("namelookup", "connect", "appconnect", "pretransfer", "starttransfer"):
                if key in info:
                    info[key] += redirect
            info["total"] = info.get("total", 0.0) + redirect
            response.request_time = (response.request_time or 0.0) + redirect
            response.start_time = self.start_time
        info["queue"] = self.queue
        info["redirect"] = redirect
        if self.retries:
            info["retries"] = self.retries
        response.request = original
        return response


def run_callback(callback: Callable[[HTTPResponse], Any], task: asyncio.Task[HTTPResponse]) -> None:
    """The ``callback=`` form: call it with the finished fetch's response (a
    raised exception is logged, as Tornado does)."""
    if task.cancelled():
        return
    try:
        callback(task.result())
    except Exception:
        app_log.exception("Exception in callback %r", callback)

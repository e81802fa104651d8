"""A user callback's exception, as Tornado's clients report it (both engines).

Tornado runs ``header_callback`` and ``streaming_callback`` inside its
connection's message reading: an exception there is logged once, as "Uncaught
exception" with its traceback on the application logger, and the connection is
closed, so the fetch fails with ``HTTPStreamClosedError`` (599). The user's
exception is kept as the error's ``__cause__``, and the connection is never
reused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

from squall._errors import HTTPStreamClosedError
from squall._logging import app_log

__all__ = ["await_streaming", "callback_failed", "cancelled_by_its_task", "deliver_header_lines"]


def callback_failed(exc: BaseException, name: str) -> HTTPStreamClosedError:
    """Log ``exc`` (raised by the user's ``name`` callback) and return the fetch's
    error, with ``exc`` as its ``__cause__``.

    Args:
        exc: what the callback raised, or what its awaitable raised.
        name: ``"header_callback"`` or ``"streaming_callback"``.
    """
    app_log.error("Uncaught exception", exc_info=exc)
    error = HTTPStreamClosedError(f"Connection closed: the {name} raised {type(exc).__name__}")
    error.__cause__ = exc
    return error


def deliver_header_lines(callback: Callable[[str], object], lines: Iterable[str]) -> None:
    """Hand a response head's lines to the user's ``header_callback`` (both protocols
    of the simple engine); its failure becomes the fetch's (``callback_failed``)."""
    try:
        for line in lines:
            callback(line)
    except Exception as exc:
        raise callback_failed(exc, "header_callback") from exc


async def await_streaming(pending: Awaitable[object]) -> None:
    """Await what a coroutine ``streaming_callback`` returned (both protocols of
    the simple engine): its failure becomes the fetch's (``callback_failed``);
    the fetch's own cancellation passes through unchanged."""
    try:
        await pending
    except (Exception, asyncio.CancelledError) as exc:
        if cancelled_by_its_task(exc):
            raise
        raise callback_failed(exc, "streaming_callback") from exc


def cancelled_by_its_task(exc: BaseException) -> bool:
    """Whether what a callback's awaitable raised belongs to the fetch's own task
    being cancelled (it must propagate: the base then logs "Exception after Future
    was cancelled", as Tornado does), rather than a callback failure. That is so
    whenever the task is being cancelled, whatever the callback raised on its way
    out. Python 3.10 cannot tell: a CancelledError is then taken as the task's."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    if cancelling is None:
        return isinstance(exc, asyncio.CancelledError)
    return bool(cancelling() > 0)

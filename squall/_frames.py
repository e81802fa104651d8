"""Traceback hygiene: a failed fetch's error must not keep the engine's objects alive.

An exception's traceback keeps every frame it went through, and a finished
frame keeps its locals (and, from Python 3.11, its caller's frame). squall's
and asyncio's frames hold the engine's objects (a failed future, a transfer, a
connection, the task that ran them), and those hold the error or its cause: a
reference cycle, so the error, the fetch's task, its response and the
connection would wait for the garbage collector. Clearing those frames' locals
once the error reaches the client's boundary breaks every such cycle; the
traceback itself (files, lines, functions) is kept.
"""

from __future__ import annotations

import contextlib
import inspect

__all__ = ["clear_own_frames"]

#: Modules whose frames are cleared: the caller's own frames (a callback, a
#: resolver, a subclass's fetch_once) keep their locals for debugging.
_OWN_FRAMES = ("squall.", "asyncio.")
_RESUMABLE = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


def clear_own_frames(exc: BaseException) -> None:
    """Clear the locals of squall's and asyncio's finished frames in the
    tracebacks of ``exc`` and of its causes and contexts."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        tb = error.__traceback__
        # The first frame caught the error: a coroutine there may still run, and
        # clearing a suspended coroutine's frame would close it. The error left
        # every later frame, so they are done.
        first = True
        while tb is not None:
            frame = tb.tb_frame
            if frame.f_globals.get("__name__", "").startswith(_OWN_FRAMES) and not (
                first and frame.f_code.co_flags & _RESUMABLE
            ):
                with contextlib.suppress(RuntimeError):  # a frame still running
                    frame.clear()
            first = False
            tb = tb.tb_next
        error = error.__cause__ or error.__context__

"""A private event loop on a daemon thread, for the blocking HTTPClient.

Running the loop on its own thread (rather than ``run_until_complete`` on the
caller's thread, as Tornado does) is what lets the blocking client work from
any thread, from several threads at once, and from code whose own thread is
already running an event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

__all__ = ["LoopThread"]

T = TypeVar("T")


def new_private_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop when it is installed (nothing else ever sees this loop, so
    its speed comes free), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


class LoopThread:
    """Owns an asyncio loop running forever on a daemon thread."""

    def __init__(self, loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None) -> None:
        self.loop = (loop_factory or new_private_loop)()
        started = threading.Event()
        self._thread = threading.Thread(
            target=self._main, args=(started,), name="squall-loop", daemon=True
        )
        self._thread.start()
        started.wait()
        self._closed = False

    def _main(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(started.set)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop thread and return its result (blocking).

        Raises:
            RuntimeError: called on the loop thread itself, or after stop().
            Whatever ``coro`` raises.
        """
        if self._closed:
            coro.close()
            raise RuntimeError("the HTTPClient is closed")
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("HTTPClient.fetch() called from its own loop thread")
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # e.g. KeyboardInterrupt in the caller: stop the fetch too
            raise

    def stop(self) -> None:
        """Stop the loop, join the thread and close the loop (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            if threading.current_thread() is not self._thread:
                self._thread.join()
        if not self.loop.is_running():
            self.loop.close()

"""The blocking HTTPClient's private event loop, run by the threads that wait on it.

Why no loop thread: the loop used to run forever on a daemon thread, and every
blocking call hopped there and back. Those two thread switches cost about a
tenth of a small sequential GET, and a daemon thread is frozen at interpreter
exit, so a ``close()`` left to ``__del__`` waited for it forever.

Instead the calling thread runs the loop itself (``run_until_complete``) until
its own work is done; between calls no thread runs it. One thread at a time
runs the loop, the *driver*, and only the driver touches asyncio (and pycurl)
objects, apart from asyncio's thread-safe entry points:

- A thread that finds another one driving submits its work thread-safely
  (``run_coroutine_threadsafe``) and waits on a Condition. The driver runs
  that work along with its own; when its own is done it leaves and wakes the
  waiters, and one whose work is still pending takes over (leader/follower).
  Whether to drive is decided under the Condition, and a leaving driver wakes
  the waiters under it, so submitted work is never left without a driver.
- A thread whose own event loop is running cannot run a second loop (asyncio
  forbids it), so a helper daemon thread, started on first need, drives for it.

``close()`` runs in the calling thread as well, so it needs no thread in the
common case; at interpreter exit it never waits for another thread (daemon
threads may be frozen then), it only does what it can do at once.

The loop is asyncio's selector loop even when uvloop is installed: run once
per call rather than forever, uvloop's heavier start (its signal set-up in
the main thread) cost more than its faster I/O saved, measured on sequential
small GETs.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import functools
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from squall._frames import clear_own_frames

__all__ = ["ClosedDuringCall", "LoopDriver"]

T = TypeVar("T")

#: How long close() lets the work it ended finish before cancelling what is left
#: (a safety net: a closed client ends its fetches within a few loop iterations).
ENDING_TIMEOUT = 2.0


class ClosedDuringCall(RuntimeError):
    """``close()`` cancelled the work of a running ``LoopDriver.run()`` call."""


class LoopDriver:
    """A private event loop that the threads calling ``run()`` take turns to run.

    Args:
        loop_factory: makes the loop (default: ``asyncio.SelectorEventLoop``).
    """

    def __init__(self, loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None) -> None:
        self.loop = (loop_factory or asyncio.SelectorEventLoop)()
        # Everything below is guarded by _lock (``with self._lock`` is the
        # cheaper spelling of ``with self._cond``, on the same lock).
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._driving = False  # a thread is running the loop (or about to)
        self._waiting = 0  # threads waiting in _follow() or close()
        self._closed = False  # no new work is accepted
        self._helper: threading.Thread | None = None
        self._helped: collections.deque[concurrent.futures.Future[Any]] = collections.deque()

    # -- running work ----------------------------------------------------------

    def run(self, start: Callable[[], Awaitable[T]]) -> T:
        """Call ``start()`` for the loop and wait for its awaitable's result.

        ``start`` is called by the thread driving the loop, perhaps before the
        loop starts running, so it may create tasks but not need a running loop
        (``AsyncHTTPClient.fetch`` or a coroutine function).

        Raises:
            ClosedDuringCall: close() cancelled the work (a RuntimeError).
            RuntimeError: called after close(), or from inside the loop itself.
            Whatever the awaitable raises. If the caller is interrupted
            (KeyboardInterrupt), the work is cancelled and the exception raised.
        """
        try:
            return self._run(start, closing=False)
        except (asyncio.CancelledError, concurrent.futures.CancelledError):
            if self._closed:  # close() cancels the work left on the loop
                raise ClosedDuringCall("the HTTPClient was closed during the call") from None
            raise

    def _run(self, start: Callable[[], Awaitable[T]], closing: bool) -> T:
        running = _running_loop()
        if running is self.loop:
            raise RuntimeError("the blocking HTTPClient cannot be called from its own event loop")
        # ``driving`` is set before ``_driving`` and the ``finally`` covers both,
        # so that an interruption (KeyboardInterrupt) can never leave the loop
        # marked as driven by no one: everyone would wait forever.
        driving = False
        try:
            with self._lock:
                if self._closed and not closing:
                    raise RuntimeError("the HTTPClient is closed")
                if running is None and not self._driving:
                    driving = True
                    self._driving = True
                else:
                    # Submitted under the lock: close() marks the driver closed
                    # under it, so no work reaches the loop after close() begins.
                    future = asyncio.run_coroutine_threadsafe(_call(start), self.loop)
                    if running is None:
                        self._waiting += 1
                    else:
                        self._helped.append(future)
                        self._start_helper()
            if driving:
                return self._drive(start)
        finally:
            if driving:
                self._leave()
        # Outside the lock: the callback runs at once if the work is already done.
        future.add_done_callback(self._wake)
        try:
            if running is None:
                return self._follow(future)
            try:
                return future.result()
            except BaseException:
                future.cancel()  # e.g. KeyboardInterrupt in the caller: stop the work too
                raise
        finally:
            del future  # it holds the raised error, whose traceback keeps this frame

    def _drive(self, start: Callable[[], Awaitable[T]]) -> T:
        """Run the loop until ``start()``'s work is done (the caller is the driver)."""
        task = asyncio.ensure_future(start(), loop=self.loop)
        try:
            return self.loop.run_until_complete(task)
        except BaseException as exc:
            if not task.done():
                task.cancel()  # interrupted: the next driver runs the cancellation
            clear_own_frames(exc)  # run_until_complete's frame holds the task, which holds exc
            raise
        finally:
            del task  # it holds the raised error, whose traceback keeps this frame

    def _follow(self, future: concurrent.futures.Future[T]) -> T:
        """Wait for submitted work, driving the loop whenever no one else does."""
        try:
            while not future.done():
                driving = False
                try:
                    with self._lock:
                        while self._driving and not future.done():
                            self._cond.wait()
                        if future.done():
                            break
                        if self.loop.is_closed():  # cannot happen: close() ran all work
                            raise RuntimeError("the HTTPClient is closed")
                        driving = True
                        self._driving = True
                    self._drive_until(future)
                finally:
                    if driving:
                        self._leave()
            return future.result()
        except BaseException:
            future.cancel()  # e.g. KeyboardInterrupt in the caller: stop the work too
            raise
        finally:
            del future  # it holds the raised error, whose traceback keeps this frame
            with self._lock:
                self._waiting -= 1

    def _drive_until(self, future: concurrent.futures.Future[Any]) -> None:
        """Run the loop until submitted work is done, whatever its outcome."""
        # Plain futures, no task: close() cancels every task, and must not cancel this wait.
        waiter = asyncio.wrap_future(future, loop=self.loop)
        done = self.loop.create_future()
        waiter.add_done_callback(functools.partial(_settle, done))
        self.loop.run_until_complete(done)

    def _leave(self) -> None:
        """Stop being the driver; wake the threads that may need to take over."""
        with self._lock:
            self._driving = False
            if self._waiting or self._helped:
                self._cond.notify_all()

    def _wake(self, _: object) -> None:
        """Some submitted work is done: wake its waiter (called by the driver)."""
        with self._lock:
            self._cond.notify_all()

    # -- the helper thread, for callers whose own loop is running ----------------

    def _start_helper(self) -> None:
        """Start the helper thread, or wake it if it runs (the caller holds _lock)."""
        if self._helper is not None and self._helper.is_alive():
            self._cond.notify_all()
            return
        self._helper = threading.Thread(target=self._help, name="squall-loop-helper", daemon=True)
        self._helper.start()

    def _help(self) -> None:
        """The helper thread: drive the loop for the queued work, in turn, until
        close() has closed the loop (so no work can be queued after it exits)."""
        helped = self._helped
        while True:
            driving = False
            try:
                with self._lock:
                    while True:
                        while helped and helped[0].done():
                            helped.popleft()
                        if self.loop.is_closed():
                            if not helped:
                                return
                            helped.popleft().cancel()  # cannot happen: close() ran all work
                            continue
                        if helped and not self._driving:
                            break
                        self._cond.wait()
                    future = helped[0]
                    driving = True
                    self._driving = True
                self._drive_until(future)
            except BaseException:
                if driving:
                    future.cancel()  # unexpected: at least its caller must not wait forever
                raise
            finally:
                if driving:
                    self._leave()

    # -- closing ---------------------------------------------------------------------

    def close(self, last: Callable[[], object] | None = None) -> None:
        """Call ``last()`` on the loop, cancel the work left there, close the loop
        and stop the helper thread. Idempotent.

        At interpreter exit it never waits for another thread: if the loop is
        free it closes it at once, else it leaves it to the process's end.

        Raises:
            RuntimeError: called from inside the loop itself.
        """
        if sys.is_finalizing():
            self._close_at_exit(last)
            return
        if _running_loop() is self.loop:
            raise RuntimeError("the blocking HTTPClient cannot be closed from its own event loop")
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            self._run(lambda: self._shutdown(last, executor=True), closing=True)
        finally:
            with self._lock:
                self._waiting += 1
                try:
                    while self._driving:  # a thread whose work was cancelled is leaving
                        self._cond.wait()
                finally:
                    self._waiting -= 1
                if not self.loop.is_closed():
                    self.loop.close()
                helper = self._helper
                self._cond.notify_all()  # the helper thread exits
            if helper is not None and helper is not threading.current_thread():
                helper.join()

    def _close_at_exit(self, last: Callable[[], object] | None) -> None:
        # Another thread may hold the lock or the loop, and be frozen for good.
        if not self._lock.acquire(blocking=False):
            return
        try:
            free = not (self._closed or self._driving or _running_loop() is not None)
            self._closed = True
            self._driving = True
        finally:
            self._lock.release()
        if free:
            try:
                self.loop.run_until_complete(self._shutdown(last, executor=False))
            finally:
                self.loop.close()

    async def _shutdown(self, last: Callable[[], object] | None, executor: bool) -> None:
        """On the loop: ``last()``, then cancel and await every other task.

        The work ``last()`` ends (the fetches a client's close() fails) is given
        its turn to end first, so that its callers see how it ended; only what
        is still running after that is cancelled.
        """
        try:
            if last is not None:
                last()
        finally:
            me = asyncio.current_task()
            tasks = [task for task in asyncio.all_tasks() if task is not me]
            if last is not None and tasks:
                _, tasks_left = await asyncio.wait(tasks, timeout=ENDING_TIMEOUT)
                tasks = list(tasks_left)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.loop.shutdown_asyncgens()
            if executor:  # it joins the executor's threads with a new thread
                await self.loop.shutdown_default_executor()


def _settle(done: asyncio.Future[None], waiter: asyncio.Future[Any]) -> None:
    if not waiter.cancelled():
        waiter.exception()  # the outcome is read from the concurrent future; mark it read
    if not done.done():
        done.set_result(None)


async def _call(start: Callable[[], Awaitable[T]]) -> T:
    return await start()


# The event loop running in this thread, if any (asyncio's fast, quiet check).
_running_loop: Callable[[], asyncio.AbstractEventLoop | None] = asyncio._get_running_loop

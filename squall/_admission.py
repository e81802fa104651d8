"""The max_clients gate: at most N fetches run at once, the rest wait in FIFO order.

A waiting fetch has its own timeout (the queue timeout); time spent waiting is
reported as ``time_info["queue"]`` and is not charged to ``request_timeout``.

Invariant: ``active`` counts the slots held. A released slot passes straight
to the first live waiter (``active`` unchanged), so a newcomer can never jump
the queue between a release and the waiter waking up.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

from squall._errors import HTTPTimeoutError

__all__ = ["Admission"]


class Admission:
    """A FIFO counting gate with a per-waiter timeout."""

    def __init__(self, max_clients: int) -> None:
        # max_clients was checked with the client's arguments (squall._arguments).
        self.max_clients = max_clients
        self.active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def queued(self) -> int:
        """How many fetches are waiting for a slot."""
        return sum(1 for waiter in self._waiters if not waiter.done())

    def __repr__(self) -> str:
        return f"<Admission {self.active}/{self.max_clients} active, {self.queued} queued>"

    async def acquire(self, timeout: float, option: str | None = None) -> float:
        """Wait for a slot; return the seconds spent waiting.

        Args:
            timeout: seconds to wait at most; 0 means no limit.
            option: the name of the option ``timeout`` comes from, for the error.

        Raises:
            HTTPTimeoutError: "Timeout in request queue" (phase ``"queue"``),
                with ``option`` and ``timeout`` as its ``option`` and ``limit``.
        """
        if self.active < self.max_clients and not self._waiters:
            self.active += 1
            return 0.0
        loop = asyncio.get_running_loop()
        # perf_counter, not loop.time(): uvloop's clock ticks in milliseconds.
        started = time.perf_counter()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        timer = loop.call_later(timeout, _expire, waiter, timeout, option) if timeout else None
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.release()  # the slot arrived as we were cancelled: pass it on
            raise
        finally:
            if timer is not None:
                timer.cancel()
            if not waiter.done() or waiter.cancelled() or waiter.exception() is not None:
                _discard(self._waiters, waiter)
        return time.perf_counter() - started

    def release(self) -> None:
        """Give a slot back, handing it to the first live waiter if any."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.active -= 1


def _expire(waiter: asyncio.Future[None], timeout: float, option: str | None) -> None:
    if not waiter.done():
        limit = timeout if option else None
        waiter.set_exception(
            HTTPTimeoutError("Timeout in request queue", phase="queue", option=option, limit=limit)
        )


def _discard(waiters: deque[asyncio.Future[None]], waiter: asyncio.Future[None]) -> None:
    with contextlib.suppress(ValueError):
        waiters.remove(waiter)

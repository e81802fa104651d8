"""The deadline table: every hop of one engine behind a single loop timer.

``Deadlines`` keeps each running hop's deadline as a dict entry and arms one
loop timer for the earliest; ``HopTimer`` is one hop's entry, which cancels the
hop's task when it passes and turns that cancel into the timeout of the phase
that was running.
"""

from __future__ import annotations

import asyncio
import math
import sys
from typing import TYPE_CHECKING, Any

from squall._errors import HTTPTimeoutError, timeout_option

if TYPE_CHECKING:
    from squall._request import HTTPRequest

__all__ = ["Deadlines", "HopTimer"]


class Deadlines:
    """The deadlines of every hop of one engine behind a single loop timer.

    A ``call_at`` per request costs a TimerHandle, a heap push and a cancel (and
    cancelled handles linger in the loop's heap). Here a hop's deadline is a dict
    entry: setting and clearing it is O(1) and touches no loop state. The one loop
    timer is re-armed only when a deadline earlier than it arrives; when it fires,
    expired hops are cancelled and it is re-armed for the earliest remaining one
    (a wake-up for a deadline whose hop already ended only costs that scan).
    """

    __slots__ = ("_handle", "_hops", "_loop", "_when")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._hops: dict[HopTimer, float] = {}
        self._handle: asyncio.TimerHandle | None = None
        self._when = math.inf

    def set(self, hop: HopTimer, when: float) -> None:
        """Expire ``hop`` at ``when`` (monotonic) unless cleared before."""
        self._hops[hop] = when
        if when < self._when:
            self._schedule(when)

    def clear(self, hop: HopTimer) -> None:
        """Forget ``hop``'s deadline (the timer stays: a stray wake-up is harmless)."""
        self._hops.pop(hop, None)

    def close(self) -> None:
        """Drop the loop timer if no hop is left (hops still running keep it)."""
        if not self._hops and self._handle is not None:
            self._handle.cancel()
            self._handle = None
            self._when = math.inf

    def _schedule(self, when: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._when = when
        self._handle = self._loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self._when = math.inf
        hops = self._hops
        now = self._loop.time()
        for hop in [hop for hop, when in hops.items() if when <= now]:
            del hops[hop]
            hop.expire()
        if hops:
            self._schedule(min(hops.values()))


class HopTimer:
    """One hop's deadline: when it passes, cancel the hop's task.

    Cheaper than ``asyncio.wait_for`` (no extra task or future per request), and
    cheaper than a ``call_at`` per hop (see ``Deadlines``). The hop catches
    ``CancelledError`` and calls ``check`` to turn it into the
    ``HTTPTimeoutError`` of the phase that was running, naming the option
    whose deadline that phase had (``request``'s timeouts).
    """

    __slots__ = ("_deadlines", "_request", "_task", "fired", "message", "phase")

    def __init__(self, deadlines: Deadlines, task: asyncio.Task[Any], request: HTTPRequest) -> None:
        self._deadlines = deadlines
        self._task = task
        self._request = request
        self.fired = False
        self.phase = "connect"
        self.message = "Timeout while connecting"

    def arm(self, when: float | None, phase: str, message: str) -> None:
        """Set the deadline (monotonic, None for none) and what a timeout then means."""
        self.phase = phase
        self.message = message
        if when is None:
            self._deadlines.clear(self)
        else:
            self._deadlines.set(self, when)

    def cancel(self) -> None:
        """Stop the timer (the hop is over)."""
        self._deadlines.clear(self)

    def expire(self) -> None:
        """The deadline passed (called by ``Deadlines``)."""
        self.fired = True
        self._task.cancel()

    def check(self, exc: asyncio.CancelledError) -> None:
        """Raise the timeout error if ``exc`` came from this timer, else return.

        Raises:
            HTTPTimeoutError: the timer fired.
        """
        if not self.fired:
            return
        # Python 3.11+ counts cancellations; ours must not leak into the caller's
        # own timeouts. If someone else cancelled too, let their cancel win.
        if sys.version_info >= (3, 11) and self._task.uncancel() > 0:
            return
        request = self._request
        option, limit = timeout_option(self.phase, request.connect_timeout, request.request_timeout)
        raise HTTPTimeoutError(self.message, phase=self.phase, option=option, limit=limit) from exc

"""Keep-alive bookkeeping: which connection serves which request.

Rules (the invariants every method keeps)
-----------------------------------------
1. Connections are grouped by *key*: everything that makes two connections
   interchangeable (scheme, host, port, TLS settings, source address, address
   family, the host actually dialled). A connection is only ever handed to a
   request with the same key.
2. Per key, every live connection is in ``busy`` (serving requests) or
   ``idle`` (serving none, most recently used last); ``opening`` counts
   connections being dialled for waiting requests.
   ``len(busy) + len(idle) + opening <= max_per_host`` when a limit is set.
3. The pool does no I/O and never awaits. Each method decides synchronously and
   returns plain data -- the connection to use, whether to dial, who to wake,
   what to close -- and the caller does the I/O (httpcore's
   ``_assign_requests_to_connections`` shape). So the decisions can be tested
   without sockets and no lock is needed on one event loop.

Theory of operation
-------------------
``acquire(key, now)`` returns a ``Checkout``: an idle connection to
reuse, or ``open_new`` (a slot is reserved; the caller dials, then calls
``opened`` or ``open_failed``), or neither, in which case the caller queues a
waiter token with ``enqueue`` and a later ``release``/``open_failed``/
``forget`` hands it a connection or a slot through the ``Handoff`` it returns.
``release(key, conn, now)`` puts a finished connection back (or drops it when not ``is_reusable``).

Idle connections expire after ``idle_timeout`` seconds: ``acquire`` drops
expired ones of its key, and ``expire(now)`` sweeps all keys (the caller runs it
from a timer at ``next_expiry()``). Reuse is LIFO: the connection used last is
the least likely to have been closed by the server.

A connection with ``max_concurrent_requests > 1`` would stay in ``shared`` while
it has capacity, and ``acquire`` offers it before idle ones (HTTP/2 keeps a pool
of its own, in ``squall._http2.engine``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar

__all__ = ["Checkout", "ConnectionPool", "Handoff", "PoolConnection"]


class PoolConnection(Protocol):
    """What the pool needs to know about a connection."""

    #: 1 for HTTP/1.1; the peer's stream limit for a multiplexed protocol.
    max_concurrent_requests: int

    @property
    def is_reusable(self) -> bool:
        """False once the connection is closed or must not carry another request."""
        ...

    def close(self) -> None:
        """Close the transport (synchronous)."""
        ...


C = TypeVar("C", bound=PoolConnection)
W = TypeVar("W")


class Checkout(Generic[C]):
    """The answer to ``acquire``.

    Attributes:
        connection: a live connection to send on, or None.
        open_new: True if the caller must dial a new connection (its slot is reserved).
        to_close: expired or dead connections the caller should close.
    If ``connection`` is None and ``open_new`` False, the per-host limit is reached:
    the caller must ``enqueue`` a waiter.
    """

    __slots__ = ("connection", "open_new", "to_close")

    def __init__(self, connection: C | None, open_new: bool, to_close: list[C]) -> None:
        self.connection = connection
        self.open_new = open_new
        self.to_close = to_close


class Handoff(Generic[C, W]):
    """A queued waiter to wake: with a connection to use, or (None) a slot to dial in."""

    __slots__ = ("connection", "waiter")

    def __init__(self, waiter: W, connection: C | None) -> None:
        self.waiter = waiter
        self.connection = connection


class _Origin(Generic[C, W]):
    __slots__ = ("busy", "idle", "idle_since", "in_flight", "opening", "shared", "waiters")

    def __init__(self) -> None:
        self.busy: set[C] = set()
        self.idle: list[C] = []
        self.idle_since: dict[C, float] = {}
        self.in_flight: dict[C, int] = {}
        self.shared: list[C] = []
        self.opening = 0
        self.waiters: deque[W] = deque()

    def size(self) -> int:
        return len(self.busy) + len(self.idle) + self.opening


class ConnectionPool(Generic[C, W]):
    """Per-key pools of keep-alive connections with a per-key limit and idle expiry.

    Args:
        max_per_host: the most connections (live or being dialled) per key;
            None for no limit (the client's max_clients still bounds them).
        idle_timeout: seconds an idle connection is kept.
    """

    def __init__(self, max_per_host: int | None = None, idle_timeout: float = 4.0) -> None:
        if max_per_host is not None and max_per_host < 1:
            raise ValueError(f"max_per_host must be >= 1 or None, got {max_per_host}")
        self.max_per_host = max_per_host
        self.idle_timeout = idle_timeout
        self._origins: dict[Hashable, _Origin[C, W]] = {}

    def acquire(self, key: Hashable, now: float, reuse: bool = True) -> Checkout[C]:
        """Find a connection for one request to ``key``.

        Args:
            key: the pool key of the request.
            now: the monotonic clock.
            reuse: False to insist on a new connection (a retry after a stale one).
        """
        to_close: list[C] = []
        if reuse:
            checkout = self.acquire_idle(key, now)
            if checkout.connection is not None:
                return checkout
            to_close = checkout.to_close
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = _Origin()
        return self._reserve(origin, to_close)

    def acquire_idle(self, key: Hashable, now: float) -> Checkout[C]:
        """Like ``acquire``, but only a live connection to reuse, never a slot:
        ``open_new`` is always False, and a None ``connection`` reserves nothing."""
        origin = self._origins.get(key)
        to_close: list[C] = []
        if origin is None:
            return Checkout(None, False, to_close)
        for conn in origin.shared:
            if conn.is_reusable and origin.in_flight[conn] < conn.max_concurrent_requests:
                origin.in_flight[conn] += 1
                return Checkout(conn, False, to_close)
        idle = origin.idle
        deadline = now - self.idle_timeout
        while idle:
            conn = idle.pop()
            since = origin.idle_since.pop(conn)
            if since > deadline and conn.is_reusable:
                self._mark_busy(origin, conn)
                return Checkout(conn, False, to_close)
            del origin.in_flight[conn]
            to_close.append(conn)
        return Checkout(None, False, to_close)

    def _reserve(self, origin: _Origin[C, W], to_close: list[C]) -> Checkout[C]:
        if self.max_per_host is None or origin.size() < self.max_per_host:
            origin.opening += 1
            return Checkout(None, True, to_close)
        return Checkout(None, False, to_close)

    def enqueue(self, key: Hashable, waiter: W) -> None:
        """Queue ``waiter`` after ``acquire`` answered neither a connection nor ``open_new``.

        A later ``release``, ``open_failed`` or ``forget`` returns it in a ``Handoff``.
        """
        self._origins[key].waiters.append(waiter)

    def opened(self, key: Hashable, conn: C) -> None:
        """A reserved slot now holds ``conn``, busy with the request that dialled it."""
        origin = self._origins.get(key)
        if origin is None:  # close_all() ran meanwhile
            conn.close()
            return
        origin.opening -= 1
        self._mark_busy(origin, conn)

    def open_failed(self, key: Hashable) -> Handoff[C, W] | None:
        """Dialling failed: free the slot; returns the waiter that may dial instead."""
        origin = self._origins.get(key)
        if origin is None:
            return None
        origin.opening -= 1
        return self._wake_to_dial(key, origin)

    def release(self, key: Hashable, conn: C, now: float) -> Handoff[C, W] | None:
        """A request on ``conn`` finished.

        Returns:
            A waiter to wake, with ``conn`` (reused at once) or with None (the
            connection was dropped and the waiter may dial in its slot).
            The caller closes ``conn`` itself when it is not reusable.
        """
        origin = self._origins.get(key)
        if origin is None or conn not in origin.in_flight:  # close_all() ran meanwhile
            conn.close()
            return None
        count = origin.in_flight[conn] - 1
        if not conn.is_reusable:
            self._drop(origin, conn)
            return self._wake_to_dial(key, origin)
        if origin.waiters:
            return Handoff(origin.waiters.popleft(), conn)
        origin.in_flight[conn] = count
        if count == 0:
            origin.busy.discard(conn)
            if conn in origin.shared:
                origin.shared.remove(conn)
            origin.idle.append(conn)
            origin.idle_since[conn] = now
        return None

    def forget(self, key: Hashable, conn: C) -> Handoff[C, W] | None:
        """Forget ``conn`` (it broke; the caller closes it); returns the waiter
        that may dial in its slot."""
        origin = self._origins.get(key)
        if origin is None or conn not in origin.in_flight:
            return None
        self._drop(origin, conn)
        return self._wake_to_dial(key, origin)

    def remove_waiter(self, key: Hashable, waiter: W) -> bool:
        """Withdraw a queued waiter (it timed out or was cancelled); False if not queued."""
        origin = self._origins.get(key)
        if origin is None or waiter not in origin.waiters:
            return False
        origin.waiters.remove(waiter)
        return True

    def expire(self, now: float) -> list[C]:
        """Remove idle connections older than ``idle_timeout``; returns them to close."""
        deadline = now - self.idle_timeout
        expired: list[C] = []
        for key, origin in list(self._origins.items()):
            keep = [c for c in origin.idle if origin.idle_since[c] > deadline and c.is_reusable]
            if len(keep) != len(origin.idle):
                for conn in origin.idle:
                    if conn not in keep:
                        expired.append(conn)
                        del origin.idle_since[conn]
                        del origin.in_flight[conn]
                origin.idle = keep
            if not origin.size() and not origin.waiters:
                del self._origins[key]
        return expired

    def next_expiry(self) -> float | None:
        """When the oldest idle connection expires (monotonic), or None if none is idle."""
        oldest = [min(o.idle_since.values()) for o in self._origins.values() if o.idle_since]
        return min(oldest) + self.idle_timeout if oldest else None

    def close_all(self) -> tuple[list[C], list[W]]:
        """Forget everything; returns every connection (busy ones too) to close
        and every queued waiter to fail."""
        conns: list[C] = []
        waiters: list[W] = []
        for origin in self._origins.values():
            conns.extend(origin.busy)
            conns.extend(origin.idle)
            waiters.extend(origin.waiters)
        self._origins.clear()
        return conns, waiters

    def counts(self) -> tuple[int, int, int, int]:
        """(active, idle, opening, waiting) connections and requests over all keys."""
        origins = self._origins.values()
        return (
            sum(len(o.busy) for o in origins),
            sum(len(o.idle) for o in origins),
            sum(o.opening for o in origins),
            sum(len(o.waiters) for o in origins),
        )

    def __repr__(self) -> str:
        active, idle, opening, waiting = self.counts()
        return (
            f"<ConnectionPool Connections: {active} active, {idle} idle, {opening} opening"
            f" | Requests: {waiting} waiting>"
        )

    # -- internals -------------------------------------------------------------

    @staticmethod
    def _mark_busy(origin: _Origin[C, W], conn: C) -> None:
        origin.busy.add(conn)
        origin.in_flight[conn] = origin.in_flight.get(conn, 0) + 1
        if conn.max_concurrent_requests > 1 and conn not in origin.shared:
            origin.shared.append(conn)

    @staticmethod
    def _drop(origin: _Origin[C, W], conn: C) -> None:
        origin.busy.discard(conn)
        origin.in_flight.pop(conn, None)
        if conn in origin.shared:
            origin.shared.remove(conn)
        if conn in origin.idle_since:
            origin.idle.remove(conn)
            del origin.idle_since[conn]

    def _wake_to_dial(self, key: Hashable, origin: _Origin[C, W]) -> Handoff[C, W] | None:
        if origin.waiters:
            origin.opening += 1
            return Handoff(origin.waiters.popleft(), None)
        if not origin.size():
            del self._origins[key]
        return None

"""Connection pool decisions, pure: what to open, reuse, hand off or close.

The pool over real sockets is tested in tests/engine_internals/test_pool_sockets.py.
"""

from __future__ import annotations

import pytest

from squall._http1.pool import ConnectionPool

KEY = ("http", "a", 80)
OTHER = ("https", "a", 443)


class Conn:
    """A stand-in connection: the pool only reads these attributes."""

    max_concurrent_requests = 1

    def __init__(self, name: str) -> None:
        self.name = name
        self.is_reusable = True
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def __repr__(self) -> str:
        return self.name


Pool = ConnectionPool[Conn, str]


def open_one(pool: Pool, key: object = KEY, now: float = 0.0, name: str = "c") -> Conn:
    checkout = pool.acquire(key, now)
    assert checkout.open_new and checkout.connection is None
    conn = Conn(name)
    pool.opened(key, conn)
    return conn


def test_new_then_reuse() -> None:
    pool: Pool = ConnectionPool()
    conn = open_one(pool)
    assert "1 active, 0 idle" in repr(pool)
    assert pool.release(KEY, conn, 1.0) is None
    assert "0 active, 1 idle" in repr(pool)
    checkout = pool.acquire(KEY, 2.0)
    assert checkout.connection is conn
    assert "1 active, 0 idle" in repr(pool)


def test_keys_never_share_connections() -> None:
    pool: Pool = ConnectionPool()
    conn = open_one(pool)
    pool.release(KEY, conn, 0.0)
    checkout = pool.acquire(OTHER, 0.0)
    assert checkout.connection is None and checkout.open_new


def test_lifo_reuse() -> None:
    pool: Pool = ConnectionPool()
    first, second = open_one(pool, name="first"), open_one(pool, name="second")
    pool.release(KEY, first, 0.0)
    pool.release(KEY, second, 1.0)
    assert pool.acquire(KEY, 1.5).connection is second


def test_unreusable_connection_is_dropped_on_release() -> None:
    pool: Pool = ConnectionPool()
    conn = open_one(pool)
    conn.is_reusable = False
    assert pool.release(KEY, conn, 0.0) is None
    assert "0 active, 0 idle" in repr(pool)


def test_dead_idle_connection_is_skipped_and_returned_to_close() -> None:
    pool: Pool = ConnectionPool()
    conn = open_one(pool)
    pool.release(KEY, conn, 0.0)
    conn.is_reusable = False  # the server closed it while idle
    checkout = pool.acquire(KEY, 0.1)
    assert checkout.connection is None and checkout.open_new
    assert checkout.to_close == [conn]


def test_idle_expiry_on_acquire_and_sweep() -> None:
    pool: Pool = ConnectionPool(idle_timeout=5.0)
    a, b = open_one(pool, name="a"), open_one(pool, name="b")
    pool.release(KEY, a, 0.0)
    pool.release(KEY, b, 3.0)
    assert pool.next_expiry() == 5.0
    assert pool.expire(6.0) == [a]
    assert "0 active, 1 idle" in repr(pool)
    checkout = pool.acquire(KEY, 9.0)
    assert checkout.connection is None and checkout.to_close == [b]


def test_per_host_limit_queues_and_hands_off() -> None:
    pool: Pool = ConnectionPool(max_per_host=2)
    a, _b = open_one(pool, name="a"), open_one(pool, name="b")
    checkout = pool.acquire(KEY, 0.0)
    assert checkout.connection is None and not checkout.open_new
    pool.enqueue(KEY, "w1")
    assert "Requests: 1 waiting" in repr(pool)
    # Another origin is not limited by this one.
    assert pool.acquire(OTHER, 0.0).open_new
    handoff = pool.release(KEY, a, 1.0)
    assert handoff is not None
    assert (handoff.waiter, handoff.connection) == ("w1", a)
    assert "2 active, 0 idle" in repr(pool)


def test_dropped_connection_lets_a_waiter_dial() -> None:
    pool: Pool = ConnectionPool(max_per_host=1)
    a = open_one(pool)
    assert not pool.acquire(KEY, 0.0).open_new
    pool.enqueue(KEY, "w1")
    handoff = pool.forget(KEY, a)
    assert handoff is not None and handoff.connection is None and handoff.waiter == "w1"
    assert "0 active, 0 idle, 1 opening" in repr(pool)


def test_failed_dial_passes_the_slot_on() -> None:
    pool: Pool = ConnectionPool(max_per_host=1)
    assert pool.acquire(KEY, 0.0).open_new
    assert not pool.acquire(KEY, 0.0).open_new
    pool.enqueue(KEY, "w1")
    handoff = pool.open_failed(KEY)
    assert handoff is not None and handoff.waiter == "w1" and handoff.connection is None
    assert pool.open_failed(KEY) is None
    assert "0 active, 0 idle, 0 opening | Requests: 0 waiting" in repr(pool)


def test_remove_waiter() -> None:
    pool: Pool = ConnectionPool(max_per_host=1)
    open_one(pool)
    pool.acquire(KEY, 0.0)
    pool.enqueue(KEY, "w1")
    assert pool.remove_waiter(KEY, "w1")
    assert not pool.remove_waiter(KEY, "w1")


def test_fresh_connection_skips_idle_ones() -> None:
    pool: Pool = ConnectionPool()
    conn = open_one(pool)
    pool.release(KEY, conn, 0.0)
    checkout = pool.acquire(KEY, 0.0, reuse=False)
    assert checkout.open_new and checkout.connection is None
    assert "0 active, 1 idle, 1 opening" in repr(pool)


def test_multiplexed_connection_is_shared_up_to_its_limit() -> None:
    pool: Pool = ConnectionPool()
    assert pool.acquire(KEY, 0.0).open_new
    h2 = Conn("h2")
    h2.max_concurrent_requests = 2
    pool.opened(KEY, h2)
    assert pool.acquire(KEY, 0.0).connection is h2
    assert pool.acquire(KEY, 0.0).open_new  # at capacity: a second connection
    pool.release(KEY, h2, 1.0)
    pool.release(KEY, h2, 1.0)
    assert "0 idle" not in repr(pool)


def test_close_all_returns_everything() -> None:
    pool: Pool = ConnectionPool(max_per_host=2)
    a, b = open_one(pool, name="a"), open_one(pool, name="b")
    pool.release(KEY, a, 0.0)
    pool.acquire(KEY, 0.0)  # reuses a
    pool.acquire(KEY, 0.0)
    pool.enqueue(KEY, "w")
    conns, waiters = pool.close_all()
    assert set(conns) == {a, b} and waiters == ["w"]
    assert "0 active, 0 idle" in repr(pool)


def test_invalid_limit() -> None:
    with pytest.raises(ValueError):
        ConnectionPool(max_per_host=0)

"""The max_clients gate: FIFO order, queue timeout, cancellation hand-off."""

from __future__ import annotations

import asyncio

import pytest

from squall._admission import Admission
from squall._arguments import check_max_clients
from squall._errors import HTTPTimeoutError


def test_fifo_and_hand_off() -> None:
    async def main() -> list[int]:
        gate = Admission(1)
        order: list[int] = []
        assert await gate.acquire(0) == 0.0

        async def waiter(i: int) -> None:
            await gate.acquire(0)
            order.append(i)
            gate.release()

        tasks = [asyncio.create_task(waiter(i)) for i in range(5)]
        await asyncio.sleep(0)
        assert gate.queued == 5 and gate.active == 1
        gate.release()
        await asyncio.gather(*tasks)
        assert gate.active == 0 and gate.queued == 0
        return order

    assert asyncio.run(main()) == [0, 1, 2, 3, 4]


def test_queue_timeout() -> None:
    async def main() -> None:
        gate = Admission(1)
        await gate.acquire(0)
        with pytest.raises(HTTPTimeoutError, match="Timeout in request queue") as info:
            await gate.acquire(0.01, "connect_timeout")
        assert info.value.phase == "queue" and info.value.code == 599
        assert (info.value.option, info.value.limit) == ("connect_timeout", 0.01)
        assert gate.queued == 0
        gate.release()
        assert gate.active == 0

    asyncio.run(main())


def test_cancelled_waiter_does_not_leak_slot() -> None:
    async def main() -> None:
        gate = Admission(1)
        await gate.acquire(0)
        task = asyncio.create_task(gate.acquire(0))
        await asyncio.sleep(0)
        gate.release()  # hands the slot to the task...
        task.cancel()  # ...which is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await task
        assert gate.active == 0 and gate.queued == 0
        assert await gate.acquire(0) == 0.0

    asyncio.run(main())


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "3"])
def test_max_clients_validated(bad: object) -> None:
    with pytest.raises(ValueError, match="max_clients"):
        check_max_clients(bad)

"""Counting what a client holds, from outside it: sockets, asyncio tasks, curl handles.

Counted through the process and the garbage collector rather than engine
internals, so the leak tests stay valid while the engines are refactored.
"""

from __future__ import annotations

import asyncio
import gc
import os

from tests.servers.helpers import sockets_connected_to

__all__ = ["curl_handles", "open_fds", "pending_tcp", "settle", "sockets_connected_to", "tasks"]


def open_fds() -> int:
    """How many file descriptors this process has open."""
    return len(os.listdir("/proc/self/fd")) - 1  # listdir's own


def pending_tcp(port: int) -> int:
    """IPv4 TCP sockets of this host, in any state (SYN_SENT included), whose remote
    port is ``port``: a connect in progress shows here before it has a peer."""
    count = 0
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            remote = line.split()[2]
            if int(remote.rpartition(":")[2], 16) == port:
                count += 1
    return count


def tasks() -> int:
    """asyncio tasks not done on the running loop, the caller's excluded."""
    current = asyncio.current_task()
    return sum(1 for task in asyncio.all_tasks() if task is not current and not task.done())


def curl_handles() -> int:
    """Live pycurl easy handles in this process."""
    import pycurl

    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, pycurl.Curl))


async def settle(rounds: int = 10) -> None:
    """Let the loop run callbacks scheduled by a cancel or close (transports close
    on a later iteration)."""
    for _ in range(rounds):
        await asyncio.sleep(0)

"""Faults under load: with hundreds of fetches in flight, the server process dies,
its listener closes, TLS handshakes stall, the path stalls or is reset. Every
fetch ends, within its timeout, with the error that names the fault; the client
stays usable, and new fetches succeed once the server is back.

The server is ``tests.soak.server`` in its own process (so that it can be
killed); the path faults go through ``tests/servers/fault_proxy.py``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from squall._errors import (
    HTTPClientError,
    HTTPConnectionError,
    HTTPConnectionRefusedError,
)
from tests.servers.fault_proxy import FaultProxy
from tests.servers.silent import SilentServer
from tests.soak.process import ServerProcess

pytestmark = pytest.mark.squall_only
LOAD = 200


@pytest.fixture
def server() -> Iterator[ServerProcess]:
    with ServerProcess(ids=10_000, backlog=1024) as process:
        yield process


async def _stats(server: ServerProcess) -> dict[str, Any]:
    return await asyncio.get_running_loop().run_in_executor(None, server.stats)


async def _until_seen(server: ServerProcess, kind: str, count: int) -> None:
    for _ in range(1000):
        if (await _stats(server))["seen"][kind] >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the server never saw {count} {kind} requests")


async def _ends(futures: list[asyncio.Future[Any]], within: float) -> Counter[str]:
    """How the fetches ended (by error class, "ok" for a response); each must end
    within ``within`` seconds, which is below their own timeout: a fault must be
    reported as itself, not waited out."""
    _, pending = await asyncio.wait(futures, timeout=within)
    assert not pending, f"{len(pending)} fetches still running"
    ends: Counter[str] = Counter()
    for future in futures:
        error = future.exception()
        assert error is None or isinstance(error, HTTPClientError), repr(error)
        ends["ok" if error is None else type(error).__name__] += 1
    return ends


async def _all_ok(client: Any, base: str, first: int, count: int = 50) -> None:
    responses = await asyncio.gather(
        *(client.fetch(f"{base}/{i}/ok", request_timeout=10) for i in range(first, first + count))
    )
    assert [r.body for r in responses] == [f"id={i}".encode() for i in range(first, first + count)]


async def test_server_process_killed(make_client: Any, server: ServerProcess) -> None:
    client = make_client(max_clients=1000)
    futures = [client.fetch(f"{server.url}/{i}/stall", request_timeout=60) for i in range(LOAD)]
    await _until_seen(server, "stall", LOAD)
    server.kill()
    ends = await _ends(futures, 20)
    assert all(issubclass(_error(name), HTTPConnectionError) for name in ends), ends
    with pytest.raises(HTTPConnectionRefusedError):
        await client.fetch(f"{server.url}/0/ok", request_timeout=10)
    server.start()  # the same port
    await _all_ok(client, server.url, 1000)


async def test_listener_closed(make_client: Any, server: ServerProcess) -> None:
    client = make_client(max_clients=1000)
    futures = [client.fetch(f"{server.url}/{i}/delay", request_timeout=30) for i in range(LOAD)]
    await _until_seen(server, "delay", LOAD)
    await client.fetch(f"{server.url}/_close_listener")
    # The connections already open are served to the end.
    assert await _ends(futures, 20) == {"ok": LOAD}
    # More fetches at once than open connections: the pooled ones are reused, the
    # rest are refused.
    more = [
        client.fetch(f"{server.url}/{i}/delay", request_timeout=30)
        for i in range(LOAD, 2 * LOAD + 100)
    ]
    ends = await _ends(more, 20)
    assert set(ends) <= {"ok", "HTTPConnectionRefusedError"} and ends["HTTPConnectionRefusedError"]
    await client.fetch(f"{server.url}/_open_listener")
    await _all_ok(client, server.url, 2000, LOAD + 100)


async def test_tls_handshakes_stall(make_client: Any, server: ServerProcess) -> None:
    client = make_client(max_clients=1000)
    with SilentServer() as silent:
        url = f"https://127.0.0.1:{silent.port}/"
        futures = [client.fetch(url, validate_cert=False, request_timeout=1) for _ in range(LOAD)]
        ends = await _ends(futures, 20)
    assert ends == {"HTTPTimeoutError": LOAD}
    await _all_ok(client, server.url, 3000)


async def test_path_resets(make_client: Any, server: ServerProcess) -> None:
    client = make_client(max_clients=1000)
    with FaultProxy(server.port) as proxy:
        await _all_ok(client, proxy.url, 4000)  # a pool of connections through the proxy
        futures = [client.fetch(f"{proxy.url}/{i}/stall", request_timeout=30) for i in range(LOAD)]
        await _until_seen(server, "stall", LOAD)
        proxy.set_mode("reset")  # a retry on a new connection is reset too
        ends = await _ends(futures, 20)
        assert all(issubclass(_error(name), HTTPConnectionError) for name in ends), ends
        proxy.set_mode("pass")
        await _all_ok(client, proxy.url, 5000)


async def test_path_stalls(make_client: Any, server: ServerProcess) -> None:
    client = make_client(max_clients=1000)
    with FaultProxy(server.port) as proxy:
        await _all_ok(client, proxy.url, 4000)
        proxy.set_mode("stall")  # nothing gets through, either way
        futures = [client.fetch(f"{proxy.url}/{i}/ok", request_timeout=1) for i in range(LOAD)]
        assert await _ends(futures, 20) == {"HTTPTimeoutError": LOAD}
        assert (await _stats(server))["seen"]["ok"] == 50  # the pool's warm-up only
        proxy.set_mode("pass")
        await _all_ok(client, proxy.url, 5000)


def _error(name: str) -> type[BaseException]:
    import squall._errors

    error: type[BaseException] = getattr(squall._errors, name)
    return error

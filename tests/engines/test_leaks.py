"""Nothing outlives a fetch: cancelling a thousand in flight, closing the client
with fetches in flight, and the garbage a finished fetch leaves (none).

Sockets, tasks and curl handles are counted from outside the engines
(``tests/engines/resources.py``); cycles are found with the collector off: an
object freed only by ``gc.collect()`` was held by a reference cycle.
"""

from __future__ import annotations

import asyncio
import gc
import re
import weakref
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from squall.httpclient import HTTPClientError
from tests.conftest import import_object
from tests.engines.resources import curl_handles, settle, sockets_connected_to, tasks
from tests.servers.app import AppServer
from tests.servers.silent import SilentServer

pytestmark = pytest.mark.squall_only

IN_FLIGHT = 1000


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    with SilentServer() as server:
        yield server


async def _until(check: Any, what: str) -> None:
    for _ in range(1000):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


async def test_cancel_a_thousand_in_flight_leaves_nothing(
    make_client: Any, silent: SilentServer, engine: str
) -> None:
    is_curl = "curl" in engine
    handles = curl_handles() if is_curl else 0
    running = tasks()  # the test's own runner
    client = make_client(max_clients=IN_FLIGHT)
    futures = [client.fetch(f"{silent.url}/{i}", request_timeout=60) for i in range(IN_FLIGHT)]
    await _until(lambda: silent.requests == IN_FLIGHT, "every request reached the server")
    assert sockets_connected_to(silent.port) == IN_FLIGHT
    for future in futures:
        future.cancel()
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert all(isinstance(result, asyncio.CancelledError) for result in results)
    del futures, future, results  # a cancelled task's traceback holds its frames
    await settle()
    await _until(lambda: sockets_connected_to(silent.port) == 0, "no socket left")
    assert tasks() == running
    await _until(lambda: silent.open == 0, "the server saw every connection close")
    if is_curl:
        # Idle handles are kept for reuse (a bounded number); none is in a transfer.
        assert curl_handles() - handles < IN_FLIGHT // 4
    client.close()
    await settle()
    if is_curl:
        assert curl_handles() == handles
    # The client still works for new fetches until closed: checked on a new one.
    again = make_client(max_clients=IN_FLIGHT)
    future = again.fetch(silent.url + "/", request_timeout=0.2)
    with pytest.raises(HTTPClientError):
        await future


_CLOSED = re.compile(r"(client|engine) (is |was )?closed", re.IGNORECASE)


def _closed_error(result: object) -> bool:
    return isinstance(result, HTTPClientError) and bool(_CLOSED.search(str(result)))


def _xfail(request: pytest.FixtureRequest, reason: str) -> None:
    request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


async def _close_with(client: Any, silent: SilentServer, fetches: int, sent: int) -> list[Any]:
    """Start ``fetches``, close the client once ``sent`` reached the server; the
    fetches' results. Every fetch must end, and nothing be logged by the loop."""
    loop = asyncio.get_running_loop()
    logged: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda loop, context: logged.append(context))
    running = tasks()
    futures = [client.fetch(f"{silent.url}/{i}", request_timeout=60) for i in range(fetches)]
    await _until(lambda: silent.requests == sent, "the first requests reached the server")
    client.close()
    # close() ends them at once; the bound is for the failing case.
    done, pending = await asyncio.wait(futures, timeout=3)
    assert not pending, f"{len(pending)} fetches still running after close()"
    results = [future.exception() for future in futures]
    del futures, done, pending
    gc.collect()
    await settle()
    assert logged == [], logged  # nothing "never retrieved", nothing logged by the loop
    assert tasks() == running
    await _until(lambda: sockets_connected_to(silent.port) == 0, "no socket left")
    assert silent.requests == sent, "requests were sent after close()"
    return results


async def test_close_fails_each_fetch_in_flight_clearly(
    make_client: Any, silent: SilentServer, engine: str, request: pytest.FixtureRequest
) -> None:
    results = await _close_with(make_client(max_clients=20), silent, 20, 20)
    assert all(_closed_error(result) for result in results), {repr(r) for r in results}


async def test_close_ends_queued_fetches_without_sending_them(
    make_client: Any, silent: SilentServer, engine: str, request: pytest.FixtureRequest
) -> None:
    await _close_with(make_client(max_clients=5), silent, 20, 5)


async def test_close_fails_each_queued_fetch_clearly(
    make_client: Any, silent: SilentServer, engine: str, request: pytest.FixtureRequest
) -> None:
    results = await _close_with(make_client(max_clients=5), silent, 20, 5)
    assert all(_closed_error(result) for result in results[5:]), {repr(r) for r in results}


async def test_close_with_fetches_in_flight_logs_nothing(
    make_client: Any, silent: SilentServer, caplog: pytest.LogCaptureFixture
) -> None:
    # Whatever each error says, every fetch ends, and nothing is logged at ERROR.
    with caplog.at_level("ERROR"):
        results = await _close_with(make_client(max_clients=20), silent, 20, 20)
        assert all(isinstance(result, HTTPClientError) for result in results)
        gc.collect()
        await settle()
    assert [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")] == []


# -- garbage -------------------------------------------------------------------------


def _squall_objects() -> Counter[str]:
    counts: Counter[str] = Counter()
    for obj in gc.get_objects():
        module = getattr(type(obj), "__module__", None)
        if isinstance(module, str) and module.startswith("squall"):
            counts[f"{module}.{type(obj).__qualname__}"] += 1
    return counts


ROUNDS = 20
PATHS: dict[str, tuple[str, dict[str, Any]]] = {
    "plain": ("/echo", {}),
    "chunked": ("/chunked", {}),
    "gzip": ("/encoded?coding=gzip", {"decompress_response": True}),
    "redirect": ("/redirect?to=/echo", {}),
    "streamed": ("/large?size=200000", {"streaming_callback": len}),
    "head": ("/echo", {"method": "HEAD"}),
}


@pytest.mark.over_http2
@pytest.mark.parametrize("kind", list(PATHS))
async def test_a_finished_fetch_leaves_no_cycle(
    make_client: Any, app_server: AppServer, kind: str, request: pytest.FixtureRequest
) -> None:
    if kind == "redirect":
        _xfail(
            request,
            "each redirect hop's 3xx response and its HTTPClientError refer to "
            "each other (see test_an_error_response_leaves_no_cycle)",
        )
    path, options = PATHS[kind]
    client = make_client()
    await client.fetch(app_server.http_url + path, **options)  # the connection, the caches
    gc.collect()
    gc.disable()
    try:
        before = _squall_objects()
        for _ in range(ROUNDS):
            response = await client.fetch(app_server.http_url + path, **options)
            ref = weakref.ref(response)
            del response
            await settle()  # the finished task lets go of its result
            assert ref() is None, "the response is held by a cycle"
        await settle()
        grown = {name: n - before[name] for name, n in _squall_objects().items()}
        assert {name: n for name, n in grown.items() if n >= ROUNDS} == {}
    finally:
        gc.enable()


@pytest.mark.over_http2
async def test_an_error_response_leaves_no_cycle(
    make_client: Any, app_server: AppServer, request: pytest.FixtureRequest
) -> None:
    _xfail(
        request,
        "an error response and its error refer to each other (response.error, "
        "error.response): each failed fetch leaves a cycle for the collector",
    )
    client = make_client()
    gc.collect()
    gc.disable()
    try:
        response = await client.fetch(app_server.http_url + "/status/404", raise_error=False)
        ref = weakref.ref(response)
        del response
        await settle()
        assert ref() is None
    finally:
        gc.enable()


@pytest.mark.over_http2
async def test_a_closed_client_is_freed_without_the_collector(
    engine: str, app_server: AppServer, request: pytest.FixtureRequest
) -> None:
    if "simple" in engine:
        # Not strict: whether a cycle is left depends on which paths the fetches took.
        request.applymarker(
            pytest.mark.xfail(
                strict=False,
                reason="simple engine: the client, its engine, pool, dialer and connections "
                "may refer to each other: a closed client can wait for the collector",
            )
        )
    before = set(_squall_objects())
    client = import_object(engine)(force_instance=True)
    await client.fetch(app_server.http_url + "/echo")
    gc.collect()
    gc.disable()
    try:
        client.close()
        await settle()
        ref = weakref.ref(client)
        del client
        assert ref() is None
        left = {name for name in _squall_objects() if "._http1." in name or "._curl." in name}
        assert left - before == set()
    finally:
        gc.enable()
        gc.collect()
    left = {name for name in _squall_objects() if "._http1." in name or "._curl." in name}
    assert left - before == set()  # and nothing at all after a collection

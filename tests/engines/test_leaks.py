"""Nothing outlives a fetch: cancelling a thousand in flight, closing the client
with fetches in flight, and the garbage a finished fetch leaves (none).

Sockets, tasks and curl handles are counted from outside the engines
(``tests/engines/resources.py``); cycles are found with the collector off: an
object freed only by ``gc.collect()`` was held by a reference cycle.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import re
import weakref
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from squall.httpclient import HTTPClientError, HTTPConnectionRefusedError, HTTPTimeoutError
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
    "http2": ("/echo", {"http_version": "2"}),  # h2c
    "http2-404": ("/status/404", {"http_version": "2", "raise_error": False}),
    "404": ("/status/404", {"raise_error": False}),
}


@pytest.mark.over_http2
@pytest.mark.parametrize("kind", list(PATHS))
async def test_a_finished_fetch_leaves_no_cycle(
    make_client: Any, app_server: AppServer, kind: str
) -> None:
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


# -- a failed fetch: its response and its error refer to each other (Tornado's shape),
# with no cycle: whichever the caller keeps, the other is reachable from it, and both
# go when the caller lets go. Each case: (what fails, how the caller gets it).
FAILED_ROUNDS = 5
FAILURES = [
    ("status", "returned"),  # raise_error=False
    ("status", "raised"),
    ("status", "callback"),
    ("refused", "raised"),
    ("refused", "callback"),
    ("timeout", "raised"),
    ("timeout", "callback"),
]


async def _failure(client: Any, url: str, how: str) -> Any:
    """The response (returned, or given to the callback) or the raised error."""
    if how == "raised":
        try:
            await client.fetch(url, request_timeout=0.2)
        except HTTPClientError as exc:
            return exc
        raise AssertionError("the fetch did not fail")
    if how == "returned":
        return await client.fetch(url, raise_error=False)
    got: list[Any] = []
    await client.fetch(url, callback=got.append, request_timeout=0.2)
    return got[0]


def _check_shape(error: Any, response: Any, what: str) -> None:
    """What Tornado code reads on a failed fetch."""
    assert isinstance(error, HTTPClientError)
    assert response.error is error and error.response is response
    assert error.code == response.code == (404 if what == "status" else 599)
    if what == "status":
        assert (error.message, str(error), response.reason) == (
            "Not Found",
            "HTTP 404: Not Found",
            "Not Found",
        )
        assert response.body == b"" or response.buffer is not None
    elif what == "refused":
        assert isinstance(error, HTTPConnectionRefusedError) and error.errno == errno.ECONNREFUSED
        assert str(error).startswith("[Errno 111] Connection refused")
        assert error.__cause__ is not None  # what the socket or libcurl said
    else:
        assert isinstance(error, HTTPTimeoutError) and error.phase == "request"
    if what != "status":
        assert response.body == b"" and response.buffer is None and response.headers == {}
        assert response.request.url == error.url == response.effective_url
        assert response.request_time is not None and response.request_time >= 0
    with pytest.raises(HTTPClientError) as raised:
        response.rethrow()
    assert raised.value is error
    # That traceback keeps this frame, whose locals hold the error: the test's own cycle.
    error.with_traceback(None)
    del raised


@pytest.mark.parametrize(("what", "how"), FAILURES, ids=["-".join(case) for case in FAILURES])
async def test_a_failed_fetch_leaves_no_cycle(
    make_client: Any,
    app_server: AppServer,
    dead_url: str,
    silent: SilentServer,
    what: str,
    how: str,
) -> None:
    url = {
        "status": app_server.http_url + "/status/404",
        "refused": dead_url,
        "timeout": silent.url + "/",
    }[what]
    client = make_client()
    await client.fetch(app_server.http_url + "/echo")  # the caches
    gc.collect()
    gc.disable()
    try:
        before = _squall_objects()
        for _ in range(FAILED_ROUNDS):
            held = await _failure(client, url, how)
            if how == "raised":
                _check_shape(held, held.response, what)
                assert held.response.code == held.code  # only the error is kept
                error_ref, response_ref = weakref.ref(held), weakref.ref(held.response)
            else:
                _check_shape(held.error, held, what)
                error_ref, response_ref = weakref.ref(held.error), weakref.ref(held)
            buffer = held.response.buffer if how == "raised" else held.buffer
            buffer_ref = weakref.ref(buffer) if buffer is not None else lambda: None
            del held, buffer
            await settle()
            assert response_ref() is None, "the response is held by a cycle"
            assert buffer_ref() is None, "the body is held by a cycle"
            assert error_ref() is None, "the error is held by a cycle"
        # Nor the engine's objects (a transfer, a connection, the error's cause).
        grown = {name: n - before[name] for name, n in _squall_objects().items()}
        assert {name: n for name, n in grown.items() if n >= FAILED_ROUNDS} == {}
    finally:
        gc.enable()


@pytest.mark.parametrize("what", ["status", "refused"])
def test_a_failed_blocking_fetch_leaves_no_cycle(
    blocking_client: Any, app_server: AppServer, dead_url: str, what: str
) -> None:
    # The blocking client's driver frames are in the raised error's traceback too.
    url = app_server.http_url + "/status/404" if what == "status" else dead_url
    blocking_client.fetch(app_server.http_url + "/echo")
    gc.collect()
    gc.disable()
    try:
        for _ in range(FAILED_ROUNDS):
            try:
                blocking_client.fetch(url)
            except HTTPClientError as exc:
                error = exc
            _check_shape(error, error.response, what)
            refs = weakref.ref(error), weakref.ref(error.response)
            del error
            assert [ref() for ref in refs] == [None, None], "held by a cycle"
            response = blocking_client.fetch(url, raise_error=False) if what == "status" else None
            if response is not None:
                _check_shape(response.error, response, what)
                refs = weakref.ref(response), weakref.ref(response.buffer)
                del response
                assert [ref() for ref in refs] == [None, None], "held by a cycle"
    finally:
        gc.enable()


@pytest.mark.over_http2
async def test_a_closed_client_is_freed_without_the_collector(
    engine: str, app_server: AppServer
) -> None:
    cls = import_object(engine)
    # A first client imports what the engine imports on first use (its module-level objects).
    first = cls(force_instance=True)
    await first.fetch(app_server.http_url + "/echo")
    first.close()
    del first
    await settle()
    gc.collect()
    before = set(_squall_objects())
    for path in ("/echo", "/chunked", "/large?size=200000", "/status/404"):
        client = cls(force_instance=True)
        await client.fetch(app_server.http_url + path, raise_error=False)
        gc.collect()
        gc.disable()
        try:
            client.close()
            await settle()
            ref = weakref.ref(client)
            del client
            assert ref() is None
            left = {name for name in _squall_objects() if "._http1." in name or "._curl." in name}
            assert left - before == set(), path
        finally:
            gc.enable()
            gc.collect()
        left = {name for name in _squall_objects() if "._http1." in name or "._curl." in name}
        assert left - before == set()  # and nothing at all after a collection

"""AsyncHTTPClient construction: configure(), the per-loop instance, force_instance."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from typing import Any

import pytest

from squall.httpclient import AsyncHTTPClient, HTTPRequest, HTTPResponse
from tests.conftest import ENGINES, import_object


class RecordingClient(AsyncHTTPClient):
    """An engine that answers without I/O: only construction is under test here."""

    def initialize(self, marker: str = "", **kwargs: Any) -> None:  # type: ignore[override]
        super().initialize(**kwargs)
        self.marker = marker

    async def fetch_once(self, request: HTTPRequest) -> HTTPResponse:
        return HTTPResponse(request, 200)


@pytest.fixture(autouse=True)
def _reset_configuration() -> Iterator[None]:
    yield
    AsyncHTTPClient.configure(None)


def test_default_engine_is_simple() -> None:
    AsyncHTTPClient.configure(None)
    assert AsyncHTTPClient.configured_class().__name__ == "SimpleAsyncHTTPClient"


def test_configure_by_class_and_dotted_name() -> None:
    AsyncHTTPClient.configure(RecordingClient, marker="a")

    async def main() -> None:
        client = AsyncHTTPClient(force_instance=True)
        assert type(client) is RecordingClient
        assert isinstance(client, RecordingClient) and client.marker == "a"
        client.close()

    asyncio.run(main())
    AsyncHTTPClient.configure(f"{__name__}.RecordingClient")
    assert AsyncHTTPClient.configured_class() is RecordingClient


@pytest.mark.parametrize("bad", [int, "no_dots", "squall.httpclient.NoSuchClass", object()])
def test_configure_rejects(bad: Any) -> None:
    with pytest.raises((ValueError, ImportError)):
        AsyncHTTPClient.configure(bad)


def test_one_instance_per_loop() -> None:
    AsyncHTTPClient.configure(RecordingClient)

    async def main() -> AsyncHTTPClient:
        first = AsyncHTTPClient()
        assert AsyncHTTPClient(marker="ignored") is first
        assert AsyncHTTPClient(force_instance=True) is not first
        return first

    a = asyncio.run(main())
    b = asyncio.run(main())
    assert a is not b  # a new loop, a new instance
    a.close()
    b.close()


def test_close_forgets_instance_and_refuses_fetch() -> None:
    AsyncHTTPClient.configure(RecordingClient)

    async def main() -> None:
        first = AsyncHTTPClient()
        first.close()
        first.close()  # idempotent
        with pytest.raises(RuntimeError, match="closed"):
            first.fetch("http://127.0.0.1/")
        second = AsyncHTTPClient()
        assert second is not first
        response = await second.fetch("http://127.0.0.1/")
        assert response.code == 200 and set(response.time_info) >= {"queue", "redirect"}
        second.close()

    asyncio.run(main())


def test_close_after_the_cache_entry_is_gone() -> None:
    # At interpreter exit the garbage collector may clear the per-loop weak
    # cache before a client's __del__ closes it: close() must still work.
    AsyncHTTPClient.configure(RecordingClient)

    async def main() -> None:
        client = AsyncHTTPClient()
        cache = client._cache
        assert cache is not None
        del cache[client.loop]
        client.close()
        assert AsyncHTTPClient() is not client

    asyncio.run(main())


def test_created_before_loop_runs() -> None:
    AsyncHTTPClient.configure(RecordingClient)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        client = AsyncHTTPClient()
        assert client.loop is loop
        response = loop.run_until_complete(client.fetch("http://127.0.0.1/"))
        assert response.code == 200
        client.close()
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def test_kwargs_with_request_object_refused() -> None:
    AsyncHTTPClient.configure(RecordingClient)

    async def main() -> None:
        client = AsyncHTTPClient(force_instance=True)
        with pytest.raises(ValueError, match="kwargs can't be used"):
            client.fetch(HTTPRequest("http://127.0.0.1/"), method="POST")
        client.close()

    asyncio.run(main())


def test_async_context_manager_closes() -> None:
    AsyncHTTPClient.configure(RecordingClient)

    async def main() -> None:
        async with AsyncHTTPClient(force_instance=True) as client:
            await client.fetch("http://127.0.0.1/")
        with pytest.raises(RuntimeError):
            client.fetch("http://127.0.0.1/")

    asyncio.run(main())


# -- configure() checks the constructor arguments it is given -------------------------------


@pytest.mark.parametrize(
    ("impl", "kwargs", "error", "named"),
    [
        (None, {"max_client_count": 3}, TypeError, "max_client_count"),
        (None, {"idle_timeout": -1}, ValueError, "idle_timeout"),
        (None, {"defaults": {"request_timeout": "5"}}, TypeError, "request_timeout"),
        (None, {"force_instance": True}, TypeError, "force_instance"),
        # An engine refuses another engine's argument.
        ("squall.curl_httpclient.CurlAsyncHTTPClient", {"idle_timeout": 1.0}, TypeError, "idle"),
        # A subclass's own arguments are its constructor's business, the base's are checked.
        (RecordingClient, {"marker": "a", "max_body_size": 0}, ValueError, "max_body_size"),
    ],
)
def test_configure_checks_arguments(
    impl: Any, kwargs: dict[str, Any], error: type[Exception], named: str
) -> None:
    AsyncHTTPClient.configure(RecordingClient, marker="before")
    with pytest.raises(error, match=named):
        AsyncHTTPClient.configure(impl, **kwargs)
    # A refused configure() leaves the configuration as it was.
    assert AsyncHTTPClient.configured_class() is RecordingClient
    assert AsyncHTTPClient._impl_kwargs == {"marker": "before"}


def test_configure_accepts_good_arguments() -> None:
    AsyncHTTPClient.configure(
        None,
        max_clients=3,
        defaults={"request_timeout": 1.5, "follow_redirects": False},
        hostname_mapping={"a.test": "127.0.0.1", ("b.test", 80): ("127.0.0.1", 8080)},
        max_header_size=None,
        max_body_size=None,
        max_connections_per_host=None,
        idle_timeout=0,
    )

    async def main() -> None:
        client = AsyncHTTPClient(force_instance=True)
        assert client.max_clients == 3 and client.defaults["request_timeout"] == 1.5
        assert client.max_header_size == 64 * 1024
        assert client.max_body_size == client.max_buffer_size
        client.close()

    asyncio.run(main())


@pytest.mark.parametrize("engine", list(ENGINES.values()))
def test_argument_checks_cover_initialize(engine: str) -> None:
    # configure() refuses a name missing from the table: the table must list
    # every argument the engine's initialize() chain takes, and no other.
    cls = import_object(engine)
    names: set[str] = set()
    for klass in cls.__mro__:
        if "initialize" in vars(klass):
            parameters = inspect.signature(vars(klass)["initialize"]).parameters.values()
            names |= {p.name for p in parameters if p.kind in _NAMED and p.name != "self"}
    assert names == set(cls._ARGUMENT_CHECKS)


_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_an_engine_subclass_overriding_fetch_once_is_honoured(engine: str) -> None:
    # The base hands hops to the engine directly, unless a class overrides
    # fetch_once: then every hop goes through the override.
    base = import_object(ENGINES[engine])
    seen: list[str] = []

    class Wrapping(base):  # type: ignore[valid-type,misc]
        async def fetch_once(self, request: HTTPRequest) -> HTTPResponse:
            seen.append(request.url)
            return HTTPResponse(request, 204)

    async def main() -> int:
        client = Wrapping(force_instance=True)
        try:
            response: HTTPResponse = await client.fetch("http://127.0.0.1:9/never-dialled")
        finally:
            client.close()
        return response.code

    assert asyncio.run(main()) == 204
    assert seen == ["http://127.0.0.1:9/never-dialled"]

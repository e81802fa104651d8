"""Shared fixtures: the engine matrix, clients, a loop per test, and the test servers.

``async def`` tests run without any plugin: ``pytest_pyfunc_call`` below runs
the coroutine on the test's own event loop (the ``event_loop`` fixture, or a
fresh one), under ``asyncio.wait_for`` so no test can hang. Sync tests are
bounded by pytest-timeout when it is installed.

Every engine test takes the ``engine`` fixture (directly or through
``client``/``make_client``/``blocking_client``), so it runs once per engine,
with ids ``simple`` and ``curl``.

A test marked ``over_http2`` also runs over HTTP/2 (the ``http_version``
fixture, ids ``default``/``h2``): its ``h2`` clients default to
``http_version="2"``, which is prior knowledge (h2c) on the app's http:// URLs
and ALPN on https://; its ``default`` case is the test as any other runs.

Setting ``SQUALL_TEST_AGAINST_TORNADO=1`` runs the same tests against Tornado's
own clients instead (ids ``tornado-simple``/``tornado-curl``), to check the
tests themselves where Tornado has the feature: ``squall.httpclient`` and
``squall._errors`` are then stand-ins built from Tornado's names.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import inspect
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.servers.app import AppServer
from tests.servers.helpers import PROXY_PASSWORD as PROXY_PASSWORD  # re-exported for unit tests
from tests.servers.helpers import PROXY_USER as PROXY_USER
from tests.servers.nginx import NginxServer
from tests.servers.scripted import Handler, ScriptedServer
from tests.servers.tls import Certs, make_certs

ASYNC_TEST_TIMEOUT = 30.0
SYNC_TEST_TIMEOUT = 60
AGAINST_TORNADO = os.environ.get("SQUALL_TEST_AGAINST_TORNADO") == "1"

ENGINES = {
    "simple": "squall.simple_httpclient.SimpleAsyncHTTPClient",
    "curl": "squall.curl_httpclient.CurlAsyncHTTPClient",
}
if AGAINST_TORNADO:
    from tests.servers import tornado_shim

    tornado_shim.install()
    ENGINES = {
        "tornado-simple": "tornado.simple_httpclient.SimpleAsyncHTTPClient",
        "tornado-curl": "tornado.curl_httpclient.CurlAsyncHTTPClient",
    }

#: An over_http2 test's cases: as any other test (the engine's own choice), then HTTP/2.
HTTP_VERSIONS = [None, "2"]

_CURL = {name: dotted for name, dotted in ENGINES.items() if name.endswith("curl")}
_SIMPLE = {name: dotted for name, dotted in ENGINES.items() if name.endswith("simple")}
# For a feature only one engine has: parametrizing ``engine`` directly overrides
# the fixture, so ``client`` and friends build only that engine (no skips).
curl_only = pytest.mark.parametrize("engine", list(_CURL.values()), ids=list(_CURL))
simple_only = pytest.mark.parametrize("engine", list(_SIMPLE.values()), ids=list(_SIMPLE))


def import_object(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


# -- running async tests ------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    func = pyfuncitem.obj
    if not inspect.iscoroutinefunction(func):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    loop = pyfuncitem.funcargs.get("event_loop")
    coro = asyncio.wait_for(func(**kwargs), ASYNC_TEST_TIMEOUT)
    if isinstance(loop, asyncio.AbstractEventLoop):
        loop.run_until_complete(coro)
    else:
        asyncio.run(coro)
    return True


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "squall_only(*kinds): squall API beyond Tornado's (skipped against Tornado); with"
        " engine kinds ('curl'), only on those: an option Tornado has on one client alone",
    )
    config.addinivalue_line(
        "markers",
        "over_http2: an HTTP-level test that also runs over HTTP/2 (the http_version fixture);"
        " it must meet only servers that speak HTTP/2 (the app, nginx)",
    )
    config.addinivalue_line(
        "markers",
        "known_gap(*kinds, reason, http_version=None): a gap that exists today, on the engines"
        " of those kinds (all if none; over that http_version of an over_http2 test only, if"
        " given), run as a strict xfail: the fix makes it XPASS, which fails the suite"
        " until the marker goes",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Tornado's clients have no HTTP/2: the reference run keeps HTTP/1.1 only.
    marked = metafunc.definition.get_closest_marker("over_http2") is not None
    if marked and not AGAINST_TORNADO and "http_version" in metafunc.fixturenames:
        metafunc.parametrize("http_version", HTTP_VERSIONS, indirect=True, ids=["default", "h2"])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        gap = item.get_closest_marker("known_gap")
        if gap is not None and (not gap.args or _engine_kind(item) in gap.args) and _on(gap, item):
            item.add_marker(pytest.mark.xfail(strict=True, reason=gap.kwargs["reason"]))
    if AGAINST_TORNADO:
        skip = pytest.mark.skip(reason="squall-only API")
        for item in items:
            marker = item.get_closest_marker("squall_only")
            if marker is not None and (not marker.args or _engine_kind(item) in marker.args):
                item.add_marker(skip)
    if importlib.util.find_spec("pytest_timeout") is not None:
        for item in items:
            if item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(SYNC_TEST_TIMEOUT))


def _on(gap: pytest.Mark, item: pytest.Item) -> bool:
    """Whether a known_gap with ``http_version=`` applies to this case of the test."""
    version = gap.kwargs.get("http_version")
    callspec = getattr(item, "callspec", None)
    return version is None or (
        callspec is not None and callspec.params.get("http_version") == version
    )


def _engine_kind(item: pytest.Item) -> str | None:
    """The kind ("curl" or "simple") of an engine test's engine, from its parameter."""
    callspec = getattr(item, "callspec", None)
    name = callspec.params.get("engine") if callspec is not None else None
    if name in _CURL or name in _CURL.values():  # the fixture's id, or curl_only's dotted name
        return "curl"
    if name in _SIMPLE or name in _SIMPLE.values():
        return "simple"
    return None


LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {"asyncio": asyncio.new_event_loop}
if importlib.util.find_spec("uvloop") is not None:
    import uvloop

    LOOPS["uvloop"] = uvloop.new_event_loop


@pytest.fixture(params=list(LOOPS), ids=list(LOOPS))
def event_loop(request: pytest.FixtureRequest) -> Iterator[asyncio.AbstractEventLoop]:
    """A new event loop for this test (each test runs on asyncio's loop and on
    uvloop's); async tests and client fixtures share it.

    While it exists, blockbuster fails any blocking call (sleep, blocking socket
    or file I/O) that squall's own code makes on a thread running an event loop.
    """
    loop = LOOPS[request.param]()
    with _blockbuster():
        yield loop
    with contextlib.suppress(RuntimeError):
        tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.wait(tasks, timeout=2))
        loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


@contextlib.contextmanager
def _blockbuster() -> Iterator[None]:
    if AGAINST_TORNADO or os.environ.get("SQUALL_TEST_NO_BLOCKBUSTER") == "1":
        yield
        return
    from blockbuster import blockbuster_ctx

    # Only squall's frames are scanned: the servers and the tests may block.
    with blockbuster_ctx("squall"):
        yield


# -- engines and clients ------------------------------------------------------


@pytest.fixture(params=list(ENGINES), ids=list(ENGINES))
def engine(request: pytest.FixtureRequest) -> str:
    """The dotted name of the engine class under test."""
    return ENGINES[request.param]


def _settle(loop: asyncio.AbstractEventLoop) -> None:
    # asyncio closes transports on the next loop iteration; give it a few.
    if not loop.is_closed() and not loop.is_running():
        loop.run_until_complete(asyncio.sleep(0.01))


@pytest.fixture
def http_version(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The HTTP version an ``over_http2`` test's clients ask for: "2", or None
    (the engine's own choice, as for any other test).

    Over HTTP/2 the app must have served no HTTP/1.1 request during the test: a
    test that fell back to HTTP/1.1 by mistake fails.
    """
    version: str | None = getattr(request, "param", None)
    app = (
        request.getfixturevalue("app_server").app if "app_server" in request.fixturenames else None
    )
    before = app.served["1.1"] if app is not None else 0
    yield version
    if app is not None and version == "2":
        assert app.served["1.1"] == before, "an over_http2 test reached the app over HTTP/1.1"


def _with_version(kwargs: dict[str, Any], version: str | None) -> dict[str, Any]:
    if version is None:
        return kwargs
    return {**kwargs, "defaults": {"http_version": version, **kwargs.get("defaults", {})}}


@pytest.fixture
def make_client(
    engine: str, event_loop: asyncio.AbstractEventLoop, http_version: str | None
) -> Iterator[Callable[..., Any]]:
    """A factory ``make_client(**kwargs)`` of force_instance clients of the engine.

    Call it from inside the test's loop (an ``async def`` test); every client it
    made is closed after the test.
    """
    made: list[Any] = []
    cls = import_object(engine)

    def make(**kwargs: Any) -> Any:
        client = cls(force_instance=True, **_with_version(kwargs, http_version))
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
    _settle(event_loop)


@pytest.fixture
def client(
    engine: str, event_loop: asyncio.AbstractEventLoop, http_version: str | None
) -> Iterator[Any]:
    """An AsyncHTTPClient of the engine (force_instance), built inside the test's loop."""
    cls = import_object(engine)

    async def build() -> Any:
        return cls(force_instance=True, **_with_version({}, http_version))

    instance = event_loop.run_until_complete(build())
    yield instance
    instance.close()
    _settle(event_loop)


@pytest.fixture
def blocking_client(engine: str) -> Iterator[Any]:
    """A blocking HTTPClient driving the engine."""
    from squall.httpclient import HTTPClient

    instance = HTTPClient(async_client_class=import_object(engine))
    yield instance
    instance.close()


# -- servers -------------------------------------------------------------------


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="session")
def app_server(certs: Certs) -> Iterator[AppServer]:
    """The hypercorn test app: http_url, other_url (another origin), https_url."""
    with AppServer(certs) as server:
        yield server


@pytest.fixture(scope="session")
def nginx(certs: Certs) -> Iterator[NginxServer]:
    """Debian's nginx: h1_url, h2c_url (HTTP/2 prior knowledge only), tls_url (ALPN h2)."""
    with NginxServer(certs) as server:
        yield server


@pytest.fixture(scope="session")
def mtls_server(certs: Certs) -> Iterator[AppServer]:
    """The test app whose https_url requires a client certificate from the test CA."""
    with AppServer(certs, require_client_cert=True) as server:
        yield server


@pytest.fixture
def scripted() -> Iterator[Callable[..., ScriptedServer]]:
    """A factory: ``scripted(handler, host="127.0.0.1")`` starts a ScriptedServer,
    stopped after the test.

    A handler's exception (e.g. a failed assert) fails the test at teardown.
    """
    servers: list[ScriptedServer] = []

    def start(handler: Handler, host: str = "127.0.0.1") -> ScriptedServer:
        server = ScriptedServer(handler, host=host).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
    for server in servers:
        if server.errors:
            raise server.errors[0]


@pytest.fixture
def closed_port() -> int:
    """A local port with nothing listening (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def dead_url(closed_port: int) -> str:
    """A URL where nothing listens: an option checked too late ends as a connection error."""
    return f"http://127.0.0.1:{closed_port}/"


@pytest.fixture
def blackhole_port() -> Iterator[int]:
    """A port whose connects hang: the listener's accept queue is full and never drained."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    listener.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"proxy on port {port} did not start")


@contextlib.contextmanager
def _subprocess_server(args: list[str], port: int) -> Iterator[None]:
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, proc, time.monotonic() + 15)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="session")
def http_proxy() -> Iterator[tuple[str, int]]:
    """proxy.py (HTTP forward proxy with CONNECT), requiring Basic proxy auth."""
    port = _free_port()
    args = [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", str(port)]
    args += ["--num-workers", "1", "--num-acceptors", "1", "--threaded"]
    args += ["--basic-auth", f"{PROXY_USER}:{PROXY_PASSWORD}", "--log-level", "ERROR"]
    with _subprocess_server(args, port):
        yield "127.0.0.1", port


@pytest.fixture(scope="session")
def socks_proxy() -> Iterator[tuple[str, int]]:
    """pproxy as a SOCKS5 proxy (no auth)."""
    port = _free_port()
    # pproxy switches to uvloop when it can import it, and then fails to get a
    # loop in its main thread; hiding uvloop keeps it on plain asyncio.
    script = (
        "import sys; sys.modules['uvloop'] = None; from pproxy.server import main;"
        f"sys.argv = ['pproxy', '-l', 'socks5://127.0.0.1:{port}']; main()"
    )
    with _subprocess_server([sys.executable, "-c", script], port):
        yield "127.0.0.1", port

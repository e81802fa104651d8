"""Tornado-style tests: ``tornado.testing.AsyncHTTPTestCase`` with ``ExpectLog``,
pointed at squall's clients, as a Tornado user's own test suite would be.

Such suites fail on any log record they did not expect, and asyncio's "Task
exception was never retrieved" (logged when an unretrieved failed task is
collected, often in a later test) is one. Each test here records what squall
and asyncio log at INFO and above, collects garbage after the loop is closed,
and fails on anything that no ``ExpectLog`` claimed. Tornado's own logs (the
test server's) are not squall's and are ignored.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import tempfile
from pathlib import Path
from typing import Any, ClassVar

from tornado.httpserver import HTTPServer
from tornado.testing import AsyncHTTPTestCase, ExpectLog, bind_unused_port
from tornado.web import Application, RedirectHandler, RequestHandler

from squall._errors import HTTPClientError, HTTPTimeoutError
from squall.curl_httpclient import CurlAsyncHTTPClient
from squall.httpclient import AsyncHTTPClient
from squall.simple_httpclient import SimpleAsyncHTTPClient
from tests.servers.tls import Certs, make_certs


class _Hello(RequestHandler):
    def get(self) -> None:
        self.write("Hello")

    def head(self) -> None:
        self.set_header("Content-Length", "5")


class _Hang(RequestHandler):
    """Answers once the test sets ``release`` (after ``arrived`` counted it)."""

    async def get(self) -> None:
        state = self.application.settings["state"]
        state.arrived.release()
        await state.release.wait()
        self.write("released")


class _Stream(RequestHandler):
    async def get(self) -> None:
        self.write(b"x" * 1000)
        await self.flush()
        await self.application.settings["state"].release.wait()


class _State:
    def __init__(self) -> None:
        self.arrived = asyncio.Semaphore(0)
        self.release = asyncio.Event()


class _Records(logging.Handler):
    """Keeps the records of squall's and asyncio's loggers (INFO and above)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in ("squall", "asyncio"):
            self.records.append(record)


class _SquallTestCase(AsyncHTTPTestCase):
    __test__ = False
    client_class: ClassVar[type[AsyncHTTPClient]]
    certs: ClassVar[Certs]
    _tmp: ClassVar[tempfile.TemporaryDirectory[str]]

    @classmethod
    def setUpClass(cls) -> None:
        cls._tmp = tempfile.TemporaryDirectory()
        cls.certs = make_certs(Path(cls._tmp.name))

    @classmethod
    def tearDownClass(cls) -> None:
        cls._tmp.cleanup()

    def setUp(self) -> None:
        self.logged = _Records()
        root = logging.getLogger()
        self._level = root.level
        root.setLevel(logging.INFO)
        root.addHandler(self.logged)
        self.state = _State()
        super().setUp()

    def tearDown(self) -> None:
        self.state.release.set()
        super().tearDown()  # closes the client, cancels what is left, closes the loop
        gc.collect()  # an unretrieved task exception is logged when collected
        root = logging.getLogger()
        root.removeHandler(self.logged)
        root.setLevel(self._level)
        stray = [f"{r.name} {r.levelname}: {r.getMessage()}" for r in self.logged.records]
        self.assertEqual(stray, [], "unexpected log records")

    def get_app(self) -> Application:
        routes: list[Any] = [
            ("/hello", _Hello),
            ("/hang", _Hang),
            ("/stream", _Stream),
            ("/redirect", RedirectHandler, {"url": "/hello"}),
        ]
        return Application(routes, state=self.state)

    def get_http_client(self) -> Any:  # squall's client where Tornado's would be
        return self.client_class(force_instance=True)

    def new_client(self, **kwargs: Any) -> AsyncHTTPClient:
        return self.client_class(force_instance=True, **kwargs)

    def wait_arrived(self, count: int) -> None:
        async def arrived() -> None:
            for _ in range(count):
                await self.state.arrived.acquire()

        self.io_loop.run_sync(arrived)

    # -- ordinary fetches ----------------------------------------------------------

    def test_fetch(self) -> None:
        response = self.fetch("/hello")
        self.assertEqual(response.body, b"Hello")

    def test_head(self) -> None:
        response = self.fetch("/hello", method="HEAD")
        self.assertEqual((response.code, response.body), (200, b""))

    def test_redirect(self) -> None:
        response = self.fetch("/redirect")
        self.assertEqual((response.code, response.body), (200, b"Hello"))

    def test_streaming(self) -> None:
        chunks: list[bytes] = []
        self.state.release.set()
        self.fetch("/stream", streaming_callback=chunks.append)
        self.assertEqual(b"".join(chunks), b"x" * 1000)

    def test_request_timeout(self) -> None:
        with self.assertRaises(HTTPTimeoutError):
            self.fetch("/hang", request_timeout=0.2)

    def test_refused_connection(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        with self.assertRaises(ConnectionRefusedError):
            self.fetch(f"http://127.0.0.1:{port}/")

    def test_refused_connection_with_callback(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        responses: list[Any] = []
        self.http_client.fetch(f"http://127.0.0.1:{port}/", callback=responses.append)
        self.io_loop.run_sync(lambda: _until(lambda: bool(responses)))
        self.assertIsInstance(responses[0].error, ConnectionRefusedError)

    def test_queue_timeout(self) -> None:
        client = self.new_client(max_clients=1)
        first = client.fetch(self.get_url("/hang"))
        self.wait_arrived(1)
        with self.assertRaises(HTTPTimeoutError) as info:
            self.io_loop.run_sync(lambda: client.fetch(self.get_url("/hello"), request_timeout=0.1))
        self.assertIn("Timeout in request queue", str(info.exception))
        self.state.release.set()
        self.assertEqual(self.io_loop.run_sync(lambda: first).body, b"released")
        client.close()

    def test_close_with_fetches_in_flight_not_awaited(self) -> None:
        client = self.new_client(max_clients=2)
        # Two running, two queued; the caller never looks at their results
        # (asyncio.wait does not retrieve them).
        futures = [client.fetch(self.get_url("/hang")) for _ in range(4)]
        self.wait_arrived(2)
        client.close()
        self.io_loop.run_sync(lambda: asyncio.wait(futures))

    def test_close_with_fetches_in_flight_awaited(self) -> None:
        client = self.new_client(max_clients=2)
        futures = [client.fetch(self.get_url("/hang")) for _ in range(4)]
        self.wait_arrived(2)
        client.close()

        async def outcomes() -> list[Any]:
            return await asyncio.gather(*futures, return_exceptions=True)

        for outcome in self.io_loop.run_sync(outcomes):
            self.assertIsInstance(outcome, (HTTPClientError, asyncio.CancelledError))

    def test_close_with_callback_fetches_in_flight(self) -> None:
        client = self.new_client()
        responses: list[Any] = []
        client.fetch(self.get_url("/hang"), callback=responses.append)
        self.wait_arrived(1)
        client.close()
        self.io_loop.run_sync(lambda: _until(lambda: bool(responses)))
        self.assertIsInstance(responses[0].error, HTTPClientError)

    # -- what Tornado logs ---------------------------------------------------------

    def test_failure_after_cancel_is_logged(self) -> None:
        started = asyncio.Event()

        async def on_chunk(chunk: bytes) -> None:
            started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                raise RuntimeError("cleanup failed") from None

        future = self.http_client.fetch(self.get_url("/stream"), streaming_callback=on_chunk)

        async def cancel_then_wait() -> None:
            await started.wait()
            future.cancel()
            await asyncio.wait([future])

        with ExpectLog("squall.application", "Exception after Future was cancelled"):
            self.io_loop.run_sync(cancel_then_wait)
        self.assertTrue(future.cancelled())

    def test_tls_handshake_failure(self) -> None:
        sock, port = bind_unused_port()
        server = HTTPServer(
            self.get_app(),
            ssl_options={"certfile": self.certs.server_cert, "keyfile": self.certs.server_key},
        )
        server.add_sockets([sock])
        url = f"https://127.0.0.1:{port}/hello"  # the test CA is not trusted: verification fails
        # Tornado's simple client logs the handshake failure; libcurl does TLS itself.
        logs = self.client_class is SimpleAsyncHTTPClient
        with (
            ExpectLog("squall.general", "SSL Error", required=logs) as expected,
            self.assertRaises(HTTPClientError),
        ):
            self.fetch(url)
        self.assertFalse(expected.logged_stack)
        server.stop()


async def _until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0.01)


class SimpleClientTest(_SquallTestCase):
    __test__ = True
    client_class = SimpleAsyncHTTPClient


class CurlClientTest(_SquallTestCase):
    __test__ = True
    client_class = CurlAsyncHTTPClient

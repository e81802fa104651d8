"""A two-second tour of squall: ``python -m squall._demo`` (``./dev demo``).

Starts a small HTTP/1.1 keep-alive server on 127.0.0.1 in a thread, then
fetches from it with the blocking HTTPClient and the AsyncHTTPClient, on each
engine that is available, and prints codes, sizes, timings and throughput.
Exits 0 when every fetch did what it should, 1 otherwise.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import json
import sys
import threading
import time
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from squall._configurable import ENGINES
from squall.httpclient import AsyncHTTPClient, HTTPClient, HTTPResponse

__all__ = ["main"]

SEQUENTIAL = 200  # blocking fetches in a row, one keep-alive connection
CONCURRENT = 200  # async fetches started at once (max_clients at a time)
SLOW = 10  # concurrent /slow fetches: they overlap, so take ~one delay in all
SLOW_DELAY = 0.1


class DemoHandler(BaseHTTPRequestHandler):
    """/hello, /json, /slow?delay=S, /redirect (to /hello); anything else is 404."""

    protocol_version = "HTTP/1.1"  # keep-alive: every response has a Content-Length
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle plus
    # the client's delayed ACK would add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/hello":
            self._send(200, b"Hello, world!\n", "text/plain")
        elif url.path == "/json":
            body = json.dumps({"server": "squall demo", "path": self.path}).encode()
            self._send(200, body, "application/json")
        elif url.path == "/slow":
            time.sleep(float(parse_qs(url.query).get("delay", ["0.1"])[0]))
            self._send(200, b"finally\n", "text/plain")
        elif url.path == "/redirect":
            self._send(302, b"", "text/plain", Location="/hello")
        else:
            self._send(404, b"not found\n", "text/plain")

    def _send(self, code: int, body: bytes, ctype: str, **extra: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep the report readable


class DemoServer(ThreadingHTTPServer):
    # The default listen backlog of 5 drops SYNs when more clients connect at
    # once, and each dropped one costs a 1 s retransmit.
    request_queue_size = 128


def start_server() -> tuple[ThreadingHTTPServer, str]:
    """Serve DemoHandler on 127.0.0.1 (a free port) in a daemon thread."""
    server = DemoServer(("127.0.0.1", 0), DemoHandler)
    threading.Thread(target=server.serve_forever, name="demo-server", daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def describe(response: HTTPResponse) -> str:
    info = response.time_info
    times = ", ".join(f"{k} {ms(info[k])}" for k in ("connect", "starttransfer") if k in info)
    return (
        f"{response.code} {len(response.body):4d} B  total {ms(response.request_time or 0.0)}"
        + (f" ({times})" if times else "")
    )


class Report:
    """Prints one line per step and remembers whether any failed."""

    def __init__(self) -> None:
        self.failed = 0

    def step(self, label: str, run: Callable[[], str]) -> None:
        try:
            print(f"  {label:<34} {run()}", flush=True)
        except Exception as exc:
            self.failed += 1
            print(f"  {label:<34} FAILED: {type(exc).__name__}: {exc}", flush=True)
            if "-v" in sys.argv:
                traceback.print_exc()


def get(client: HTTPClient, url: str) -> str:
    return describe(client.fetch(url))


def blocking_steps(report: Report, engine: type[AsyncHTTPClient], base: str) -> None:
    with HTTPClient(engine) as client:
        for path in ("/hello", "/json"):
            report.step(f"HTTPClient GET {path}", functools.partial(get, client, base + path))

        def redirect() -> str:
            response = client.fetch(base + "/redirect")
            assert response.effective_url.endswith("/hello"), response.effective_url
            return f"{describe(response)} -> {urlsplit(response.effective_url).path}"

        def missing() -> str:
            response = client.fetch(base + "/missing", raise_error=False)
            assert response.code == 404, response.code
            return f"{response.code} {response.reason} (raise_error=False)"

        def sequential() -> str:
            start = time.perf_counter()
            for _ in range(SEQUENTIAL):
                assert client.fetch(base + "/hello").body == b"Hello, world!\n"
            elapsed = time.perf_counter() - start
            return f"{SEQUENTIAL} in {elapsed:.2f} s, {SEQUENTIAL / elapsed:.0f} requests/s"

        report.step("HTTPClient GET /redirect", redirect)
        report.step("HTTPClient GET /missing", missing)
        report.step(f"HTTPClient {SEQUENTIAL} x GET /hello", sequential)


async def gather(engine: type[AsyncHTTPClient], urls: list[str]) -> tuple[float, int]:
    """Fetch every URL at once; returns the elapsed seconds and the body bytes."""
    client = engine(force_instance=True)
    try:
        start = time.perf_counter()
        responses = await asyncio.gather(*(client.fetch(url) for url in urls))
        elapsed = time.perf_counter() - start
    finally:
        client.close()
    assert all(r.code == 200 for r in responses)
    return elapsed, sum(len(r.body) for r in responses)


def async_steps(report: Report, engine: type[AsyncHTTPClient], base: str) -> None:
    def slow() -> str:
        url = f"{base}/slow?delay={SLOW_DELAY}"
        elapsed, _ = asyncio.run(gather(engine, [url] * SLOW))
        return f"{SLOW} in {elapsed:.2f} s (one after another: {SLOW * SLOW_DELAY:.1f} s)"

    def many() -> str:
        elapsed, size = asyncio.run(gather(engine, [base + "/hello"] * CONCURRENT))
        return f"{size} B in {elapsed:.2f} s, {CONCURRENT / elapsed:.0f} requests/s"

    report.step(f"AsyncHTTPClient {SLOW} x GET /slow", slow)
    report.step(f"AsyncHTTPClient {CONCURRENT} x GET /hello", many)


def load_engine(name: str) -> tuple[type[AsyncHTTPClient] | None, str]:
    """The engine class, or None and why it is skipped (pycurl missing, only)."""
    module_name, _, class_name = ENGINES[name].rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if "pycurl" not in str(exc) and exc.name != "pycurl":
            raise  # a broken engine is a failure, not a skip
        return None, str(exc)
    engine: type[AsyncHTTPClient] = getattr(module, class_name)
    # Only the curl engine imports pycurl (tests/test_architecture.py); ask it, don't import it.
    libcurl = (
        getattr(sys.modules.get("pycurl"), "version", "").split()[1:2] if name == "curl" else []
    )
    return engine, ", ".join([class_name, *libcurl])


def main() -> int:
    """Run the demo; returns the exit status."""
    server, base = start_server()
    print(f"squall demo: server at {base} (http.server, HTTP/1.1 keep-alive)")
    report = Report()
    start = time.perf_counter()
    try:
        for name in ENGINES:
            try:
                engine, detail = load_engine(name)
            except Exception as exc:  # the engine itself is broken: a failure, not a skip
                report.failed += 1
                print(f"\nengine {name}: FAILED to load: {type(exc).__name__}: {exc}")
                continue
            if engine is None:
                print(f"\nengine {name}: skipped: {detail}")
                continue
            print(f"\nengine {name} ({detail})")
            blocking_steps(report, engine, base)
            async_steps(report, engine, base)
    finally:
        server.shutdown()
        server.server_close()
    elapsed = time.perf_counter() - start
    verdict = f"{report.failed} step(s) FAILED" if report.failed else "every fetch OK"
    print(f"\n{verdict} in {elapsed:.1f} s")
    return 1 if report.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

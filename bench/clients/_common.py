"""Shared harness of the client scripts: arguments, the timed loops, and the one JSON result line.

A client script only supplies how to fetch one URL (an async or a blocking callable returning the
number of body bytes it got); this module runs the warm-up, then the measured window, and prints
`{"requests", "errors", "seconds", "bytes", "p50_ms", "p99_ms", "cpu_s", "maxrss_mb", ...}`.
CPU time is this process's user+system time over the measured window only (imports and warm-up
excluded); max RSS is the process's peak, warm-up included, which is what a user would see.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
import traceback
from array import array
from collections.abc import Awaitable, Callable
from typing import Any

AsyncFetch = Callable[[], Awaitable[int]]
SyncFetch = Callable[[], int]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--duration", type=float, default=1.0, help="measured seconds")
    p.add_argument("--warmup", type=float, default=0.3, help="warm-up seconds")
    p.add_argument("--min-requests", type=int, default=1)
    p.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    p.add_argument("--method", default="GET")
    p.add_argument("--body-size", type=int, default=0, help="request body bytes (POST)")
    p.add_argument("--expect-bytes", type=int, default=-1, help="body size to check, -1: any")
    p.add_argument("--gzip", action="store_true", help="ask for and decode gzip")
    p.add_argument("--ca", default=None, help="CA bundle for https URLs")
    p.add_argument("--http-version", choices=["auto", "1.1", "2"], default="auto")
    p.add_argument("--engine", default="simple", help="squall engine for the blocking client")
    p.add_argument("--stream", action="store_true", help="consume the body chunk by chunk")
    p.add_argument("--proxy", default=None, help="http://host:port of a proxy to go through")
    args = p.parse_args(argv)
    args.body = b"x" * args.body_size if args.body_size else None
    return args


def raise_fd_limit() -> None:
    """1000 connections need more descriptors than some shells' default soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 65536) if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    idx = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[idx]


class Stats:
    """Latencies and counters of one window; `check` validates each body size cheaply."""

    def __init__(self, expect: int) -> None:
        self.expect = expect
        self.lat = array("d")
        self.bytes = 0
        self.errors = 0
        self.first_error: str | None = None

    def ok(self, start: float, nbytes: int) -> None:
        self.lat.append(time.perf_counter() - start)
        self.bytes += nbytes
        if self.expect >= 0 and nbytes != self.expect:
            self.fail(f"body of {nbytes} bytes, expected {self.expect}")

    def fail(self, msg: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = msg


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__module__}.{type(exc).__name__}: {exc}"[:300]


def emit(stats: Stats, seconds: float, cpu: float, extra: dict[str, Any] | None = None) -> None:
    lat = sorted(stats.lat)
    n = len(lat)
    out: dict[str, Any] = {
        "requests": n,
        "errors": stats.errors,
        "seconds": seconds,
        "bytes": stats.bytes,
        "rps": n / seconds if seconds > 0 else 0.0,
        "mbps": stats.bytes / seconds / 1e6 if seconds > 0 else 0.0,
        "p50_ms": _percentile(lat, 0.50) * 1e3,
        "p99_ms": _percentile(lat, 0.99) * 1e3,
        "cpu_s": cpu,
        "cpu_per_1k": cpu / n * 1000 if n else None,
        # ru_maxrss is KiB on Linux.
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if stats.errors:
        out["error"] = f"{stats.errors} failed: {stats.first_error}"
    if extra:
        out.update(extra)
    print(json.dumps(out), flush=True)


def emit_failure(exc: BaseException) -> None:
    traceback.print_exc(file=sys.stderr)
    print(json.dumps({"error": _describe(exc)}), flush=True)


async def _worker(fetch: AsyncFetch, stats: Stats, deadline: float, min_req: int) -> None:
    perf = time.perf_counter
    done = 0
    while perf() < deadline or done < min_req:
        start = perf()
        try:
            nbytes = await fetch()
        except Exception as exc:
            stats.fail(_describe(exc))
            if stats.errors > 1000:
                return
        else:
            stats.ok(start, nbytes)
        done += 1


async def _window(
    fetch: AsyncFetch, args: argparse.Namespace, seconds: float, min_req: int
) -> Stats:
    stats = Stats(args.expect_bytes)
    deadline = time.perf_counter() + seconds
    await asyncio.gather(
        *(_worker(fetch, stats, deadline, min_req) for _ in range(args.concurrency))
    )
    return stats


async def _run_async(setup: Callable[[argparse.Namespace], Awaitable[Any]], args: Any) -> None:
    fetch, close = await setup(args)
    try:
        # Warm-up: every worker completes a request at least, so all connections are open.
        await _window(fetch, args, args.warmup, 1)
        cpu0, t0 = _cpu(), time.perf_counter()
        # The minimum is spread over the workers so a slow client still ends the window soon.
        stats = await _window(fetch, args, args.duration, args.min_requests // args.concurrency)
        seconds, cpu = time.perf_counter() - t0, _cpu() - cpu0
    finally:
        res = close()
        if asyncio.iscoroutine(res):
            await res
    emit(stats, seconds, cpu, {"loop": args.loop})


def run_async(setup: Callable[[argparse.Namespace], Awaitable[Any]]) -> None:
    """Run an async client: `await setup(args)` returns `(fetch, close)`; close may be async."""
    args = parse_args()
    raise_fd_limit()
    try:
        if args.loop == "uvloop":
            import uvloop

            factory: Any = uvloop.new_event_loop
        else:
            factory = None
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(_run_async(setup, args))
    except Exception as exc:
        emit_failure(exc)
        sys.exit(1)


def _sync_window(fetch: SyncFetch, args: argparse.Namespace, seconds: float) -> Stats:
    stats = Stats(args.expect_bytes)
    perf = time.perf_counter
    deadline = perf() + seconds
    done = 0
    while perf() < deadline or done < (args.min_requests if seconds > 0 else 1):
        start = perf()
        try:
            nbytes = fetch()
        except Exception as exc:
            stats.fail(_describe(exc))
            if stats.errors > 1000:
                break
        else:
            stats.ok(start, nbytes)
        done += 1
    return stats


def run_sync(setup: Callable[[argparse.Namespace], Any]) -> None:
    """Run a blocking client sequentially: `setup(args)` returns `(fetch, close)`."""
    args = parse_args()
    raise_fd_limit()
    try:
        if args.concurrency != 1:
            raise ValueError("blocking clients run sequentially (concurrency 1)")
        fetch, close = setup(args)
        try:
            _sync_window(fetch, args, args.warmup)
            cpu0, t0 = _cpu(), time.perf_counter()
            stats = _sync_window(fetch, args, args.duration)
            seconds, cpu = time.perf_counter() - t0, _cpu() - cpu0
        finally:
            close()
        emit(stats, seconds, cpu)
    except Exception as exc:
        emit_failure(exc)
        sys.exit(1)


def squall_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """Per-request options of the squall clients (Tornado's API plus `http_version`)."""
    kw: dict[str, Any] = {"method": args.method, "body": args.body}
    if args.ca:
        kw["ca_certs"] = args.ca
    if args.gzip:
        kw["use_gzip"] = True
    if args.method == "POST":
        kw["headers"] = {"Content-Type": "application/octet-stream"}
    if args.http_version != "auto":
        kw["http_version"] = args.http_version
    if args.proxy:
        host, _, port = args.proxy.removeprefix("http://").rpartition(":")
        kw["proxy_host"], kw["proxy_port"] = host, int(port)
    return kw


# Large enough for the 100 MiB body plus slack; the default (100 MiB) is exactly at the edge.
BIG_BUFFER = 256 * 1024 * 1024


def tornado_kwargs(args: argparse.Namespace, curl: bool) -> dict[str, Any]:
    """Per-request options of Tornado's clients: the method, the body and the CA, nothing else
    (Tornado asks for gzip and decodes it by default). Tornado has no `http_version`: for its
    curl client the version is set on the handle."""
    kw: dict[str, Any] = {"method": args.method, "body": args.body}
    if args.ca:
        kw["ca_certs"] = args.ca
    version = None if args.http_version == "auto" else args.http_version
    if version is not None and curl:
        import pycurl

        curl_version = (
            pycurl.CURL_HTTP_VERSION_1_1 if version == "1.1" else pycurl.CURL_HTTP_VERSION_2_0
        )
        kw["prepare_curl_callback"] = lambda c: c.setopt(pycurl.HTTP_VERSION, curl_version)
    return kw

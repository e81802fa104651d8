"""The floor under the curl engine: how fast libcurl can go when an asyncio loop drives it.

`bench/.env/bin/python bench/curl_floor.py` starts the benchmark's nginx, then runs three clients
of small GETs with 10 in flight, each in its own process pinned to CPU 1, interleaved, 3 times:

- `perform`: raw pycurl, one CurlMulti driven by perform() + select() (the benchmark's
  "pycurl multi" row, the ceiling for anything on libcurl);
- `bridge`: squall's own loop bridge (squall/_curl/multi.py) on asyncio, with nothing per
  request but a pooled handle, its URL, a body list and one Future: what an asyncio-driven
  libcurl costs before any HTTP client API (no HTTPRequest, task, headers or response);
- `squall`: CurlAsyncHTTPClient.fetch, the whole engine.

It prints req/s, CPU microseconds per request and ratios to `perform`. The gap between `perform`
and `bridge` is the price of the event loop; the gap between `bridge` and `squall` is the API's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
VARIANTS = ("perform", "bridge", "squall")


def _perform(url: str, concurrency: int, seconds: float) -> int:
    import pycurl

    multi = pycurl.CurlMulti()
    handles = []
    for _ in range(concurrency):
        curl = pycurl.Curl()
        curl.setopt(pycurl.URL, url)
        handles.append(curl)
    done = 0
    deadline = time.perf_counter() + seconds

    def start(curl: Any) -> None:
        chunks: list[bytes] = []
        curl.chunks = chunks
        curl.setopt(pycurl.WRITEFUNCTION, chunks.append)
        multi.add_handle(curl)

    for curl in handles:
        start(curl)
    active = len(handles)
    while active:
        while multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
            pass
        while True:
            queued, ok, failed = multi.info_read()
            for curl in [*ok, *(f[0] for f in failed)]:
                multi.remove_handle(curl)
                b"".join(curl.chunks)
                done += 1
                if time.perf_counter() < deadline:
                    start(curl)
                else:
                    active -= 1
            if not queued:
                break
        if active:
            multi.select(0.1)
    return done


async def _bridge(url: str, concurrency: int, seconds: float) -> int:
    import pycurl

    from squall._curl.multi import CurlMultiBridge

    loop = asyncio.get_running_loop()
    bridge = CurlMultiBridge(loop)
    done = 0

    class Sink:
        def __init__(self) -> None:
            self.future: asyncio.Future[int] = loop.create_future()

        def transfer_done(self, errno: int, message: str) -> None:
            self.future.set_result(errno)

    async def worker(deadline: float) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            curl = bridge.acquire()
            curl.setopt(pycurl.URL, url)
            chunks: list[bytes] = []
            curl.setopt(pycurl.WRITEFUNCTION, chunks.append)
            sink = Sink()
            bridge.start(curl, sink)
            await sink.future
            b"".join(chunks)
            bridge.release(curl)
            done += 1

    deadline = time.perf_counter() + seconds
    await asyncio.gather(*(worker(deadline) for _ in range(concurrency)))
    bridge.close()
    return done


async def _squall(url: str, concurrency: int, seconds: float) -> int:
    from squall.curl_httpclient import CurlAsyncHTTPClient
    from squall.httpclient import HTTPRequest

    client = CurlAsyncHTTPClient(force_instance=True, max_clients=concurrency)
    request = HTTPRequest(url)
    done = 0

    async def worker(deadline: float) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await client.fetch(request)
            done += 1

    deadline = time.perf_counter() + seconds
    await asyncio.gather(*(worker(deadline) for _ in range(concurrency)))
    client.close()
    return done


def _one(variant: str, url: str, concurrency: int, seconds: float) -> dict[str, float]:
    def run(window: float) -> int:
        if variant == "perform":
            return _perform(url, concurrency, window)
        runner = _bridge if variant == "bridge" else _squall
        return asyncio.run(runner(url, concurrency, window))

    run(0.3)  # warm-up: connections open, handles pooled
    cpu0, t0 = time.process_time(), time.perf_counter()
    done = run(seconds)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"rps": done / wall, "cpu_us": cpu / done * 1e6}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="a URL of a small body (default: start the benchmark's nginx)")
    p.add_argument("--concurrency", type=int, default=10)
    p.add_argument("--duration", type=float, default=2.0)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.variant:
        print(json.dumps(_one(args.variant, args.url, args.concurrency, args.duration)))
        return
    server = None
    url = args.url
    if url is None:
        sys.path.insert(0, HERE)
        import server as bench_server

        server = bench_server.start()
        url = server.url("100b.bin")
    try:
        results: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
        for _ in range(args.reps):
            for variant in VARIANTS:
                cmd = [sys.executable, os.path.abspath(__file__), "--variant", variant]
                cmd += ["--url", url, "--concurrency", str(args.concurrency)]
                cmd += ["--duration", str(args.duration)]
                out = subprocess.run(
                    ["taskset", "-c", "1", *cmd], check=True, capture_output=True, text=True
                ).stdout
                results[variant].append(json.loads(out))
    finally:
        if server is not None:
            server.stop()
    base = statistics.median(r["rps"] for r in results["perform"])
    print(f"small GETs, {args.concurrency} in flight, median of {args.reps}")
    print(f"{'variant':8} {'req/s':>9} {'x perform':>10} {'CPU us/req':>11}")
    for variant in VARIANTS:
        rps = statistics.median(r["rps"] for r in results[variant])
        cpu = statistics.median(r["cpu_us"] for r in results[variant])
        print(f"{variant:8} {rps:9,.0f} {rps / base:9.2f}x {cpu:11.1f}")


if __name__ == "__main__":
    main()

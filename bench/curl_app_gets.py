"""A quick check of the curl engine's hot path: N small GETs at C in flight against the test app.

Lighter than ``bash bench/run --quick`` for a before/after comparison on a busy machine: the app
server (``tests/servers/app.py``, hypercorn) runs in a child process so it does not share the
client's interpreter, and the client's own CPU time is reported beside the wall time (the server
bounds the wall time; the CPU time is what a change to the client moves)::

    .venv/bin/python bench/curl_app_gets.py [--requests 20000] [--concurrency 10] [--reps 3]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _serve(port_out: Any, stop: Any) -> None:
    import tempfile

    from tests.servers.app import AppServer
    from tests.servers.tls import make_certs

    with tempfile.TemporaryDirectory() as tmp, AppServer(make_certs(Path(tmp))) as server:
        port_out.send(server.http_url)
        stop.wait()


async def _run(url: str, total: int, concurrency: int) -> tuple[float, float]:
    from squall.curl_httpclient import CurlAsyncHTTPClient

    client = CurlAsyncHTTPClient(force_instance=True, max_clients=concurrency)
    left = total

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            response = await client.fetch(url)
            assert response.code == 200 and response.body == b"status 200"

    await asyncio.gather(*(worker() for _ in range(concurrency)))  # warm-up: connections open
    left = total
    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    client.close()
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    ctx = multiprocessing.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    stop = ctx.Event()
    server = ctx.Process(target=_serve, args=(sender, stop), daemon=True)
    server.start()
    try:
        url = receiver.recv() + "/status/200"
        for _ in range(args.reps):
            wall, cpu = asyncio.run(_run(url, args.requests, args.concurrency))
            print(
                f"{args.requests} GETs at {args.concurrency} in flight: {wall:.2f} s wall"
                f" ({args.requests / wall:.0f}/s), client CPU {cpu:.2f} s"
                f" ({1e6 * cpu / args.requests:.0f} us/request)"
            )
    finally:
        stop.set()
        server.join(10)


if __name__ == "__main__":
    main()

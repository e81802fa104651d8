"""The base client's own cost per fetch, with an engine that does no I/O.

`python bench/base_overhead.py` (from the repo, with squall installed) runs 50,000
fetches, 100 in flight, through AsyncHTTPClient.fetch on an engine whose fetch_once
returns at once, and prints the time per fetch: what defaults, validation, the
max_clients gate, redirect checks and the Future cost before any engine work.
"""

import asyncio
import time

from squall._headers import HTTPHeaders
from squall.httpclient import AsyncHTTPClient, HTTPRequest, HTTPResponse

N = 50_000


class NoIOEngine(AsyncHTTPClient):
    async def fetch_once(self, request: HTTPRequest) -> HTTPResponse:
        return HTTPResponse(
            request, 200, headers=HTTPHeaders(), request_time=0.0, start_time=0.0, time_info={}
        )


async def main() -> None:
    client = NoIOEngine(force_instance=True, max_clients=100)
    gate = asyncio.Semaphore(100)

    async def one() -> None:
        async with gate:
            await client.fetch("http://127.0.0.1:8080/")

    t0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(N)))
    seconds = time.perf_counter() - t0
    client.close()
    print(f"{N / seconds:,.0f} fetches/s, {seconds / N * 1e6:.1f} us per fetch (base only)")


if __name__ == "__main__":
    asyncio.run(main())

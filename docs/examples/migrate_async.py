"""The tasks of the aiohttp and httpx migration guides, with squall's AsyncHTTPClient.

Run: python migrate_async.py http://127.0.0.1:8000
"""

import asyncio
import json
import sys

from squall.httpclient import AsyncHTTPClient, HTTPClientError
from squall.httputil import url_concat

base = sys.argv[1]


async def main() -> None:
    # [client]
    async with AsyncHTTPClient(force_instance=True, max_clients=100) as client:
        # [/client]
        # [get]
        response = await client.fetch(url_concat(f"{base}/echo", {"q": "x"}))
        data = json.loads(response.body)  # aiohttp: await resp.json()
        print(response.code, data["query"])
        # [/get]

        # [post-json]
        response = await client.fetch(
            f"{base}/echo",
            method="POST",
            body=json.dumps({"a": 1}),
            headers={"Content-Type": "application/json"},
        )
        # [/post-json]
        assert json.loads(json.loads(response.body)["body"]) == {"a": 1}

        # [errors]
        try:
            await client.fetch(f"{base}/status/500")
        except HTTPClientError as e:  # aiohttp: raise_for_status=True
            print(e.code, e.response.body if e.response else b"")
        # [/errors]

        # [timeout]
        try:
            await client.fetch(f"{base}/slow?delay=2", request_timeout=0.2)
        except TimeoutError as e:  # aiohttp: asyncio.TimeoutError / httpx.TimeoutException
            print(e)
        # [/timeout]

        # [gather]
        urls = [f"{base}/echo?i={i}" for i in range(20)]
        results = await asyncio.gather(*(client.fetch(url, raise_error=False) for url in urls))
        print(sum(r.code == 200 for r in results))
        # [/gather]

        # [stream]
        size = 0

        async def on_chunk(chunk: bytes) -> None:  # aiohttp: async for chunk in resp.content
            nonlocal size
            size += len(chunk)

        await client.fetch(f"{base}/large?size=1000000", streaming_callback=on_chunk)
        print(size)
        # [/stream]
        assert size == 1_000_000


asyncio.run(main())

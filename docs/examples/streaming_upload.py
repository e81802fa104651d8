"""Streaming an upload. Run: python streaming_upload.py http://127.0.0.1:8000"""

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable

from squall.httpclient import AsyncHTTPClient

base = sys.argv[1]


async def produce(write: Callable[[bytes], Awaitable[None]]) -> None:
    for i in range(100):
        # await write(): returns once the connection has taken the chunk, so a
        # slow server slows the producer down instead of filling memory.
        await write(b"line %d\n" % i)


async def main() -> None:
    client = AsyncHTTPClient()
    # Without a Content-Length header the body goes out chunked; with one, as is.
    response = await client.fetch(f"{base}/echo", method="POST", body_producer=produce)
    echo = json.loads(response.body)
    print(len(echo["body"]), dict(echo["headers"]).get("transfer-encoding"))
    assert echo["body"].startswith("line 0\nline 1\n")

    # expect_100_continue: send the head, wait for "100 Continue", then the body.
    response = await client.fetch(
        f"{base}/echo", method="PUT", body=b"x" * 1000, expect_100_continue=True
    )
    print(response.code, dict(json.loads(response.body)["headers"])["expect"])
    client.close()


asyncio.run(main())

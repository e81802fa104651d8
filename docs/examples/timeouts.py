"""Timeouts and their phases. Run: python timeouts.py http://127.0.0.1:8000"""

import asyncio
import sys

from squall.httpclient import AsyncHTTPClient, HTTPTimeoutError

base = sys.argv[1]


async def main() -> None:
    # connect_timeout bounds DNS + TCP + TLS; request_timeout the whole exchange.
    client = AsyncHTTPClient(force_instance=True, max_clients=1)
    try:
        await client.fetch(f"{base}/slow?delay=2", connect_timeout=1, request_timeout=0.3)
    except HTTPTimeoutError as e:
        print("phase:", e.phase, "-", e)
        assert e.phase == "request"

    # With max_clients=1 a second fetch waits in the queue; the queue's timeout
    # is the smaller non-zero of connect_timeout and request_timeout.
    busy = client.fetch(f"{base}/slow?delay=1", request_timeout=5)
    try:
        await client.fetch(f"{base}/echo", connect_timeout=0.2, request_timeout=5)
    except HTTPTimeoutError as e:
        print("phase:", e.phase, "-", e)
        assert e.phase == "queue"
    print((await busy).code)

    # 0 means no limit.
    response = await client.fetch(f"{base}/slow?delay=0.1", request_timeout=0)
    print(response.code, f"queued {response.time_info['queue']:.3f}s")
    client.close()


asyncio.run(main())

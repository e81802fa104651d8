"""The first non-blocking fetches. Run: python first_async.py http://127.0.0.1:8000"""

import asyncio
import sys

from squall.httpclient import AsyncHTTPClient, HTTPRequest

base = sys.argv[1]


async def main() -> None:
    client = AsyncHTTPClient()  # one shared instance per event loop
    response = await client.fetch(f"{base}/echo", request_timeout=5)
    print(response.code, response.body[:40])

    # Many at once: at most max_clients (10) run together, the rest queue.
    request = HTTPRequest(f"{base}/echo", method="POST", body=b"data")
    responses = await asyncio.gather(*(client.fetch(request) for _ in range(20)))
    print(sorted({r.code for r in responses}))

    # Callback form: the response arrives with .error set on failure.
    done = asyncio.get_running_loop().create_future()
    client.fetch(f"{base}/status/500", callback=done.set_result)
    failed = await done
    print(failed.code, repr(failed.error))
    client.close()


asyncio.run(main())

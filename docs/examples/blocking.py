"""The blocking client in threads and inside a running loop. Run: python blocking.py URL"""

import asyncio
import sys
from concurrent.futures import ThreadPoolExecutor

from squall.httpclient import HTTPClient

base = sys.argv[1]

# One client, many threads: their requests run concurrently on its private loop.
with HTTPClient(max_clients=8) as client, ThreadPoolExecutor(8) as pool:
    codes = list(pool.map(lambda i: client.fetch(f"{base}/echo?i={i}").code, range(32)))
    print(len(codes), set(codes))


# Inside a running event loop (a Jupyter cell, an async framework's sync hook):
# the blocking call works, but it blocks that loop while it waits.
async def inside_a_loop() -> int:
    with HTTPClient() as client:
        return client.fetch(f"{base}/echo").code


print(asyncio.run(inside_a_loop()))

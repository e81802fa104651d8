"""Connection pooling and max_clients. Run: python pooling.py http://127.0.0.1:8000"""

import asyncio
import json
import sys

from squall.simple_httpclient import SimpleAsyncHTTPClient

base = sys.argv[1]


async def main() -> None:
    # max_clients: fetches running at once (the rest queue, FIFO).
    # max_connections_per_host (simple engine): connections to one origin.
    # idle_timeout (simple engine): seconds an idle connection is kept.
    client = SimpleAsyncHTTPClient(
        force_instance=True, max_clients=20, max_connections_per_host=4, idle_timeout=4.0
    )
    responses = await asyncio.gather(*(client.fetch(f"{base}/conn") for _ in range(40)))
    ports = {json.loads(r.body)["client"][1] for r in responses}
    print(len(responses), "responses over", len(ports), "connections")
    assert len(ports) <= 4

    # Sequential requests reuse the idle connection.
    first = json.loads((await client.fetch(f"{base}/conn")).body)["client"][1]
    second = json.loads((await client.fetch(f"{base}/conn")).body)["client"][1]
    print("reused:", first == second)
    print(repr(client))  # the pool's state
    client.close()  # closes every pooled connection


asyncio.run(main())

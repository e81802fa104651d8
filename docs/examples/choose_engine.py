"""Choosing the engine. Run: python choose_engine.py http://127.0.0.1:8000"""

import asyncio
import sys

from squall.curl_httpclient import CurlAsyncHTTPClient
from squall.httpclient import AsyncHTTPClient, HTTPClient
from squall.simple_httpclient import SimpleAsyncHTTPClient

base = sys.argv[1]

# For every client made afterwards, with constructor arguments (by class or dotted name):
AsyncHTTPClient.configure("squall.curl_httpclient.CurlAsyncHTTPClient", max_clients=50)


async def main() -> None:
    client = AsyncHTTPClient()
    assert isinstance(client, CurlAsyncHTTPClient)
    print(type(client).__name__, (await client.fetch(f"{base}/echo")).code)
    # Or one instance of a given engine, whatever is configured:
    simple = SimpleAsyncHTTPClient(force_instance=True, max_connections_per_host=4)
    print(type(simple).__name__, (await simple.fetch(f"{base}/echo")).code)
    simple.close()
    client.close()


asyncio.run(main())

# The blocking client takes the engine as its first argument.
with HTTPClient("squall.simple_httpclient.SimpleAsyncHTTPClient") as blocking:
    print(blocking.fetch(f"{base}/echo").code)

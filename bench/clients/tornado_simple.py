"""Tornado's SimpleAsyncHTTPClient (no keep-alive: it opens a connection per request).

Tornado's defaults stand (timeouts of 20 s, gzip asked for and decoded), except max_clients
(10 by default) sized to the concurrency and a body limit above the 100 MiB download.
"""

from _common import BIG_BUFFER, run_async, tornado_kwargs
from tornado.httpclient import HTTPRequest
from tornado.simple_httpclient import SimpleAsyncHTTPClient


async def setup(args):
    client = SimpleAsyncHTTPClient(
        force_instance=True, max_clients=args.concurrency, max_buffer_size=BIG_BUFFER
    )
    req = HTTPRequest(args.url, **tornado_kwargs(args, curl=False))

    async def fetch():
        resp = await client.fetch(req)
        return len(resp.body)

    return fetch, client.close


if __name__ == "__main__":
    run_async(setup)

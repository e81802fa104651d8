"""Tornado's CurlAsyncHTTPClient (pycurl multi driven by the event loop).

Tornado's defaults stand (timeouts of 20 s, gzip asked for and decoded), except max_clients
(10 by default) sized to the concurrency.
"""

from _common import run_async, tornado_kwargs
from tornado.curl_httpclient import CurlAsyncHTTPClient
from tornado.httpclient import HTTPRequest


async def setup(args):
    client = CurlAsyncHTTPClient(force_instance=True, max_clients=args.concurrency)
    req = HTTPRequest(args.url, **tornado_kwargs(args, curl=True))

    async def fetch():
        resp = await client.fetch(req)
        return len(resp.body)

    return fetch, client.close


if __name__ == "__main__":
    run_async(setup)

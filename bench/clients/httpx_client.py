"""httpx: one AsyncClient in its default configuration, pool limits sized to the concurrency.

httpx's defaults stand (it asks for gzip and deflate, br and zstd when their packages are
installed, and decodes the answer) except its 5 s timeout: with 1000 requests in flight one
waits its turn on the loop for seconds (p99 4.3 s in a quick run), so the default would fail
requests that are only queued. 300 s is aiohttp's default total timeout; a timeout's length
does not change the work per request. For the HTTP/2 scenarios, ``http2=True`` (with the h2
package, httpx's http2 extra).
"""

import ssl

import httpx
from _common import run_async


async def setup(args):
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    kw = {"verify": ssl.create_default_context(cafile=args.ca)} if args.ca else {}
    if args.http_version == "2":
        kw["http2"] = True  # httpcore over h2; HTTP/1.1 is never offered then
    client = httpx.AsyncClient(limits=limits, timeout=300, **kw)
    url, method, body = args.url, args.method, args.body

    async def fetch():
        resp = await client.request(method, url, content=body)
        if resp.status_code != 200:
            raise RuntimeError(f"HTTP {resp.status_code}")
        return len(resp.content)

    return fetch, client.aclose


if __name__ == "__main__":
    run_async(setup)

"""httpx: one AsyncClient in its default configuration, pool limits sized to the concurrency.

httpx's defaults stand: it asks for gzip and deflate (br and zstd when their packages are
installed) and decodes the answer; its 5 s timeouts bound the waits between bytes, which no
scenario comes near (the pool never makes a request wait for a connection).
"""

import ssl

import httpx
from _common import run_async


async def setup(args):
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    kw = {"verify": ssl.create_default_context(cafile=args.ca)} if args.ca else {}
    client = httpx.AsyncClient(limits=limits, **kw)
    url, method, body = args.url, args.method, args.body

    async def fetch():
        resp = await client.request(method, url, content=body)
        if resp.status_code != 200:
            raise RuntimeError(f"HTTP {resp.status_code}")
        return len(resp.content)

    return fetch, client.aclose


if __name__ == "__main__":
    run_async(setup)

"""httpx: one AsyncClient with pool limits sized to the concurrency."""

import ssl

import httpx
from _common import run_async


async def setup(args):
    verify = ssl.create_default_context(cafile=args.ca) if args.ca else True
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    client = httpx.AsyncClient(limits=limits, verify=verify, timeout=300)
    headers = {"Accept-Encoding": "gzip"} if args.gzip else {}
    url, method, body = args.url, args.method, args.body

    async def fetch():
        resp = await client.request(method, url, content=body, headers=headers)
        if resp.status_code != 200:
            raise RuntimeError(f"HTTP {resp.status_code}")
        return len(resp.content)

    return fetch, client.aclose


if __name__ == "__main__":
    run_async(setup)

"""aiohttp 3: one ClientSession, a connector sized to the concurrency."""

import ssl

import aiohttp
from _common import run_async


async def setup(args):
    ctx = ssl.create_default_context(cafile=args.ca) if args.ca else None
    conn = aiohttp.TCPConnector(limit=args.concurrency, ssl=ctx if ctx else True)
    session = aiohttp.ClientSession(
        connector=conn, auto_decompress=args.gzip, timeout=aiohttp.ClientTimeout(total=300)
    )
    headers = {"Accept-Encoding": "gzip"} if args.gzip else {}
    url, method, body = args.url, args.method, args.body

    async def fetch():
        async with session.request(method, url, data=body, headers=headers) as resp:
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}")
            if args.stream:
                size = 0
                async for chunk in resp.content.iter_any():
                    size += len(chunk)
                return size
            return len(await resp.read())

    return fetch, session.close


if __name__ == "__main__":
    run_async(setup)

"""aiohttp 3: one ClientSession in its default configuration, a connector sized to the concurrency.

aiohttp's defaults stand: it asks for gzip and deflate and decodes what comes back (the small-GET
bodies are not compressed by the server, so the decoder is never engaged there), and its total
timeout of 5 minutes bounds every request.
"""

import ssl

import aiohttp
from _common import run_async


async def setup(args):
    connector_kw = {"limit": args.concurrency}
    if args.ca:
        connector_kw["ssl"] = ssl.create_default_context(cafile=args.ca)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(**connector_kw))
    url, method, body = args.url, args.method, args.body
    # Through a proxy: forwarded for http, a CONNECT tunnel for https (the connector's ssl).
    extra = {"proxy": args.proxy} if args.proxy else {}

    async def fetch():
        async with session.request(method, url, data=body, **extra) as resp:
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

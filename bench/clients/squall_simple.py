"""squall's pure-Python engine through the async API (Tornado's AsyncHTTPClient)."""

from _common import BIG_BUFFER, run_async, squall_kwargs

ENGINE = "squall.simple_httpclient.SimpleAsyncHTTPClient"


async def setup(args, engine=ENGINE):
    # Imported here so that a squall that does not import yet shows as an error cell.
    from squall.httpclient import AsyncHTTPClient, HTTPRequest

    AsyncHTTPClient.configure(engine)
    client = AsyncHTTPClient(
        force_instance=True, max_clients=args.concurrency, max_buffer_size=BIG_BUFFER
    )
    req = HTTPRequest(args.url, request_timeout=300, **squall_kwargs(args))

    async def fetch():
        resp = await client.fetch(req)
        return len(resp.body)

    return fetch, client.close


if __name__ == "__main__":
    run_async(setup)

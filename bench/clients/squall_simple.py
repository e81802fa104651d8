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
    kwargs = dict(request_timeout=300, **squall_kwargs(args))
    req = HTTPRequest(args.url, **kwargs)

    async def fetch():
        if not args.stream:
            return len((await client.fetch(req)).body)
        received = 0

        def count(chunk):
            nonlocal received
            received += len(chunk)

        await client.fetch(HTTPRequest(args.url, streaming_callback=count, **kwargs))
        return received

    return fetch, client.close


if __name__ == "__main__":
    run_async(setup)

"""squall's blocking HTTPClient over either engine (--engine simple|curl), sequential."""

from _common import BIG_BUFFER, run_sync, squall_kwargs

ENGINES = {
    "simple": "squall.simple_httpclient.SimpleAsyncHTTPClient",
    "curl": "squall.curl_httpclient.CurlAsyncHTTPClient",
}


def setup(args):
    # Imported here so that a squall that does not import yet shows as an error cell.
    from squall.httpclient import AsyncHTTPClient, HTTPClient, HTTPRequest

    # The blocking client wraps the configured AsyncHTTPClient implementation.
    AsyncHTTPClient.configure(ENGINES[args.engine])
    client = HTTPClient(max_clients=1, max_buffer_size=BIG_BUFFER)
    req = HTTPRequest(args.url, request_timeout=300, **squall_kwargs(args))

    def fetch():
        return len(client.fetch(req).body)

    return fetch, client.close


if __name__ == "__main__":
    run_sync(setup)

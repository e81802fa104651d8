"""HTTP/2 (both engines), HTTP/3 (curl). Run: python http2.py URL HTTPS_URL CA_FILE H3_URL"""

import asyncio
import json
import sys

from squall.httpclient import AsyncHTTPClient, HTTPClient

base, https_url, ca_file, h3_url = sys.argv[1:5]
CURL = "squall.curl_httpclient.CurlAsyncHTTPClient"


async def main() -> None:
    AsyncHTTPClient.configure(CURL)
    client = AsyncHTTPClient()
    # http_version=None negotiates: HTTP/2 over TLS when the server offers it (ALPN).
    # Concurrent requests to one origin then share one connection, multiplexed.
    responses = await asyncio.gather(
        *(client.fetch(f"{https_url}/echo", ca_certs=ca_file) for _ in range(10))
    )
    versions = {json.loads(r.body)["http_version"] for r in responses}
    ports = {json.loads(r.body)["client"][1] for r in responses}
    print("versions", versions, "connections", len(ports))

    # "2" in clear text: prior knowledge (h2c). "1.1": never HTTP/2.
    h2c = await client.fetch(f"{base}/echo", http_version="2")
    http11 = await client.fetch(f"{https_url}/echo", ca_certs=ca_file, http_version="1.1")
    print(json.loads(h2c.body)["http_version"], json.loads(http11.body)["http_version"])

    # "3": QUIC only, no fallback to TCP.
    h3 = await client.fetch(f"{h3_url}/echo", ca_certs=ca_file, http_version="3")
    print(json.loads(h3.body)["http_version"])
    client.close()


asyncio.run(main())

# The simple engine speaks HTTP/2 too (extra "http2"): over TLS by ALPN, or h2c.
with HTTPClient("squall.simple_httpclient.SimpleAsyncHTTPClient") as simple:
    response = simple.fetch(f"{https_url}/echo", ca_certs=ca_file, http_version="2")
    print("simple", json.loads(response.body)["http_version"])
    assert json.loads(response.body)["http_version"] == "2"

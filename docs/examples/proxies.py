"""Proxies, on both engines. Run: python proxies.py URL - - - PROXYHOST:PORT USER PASSWORD"""

import sys

from squall.httpclient import HTTPClient

base = sys.argv[1]
proxy_host, _, proxy_port = sys.argv[5].partition(":")
user, password = sys.argv[6], sys.argv[7]

for engine in (
    "squall.simple_httpclient.SimpleAsyncHTTPClient",
    "squall.curl_httpclient.CurlAsyncHTTPClient",
):
    with HTTPClient(engine) as client:
        response = client.fetch(
            f"{base}/echo",
            proxy_host=proxy_host,  # "socks5h://host", "https://host" ... choose the kind
            proxy_port=int(proxy_port),
            proxy_username=user,
            proxy_password=password,
        )
        print(engine.rsplit(".", 1)[1], response.code)

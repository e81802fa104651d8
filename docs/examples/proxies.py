"""Proxies (curl engine). Run: python proxies.py URL - - - PROXYHOST:PORT USER PASSWORD"""

import sys

from squall.httpclient import HTTPClient

base = sys.argv[1]
proxy_host, _, proxy_port = sys.argv[5].partition(":")
user, password = sys.argv[6], sys.argv[7]

with HTTPClient("squall.curl_httpclient.CurlAsyncHTTPClient") as client:
    response = client.fetch(
        f"{base}/echo",
        proxy_host=proxy_host,  # "socks5h://host" etc. chooses another kind of proxy
        proxy_port=int(proxy_port),
        proxy_username=user,
        proxy_password=password,
    )
    print(response.code)

# The simple engine has no proxy support: it refuses before anything is sent.
with HTTPClient("squall.simple_httpclient.SimpleAsyncHTTPClient") as client:
    try:
        client.fetch(f"{base}/echo", proxy_host=proxy_host, proxy_port=int(proxy_port))
    except NotImplementedError as e:
        print("NotImplementedError:", e)

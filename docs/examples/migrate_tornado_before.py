"""The same program on Tornado, before the migration. Run: python migrate_tornado_before.py URL"""

import asyncio
import sys

# [imports]
from tornado.httpclient import AsyncHTTPClient, HTTPClient, HTTPClientError, HTTPRequest
from tornado.httputil import HTTPHeaders, url_concat

# [/imports]

base = sys.argv[1]

# [configure]
AsyncHTTPClient.configure("tornado.curl_httpclient.CurlAsyncHTTPClient", max_clients=50)
# [/configure]


# [code]
async def fetch_all() -> None:
    client = AsyncHTTPClient()
    headers = HTTPHeaders({"X-Request": "1"})
    request = HTTPRequest(url_concat(f"{base}/echo", {"a": "1"}), headers=headers)
    response = await client.fetch(request)
    print(response.code, response.time_info["total"] > 0)
    try:
        await client.fetch(f"{base}/status/404")
    except HTTPClientError as e:
        print(e.code)


asyncio.run(fetch_all())

blocking = HTTPClient()  # RuntimeError where an event loop is running
print(blocking.fetch(f"{base}/echo").code)
blocking.close()
# [/code]

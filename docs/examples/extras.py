"""Beyond Tornado: json/params/form/files, the cookie jar, retries. Run: python extras.py URL"""

import asyncio
import io
import sys

from squall.httpclient import AsyncHTTPClient, HTTPRequest, Retry

base = sys.argv[1]


async def main() -> None:
    # cookies=True: a jar every hop reads and updates (redirects included); off by default.
    client = AsyncHTTPClient(force_instance=True, cookies=True)
    try:
        # json= sends compact UTF-8 JSON; params= is added to the URL's query.
        posted = await client.fetch(
            f"{base}/echo", method="POST", json={"name": "café"}, params={"page": 2}
        )
        echo = posted.json()  # the body parsed as JSON; .text decodes it
        print(echo["query"], echo["body"])

        # form= is urlencoded; files= is multipart, streamed, with a Content-Length.
        upload = HTTPRequest(
            f"{base}/echo",
            method="POST",
            form={"title": "report"},
            files={"memo": ("memo.txt", io.BytesIO(b"hello"), "text/plain")},
        )
        print((await client.fetch(upload)).code)

        # retries=: an opt-in policy (here 2 retries, no wait) for 429/502/503/504
        # and failures, idempotent methods only.
        flaky = await client.fetch(
            f"{base}/status/503", retries=Retry(total=2, backoff=0), raise_error=False
        )
        print(flaky.code, flaky.time_info["retries"])
    finally:
        client.close()


asyncio.run(main())
